"""``envctl draft reap`` and the Reaper against the fake workspace."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from automation.lifecycle.durations import parse_duration, show_duration
from automation.lifecycle.errors import BadInput, OperationFailed
from automation.lifecycle.reaper import Reaper
from components.naming import DEFAULT_PREFIXES

HOUR = timedelta(hours=1)


def seed_draft(
    fake,
    name: str,
    *,
    deployed_ago: timedelta,
    expires_in: timedelta | None,
    branch: str | None = None,
) -> None:
    now = fake.clock()
    config = {"draft:branch": branch or name.removeprefix("draft-").replace("-", "/", 1)}
    if expires_in is not None:
        config["draft:expiresAt"] = (now + expires_in).isoformat()
    fake.seed(name, config=config, last_update=now - deployed_ago)


def test_reap_destroys_expired_and_stale_stacks_and_keeps_the_rest(envctl) -> None:
    fake = envctl.fake
    seed_draft(fake, "draft-feature-expired", deployed_ago=10 * HOUR, expires_in=-HOUR)
    seed_draft(fake, "draft-feature-stale", deployed_ago=49 * HOUR, expires_in=None)
    seed_draft(fake, "draft-feature-fresh", deployed_ago=HOUR, expires_in=47 * HOUR)
    seed_draft(fake, "draft-feature-no-expiry", deployed_ago=2 * HOUR, expires_in=None)
    fake.seed("staging", last_update=fake.clock() - 500 * HOUR)

    result = envctl("draft", "reap")

    assert result.exit_code == 0, result.output
    assert set(fake.stacks) == {"draft-feature-fresh", "draft-feature-no-expiry", "staging"}
    assert "expired at" in result.output and "no deploy for 49h" in result.output
    assert "2 destroyed, 2 kept" in result.output


def test_max_age_shortens_the_life_of_stacks(envctl) -> None:
    seed_draft(envctl.fake, "draft-feature-a", deployed_ago=3 * HOUR, expires_in=45 * HOUR)

    result = envctl("draft", "reap", "--max-age", "90m")

    assert result.exit_code == 0
    assert envctl.fake.stacks == {}


def test_dry_run_names_what_would_go_and_destroys_nothing(envctl) -> None:
    seed_draft(envctl.fake, "draft-feature-old", deployed_ago=60 * HOUR, expires_in=None)
    seed_draft(envctl.fake, "draft-feature-new", deployed_ago=HOUR, expires_in=HOUR)

    result = envctl("draft", "reap", "--dry-run")

    assert result.exit_code == 0
    assert "would destroy" in result.output and "draft-feature-old" in result.output
    assert "draft-feature-new" not in result.output
    assert set(envctl.fake.stacks) == {"draft-feature-old", "draft-feature-new"}
    assert envctl.fake.calls_of("destroy") == []


def test_one_broken_stack_never_stops_the_others(envctl) -> None:
    fake = envctl.fake
    for index in range(6):
        seed_draft(fake, f"draft-feature-s{index}", deployed_ago=50 * HOUR, expires_in=None)
    seed_draft(fake, "draft-feature-unreadable", deployed_ago=HOUR, expires_in=HOUR)
    fake.failing_destroys.add("draft-feature-s2")
    fake.locks["draft-feature-s4"] = 1
    original = fake.history

    def history(name: str, limit: int | None = None):
        if name == "draft-feature-unreadable":
            raise OperationFailed("error: could not decrypt the checkpoint")
        return original(name, limit)

    fake.history = history  # type: ignore[method-assign]

    result = envctl("draft", "reap")

    assert result.exit_code == 1
    assert set(fake.stacks) == {"draft-feature-s2", "draft-feature-s4", "draft-feature-unreadable"}
    assert "namespace is stuck in Terminating" in result.output
    assert "left for the next run" in result.output
    assert "4 destroyed, 1 locked, 1 failed, 1 unreadable" in result.output


def test_a_stack_whose_merge_request_closed_is_reaped_before_expiry(fake, clock) -> None:
    seed_draft(fake, "draft-feature-merged", deployed_ago=HOUR, expires_in=47 * HOUR)
    seed_draft(fake, "draft-feature-open", deployed_ago=HOUR, expires_in=47 * HOUR)
    seed_draft(fake, "draft-feature-no-mr", deployed_ago=HOUR, expires_in=47 * HOUR)
    states = {"feature/merged": True, "feature/open": False, "feature/no-mr": None}

    summary = Reaper(fake, clock[0], 48 * HOUR, DEFAULT_PREFIXES, states.get).run(
        False, lambda _o: None
    )

    assert set(fake.stacks) == {"draft-feature-open", "draft-feature-no-mr"}
    (merged,) = [o for o in summary.outcomes if o.action == "destroyed"]
    assert "merge request of feature/merged is closed" in merged.reason


def test_a_thousand_stacks_with_bounded_concurrency(fake, clock) -> None:
    for index in range(1000):
        expired = index % 3 == 0
        seed_draft(
            fake,
            f"draft-feature-b{index:04d}",
            deployed_ago=2 * HOUR,
            expires_in=-HOUR if expired else HOUR,
        )
    failing = {f"draft-feature-b{index:04d}" for index in (0, 300, 600, 900)}  # all expired
    fake.failing_destroys.update(failing)
    active, peak, guard = [0], [0], threading.Lock()
    original = fake.destroy

    def counting_destroy(name, on_event=None):
        with guard:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        try:
            original(name, on_event)
        finally:
            with guard:
                active[0] -= 1

    fake.destroy = counting_destroy  # type: ignore[method-assign]
    fake.hold_seconds = 0.001

    summary = Reaper(fake, clock[0], 48 * HOUR, DEFAULT_PREFIXES, concurrency=8).run(
        False, lambda _o: None
    )

    counts = summary.count()
    assert counts["destroyed"] == 334 - 4 and counts["failed"] == 4
    assert counts["kept"] == 666
    assert len(fake.stacks) == 666 + 4 and failing <= set(fake.stacks)
    assert 1 < peak[0] <= 8
    assert summary.exit_code == 1


def test_stacks_with_an_update_in_progress_are_left_alone(fake, clock) -> None:
    from automation.lifecycle.workspace import StackEntry

    seed_draft(fake, "draft-feature-busy", deployed_ago=60 * HOUR, expires_in=None)
    fake.list_stacks = lambda: [  # type: ignore[method-assign]
        StackEntry("draft-feature-busy", clock[0] - 60 * HOUR, update_in_progress=True)
    ]

    summary = Reaper(fake, clock[0], 48 * HOUR, DEFAULT_PREFIXES).run(False, lambda _o: None)

    assert [o.action for o in summary.outcomes] == ["busy"]
    assert "draft-feature-busy" in fake.stacks


@pytest.mark.parametrize(
    ("text", "minutes"), [("48h", 2880), ("90m", 90), ("2d", 2880), ("1h30m", 90), (" 12H ", 720)]
)
def test_durations_people_type(text: str, minutes: int) -> None:
    parsed = parse_duration(text, name="--max-age", maximum=48 * HOUR)
    assert parsed == timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["3d", "49h", "1w", "", "forever", "0m", "-5h", "48", "h"])
def test_durations_refused(text: str) -> None:
    with pytest.raises(BadInput, match="--max-age"):
        parse_duration(text, name="--max-age", maximum=48 * HOUR)


def test_seconds_and_a_lower_bound_as_the_watch_uses_them() -> None:
    bounds = {"minimum": timedelta(seconds=10), "maximum": timedelta(minutes=30)}
    assert parse_duration("2m30s", name="--watch", **bounds) == timedelta(seconds=150)
    with pytest.raises(BadInput, match="'5s' is shorter than 10s"):
        parse_duration("5s", name="--watch", **bounds)
    assert show_duration(timedelta(seconds=150)) == "2m30s"
    assert show_duration(timedelta(hours=48)) == "48h"


def test_bad_max_age_exits_2_before_listing_stacks(envctl) -> None:
    result = envctl("draft", "reap", "--max-age", "3d")

    assert result.exit_code == 2
    assert "--max-age" in result.output and "at most 48h" in result.output
    assert envctl.fake.calls == []


def test_a_draft_redeployed_while_the_reaper_runs_is_kept(fake, clock) -> None:
    from pulumi.automation import ConfigValue

    seed_draft(fake, "draft-feature-race", deployed_ago=50 * HOUR, expires_in=None)
    seed_draft(fake, "draft-feature-gone", deployed_ago=50 * HOUR, expires_in=None)

    class RacingReaper(Reaper):
        def examine(self, entry):
            found = super().examine(entry)
            if entry.name == "draft-feature-race":  # a pipeline deploys it right now
                clock[0] += timedelta(minutes=1)
                fake.set_config(entry.name, {"draft:sha": ConfigValue("abc1234")})
                fake.up(entry.name)
            return found

    summary = RacingReaper(fake, clock[0], 48 * HOUR, DEFAULT_PREFIXES, concurrency=1).run(
        False, lambda _o: None
    )

    actions = {o.stack: o.action for o in summary.outcomes}
    assert actions == {"draft-feature-race": "kept", "draft-feature-gone": "destroyed"}
    assert "draft-feature-race" in fake.stacks


def test_a_stack_that_was_never_deployed_is_reaped_and_said_so(envctl) -> None:
    """An empty stack (a `draft up` that died before its first update) never lingers."""
    envctl.fake.create_stack("draft-feature-abandoned")
    seed_draft(envctl.fake, "draft-feature-fresh", deployed_ago=HOUR, expires_in=47 * HOUR)

    result = envctl("draft", "reap")

    assert result.exit_code == 0, result.output
    assert set(envctl.fake.stacks) == {"draft-feature-fresh"}
    assert "draft-feature-abandoned (never deployed" in result.output


def test_a_never_deployed_stack_that_gets_its_first_update_meanwhile_is_kept(fake, clock) -> None:
    from pulumi.automation import ConfigValue

    fake.create_stack("draft-feature-new")

    class RacingReaper(Reaper):
        def examine(self, entry):
            found = super().examine(entry)
            fake.set_config(entry.name, {"draft:sha": ConfigValue("abc1234")})
            fake.up(entry.name)  # its first `draft up` gets to the update now
            return found

    summary = RacingReaper(fake, clock[0], 48 * HOUR, DEFAULT_PREFIXES, concurrency=1).run(
        False, lambda _o: None
    )

    assert [(o.action, o.reason) for o in summary.outcomes] == [
        ("kept", "deployed while the reaper ran")
    ]
    assert fake.stacks["draft-feature-new"].resources


@pytest.mark.parametrize("text", ["9999999999d", "99999999999999999999999h", "1" * 400 + "m"])
def test_an_enormous_max_age_exits_2_naming_the_option_and_form(envctl, text) -> None:
    result = envctl("draft", "reap", "--max-age", text)

    assert result.exit_code == 2
    assert "--max-age" in result.output and "like 48h, 90m, 2d or 1h30m" in result.output
    assert "Traceback" not in result.output
    assert envctl.fake.calls == []


def test_the_max_age_is_shown_as_typed(envctl) -> None:
    seed_draft(envctl.fake, "draft-feature-a", deployed_ago=2 * HOUR, expires_in=None)

    result = envctl("draft", "reap", "--max-age", "1h30m", "--dry-run")

    assert result.exit_code == 0, result.output
    assert "no deploy for 2h (max age 1h30m)" in result.output
