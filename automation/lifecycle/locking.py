"""Retry an operation on a stack that another update has locked, with backoff."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from automation.lifecycle.errors import BadInput, LockTimeout, StackLocked

T = TypeVar("T")

ATTEMPTS_VAR = "ENVCTL_LOCK_ATTEMPTS"
WAIT_VAR = "ENVCTL_LOCK_WAIT_SECONDS"


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
) -> T:
    """Run ``operation``; while the stack is locked, wait and try again, then fail clearly."""
    waits = backoff.waits()
    for attempt in range(backoff.attempts):
        try:
            return operation()
        except StackLocked:
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
        f"over {total:.0f}s; re-run this job when the other pipeline has finished, or run "
        f"'pulumi cancel --stack {stack}' if no update is really running"
    )
