"""Drafts die within 48 hours: every draft namespace carries an expiry no further ahead.

The reaper (``envctl draft reap``) deletes drafts whose ``environments.dev/expires-at`` has
passed. The label holds ISO 8601 basic format (``20261124T050000Z``, a valid label value);
the annotation of the same name holds full ISO 8601. Either must be present, and each one
present must parse and lie no more than ``maxLifetimeHours`` ahead of the time of the check.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from pack_support import (
    NAMESPACE_TYPE,
    config_number,
    config_text,
    describe,
    draft_prefix,
    get_path,
    object_name,
    prefix_schema,
    resource_type,
    shown,
)
from pulumi_policy import (
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

MAX_LIFETIME_HOURS = 48
EXPIRES_AT_KEY = "environments.dev/expires-at"
CLOCK_SKEW_SECONDS = 300


def parse_expiry(text: str) -> datetime | None:
    """``20261124T050000Z`` or any ISO 8601 time; naive times are UTC."""
    candidate = text.strip()
    try:
        return datetime.strptime(candidate, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(candidate.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def validate_draft_expiry(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if resource_type(args) != NAMESPACE_TYPE:
        return
    name = object_name(args)
    if not name.startswith(draft_prefix(args)):
        return
    key = config_text(args, "expiresAtKey", EXPIRES_AT_KEY)
    max_hours = config_number(args, "maxLifetimeHours", MAX_LIFETIME_HOURS)
    skew = config_number(args, "clockSkewSeconds", CLOCK_SKEW_SECONDS)
    latest = datetime.now(UTC) + timedelta(hours=max_hours, seconds=skew)
    found = 0
    for where in ("labels", "annotations"):
        entries = get_path(args.props, ("metadata", where))
        if not isinstance(entries, Mapping) or key not in entries:
            continue
        found += 1
        value = entries[key]
        path = ("metadata", where, key)
        moment = parse_expiry(value) if isinstance(value, str) else None
        if moment is None:
            report(
                f"{describe(args)}: draft namespace '{name}' has {where[:-1]} {key} = "
                f"{shown(args, path, value)}, which is not an ISO 8601 time "
                f"(expected e.g. 20261124T050000Z as a label, 2026-11-24T05:00:00+00:00 as an "
                f"annotation).",
                None,
            )
            continue
        if moment > latest:
            ahead = (moment - datetime.now(UTC)).total_seconds() / 3600
            report(
                f"{describe(args)}: draft namespace '{name}' has {where[:-1]} {key} = "
                f"{shown(args, path, value)}, {ahead:.1f} h ahead; the limit is {max_hours:g} h "
                f"(draft:ttlHours, draft:expiresAt).",
                None,
            )
    if found == 0:
        report(
            f"{describe(args)}: draft namespace '{name}' has no {key} label or annotation, so "
            f"the reaper would never delete it; set it at most {max_hours:g} h ahead.",
            None,
        )


POLICIES = [
    ResourceValidationPolicy(
        name="draft-expiry",
        description="Draft namespaces expire: an expires-at no more than 48 h ahead.",
        validate=validate_draft_expiry,
        config_schema=PolicyConfigSchema(
            properties={
                "draftNamespacePrefix": prefix_schema(),
                "maxLifetimeHours": {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "default": MAX_LIFETIME_HOURS,
                    "description": "how far ahead a draft's expiry may lie, in hours",
                },
                "expiresAtKey": {
                    "type": "string",
                    "minLength": 1,
                    "default": EXPIRES_AT_KEY,
                    "description": "label/annotation holding the expiry time",
                },
                "clockSkewSeconds": {
                    "type": "number",
                    "minimum": 0,
                    "default": CLOCK_SKEW_SECONDS,
                    "description": "tolerance for clocks between the program and the check",
                },
            }
        ),
    ),
]
