"""``staging up | preview | destroy`` on the one ``staging`` stack.

Its config is ``Pulumi.staging.yaml`` in the project (Pulumi reads it for the stack by
name), so there is nothing to copy. ``destroy`` keeps the stack and its history.
``rollback`` runs on the host itself (no Pulumi update): the release before the live one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from automation.lifecycle.drafts import DisplayFactory, ensure_stack
from automation.lifecycle.errors import BadInput, OperationFailed, StackMissing
from automation.lifecycle.locking import Backoff, retry_locked
from automation.lifecycle.workspace import StackWorkspace

STAGING = "staging"


def staging_up(
    ws: StackWorkspace,
    display: DisplayFactory,
    backoff: Backoff,
    notify: Callable[[str], None],
    message: str = "",
) -> None:
    """Create or update the staging stack."""
    ensure_stack(ws, STAGING)
    with display("deploying staging") as sink:
        retry_locked(STAGING, lambda: ws.up(STAGING, sink, message), backoff, notify)


def staging_preview(
    ws: StackWorkspace, display: DisplayFactory, backoff: Backoff, notify: Callable[[str], None]
) -> dict[str, int]:
    """What an update of staging would change, by operation."""
    ensure_stack(ws, STAGING)
    with display("previewing staging") as sink:
        return retry_locked(STAGING, lambda: ws.preview(STAGING, sink), backoff, notify)


def staging_destroy(
    ws: StackWorkspace, display: DisplayFactory, backoff: Backoff, notify: Callable[[str], None]
) -> bool:
    """Destroy staging's resources; False when there was no staging stack."""
    try:
        ws.select_stack(STAGING)
    except StackMissing:
        return False
    with display("destroying staging") as sink:
        retry_locked(STAGING, lambda: ws.destroy(STAGING, sink), backoff, notify)
    return True


def staging_rollback(project_dir: Path, config: Mapping[str, Any]) -> str:
    """Make the release before the live one live again on the staging host; its commit.

    ``config`` is the stack's config (``staging:...`` keys, secrets decrypted). The rollback
    script runs over SSH under the host's deploy lock, restores the kept release without a
    rebuild and validates it (with the dashboard password the last deploy kept there).
    """
    from components.config import ConfigError
    from components.staging import commands
    from components.staging.remote import run_script
    from components.staging.settings import load_staging_settings

    try:
        settings = load_staging_settings(project_dir, dict(config))
    except ConfigError as exc:
        raise BadInput(str(exc)) from exc
    key = settings.ssh_private_key
    done = run_script(
        host=settings.host,
        port=settings.port,
        user=settings.user,
        host_key=settings.host_key,
        private_key=key.get_secret_value() if key else None,
        script=commands.rollback(settings),
    )
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1:] or [f"ssh exited {done.returncode}"]
        raise OperationFailed(f"staging rollback failed: {last[0]}")
    return commands.parse_deployed(done.stdout)
