"""Deploy and destroy one branch's draft stack (``draft-<slug>``).

``plan_draft`` checks every input and reads ``Pulumi.draft.yaml`` before anything is
touched (bad input -> ``BadInput``, exit 2). ``deploy_draft`` validates the complete draft
settings the stack will have (``DraftSettings``), creates or selects the stack, sets only
the per-draft keys (branch, sha, team, service, deploy time, expiry), ``--set`` values and
the secrets the program reads (as secret config) — never the template's keys, which the
program lays under the stack on every run — and runs the update. When the update fails
(readiness or smoke test) or the program exports ``smoke: failed``, it keeps the failed
pods' logs, then rolls back the release only: the newest successful update's commit, its
image as already pushed (``draft:image.prebuilt``), its own values, and no migrations
(``draft:migrations.skip``); it reports the draft as failed along with what is live now.
With a ``watch`` (``draft up --watch``, ``watch.py``), a deploy that succeeded is watched
for a few minutes and rolled back the same way when its 5xx ratio stays too high.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pulumi.automation import ConfigValue, OutputValue

from automation import PROJECT_NAME
from automation.lifecycle.errors import (
    BadInput,
    LockTimeout,
    OperationFailed,
    StackMissing,
)
from automation.lifecycle.locking import Backoff, StaleLocks, retry_locked
from automation.lifecycle.workspace import (
    SECRET_MASK,
    EventSink,
    StackWorkspace,
    UpdateRecord,
)
from automation.plan.stack_config import apply_override
from components.config import (
    ConfigError,
    decoded_config,
    layered_config,
    load_settings,
    read_stack_file,
    template_path,
)
from components.draft.settings import DraftSettings, load_draft_settings
from components.naming import (
    DEFAULT_PREFIXES,
    DraftNames,
    NamingError,
    names_for,
    short_sha,
    validate_prefixes,
)

if TYPE_CHECKING:
    from automation.lifecycle.watch import WatchResult

MAX_TTL_HOURS = 48
MAX_VAULT_TTL = 3600
HISTORY_DEPTH = 20
SECRETS_KEY = "draft:secrets"
PREBUILT_KEY = "draft:image.prebuilt"
MIGRATIONS_SKIP_KEY = "draft:migrations.skip"
OWNED_KEYS = {
    "draft:branch": "--branch",
    "draft:sha": "--sha",
    "draft:team": "--team",
    "draft:service": "draft:service of Pulumi.draft.yaml",
    "draft:expiresAt": "draft:ttlHours",
    "draft:deployedAt": "the time of the deploy",
    SECRETS_KEY: "Vault",
}
_SEGMENT_PATTERN = r"[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?"

Smoke = Literal["passed", "failed", "not reported"]
Status = Literal["deployed", "rolled back", "failed"]
DisplayFactory = Callable[[str], AbstractContextManager[EventSink]]
"""Opens the event display for one operation, given its title."""
Watch = Callable[[DraftSettings], "WatchResult"]
"""Watches the release a deploy left, given the draft's settings (``watch.py``)."""


@dataclass(frozen=True)
class DraftPlan:
    """A checked request to deploy a draft, with what the template says about it."""

    names: DraftNames
    sha: str
    team: str
    service: str
    expires_at: datetime
    template: Mapping[str, Any]
    kv_mount: str
    vault_ttl: int
    prefixes: tuple[str, ...]
    project_dir: Path = Path(".")
    now: datetime | None = None
    """The time of the deploy (``draft:deployedAt``); the expiry is counted from it."""
    overrides: tuple[tuple[str, str], ...] = ()
    prebuilt: bool = False

    @property
    def deployed_at(self) -> datetime:
        """``draft:deployedAt``: the time of this deploy, to the second."""
        assert self.now is not None, "plan_draft() sets it"
        return self.now.replace(microsecond=0)


@dataclass(frozen=True)
class DeployResult:
    """What happened to the draft; ``outputs`` has secret values masked.

    ``smoke`` is the result of the requested commit; ``live_sha`` and ``live_smoke`` say
    what serves the draft now (the requested commit, the rollback's, or None when unknown).
    """

    plan: DraftPlan
    status: Status
    smoke: Smoke
    created: bool
    url: str | None = None
    outputs: Mapping[str, Any] = field(default_factory=dict)
    rolled_back_to: str | None = None
    error: str | None = None
    live_sha: str | None = None
    live_smoke: Smoke | None = None
    watch: WatchResult | None = None
    """The post-deploy watch of the requested commit's release, when one ran."""

    @property
    def exit_code(self) -> int:
        return 0 if self.status == "deployed" else 1

    @property
    def live_image_tag(self) -> str | None:
        """The image tag of the commit that is live, when one is known."""
        if self.live_sha is None:
            return None
        return names_for(self.plan.names.branch, self.live_sha, self.plan.prefixes).image_tag


def load_template(project_dir: Path) -> dict[str, Any]:
    """The ``config:`` of ``Pulumi.draft.yaml``; BadInput when it cannot be read."""
    try:
        return read_stack_file(template_path(project_dir, "draft"))
    except ConfigError as exc:
        raise BadInput(str(exc)) from None


def _template_value(template: Mapping[str, Any], key: str, default: Any) -> Any:
    """``draft:vault.kvMount`` style lookup in the template's (nested) config."""
    head, _, rest = key.partition(".")
    value = template.get(head)
    for part in rest.split(".") if rest else []:
        value = value.get(part) if isinstance(value, Mapping) else None
    return default if value is None else value


def _bounded_int(
    template: Mapping[str, Any], key: str, default: int, low: int, high: int, unit: str
) -> int:
    value = _template_value(template, key, default)
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise BadInput(
            f"{key} in Pulumi.draft.yaml: expected a whole number of {unit}, {low} to {high}"
        )
    number = int(value)
    if not low <= number <= high:
        raise BadInput(
            f"{key} in Pulumi.draft.yaml: {number} is out of range "
            f"(expected {low} to {high} {unit})"
        )
    return number


def _segment(value: Any, key: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(_SEGMENT_PATTERN, value):
        raise BadInput(
            f"{key}: expected lowercase letters, digits and inner dashes "
            "(at most 40 characters), e.g. 'platform'"
        )
    return value


def service_of(template: Mapping[str, Any]) -> str:
    """``draft:service`` of the template: the service whose drafts these are."""
    return _segment(template.get("draft:service"), "draft:service in Pulumi.draft.yaml")


def template_prefixes(template: Mapping[str, Any]) -> tuple[str, ...]:
    """The branch prefixes that get drafts (``draft:branchPrefixes``, default feature/ bugfix/)."""
    raw = _template_value(template, "draft:branchPrefixes", list(DEFAULT_PREFIXES))
    try:
        if isinstance(raw, str):
            raw = json.loads(raw)
        return validate_prefixes(tuple(raw))
    except (NamingError, TypeError, ValueError) as exc:
        raise BadInput(f"draft:branchPrefixes in Pulumi.draft.yaml: {exc}") from None


def names_of(branch: str, template: Mapping[str, Any]) -> DraftNames:
    """The names of ``branch``'s draft; BadInput naming ``--branch`` for a branch with none."""
    try:
        return names_for(branch, None, template_prefixes(template))
    except NamingError as exc:
        raise BadInput(f"--{exc}") from None


def vault_ttl_of(template: Mapping[str, Any]) -> int:
    """``draft:vault.tokenTtlSeconds`` of the template: the longest a Vault token may live."""
    return _bounded_int(
        template, "draft:vault.tokenTtlSeconds", MAX_VAULT_TTL, 60, MAX_VAULT_TTL, "seconds"
    )


def parse_overrides(items: list[str]) -> tuple[tuple[str, str], ...]:
    """``--set draft:KEY=VALUE`` items, checked for form; envctl's own keys are refused."""
    parsed = []
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key.startswith("draft:") or key == "draft:":
            raise BadInput(
                f"--set: {item!r} must be draft:KEY=VALUE, e.g. draft:image.prebuilt=true"
            )
        top = _top_key(key)
        if top in OWNED_KEYS:
            raise BadInput(f"--set: {top} is set by envctl (from {OWNED_KEYS[top]})")
        try:
            apply_override({}, f"{key}={value}", PROJECT_NAME)
        except ConfigError as exc:
            raise BadInput(str(exc)) from None
        parsed.append((key, value))
    return tuple(parsed)


def plan_draft(
    branch: str,
    sha: str,
    team: str | None,
    project_dir: Path,
    now: datetime,
    overrides: list[str] | None = None,
) -> DraftPlan:
    """Check the request against naming rules and the template; nothing is touched."""
    settings = parse_overrides(overrides or [])
    template = load_template(project_dir)
    prefixes = template_prefixes(template)
    chosen_team = _segment(
        team if team is not None else template.get("draft:team"),
        "--team" if team is not None else "draft:team in Pulumi.draft.yaml",
    )
    service = service_of(template)
    try:
        names = names_for(branch, sha, prefixes, team=chosen_team, service=service)
        short_sha(sha)
    except NamingError as exc:
        raise BadInput(f"--{exc}") from None
    ttl = _bounded_int(template, "draft:ttlHours", MAX_TTL_HOURS, 1, MAX_TTL_HOURS, "hours")
    vault_ttl = vault_ttl_of(template)
    prebuilt = (
        dict(settings)
        .get(PREBUILT_KEY, str(_template_value(template, PREBUILT_KEY, False)))
        .strip()
        .lower()
    )
    if prebuilt not in ("true", "false"):
        raise BadInput(f"{PREBUILT_KEY}: expected true or false")
    kv_mount = _segment(
        _template_value(template, "draft:vault.kvMount", "draft"),
        "draft:vault.kvMount in Pulumi.draft.yaml",
    )
    return DraftPlan(
        names=names,
        sha=sha.strip().lower(),
        team=chosen_team,
        service=service,
        expires_at=(now + timedelta(hours=ttl)).replace(microsecond=0),
        template=template,
        kv_mount=kv_mount,
        vault_ttl=vault_ttl,
        prefixes=prefixes,
        project_dir=project_dir,
        now=now,
        overrides=tuple((k, v) for k, v in settings if k != PREBUILT_KEY),
        prebuilt=prebuilt == "true",
    )


def _top_key(path_key: str) -> str:
    namespace, _, path = path_key.partition(":")
    return f"{namespace}:{path.split('.', 1)[0].split('[', 1)[0]}"


def as_paths(values: Mapping[str, Any]) -> dict[str, ConfigValue]:
    """Config values as ``pulumi config set --path`` leaves (``draft:mocks[0].port``).

    Objects go in as paths, never as one JSON string: Pulumi would store the string, and a
    later path set under that key would silently replace all of it.
    """
    flat: dict[str, ConfigValue] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                plain = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", str(key))
                walk(f"{prefix}.{key}" if plain else f'{prefix}["{key}"]', inner)
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(f"{prefix}[{index}]", inner)
        elif isinstance(value, bool):
            flat[prefix] = ConfigValue("true" if value else "false")
        elif value is not None:
            flat[prefix] = ConfigValue(str(value))

    for key, value in values.items():
        walk(key, value)
    return flat


def per_draft_config(plan: DraftPlan) -> dict[str, ConfigValue]:
    """The keys ``draft up`` owns and sets on every deploy: who, what and when."""
    return {
        "draft:branch": ConfigValue(plan.names.branch),
        "draft:sha": ConfigValue(plan.sha),
        "draft:team": ConfigValue(plan.team),
        "draft:service": ConfigValue(plan.service),
        "draft:deployedAt": ConfigValue(plan.deployed_at.isoformat()),
        "draft:expiresAt": ConfigValue(plan.expires_at.isoformat()),
        # envctl's on every deploy: a rollback sets both to true
        PREBUILT_KEY: ConfigValue("true" if plan.prebuilt else "false"),
        MIGRATIONS_SKIP_KEY: ConfigValue("false"),
    }


def stack_config(
    plan: DraftPlan, existing: Mapping[str, ConfigValue], secrets: Mapping[str, str]
) -> dict[str, ConfigValue]:
    """What ``draft up`` sets: the per-draft keys, ``--set`` values and the secrets.

    Never the template's keys: the program lays ``Pulumi.draft.yaml`` under the stack's
    config on every run, so a template edit reaches every draft on its next deploy. A
    ``--set`` path through a list (``draft:mocks[0].port``) cannot be merged into the
    template's list by Pulumi: that top-level key is set whole (path by path), the
    template's value with the change (the draft then keeps it as its own, as asked).
    """
    values = per_draft_config(plan)
    through_lists = [(k, v) for k, v in plan.overrides if "[" in k.partition(":")[2]]
    values.update({k: ConfigValue(v) for k, v in plan.overrides if (k, v) not in through_lists})
    if through_lists:
        try:
            view = layered_config(
                plan.project_dir, "draft", {k: v.value for k, v in existing.items() if not v.secret}
            )
            for key, value in through_lists:
                apply_override(view, f"{key}={value}", PROJECT_NAME)
        except ConfigError as exc:
            raise BadInput(str(exc)) from None
        for top in dict.fromkeys(_top_key(k) for k, _ in through_lists):
            values.update(as_paths({top: view[top]}))
    if secrets:
        values[SECRETS_KEY] = ConfigValue(json.dumps(dict(secrets), sort_keys=True), secret=True)
    return values


def check_settings(
    plan: DraftPlan, existing: Mapping[str, ConfigValue], values: Mapping[str, ConfigValue]
) -> DraftSettings:
    """The draft settings the program will read once ``values`` are set, validated; BadInput."""
    view: dict[str, Any] = {key: value.value for key, value in existing.items()}
    secret = {_top_key(k) for k, v in {**existing, **values}.items() if v.secret}
    try:
        for key, value in values.items():
            apply_override(view, f"{key}={value.value}", PROJECT_NAME)
        return load_draft_settings(plan.names.stack, plan.project_dir, view, secret)
    except ConfigError as exc:
        raise BadInput(str(exc)) from None


def program_secret_keys(plan: DraftPlan) -> tuple[str, ...]:
    """The ``draft:secrets`` keys this deploy's program reads: the registry login when it
    builds and pushes the image, the database URL of an external database. Empty (a
    prebuilt image, an in-cluster database): ``draft up`` needs nothing from Vault.

    Judged on the settings ``draft up`` gives the stack (template, ``--set``, its own keys).
    """
    view: dict[str, Any] = {}
    try:
        for key, value in stack_config(plan, {}, {}).items():
            apply_override(view, f"{key}={value.value}", PROJECT_NAME)
        settings = load_settings(DraftSettings, "draft", "draft", plan.project_dir, view)
    except ConfigError as exc:
        raise BadInput(str(exc)) from None
    keys: list[str] = []
    if not settings.image.prebuilt:
        keys += [settings.external_secrets.username_key, settings.external_secrets.password_key]
    if settings.database.mode == "external":
        keys.append(settings.database.url_secret_key)
    return tuple(keys)


def last_good(history: list[UpdateRecord]) -> UpdateRecord | None:
    """The newest successful update with a known commit in ``history`` (newest first)."""
    for record in history:
        sha = record.config.get("draft:sha")
        if record.kind == "update" and record.succeeded and sha and sha != SECRET_MASK:
            return record
    return None


ROLLBACK_RENEWED = frozenset({"draft:deployedAt", "draft:expiresAt", "draft:sha", SECRETS_KEY})
"""Keys a rollback does not take from the last good update: renewed, or set on their own."""


def rollback_config(good: UpdateRecord) -> dict[str, ConfigValue]:
    """The last good release: its commit's prebuilt image, its own (non-secret) config
    values, and no migrations (the database stays as the newer commit migrated it).

    A history snapshot holds objects as JSON: they are decoded and set path by path.
    """
    view = decoded_config(
        {
            key: value
            for key, value in good.config.items()
            if key.startswith("draft:") and key not in ROLLBACK_RENEWED and value != SECRET_MASK
        }
    )
    view["draft:sha"] = good.config["draft:sha"]
    # its image is in the registry: reference it, never rebuild it from this code
    for flag in (PREBUILT_KEY, MIGRATIONS_SKIP_KEY):
        apply_override(view, f"{flag}=true", PROJECT_NAME)
    return as_paths(view)


def live_overrides(live: UpdateRecord) -> list[str]:
    """``--set`` items that redeploy what ``live`` (an update) deployed: its own non-secret
    values (the pipeline's registry, a rollback's skipped migrations...), its image prebuilt."""
    own = decoded_config(
        {
            key: value
            for key, value in live.config.items()
            if key.startswith("draft:") and _top_key(key) not in OWNED_KEYS and value != SECRET_MASK
        }
    )
    items = [f"{key}={value.value}" for key, value in as_paths(own).items()]
    return [*items, f"{PREBUILT_KEY}=true"]


def masked_outputs(outputs: Mapping[str, OutputValue]) -> dict[str, Any]:
    """Outputs fit to print or write: secret ones replaced by ``[secret]``."""
    return {k: SECRET_MASK if v.secret else v.value for k, v in sorted(outputs.items())}


def smoke_result(outputs: Mapping[str, OutputValue]) -> Smoke:
    """``passed``/``failed`` from the program's ``smoke`` output; else not reported."""
    value = outputs.get("smoke")
    if value is None or value.secret:
        return "not reported"
    text = str(value.value).strip().lower()
    if text in ("passed", "true", "ok", "success", "succeeded"):
        return "passed"
    if text in ("failed", "false", "failure", "error"):
        return "failed"
    return "not reported"


def ensure_stack(ws: StackWorkspace, name: str) -> bool:
    """Select ``name``, creating it when missing; True when it was created."""
    try:
        ws.select_stack(name)
        return False
    except StackMissing:
        ws.create_stack(name)
        return True


def _url(outputs: Mapping[str, OutputValue]) -> str | None:
    return outputs["url"].value if "url" in outputs and not outputs["url"].secret else None


def check_owner(
    ws: StackWorkspace,
    stack: str,
    existing: Mapping[str, ConfigValue],
    service: str,
    team: str | None = None,
) -> None:
    """Refuse (exit 2, before any change) a stack of another service or team: two services
    sharing a Pulumi backend and project have one ``draft-<slug>`` stack name per branch.

    The owner is read from the newest update's config in the backend (a fresh CI checkout
    has no stack file), under the stack's own config where there is one.
    """
    try:
        newest = ws.history(stack, limit=1)
    except StackMissing:
        newest = []
    recorded = newest[0].config if newest else {}
    owner = {"service": service, "team": team}
    for key, wanted in owner.items():
        local = existing.get(f"draft:{key}")
        have = local or (
            ConfigValue(recorded[f"draft:{key}"])
            if recorded.get(f"draft:{key}") not in (None, SECRET_MASK)
            else None
        )
        if wanted is not None and have is not None and have.value != wanted:
            raise BadInput(
                f"stack {stack} is the draft of {key} {have.value}, not {wanted}: nothing was "
                "changed (expected: a Pulumi backend of the service's own, e.g. "
                f"PULUMI_BACKEND_URL=s3://bucket/{owner['service']}, or another branch name)"
            )


def deploy_draft(
    ws: StackWorkspace,
    plan: DraftPlan,
    secrets: Mapping[str, str],
    display: DisplayFactory,
    backoff: Backoff,
    notify: Callable[[str], None],
    message: str = "",
    stale: StaleLocks | None = None,
    keep_logs: Callable[[], str] | None = None,
    watch: Watch | None = None,
) -> DeployResult:
    """Create or update the draft; roll back to the last good release when it fails.

    With ``stale``, a lock older than the job timeout is cancelled (then the stack
    refreshed). ``keep_logs`` saves the failed pods' logs before anything replaces them.
    ``watch`` watches a release that deployed; an unhealthy verdict rolls it back.
    """
    stack = plan.names.stack
    try:
        ws.select_stack(stack)
        created, existing = False, ws.get_config(stack)
    except StackMissing:
        created, existing = True, {}
    check_owner(ws, stack, existing, plan.service, plan.team)
    values = stack_config(plan, existing, secrets)
    settings = check_settings(plan, existing, values)
    if created:
        ws.create_stack(stack)
    good_update = None if created else last_good(ws.history(stack, limit=HISTORY_DEPTH))
    ws.set_config(stack, values)

    def update(title: str) -> Mapping[str, OutputValue]:
        with display(title) as sink:
            retry_locked(stack, lambda: ws.up(stack, sink, message), backoff, notify, stale)
        return ws.outputs(stack)

    smoke: Smoke = "failed"
    watched = None
    try:
        outputs = update(f"deploying {plan.names.image_tag} to {stack}")
    except LockTimeout:
        raise
    except OperationFailed as exc:
        failure = f"update failed: {exc}"
    else:
        smoke = smoke_result(outputs)
        if smoke != "failed":
            watched = watch(settings) if watch is not None else None
            if watched is None or not watched.unhealthy:
                return DeployResult(
                    plan,
                    "deployed",
                    smoke,
                    created,
                    _url(outputs),
                    masked_outputs(outputs),
                    live_sha=plan.sha,
                    live_smoke=smoke,
                    watch=watched,
                )
            failure = f"post-deploy watch: {watched.summary()}"
        else:
            failure = "smoke test failed"

    if keep_logs is not None:
        notify(keep_logs())
    if good_update is None:
        return DeployResult(
            plan,
            "failed",
            smoke,
            created,
            error=f"{failure}; there is no earlier successful deployment to roll back to, "
            "so the draft stays as it is until it is destroyed or expires",
            watch=watched,
        )
    rollback_sha = good_update.config["draft:sha"]
    good = short_sha(rollback_sha)
    notify(
        f"{failure}; rolling back {stack} to {good} (its image and values, no build, no migrations)"
    )
    ws.set_config(stack, rollback_config(good_update))
    try:
        outputs = update(f"rolling back {stack} to {good}")
    except OperationFailed as exc:
        return DeployResult(
            plan,
            "failed",
            smoke,
            created,
            error=f"{failure}; the rollback to {good} failed too: {exc}",
            watch=watched,
        )
    live_smoke = smoke_result(outputs)
    if live_smoke == "failed":
        status: Status = "failed"
        error = f"{failure}; {stack} was rolled back to {good}, but its smoke test failed too"
    else:
        status = "rolled back"
        error = f"{failure}; {stack} was rolled back to {good}"
    return DeployResult(
        plan,
        status,
        smoke,
        created,
        _url(outputs),
        masked_outputs(outputs),
        rolled_back_to=rollback_sha,
        error=error,
        live_sha=rollback_sha,
        live_smoke=live_smoke,
        watch=watched,
    )


@dataclass(frozen=True)
class DestroyResult:
    """``destroyed``, or ``absent`` when there was no stack to destroy."""

    stack: str
    status: Literal["destroyed", "absent"]


def destroy_draft(
    ws: StackWorkspace,
    names: DraftNames,
    display: DisplayFactory,
    backoff: Backoff,
    notify: Callable[[str], None],
    service: str | None = None,
    stale: StaleLocks | None = None,
) -> DestroyResult:
    """Destroy the draft's resources and remove its stack; a missing stack is success.

    Needs nothing but the backend and the cluster (no Vault). With ``service``, a stack of
    another service is refused (BadInput) and left alone.
    """
    stack = names.stack
    try:
        ws.select_stack(stack)
        if service is not None:
            check_owner(ws, stack, ws.get_config(stack), service)
    except StackMissing:
        return DestroyResult(stack, "absent")
    try:
        with display(f"destroying {stack}") as sink:
            retry_locked(stack, lambda: ws.destroy(stack, sink), backoff, notify, stale)
        ws.remove_stack(stack)
    except StackMissing:
        return DestroyResult(stack, "absent")
    except LockTimeout:
        raise
    except OperationFailed as exc:
        raise OperationFailed(
            f"destroying {stack} failed: {exc}. The stack is left in place; "
            "'envctl draft reap' destroys it once its merge request is closed or it expires"
        ) from None
    return DestroyResult(stack, "destroyed")
