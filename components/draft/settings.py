"""DraftSettings: the ``draft:`` config namespace, validated, with branch and sha resolved."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from components.config import ConfigError, SettingsModel, load_settings
from components.naming import (
    DEFAULT_PREFIXES,
    DraftNames,
    NamingError,
    names_for,
    short_sha,
    validate_prefixes,
)

MAX_TTL_HOURS = 48
MAX_VAULT_TOKEN_TTL = 3600

DnsName = Annotated[
    str,
    Field(
        pattern=r"^(?=.{1,200}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$",
        description="a lowercase DNS name such as drafts.example.com",
    ),
]
PathSegment = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$",
        description="lowercase letters, digits and inner dashes, at most 40 characters",
    ),
]


class VaultSettings(SettingsModel):
    """Where drafts read their secrets and how long Vault credentials may live."""

    address: Annotated[
        str, Field(pattern=r"^https?://[^/\s:]+(:\d+)?/?$", description="Vault URL, https://host[:port]")
    ] = "https://vault.example.com"
    kv_mount: Annotated[PathSegment, Field(description="KV v2 mount holding draft/<team>/<service>")] = "draft"
    auth_mount: Annotated[PathSegment, Field(description="Vault Kubernetes auth mount path")] = "kubernetes"
    token_ttl_seconds: Annotated[
        int,
        Field(ge=60, le=MAX_VAULT_TOKEN_TTL, description="seconds, 60 to 3600 (credentials live one hour at most)"),
    ] = MAX_VAULT_TOKEN_TTL


class DraftSettings(SettingsModel):
    """Settings of one draft environment (config namespace ``draft:``)."""

    team: Annotated[PathSegment, Field(description="owning team, used in draft/<team>/<service>")]
    service: Annotated[PathSegment, Field(description="service name, used in draft/<team>/<service>")]
    base_domain: Annotated[DnsName, Field(description="drafts are served at <slug>.<baseDomain>")]
    branch: Annotated[
        str | None,
        Field(description="git branch, e.g. feature/login; derived from the stack name when omitted"),
    ] = None
    sha: Annotated[
        str | None,
        Field(description="commit id, 7-64 hex characters; git HEAD of the project when omitted"),
    ] = None
    ttl_hours: Annotated[
        int, Field(ge=1, le=MAX_TTL_HOURS, description="hours a draft lives after its last deploy, 1 to 48")
    ] = MAX_TTL_HOURS
    expires_at: Annotated[
        datetime | None,
        Field(description="ISO 8601 time the draft expires, at most 48 h ahead; now + ttlHours when omitted"),
    ] = None
    branch_prefixes: Annotated[
        tuple[str, ...], Field(description="branch prefixes that get drafts, e.g. ['feature/', 'bugfix/']")
    ] = DEFAULT_PREFIXES
    vault: VaultSettings = VaultSettings()

    def names(self) -> DraftNames:
        """Stack, namespace, release and image tag of this draft (branch and sha resolved)."""
        assert self.branch is not None and self.sha is not None, "resolve_draft() first"
        return names_for(self.branch, self.sha, self.branch_prefixes)

    def expiry(self, now: datetime) -> datetime:
        """When this draft expires: the explicit ``expiresAt`` or ``now + ttlHours``."""
        return self.expires_at or now + timedelta(hours=self.ttl_hours)


def _git_head(project_dir: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(project_dir), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def branch_for_stack(stack: str, prefixes: tuple[str, ...]) -> str | None:
    """The canonical branch whose draft stack is ``stack`` (None when it has a hashed slug)."""
    slug = stack.removeprefix("draft-")
    head, _, rest = slug.partition("-")
    candidate = f"{head}/{rest}"
    try:
        return candidate if names_for(candidate, None, prefixes).stack == stack else None
    except NamingError:
        return None


def resolve_draft(settings: DraftSettings, stack: str, project_dir: Path, now: datetime) -> DraftSettings:
    """Fill branch and sha, and check that they, the prefixes and the expiry fit ``stack``."""
    try:
        prefixes = validate_prefixes(settings.branch_prefixes)
    except NamingError as exc:
        raise ConfigError(f"draft:{exc}") from None
    branch = settings.branch or branch_for_stack(stack, prefixes)
    if branch is None:
        raise ConfigError(
            f"draft:branch is required but not set (expected: the git branch of stack {stack}, "
            "e.g. feature/login; only stacks of plain lowercase branch names can do without it)"
        )
    sha = settings.sha or _git_head(project_dir)
    if sha is None:
        raise ConfigError("draft:sha is required but not set (expected: the commit id being deployed)")
    try:
        names = names_for(branch, sha, prefixes)
        short_sha(sha)
    except NamingError as exc:
        raise ConfigError(f"draft:{exc}") from None
    if names.stack != stack:
        raise ConfigError(
            f"draft:branch belongs to stack {names.stack}, not {stack} "
            f"(expected: run it as 'pulumi up --stack {names.stack}')"
        )
    if settings.expires_at is not None:
        expires = settings.expires_at
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        if not now < expires <= now + timedelta(hours=MAX_TTL_HOURS):
            raise ConfigError(
                "draft:expiresAt is invalid (expected: an ISO 8601 time in the future, "
                f"at most {MAX_TTL_HOURS} hours from now)"
            )
        settings = settings.model_copy(update={"expires_at": expires})
    return settings.model_copy(update={"branch": branch, "sha": sha.strip().lower()})


def load_draft_settings(
    stack: str, project_dir: Path, config: dict[str, Any] | None = None, now: datetime | None = None
) -> DraftSettings:
    """Validated, resolved settings of draft stack ``stack``."""
    settings = load_settings(DraftSettings, "draft", "draft", project_dir, config)
    return resolve_draft(settings, stack, project_dir, now or datetime.now(UTC))
