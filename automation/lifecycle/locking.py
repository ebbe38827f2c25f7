"""Retry an operation on a stack that another update has locked, with backoff.

A lock older than the job timeout (``ENVCTL_JOB_TIMEOUT``, default 30m) cannot belong to
a running job: the CI system has killed it. ``StaleLocks`` cancels such a lock (what
``pulumi cancel`` does), refreshes the stack so its state matches what the killed update
left behind, and the operation goes on.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar, runtime_checkable

from automation.lifecycle.durations import parse_duration, show_duration
from automation.lifecycle.errors import BadInput, LockTimeout, StackLocked

T = TypeVar("T")

ATTEMPTS_VAR = "ENVCTL_LOCK_ATTEMPTS"
WAIT_VAR = "ENVCTL_LOCK_WAIT_SECONDS"
JOB_TIMEOUT_VAR = "ENVCTL_JOB_TIMEOUT"
DEFAULT_JOB_TIMEOUT = timedelta(minutes=30)
MAX_JOB_TIMEOUT = timedelta(hours=24)


@runtime_checkable
class LockBreaker(Protocol):
    """What a workspace needs to clear a stale lock (``pulumi cancel``, ``pulumi refresh``)."""

    def locked_since(self, name: str) -> datetime | None:
        """When the stack's current lock was taken; None when it is not locked."""
        ...

    def cancel(self, name: str) -> None:
        """Cancel the stack's in-progress update and release its lock."""
        ...

    def refresh(self, name: str) -> None:
        """Read the real state of the stack's resources into its state."""
        ...


@dataclass(frozen=True)
class StaleLocks:
    """Clears locks older than ``timeout`` on a workspace that can (a ``LockBreaker``)."""

    ws: object
    timeout: timedelta = DEFAULT_JOB_TIMEOUT
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC), compare=False)

    @classmethod
    def from_env(
        cls, ws: object, clock: Callable[[], datetime], env: Mapping[str, str] | None = None
    ) -> StaleLocks:
        """``ENVCTL_JOB_TIMEOUT`` (e.g. 30m, 1h; at most 24h), default 30 minutes."""
        env = os.environ if env is None else env
        raw = env.get(JOB_TIMEOUT_VAR, "").strip()
        timeout = (
            parse_duration(raw, name=JOB_TIMEOUT_VAR, maximum=MAX_JOB_TIMEOUT)
            if raw
            else DEFAULT_JOB_TIMEOUT
        )
        return cls(ws, timeout, clock)

    def stale_since(self, stack: str) -> datetime | None:
        """When the stack's lock was taken, if that is longer ago than the timeout."""
        if not isinstance(self.ws, LockBreaker):
            return None
        since = self.ws.locked_since(stack)
        if since is None or self.clock() - since <= self.timeout:
            return None
        return since

    def clear(self, stack: str, notify: Callable[[str], None]) -> bool:
        """Cancel a stale lock and refresh the stack; True when one was cleared."""
        since = self.stale_since(stack)
        if since is None or not isinstance(self.ws, LockBreaker):
            return False
        notify(
            f"{stack} has been locked since {since.isoformat()}, longer than the job timeout "
            f"({JOB_TIMEOUT_VAR}={show_duration(self.timeout)}): the update that took the lock "
            "is gone; cancelling it and refreshing the stack"
        )
        self.ws.cancel(stack)
        self.ws.refresh(stack)
        return True


@dataclass(frozen=True)
class Backoff:
    """``attempts`` tries, waiting ``first_wait`` seconds, doubling, at most ``max_wait``."""

    attempts: int = 6
    first_wait: float = 10.0
    max_wait: float = 120.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def waits(self) -> list[float]:
        """The pauses between attempts."""
        return [min(self.first_wait * 2**i, self.max_wait) for i in range(self.attempts - 1)]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Backoff:
        """Defaults, overridden by ``ENVCTL_LOCK_ATTEMPTS`` and ``ENVCTL_LOCK_WAIT_SECONDS``."""
        env = os.environ if env is None else env
        attempts = _number(env, ATTEMPTS_VAR, cls.attempts, 1, 50)
        first = _number(env, WAIT_VAR, int(cls.first_wait), 0, 600)
        return cls(attempts=attempts, first_wait=float(first))


def _number(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadInput(f"{name}: expected a whole number from {low} to {high}")
    return int(raw)


def retry_locked(
    stack: str,
    operation: Callable[[], T],
    backoff: Backoff,
    on_wait: Callable[[str], None] = lambda _: None,
    stale: StaleLocks | None = None,
) -> T:
    """Run ``operation``; while the stack is locked, wait and try again, then fail clearly.

    With ``stale``, a lock older than the job timeout is cleared once and the operation
    tried again at once.
    """
    waits = backoff.waits()
    cleared = False
    for attempt in range(backoff.attempts):
        try:
            return operation()
        except StackLocked:
            if not cleared and stale is not None and stale.clear(stack, on_wait):
                cleared = True
                try:
                    return operation()
                except StackLocked:
                    pass
            if attempt == len(waits):
                break
            on_wait(
                f"{stack} is locked by another update; "
                f"retrying in {waits[attempt]:.0f}s ({attempt + 1}/{backoff.attempts})"
            )
            backoff.sleep(waits[attempt])
    total = sum(waits)
    raise LockTimeout(
        f"{stack} is still locked by another update after {backoff.attempts} attempts "
        f"over {total:.0f}s; re-run this job when the other pipeline has finished (a lock "
        f"older than {JOB_TIMEOUT_VAR}, default {show_duration(DEFAULT_JOB_TIMEOUT)}, is "
        f"cancelled by the next run), or run 'pulumi cancel --stack {stack}' if no update is "
        "really running"
    )
