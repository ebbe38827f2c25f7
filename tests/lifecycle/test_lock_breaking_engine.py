"""Clearing a killed job's lock on the real Pulumi CLI (marker ``engine``, file backend).

A lock file as a killed ``pulumi up`` leaves it (``.pulumi/locks/...``) blocks every
update. Older than the job timeout, ``StaleLocks`` on ``LockBreakingWorkspace`` cancels it
(``Stack.cancel()``: the DIY backend deletes the lock file), refreshes the stack, and the
update runs; a young lock is reported with its time and left alone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from automation.lifecycle.errors import LockTimeout, StackLocked
from automation.lifecycle.lock_breaking import LockBreakingWorkspace
from automation.lifecycle.locking import Backoff, StaleLocks, retry_locked
from tests.engine.harness import hold_lock, small_project

pytestmark = pytest.mark.engine
STACK = "draft-feature-x"
PROGRAM = 'import pulumi\npulumi.export("url", "https://feature-x.drafts.example.com")\n'


@pytest.fixture
def project(engine: dict[str, str], tmp_path: Path) -> Path:
    return small_project(tmp_path, PROGRAM)


def test_a_stale_lock_is_cancelled_the_stack_refreshed_and_the_update_runs(
    engine: dict[str, str], project: Path
) -> None:
    ws = LockBreakingWorkspace(project)
    ws.create_stack(STACK)
    ws.up(STACK)
    now = datetime.now(UTC)
    lock = hold_lock(engine, STACK, now - timedelta(hours=2))
    with pytest.raises(StackLocked):
        ws.up(STACK)  # the lock really blocks
    assert ws.locked_since(STACK) == (now - timedelta(hours=2)).replace(microsecond=0)
    said: list[str] = []

    retry_locked(
        STACK,
        lambda: ws.up(STACK),
        Backoff(attempts=1),
        said.append,
        StaleLocks(ws, timedelta(minutes=30), lambda: now),
    )

    assert not lock.exists()
    assert ws.locked_since(STACK) is None
    kinds = [record.kind for record in ws.history(STACK)]
    assert kinds[:3] == ["update", "refresh", "update"]
    assert "longer than the job timeout" in said[0]


def test_a_young_lock_is_left_alone(engine: dict[str, str], project: Path) -> None:
    ws = LockBreakingWorkspace(project)
    ws.create_stack(STACK)
    now = datetime.now(UTC)
    lock = hold_lock(engine, STACK, now - timedelta(minutes=5))
    stale = StaleLocks(ws, timedelta(minutes=30), lambda: now)

    assert stale.stale_since(STACK) is None
    with pytest.raises(LockTimeout):
        retry_locked(STACK, lambda: ws.up(STACK), Backoff(attempts=1), stale=stale)
    assert lock.exists()
