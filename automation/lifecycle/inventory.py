"""What each draft stack is: branch, URL, last update, expiry and last result.

Read from the backend alone (``pulumi stack ls`` plus the newest history entry, whose
config snapshot holds ``draft:branch`` and ``draft:expiresAt``), so it works in any CI
checkout, on any backend, without the stacks' local config files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from automation.lifecycle.errors import LifecycleError
from automation.lifecycle.workspace import SECRET_MASK, StackEntry, StackWorkspace
from components.naming import NamingError, is_draft_stack, names_for

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class DraftStatus:
    """One draft stack as envctl sees it; ``problem`` when it could not be read."""

    stack: str
    branch: str | None = None
    sha: str | None = None
    url: str | None = None
    last_update: datetime | None = None
    expires_at: datetime | None = None
    last_result: str | None = None
    problem: str | None = None

    def age(self, now: datetime) -> timedelta | None:
        return None if self.last_update is None else now - self.last_update

    def as_json(self, now: datetime) -> dict[str, Any]:
        age = self.age(now)
        return {
            "stack": self.stack,
            "branch": self.branch,
            "sha": self.sha,
            "url": self.url,
            "lastUpdate": self.last_update.isoformat() if self.last_update else None,
            "ageSeconds": int(age.total_seconds()) if age is not None else None,
            "expiresAt": self.expires_at.isoformat() if self.expires_at else None,
            "lastResult": self.last_result,
            "problem": self.problem,
        }


def parse_time(text: str | None) -> datetime | None:
    """An ISO 8601 time (UTC when it has no zone), or None when absent or unreadable."""
    if not text or text == SECRET_MASK:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def branch_for_stack(stack: str, prefixes: tuple[str, ...]) -> str | None:
    """The plain branch whose draft is ``stack`` (None for hashed slugs: no way back)."""
    head, _, rest = stack.removeprefix("draft-").partition("-")
    candidate = f"{head}/{rest}"
    try:
        return candidate if names_for(candidate, None, prefixes).stack == stack else None
    except NamingError:
        return None


def draft_entries(ws: StackWorkspace) -> list[StackEntry]:
    """The project's ``draft-*`` stacks, by name."""
    return sorted((e for e in ws.list_stacks() if is_draft_stack(e.name)), key=lambda e: e.name)


def read_status(
    ws: StackWorkspace, entry: StackEntry, prefixes: tuple[str, ...], with_url: bool = False
) -> DraftStatus:
    """The stack's status from its newest history entry, and from its outputs for the URL and
    for the expiry of a stack deployed without ``draft:expiresAt`` (plain ``pulumi up``: the
    program exports the expiry it derived from ``draft:deployedAt`` and ``draft:ttlHours``)."""
    try:
        history = ws.history(entry.name, limit=1)
        newest = history[0] if history else None
        config = newest.config if newest else {}
        url = None
        outputs_expiry = None
        if with_url or (newest is not None and "draft:expiresAt" not in config):
            outputs = ws.outputs(entry.name)
            if with_url and "url" in outputs and not outputs["url"].secret:
                url = str(outputs["url"].value)
            if "expires_at" in outputs and not outputs["expires_at"].secret:
                outputs_expiry = str(outputs["expires_at"].value)
    except LifecycleError as exc:
        return DraftStatus(entry.name, last_update=entry.last_update, problem=str(exc))
    branch = config.get("draft:branch") or branch_for_stack(entry.name, prefixes)
    last_update = entry.last_update or (newest.ended or newest.started if newest else None)
    return DraftStatus(
        stack=entry.name,
        branch=branch if branch != SECRET_MASK else None,
        sha=config.get("draft:sha"),
        url=url,
        last_update=last_update,
        expires_at=parse_time(config.get("draft:expiresAt")) or parse_time(outputs_expiry),
        last_result=f"{newest.kind} {newest.result}" if newest else None,
    )


def bounded_map(items: Iterable[T], work: Callable[[T], R], concurrency: int) -> list[R]:
    """``work`` over ``items`` on at most ``concurrency`` threads, results in input order."""
    listed = list(items)
    if concurrency <= 1 or len(listed) <= 1:
        return [work(item) for item in listed]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(work, listed))
