"""A lock left by a killed job is cancelled once it is older than the job timeout.

The fake workspace holds a lock taken at a given time and never released (a CI job killed
mid-update). ``draft up``, ``draft destroy`` and ``draft reap`` cancel it when it is older
than ``ENVCTL_JOB_TIMEOUT`` (default 30m), refresh the stack, and go on; a younger lock is
waited for as before, and still fails clearly when it stays.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

GOOD = "1111111aaaa"
STACK = "draft-feature-login"


def up(envctl, sha: str = GOOD):
    return envctl("draft", "up", "--branch", "feature/login", "--sha", sha, "--no-report")


@pytest.fixture
def locked(envctl, clock, monkeypatch):
    """A deployed draft whose next update was killed 31 minutes ago, holding the lock."""
    monkeypatch.setenv("ENVCTL_LOCK_ATTEMPTS", "3")
    assert up(envctl).exit_code == 0
    envctl.fake.held_locks[STACK] = clock[0]
    clock[0] += timedelta(minutes=31)
    return envctl


def test_draft_up_cancels_a_lock_older_than_the_job_timeout_then_deploys(locked) -> None:
    calls_before = len(locked.fake.calls)

    result = up(locked, "3333333cccc")

    assert result.exit_code == 0, result.output
    assert "longer than the job timeout (ENVCTL_JOB_TIMEOUT=30m)" in result.output
    ops = [op for op, stack in locked.fake.calls[calls_before:] if stack == STACK]
    # cancelled, then refreshed, then the update ran
    assert ops.index("cancel") < ops.index("refresh") < len(ops) - 1 - ops[::-1].index("up")
    assert STACK not in locked.fake.held_locks
    history = locked.fake.stacks[STACK].history
    assert [h.kind for h in history[:2]] == ["update", "refresh"]
    assert history[0].config["draft:sha"] == "3333333cccc"


def test_a_lock_younger_than_the_job_timeout_is_waited_for_not_cancelled(
    locked, monkeypatch
) -> None:
    monkeypatch.setenv("ENVCTL_JOB_TIMEOUT", "1h")

    result = up(locked, "3333333cccc")

    assert result.exit_code == 1
    assert "still locked by another update after 3 attempts" in result.output
    assert locked.fake.calls_of("cancel") == []
    assert STACK in locked.fake.held_locks


def test_draft_destroy_cancels_a_stale_lock(locked) -> None:
    result = locked("draft", "destroy", "--branch", "feature/login", "--no-report")
    assert result.exit_code == 0, result.output
    assert locked.fake.calls_of("cancel") == [STACK]
    assert locked.fake.stacks == {}


def test_the_reaper_cancels_a_stale_lock_instead_of_skipping_it_forever(locked, clock) -> None:
    clock[0] += timedelta(hours=48)  # expired, and its lock is older than any job

    result = locked("draft", "reap")

    assert result.exit_code == 0, result.output
    assert "destroyed" in result.output and "stale lock was cancelled" in result.output
    assert locked.fake.stacks == {}


def test_the_reaper_leaves_a_live_update_alone(envctl, clock) -> None:
    assert up(envctl).exit_code == 0
    clock[0] += timedelta(hours=49)
    envctl.fake.held_locks[STACK] = clock[0] - timedelta(minutes=5)  # a job running now

    result = envctl("draft", "reap")

    assert result.exit_code == 0, result.output
    assert "busy" in result.output
    assert envctl.fake.calls_of("cancel") == []
    assert STACK in envctl.fake.stacks


def test_a_bad_job_timeout_is_bad_input(envctl, monkeypatch) -> None:
    monkeypatch.setenv("ENVCTL_JOB_TIMEOUT", "forever")
    result = up(envctl)
    assert result.exit_code == 2
    assert "ENVCTL_JOB_TIMEOUT: 'forever' is not a duration" in result.output
    assert envctl.fake.calls_of("up") == []
