"""``envctl draft ...`` and ``envctl staging ...``: the verbs; the work lives in the modules.

Exit codes: 0 success; 1 the operation failed (update, smoke test, destroy, a locked
stack that stayed locked); 2 bad input or configuration, including a missing Pulumi CLI
(nothing was created). Progress goes to stdout (live on a terminal, plain lines in CI
logs); errors and notices go to stderr. Every printed line passes the ``Redactor``.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from automation.lifecycle.artefact import artefact, write_dotenv, write_json
from automation.lifecycle.ci_env import CiContext, detect
from automation.lifecycle.drafts import (
    HISTORY_DEPTH,
    MAX_TTL_HOURS,
    DeployResult,
    DisplayFactory,
    DraftPlan,
    Watch,
    deploy_draft,
    destroy_draft,
    last_good,
    live_overrides,
    load_template,
    names_of,
    plan_draft,
    program_secret_keys,
    service_of,
    template_prefixes,
)
from automation.lifecycle.durations import parse_duration
from automation.lifecycle.errors import BadInput, LifecycleError, OperationFailed, StackMissing
from automation.lifecycle.inventory import bounded_map, draft_entries, read_status
from automation.lifecycle.kubectl import kubectl
from automation.lifecycle.lock_breaking import LockBreakingWorkspace
from automation.lifecycle.locking import Backoff, StaleLocks
from automation.lifecycle.merge_requests import review_states, review_thread
from automation.lifecycle.orphans import OrphanSweep, Owner, SweepOutcome
from automation.lifecycle.pod_logs import save_failed_pod_logs
from automation.lifecycle.progress import EventDisplay
from automation.lifecycle.reaper import Reaper, ReapOutcome
from automation.lifecycle.redact import Redactor
from automation.lifecycle.report import TESTED_LABEL, DraftReport, render
from automation.lifecycle.staging import (
    staging_destroy,
    staging_preview,
    staging_rollback,
    staging_up,
)
from automation.lifecycle.vault import VaultSession, login_from_env, vault_session
from automation.lifecycle.watch import TOKEN_ENV, URL_ENV, parse_watch, prometheus_from, watcher
from automation.lifecycle.workspace import EventSink, StackWorkspace
from components.naming import short_sha

draft_app = typer.Typer(
    help="Deploy, destroy, reap and list per-branch draft stacks.", no_args_is_help=True
)
staging_app = typer.Typer(
    help="Deploy, preview or destroy the staging stack.", no_args_is_help=True
)

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

MAX_REAP_AGE = timedelta(hours=48)

ProjectDir = Annotated[
    Path,
    typer.Option("--cwd", help="directory of the Pulumi project", exists=True, file_okay=False),
]


def make_workspace(project_dir: Path) -> StackWorkspace:
    """The workspace the commands drive (tests replace this with a fake); it can clear a
    lock a killed job left behind, and runs the project's policy pack (``policy/``) on every
    update and preview, as ``pulumi up --policy-pack policy`` does."""
    pack = project_dir / "policy"
    packs = [pack] if (pack / "PulumiPolicy.yaml").is_file() else []
    return LockBreakingWorkspace(project_dir, policy_packs=packs)


def clock() -> datetime:
    """Now, in UTC (tests replace this)."""
    return datetime.now(UTC)


def _say(redact: Redactor, text: str, style: str | None = None) -> None:
    err.print(redact(text), style=style, markup=False, highlight=False)


def _error(message: str) -> None:
    """One ``error:`` line on stderr; the message is shown as is, never as markup."""
    err.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False)


@contextmanager
def _exits(redact: Redactor) -> Iterator[None]:
    """Turn a LifecycleError into its message on stderr and its exit code."""
    try:
        yield
    except LifecycleError as exc:
        _error(redact(str(exc)))
        raise typer.Exit(exc.exit_code) from None


def _read_vault_secrets(
    env: Mapping[str, str], redact: Redactor, plan: DraftPlan, keys: tuple[str, ...]
) -> dict[str, str]:
    """The ``keys`` of the draft's Vault secret, read with a checked short-lived token that
    is revoked at once (before any Pulumi process runs); {} without ``VAULT_ADDR``."""
    login = login_from_env(env)
    if login is None:
        _say(redact, "vault: VAULT_ADDR is not set; no secrets read")
        return {}
    session: VaultSession | None = None
    try:
        with vault_session(login, redact, plan.vault_ttl) as session:
            found = session.read(plan.kv_mount, plan.team, plan.service, redact)
    finally:
        if session is not None:
            state = "revoked" if session.revoked else "not revocable, expires on its own"
            _say(redact, f"vault: token from {login.source} (TTL {session.info.ttl}s), now {state}")
    secrets = {key: found[key] for key in keys if key in found}
    _say(
        redact,
        f"vault: {len(secrets)} of the {len(keys)} secrets the deploy uses "
        f"({', '.join(keys)}) read from {plan.kv_mount}/{plan.team}/{plan.service} "
        f"via {login.source}",
    )
    return secrets


def _display(redact: Redactor) -> DisplayFactory:
    def open_display(title: str) -> AbstractContextManager[EventSink]:
        return EventDisplay(out, redact, title)

    return open_display


def _report(ci: CiContext, env: Mapping[str, str], report: DraftReport, redact: Redactor) -> None:
    """Create or update the MR/PR comment and the draft-tested label; warn on failure."""
    if ci.platform == "none":
        _say(redact, "merge request report: skipped (not running in GitLab CI or GitHub Actions)")
        return
    try:
        found = review_thread(ci, env, report.branch)
        if found is None:
            _say(redact, "merge request report: skipped (no open merge request or no API token)")
            return
        thread, client = found
        try:
            action = thread.upsert_comment(redact(render(report)))
            if report.status != "destroyed":
                thread.set_label(TESTED_LABEL, report.tested)
        finally:
            client.close()
        _say(redact, f"merge request report: comment {action}")
    except LifecycleError as exc:
        _say(redact, f"warning: merge request report failed: {exc}", style="yellow")


def _deploy_report(result: DeployResult, ci: CiContext) -> DraftReport:
    plan = result.plan
    return DraftReport(
        status=result.status,
        stack=plan.names.stack,
        branch=plan.names.branch,
        sha=plan.sha,
        image_tag=plan.names.image_tag,
        url=result.url,
        smoke=result.smoke,
        expires_at=plan.expires_at,
        pipeline_url=ci.pipeline_url,
        rolled_back_to=result.rolled_back_to,
        error=result.error,
        watch=None if result.watch is None else result.watch.summary(),
    )


@draft_app.command("up")
def draft_up(
    branch: Annotated[str, typer.Option(help="git branch, e.g. feature/login")],
    sha: Annotated[str, typer.Option(help="commit id being deployed (7-64 hex characters)")],
    team: Annotated[
        str | None, typer.Option(help="owning team \\[default: draft:team of Pulumi.draft.yaml]")
    ] = None,
    cwd: ProjectDir = Path("."),
    artifact: Annotated[
        Path, typer.Option(help="where to write the JSON artefact for the pipeline")
    ] = Path("envctl-draft.json"),
    dotenv: Annotated[
        Path | None, typer.Option(help="also write DRAFT_URL=... lines (GitLab dotenv report)")
    ] = None,
    report: Annotated[
        bool, typer.Option(help="comment on the merge/pull request and set draft-tested")
    ] = True,
    logs_dir: Annotated[
        Path,
        typer.Option(help="where a failed deploy keeps its failed pods' logs (a CI artefact)"),
    ] = Path("envctl-failed-pods"),
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="draft config for this deploy, like 'pulumi config set --path', "
            "e.g. draft:image.prebuilt=true (repeatable)",
        ),
    ] = None,
    watch: Annotated[
        str | None,
        typer.Option(
            help="after a good deploy, watch the release's 5xx ratio in Prometheus this long "
            "(10s to 30m, e.g. 5m) and roll back when it stays above "
            "draft:monitoring.errorRatioThreshold",
        ),
    ] = None,
    prometheus_url: Annotated[
        str | None,
        typer.Option(
            envvar=URL_ENV,
            show_envvar=True,
            help=f"Prometheus for --watch, e.g. http://prometheus.monitoring:9090 "
            f"(a bearer token from {TOKEN_ENV})",
        ),
    ] = None,
) -> None:
    """Create or update the branch's draft; roll back to the last good deploy when it fails
    (or, with --watch, keeps answering 5xx)."""
    env, redact = dict(os.environ), Redactor()
    with _exits(redact):
        plan = plan_draft(branch, sha, team, cwd, clock(), set_ or [])
        watched: Watch | None = None
        if watch is not None:
            duration = parse_watch(watch)
            prometheus = prometheus_from(prometheus_url, env.get(TOKEN_ENV), redact)
            watched = watcher(prometheus, plan.names.namespace, duration, lambda m: _say(redact, m))
        ws = make_workspace(cwd)
        code = _deploy(
            ws, plan, env, redact, "envctl draft up", artifact, dotenv, report, logs_dir, watched
        )
    raise typer.Exit(code)


def _deploy(
    ws: StackWorkspace,
    plan: DraftPlan,
    env: Mapping[str, str],
    redact: Redactor,
    verb: str,
    artifact: Path,
    dotenv: Path | None,
    report: bool,
    logs_dir: Path,
    watch: Watch | None = None,
) -> int:
    """Deploy ``plan`` (Vault only when needed), watch it when asked, write the artefacts,
    report; the exit code."""
    backoff = Backoff.from_env(env)
    ci = detect(env)
    message = f"{verb} {short_sha(plan.sha)}"
    if ci.pipeline_url:
        message += f" ({ci.pipeline_url})"
    keys = program_secret_keys(plan)
    if keys:
        secrets = _read_vault_secrets(env, redact, plan, keys)
    else:
        secrets = {}
        _say(redact, "vault: not needed (prebuilt image, no external database); no login")
    stale = StaleLocks.from_env(ws, clock, env)
    result = deploy_draft(
        ws,
        plan,
        secrets,
        _display(redact),
        backoff,
        lambda m: _say(redact, m),
        message,
        stale,
        keep_logs=lambda: save_failed_pod_logs(plan.names.namespace, logs_dir, redact),
        watch=watch,
    )
    document = artefact(result, ci.pipeline_url)
    try:
        write_json(artifact, document, redact)
        if dotenv is not None:
            write_dotenv(dotenv, document)
    except OSError as exc:
        raise OperationFailed(f"--artifact: cannot write {exc.filename}: {exc.strerror}") from None
    if report:
        _report(ci, env, _deploy_report(result, ci), redact)
    if result.status == "deployed":
        if result.watch is not None and result.watch.verdict == "unknown":
            _say(redact, f"warning: post-deploy watch {result.watch.summary()}", style="yellow")
        watched = f", 5xx watch {result.watch.verdict}" if result.watch is not None else ""
        out.print(
            redact(
                f"{plan.names.stack} deployed: {result.url or '(no url output)'} "
                f"(smoke test {result.smoke}{watched}, expires {plan.expires_at.isoformat()})"
            ),
            markup=False,
            highlight=False,
        )
    else:
        _error(redact(result.error or result.status))
    return result.exit_code


@draft_app.command("extend")
def draft_extend(
    branch: Annotated[str, typer.Option(help="git branch whose draft to keep longer")],
    hours: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=MAX_TTL_HOURS,
            help="expire this many hours from now, 1 to 48 \\[default: draft:ttlHours]",
        ),
    ] = None,
    cwd: ProjectDir = Path("."),
    artifact: Annotated[
        Path, typer.Option(help="where to write the JSON artefact for the pipeline")
    ] = Path("envctl-draft.json"),
    report: Annotated[bool, typer.Option(help="update the merge/pull request comment")] = True,
    logs_dir: Annotated[
        Path, typer.Option(help="where a failed deploy keeps its failed pods' logs")
    ] = Path("envctl-failed-pods"),
) -> None:
    """Keep the branch's draft longer: redeploy what serves it now with a later expiry."""
    env, redact = dict(os.environ), Redactor()
    with _exits(redact):
        template = load_template(cwd)
        names = names_of(branch, template)
        ws = make_workspace(cwd)
        try:
            live = last_good(ws.history(names.stack, limit=HISTORY_DEPTH))
        except StackMissing:
            raise BadInput(
                f"--branch: {branch} has no draft (stack {names.stack} does not exist)"
            ) from None
        if live is None:
            raise OperationFailed(
                f"{names.stack} has no successful deploy to extend; deploy it with "
                "'envctl draft up' first"
            )
        now = clock()
        plan = plan_draft(
            branch,
            live.config["draft:sha"],
            live.config.get("draft:team"),
            cwd,
            now,
            live_overrides(live),  # what serves it now, as it was deployed
        )
        if hours is not None:
            plan = replace(plan, expires_at=(now + timedelta(hours=hours)).replace(microsecond=0))
        code = _deploy(
            ws, plan, env, redact, "envctl draft extend", artifact, None, report, logs_dir
        )
    raise typer.Exit(code)


@draft_app.command("destroy")
def draft_destroy(
    branch: Annotated[str, typer.Option(help="git branch whose draft to destroy")],
    cwd: ProjectDir = Path("."),
    report: Annotated[bool, typer.Option(help="mark the merge/pull request comment")] = True,
) -> None:
    """Destroy the branch's draft and remove its stack; a missing stack is success."""
    env, redact = dict(os.environ), Redactor()
    with _exits(redact):
        template = load_template(cwd)
        names = names_of(branch, template)
        backoff = Backoff.from_env(env)
        ws = make_workspace(cwd)
        result = destroy_draft(
            ws,
            names,
            _display(redact),
            backoff,
            lambda m: _say(redact, m),
            service=service_of(template),
            stale=StaleLocks.from_env(ws, clock, env),
        )
        if result.status == "absent":
            out.print(f"{names.stack} does not exist; nothing to destroy", markup=False)
            return
        out.print(f"{names.stack} destroyed and removed", markup=False)
        ci = detect(env)
        if report:
            done = DraftReport("destroyed", names.stack, names.branch, pipeline_url=ci.pipeline_url)
            _report(ci, env, done, redact)


@draft_app.command("reap")
def draft_reap(
    max_age: Annotated[
        str, typer.Option(help="reap stacks with no deploy for this long (at most 48h)")
    ] = "48h",
    dry_run: Annotated[bool, typer.Option(help="only list what would be destroyed")] = False,
    concurrency: Annotated[
        int, typer.Option(min=1, max=32, help="stacks examined and destroyed at once")
    ] = 4,
    orphans: Annotated[
        bool,
        typer.Option(
            help="also delete this team/service's draft namespaces that have no stack "
            "(kubectl, the kubeconfig Pulumi uses)"
        ),
    ] = True,
    orphan_grace: Annotated[
        str,
        typer.Option(help="leave a namespace without a stack this long (a first deploy)"),
    ] = "1h",
    cwd: ProjectDir = Path("."),
) -> None:
    """Destroy every draft that expired or whose merge request is closed, then delete
    the draft namespaces left without a stack."""
    env, redact = dict(os.environ), Redactor()
    with _exits(redact):
        age = parse_duration(max_age, name="--max-age", maximum=MAX_REAP_AGE)
        grace = parse_duration(orphan_grace, name="--orphan-grace", maximum=MAX_REAP_AGE)
        template = load_template(cwd)
        owner = Owner.of_template(template) if orphans else None
        prefixes = template_prefixes(template)
        ws = make_workspace(cwd)
        states = review_states(detect(env), env)
        failed_lookups: list[str] = []
        cache: dict[str, bool | None] = {}
        lock = threading.Lock()

        def closed(branch: str) -> bool | None:
            with lock:
                if branch in cache:
                    return cache[branch]
            try:
                answer = states[0].closed(branch) if states else None
            except LifecycleError as exc:
                failed_lookups.append(f"{branch}: {exc}")
                answer = None
            with lock:
                cache[branch] = answer
            return answer

        def tell(outcome: ReapOutcome | SweepOutcome) -> None:
            name = outcome.stack if isinstance(outcome, ReapOutcome) else outcome.namespace
            if outcome.action != "kept":
                reason = f" ({outcome.reason})" if outcome.reason else ""
                out.print(
                    redact(f"{outcome.action:<14}{name}{reason}"),
                    markup=False,
                    highlight=False,
                )

        if states is None:
            _say(
                redact,
                "merge request states: unknown outside GitLab CI/GitHub Actions "
                "or without an API token; reaping by expiry only",
            )
        try:
            reaper = Reaper(
                ws,
                clock(),
                age,
                prefixes,
                closed if states else None,
                concurrency,
                StaleLocks.from_env(ws, clock, env),
            )
            summary = reaper.run(dry_run, tell)
        finally:
            if states:
                states[1].close()
        for problem in failed_lookups:
            _say(redact, f"warning: merge request lookup failed for {problem}", style="yellow")
        dry = " (dry run)" if dry_run else ""
        out.print(summary.line() + dry, markup=False)
        code = summary.exit_code
        if owner is not None:
            sweep = OrphanSweep(
                owner, lambda: [e.name for e in ws.list_stacks()], clock(), grace, kubectl
            ).run_once(dry_run, tell)
            if sweep.problem is not None:
                _say(redact, sweep.line(), style="red")
            else:
                out.print(redact(sweep.line() + dry), markup=False, highlight=False)
            code = max(code, 1 if sweep.failed else 0)
        raise typer.Exit(code)


@draft_app.command("list")
def draft_list(
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON array")] = False,
    cwd: ProjectDir = Path("."),
) -> None:
    """Every draft stack with its branch, URL, age, expiry and last result."""
    redact = Redactor()
    with _exits(redact):
        prefixes = template_prefixes(load_template(cwd))
        ws = make_workspace(cwd)
        statuses = bounded_map(
            draft_entries(ws), lambda e: read_status(ws, e, prefixes, with_url=True), 8
        )
        now = clock()
        if as_json:
            sys.stdout.write(json.dumps([s.as_json(now) for s in statuses], indent=2) + "\n")
            return
        header = ("stack", "branch", "url", "age", "expires", "last result")
        rows = []
        for s in statuses:
            age = s.age(now)
            rows.append(
                (
                    s.stack,
                    s.branch or "?",
                    s.url or "",
                    f"{age.total_seconds() / 3600:.1f}h" if age is not None else "",
                    s.expires_at.strftime("%Y-%m-%d %H:%M") if s.expires_at else "",
                    s.problem or s.last_result or "",
                )
            )
        if out.is_terminal:
            table = Table(*header)
            for row in rows:
                table.add_row(*(Text(cell) for cell in row))
            out.print(table)
        else:  # logs and pipes: one unwrapped tab-separated line per stack
            for row in (header, *rows):
                out.print("\t".join(row), markup=False, highlight=False)


@staging_app.command("up")
def staging_up_command(cwd: ProjectDir = Path(".")) -> None:
    """Create or update the staging stack."""
    redact = Redactor()
    with _exits(redact):
        backoff = Backoff.from_env()
        ws = make_workspace(cwd)
        staging_up(ws, _display(redact), backoff, lambda m: _say(redact, m), "envctl staging up")
        out.print("staging deployed", markup=False)


@staging_app.command("preview")
def staging_preview_command(cwd: ProjectDir = Path(".")) -> None:
    """Show what an update of staging would change."""
    redact = Redactor()
    with _exits(redact):
        backoff = Backoff.from_env()
        ws = make_workspace(cwd)
        changes = staging_preview(ws, _display(redact), backoff, lambda m: _say(redact, m))
        summary = ", ".join(f"{n} to {op}" for op, n in sorted(changes.items()) if op != "same")
        out.print(f"staging preview: {summary or 'no changes'}", markup=False)


@staging_app.command("rollback")
def staging_rollback_command(cwd: ProjectDir = Path(".")) -> None:
    """Make the previous validated release live again on the host (no rebuild, same lock)."""
    redact = Redactor()
    with _exits(redact):
        ws = make_workspace(cwd)
        stack_config = ws.get_config("staging")
        redact.add(*(value.value for value in stack_config.values() if value.secret))
        config = {key: value.value for key, value in stack_config.items()}
        commit = staging_rollback(cwd, config)
        out.print(f"staging rolled back to {commit}", markup=False)


@staging_app.command("destroy")
def staging_destroy_command(
    yes: Annotated[bool, typer.Option("--yes", help="confirm without a prompt (CI)")] = False,
    cwd: ProjectDir = Path("."),
) -> None:
    """Destroy staging's resources (the stack and its history stay)."""
    redact = Redactor()
    with _exits(redact):
        if not yes:
            if not sys.stdin.isatty():
                err.print(
                    "error: --yes: required to destroy staging without a terminal", markup=False
                )
                raise typer.Exit(2)
            typer.confirm("Destroy every resource of the staging stack?", abort=True)
        backoff = Backoff.from_env()
        ws = make_workspace(cwd)
        if staging_destroy(ws, _display(redact), backoff, lambda m: _say(redact, m)):
            out.print("staging destroyed", markup=False)
        else:
            out.print("staging does not exist; nothing to destroy", markup=False)
