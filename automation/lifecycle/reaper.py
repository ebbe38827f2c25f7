"""Destroy every draft stack that has outlived its expiry or its merge request.

A stack is reaped when its expiry (``draft:expiresAt`` of its last update) is past, when
it has had no update for ``max_age`` (the only rule for stacks without an expiry), when
it was never deployed (no history at all: the backend does not say when a stack was
created, and ``draft up`` creates a stack only right before its first update; one that
gets a history while the reaper runs is kept), or when its branch's merge request exists
and is closed or merged. Destroys need only the backend and the cluster (no Vault).
Stacks are examined and
destroyed on at most ``concurrency`` threads; each stack's trouble (unreadable, locked,
failing destroy, any exception) is recorded for that stack and never stops the others.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from automation.lifecycle.durations import show_duration
from automation.lifecycle.errors import OperationFailed, StackLocked, StackMissing
from automation.lifecycle.inventory import DraftStatus, bounded_map, draft_entries, read_status
from automation.lifecycle.locking import StaleLocks
from automation.lifecycle.workspace import StackEntry, StackWorkspace

Action = Literal[
    "kept", "destroyed", "would destroy", "gone", "busy", "locked", "failed", "unreadable"
]
ReviewClosed = Callable[[str], bool | None]
"""For a branch: True when its merge request is closed or merged, None when unknown."""


@dataclass(frozen=True)
class ReapOutcome:
    """What the reaper did with one stack, and why."""

    stack: str
    action: Action
    reason: str = ""


@dataclass(frozen=True)
class ReapSummary:
    """Every stack's outcome, by stack name."""

    outcomes: list[ReapOutcome] = field(default_factory=list)

    def count(self) -> Counter[str]:
        return Counter(o.action for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        """1 when a destroy failed or a stack could not be read; locked stacks wait."""
        counts = self.count()
        return 1 if counts["failed"] or counts["unreadable"] else 0

    def line(self) -> str:
        counts = self.count()
        order = [
            "destroyed",
            "would destroy",
            "kept",
            "gone",
            "busy",
            "locked",
            "failed",
            "unreadable",
        ]
        parts = [f"{counts[a]} {a}" for a in order if counts[a]]
        return f"{len(self.outcomes)} draft stacks: " + (", ".join(parts) or "nothing to do")


@dataclass(frozen=True)
class Verdict:
    """Why a stack goes; ``renewable`` when a fresh deploy would take the reason away."""

    reason: str
    renewable: bool = True
    never_deployed: bool = False


NEVER_DEPLOYED = "never deployed (no update in its history)"
NEVER_DEPLOYED_GRACE = timedelta(hours=1)
"""A stack with no update is left this long: its pipeline may be between create and up."""


@dataclass(frozen=True)
class Reaper:
    """One reaping pass over a workspace."""

    ws: StackWorkspace
    now: datetime
    max_age: timedelta
    prefixes: tuple[str, ...]
    review_closed: ReviewClosed | None = None
    concurrency: int = 4
    stale: StaleLocks | None = None
    """Clears locks older than the job timeout (a killed job's) instead of skipping them."""

    def reason_to_reap(self, entry: StackEntry) -> tuple[Verdict | None, DraftStatus | None]:
        """Why ``entry`` should go (None: keep it), and its status when it had to be read."""
        if entry.last_update is not None and self.now - entry.last_update > self.max_age:
            age = show_duration(self.now - entry.last_update)
            return Verdict(f"no deploy for {age} (max age {show_duration(self.max_age)})"), None
        status = read_status(self.ws, entry, self.prefixes)
        if status.problem:
            return None, status
        if status.expires_at is not None and status.expires_at <= self.now:
            return Verdict(f"expired at {status.expires_at.isoformat()}"), status
        if status.last_result is None:  # no update in its history
            # The CLI reports a never-deployed stack's last change as its last update.
            created = entry.last_update
            if created is None or self.now - created > NEVER_DEPLOYED_GRACE:
                return Verdict(NEVER_DEPLOYED, never_deployed=True), status
            return None, status
        closed = self.review_closed(status.branch) if self.review_closed and status.branch else None
        if closed:
            return Verdict(f"merge request of {status.branch} is closed", False), status
        return None, status

    def examine(self, entry: StackEntry) -> tuple[StackEntry, Verdict | None, ReapOutcome | None]:
        """The reason to reap ``entry``, or the outcome that settles it without a destroy."""
        if entry.update_in_progress and not self._stale(entry.name):
            return entry, None, ReapOutcome(entry.name, "busy", "an update is in progress")
        try:
            reason, status = self.reason_to_reap(entry)
        except Exception as exc:  # one broken stack must not stop the others
            return entry, None, ReapOutcome(entry.name, "unreadable", _describe(exc))
        if status is not None and status.problem:
            return entry, None, ReapOutcome(entry.name, "unreadable", status.problem)
        if reason is None:
            return entry, None, ReapOutcome(entry.name, "kept")
        return entry, reason, None

    def destroy(self, stack: str, verdict: Verdict) -> ReapOutcome:
        """Destroy and remove one stack; every failure becomes that stack's outcome.

        A stack that a pipeline redeployed after this pass began is kept: its expiry was
        just renewed (unless its merge request is closed, which no deploy undoes). So is
        a never-deployed stack that has a history by now (its first ``draft up`` ran).
        """
        reason = verdict.reason
        try:
            newest = self.ws.history(stack, limit=1) if verdict.renewable else []
            if newest and verdict.never_deployed:
                return ReapOutcome(stack, "kept", "deployed while the reaper ran")
            if newest and newest[0].kind == "update" and newest[0].started > self.now:
                return ReapOutcome(stack, "kept", "redeployed while the reaper ran")
            try:
                self.ws.destroy(stack)
            except StackLocked:
                if self.stale is None or not self.stale.clear(stack, lambda _: None):
                    raise
                reason += "; its stale lock was cancelled and the stack refreshed"
                self.ws.destroy(stack)
            self.ws.remove_stack(stack)
        except StackMissing:
            return ReapOutcome(stack, "gone", reason)
        except StackLocked:
            return ReapOutcome(stack, "locked", f"{reason}; in use, left for the next run")
        except OperationFailed as exc:
            return ReapOutcome(stack, "failed", f"{reason}; {exc}")
        except Exception as exc:
            return ReapOutcome(stack, "failed", f"{reason}; {_describe(exc)}")
        return ReapOutcome(stack, "destroyed", reason)

    def _stale(self, stack: str) -> bool:
        try:
            return self.stale is not None and self.stale.stale_since(stack) is not None
        except Exception:  # unreadable: judged like any locked stack
            return False

    def run(self, dry_run: bool, on_outcome: Callable[[ReapOutcome], None]) -> ReapSummary:
        """Examine every draft stack, then destroy the ones to reap (unless ``dry_run``)."""
        examined = bounded_map(draft_entries(self.ws), self.examine, self.concurrency)
        outcomes: list[ReapOutcome] = []
        doomed: list[tuple[str, Verdict]] = []
        for entry, reason, settled in examined:
            if settled is not None:
                outcomes.append(settled)
                on_outcome(settled)
            elif reason is not None:
                doomed.append((entry.name, reason))
        if dry_run:

            def destroy_and_tell(item: tuple[str, Verdict]) -> ReapOutcome:
                outcome = ReapOutcome(item[0], "would destroy", item[1].reason)
                on_outcome(outcome)
                return outcome

        else:

            def destroy_and_tell(item: tuple[str, Verdict]) -> ReapOutcome:
                outcome = self.destroy(*item)
                on_outcome(outcome)
                return outcome

        outcomes.extend(bounded_map(doomed, destroy_and_tell, 1 if dry_run else self.concurrency))
        outcomes.sort(key=lambda o: o.stack)
        return ReapSummary(outcomes)


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"
