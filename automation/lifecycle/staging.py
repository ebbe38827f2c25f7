"""``staging up | preview | destroy`` on the one ``staging`` stack.

Its config is ``Pulumi.staging.yaml`` in the project (Pulumi reads it for the stack by
name), so there is nothing to copy. ``destroy`` keeps the stack and its history.
"""

from __future__ import annotations

from collections.abc import Callable

from automation.lifecycle.drafts import DisplayFactory, ensure_stack
from automation.lifecycle.errors import StackMissing
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
