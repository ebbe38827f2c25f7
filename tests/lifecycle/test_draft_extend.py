"""``envctl draft extend``: keep a draft longer (at most 48 h ahead), seen by the reaper."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

GOOD, BAD = "1111111aaaa", "2222222bbbb"
STACK = "draft-feature-login"


def up(envctl, sha: str = GOOD, *extra: str):
    return envctl("draft", "up", "--branch", "feature/login", "--sha", sha, "--no-report", *extra)


def test_extend_moves_the_expiry_and_the_reaper_keeps_the_draft(envctl, clock) -> None:
    assert up(envctl).exit_code == 0
    clock[0] += timedelta(hours=47)

    result = envctl("draft", "extend", "--branch", "feature/login", "--hours", "24", "--no-report")

    assert result.exit_code == 0, result.output
    config = envctl.fake.stacks[STACK].config
    assert datetime.fromisoformat(config["draft:expiresAt"].value) == clock[0] + timedelta(hours=24)
    assert config["draft:sha"].value == GOOD
    assert json.loads(config["draft:image"].value)["prebuilt"] is True  # nothing rebuilt
    assert "vault" in result.output and "not needed" in result.output
    document = json.loads(Path("envctl-draft.json").read_text())
    assert document["expiresAt"] == (clock[0] + timedelta(hours=24)).isoformat()

    clock[0] += timedelta(hours=2)  # past the first expiry, before the new one
    reap = envctl("draft", "reap")
    assert reap.exit_code == 0 and STACK in envctl.fake.stacks


def test_extend_keeps_what_serves_the_draft_after_a_rollback(envctl) -> None:
    assert up(envctl).exit_code == 0
    envctl.fake.failing_shas.add(BAD)
    assert up(envctl, BAD).exit_code == 1  # rolled back to GOOD

    result = envctl("draft", "extend", "--branch", "feature/login", "--no-report")

    assert result.exit_code == 0, result.output
    assert envctl.fake.stacks[STACK].config["draft:sha"].value == GOOD


def test_extend_more_than_48_hours_is_refused(envctl) -> None:
    assert up(envctl).exit_code == 0
    updates = len(envctl.fake.calls_of("up"))
    result = envctl("draft", "extend", "--branch", "feature/login", "--hours", "49")
    assert result.exit_code == 2
    assert "--hours" in result.output
    assert len(envctl.fake.calls_of("up")) == updates


def test_extend_of_a_branch_without_a_draft_is_bad_input(envctl) -> None:
    result = envctl("draft", "extend", "--branch", "feature/nothing", "--no-report")
    assert result.exit_code == 2
    assert "--branch: feature/nothing has no draft" in result.output
    assert envctl.fake.calls_of("create_stack") == []


def test_extend_redeploys_the_live_release_as_it_was_deployed(envctl) -> None:
    """From any checkout: the pipeline's --set image registry stays, and after a rollback
    the migrations stay skipped (the old code's migrations would fail on the newer DB)."""
    pipeline = ["--set", "draft:image.prebuilt=true", "--set", "draft:image.registry=ghcr.io",
                "--set", "draft:image.repository=octo-org/app"]  # fmt: skip
    assert up(envctl, GOOD, *pipeline).exit_code == 0
    envctl.fake.failing_shas.add(BAD)
    assert up(envctl, BAD, *pipeline).exit_code == 1  # rolled back, migrations skipped
    envctl.fake.stacks[STACK].config.clear()  # another checkout: no stack file, only history

    result = envctl("draft", "extend", "--branch", "feature/login", "--no-report")

    assert result.exit_code == 0, result.output
    config = envctl.fake.stacks[STACK].config
    image = json.loads(config["draft:image"].value)
    assert image == {"prebuilt": True, "registry": "ghcr.io", "repository": "octo-org/app"}
    assert json.loads(config["draft:migrations"].value) == {"skip": True}
    assert config["draft:sha"].value == GOOD
