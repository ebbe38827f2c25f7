"""Merge-request reports and MR states against recorded GitLab/GitHub API exchanges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from automation.lifecycle.ci_env import detect
from automation.lifecycle.merge_requests import review_states, review_thread
from automation.lifecycle.report import MARKER, DraftReport, render
from tests.lifecycle.conftest import LOGIN_URL

GITLAB_ENV = {
    "GITLAB_CI": "true",
    "CI_API_V4_URL": "https://gitlab.example.com/api/v4",
    "CI_PROJECT_ID": "42",
    "CI_MERGE_REQUEST_IID": "7",
    "CI_PIPELINE_URL": "https://gitlab.example.com/group/app/-/pipelines/1001",
    "ENVCTL_GITLAB_TOKEN": "glpat-test-token-0000",
}
GITHUB_ENV = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_REPOSITORY": "octo-org/app",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_RUN_ID": "555",
    "GITHUB_REF": "refs/pull/12/merge",
    "GITHUB_TOKEN": "ghs_test_token_0000",
}


def report(status: str = "deployed", smoke: str = "passed") -> DraftReport:
    return DraftReport(
        status=status,
        stack="draft-feature-login",
        branch="feature/login",
        sha="1111111aaaa",
        image_tag="draft-feature-login-1111111",
        url=LOGIN_URL,
        smoke=smoke,
        expires_at=datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
        pipeline_url="https://gitlab.example.com/group/app/-/pipelines/1001",
    )


def post(env: dict[str, str], draft: DraftReport) -> str:
    found = review_thread(detect(env), env, draft.branch)
    assert found is not None
    thread, client = found
    try:
        action = thread.upsert_comment(render(draft))
        thread.set_label("draft-tested", draft.tested)
    finally:
        client.close()
    return action


def test_gitlab_first_push_creates_the_comment_and_labels_the_mr(cassette) -> None:
    tape = cassette("gitlab_first_report")

    assert post(GITLAB_ENV, report()) == "created"

    assert tape.done
    (created, labels) = tape.sent("POST") + tape.sent("PUT")
    assert created["body"].startswith(MARKER)
    for shown in (
        LOGIN_URL,
        "draft-feature-login-1111111",
        "passed",
        "2026-11-24 12:00 UTC",
        "pipelines/1001",
    ):
        assert shown in created["body"]
    assert labels == {"add_labels": "draft-tested"}
    assert all(r.headers["private-token"] == "glpat-test-token-0000" for r in tape.seen)


def test_gitlab_later_push_edits_the_same_comment_in_place(cassette) -> None:
    tape = cassette("gitlab_update_report")

    assert post(GITLAB_ENV, report("rolled back", "failed")) == "updated"

    assert tape.done
    assert tape.sent("POST") == []
    edit, labels = tape.sent("PUT")
    assert "rolled back" in edit["body"] and "failed" in edit["body"]
    assert labels == {"remove_labels": "draft-tested"}


def test_gitlab_branch_pipeline_finds_the_open_mr_by_source_branch(cassette) -> None:
    tape = cassette("gitlab_branch_pipeline", "gitlab_first_report")
    env = {k: v for k, v in GITLAB_ENV.items() if k != "CI_MERGE_REQUEST_IID"}

    assert post(env, report()) == "created"
    assert tape.done


def test_github_first_run_creates_the_comment_and_adds_the_label(cassette) -> None:
    tape = cassette("github_first_report")

    assert post(GITHUB_ENV, report()) == "created"

    assert tape.done
    created, labels = tape.sent("POST")
    assert created["body"].startswith(MARKER)
    assert labels == {"labels": ["draft-tested"]}
    assert tape.seen[0].headers["authorization"] == "Bearer ghs_test_token_0000"
    assert tape.seen[0].headers["x-github-api-version"] == "2022-11-28"


def test_github_synchronize_follows_the_link_header_and_patches_in_place(cassette) -> None:
    tape = cassette("github_update_report")

    assert post(GITHUB_ENV, report("failed", "failed")) == "updated"

    assert tape.done  # including the DELETE of an absent label, answered 404
    (patched,) = tape.sent("PATCH")
    assert "Draft update failed" in patched["body"]


def test_github_pull_number_from_the_event_payload(tmp_path) -> None:
    event = tmp_path / "event.json"
    event.write_text('{"action": "synchronize", "pull_request": {"number": 31}}')
    env = {**GITHUB_ENV, "GITHUB_REF": "refs/heads/feature/login", "GITHUB_EVENT_PATH": str(event)}

    ci = detect(env)

    assert ci.pull_number == 31
    assert ci.pipeline_url == "https://github.com/octo-org/app/actions/runs/555"


@pytest.mark.parametrize(
    ("env", "fixture"), [(GITLAB_ENV, "gitlab_reaper_states"), (GITHUB_ENV, "github_reaper_states")]
)
def test_reaper_merge_request_states(cassette, env, fixture) -> None:
    tape = cassette(fixture)
    found = review_states(detect(env), env)
    assert found is not None
    states, client = found
    with client:
        answers = [states.closed(b) for b in ("feature/merged", "feature/open", "feature/no-mr")]
    assert answers == [True, False, None]
    assert tape.done


def test_draft_up_in_gitlab_reports_to_the_merge_request(envctl, cassette, monkeypatch) -> None:
    tape = cassette("gitlab_first_report")
    for name, value in GITLAB_ENV.items():
        monkeypatch.setenv(name, value)

    result = envctl("draft", "up", "--branch", "feature/login", "--sha", "1111111aaaa")

    assert result.exit_code == 0, result.output
    assert "merge request report: comment created" in result.output
    assert tape.done
    body = tape.sent("POST")[0]["body"]
    assert LOGIN_URL in body
    assert "draft-feature-login-1111111" in body
    expires = envctl.fake.stacks["draft-feature-login"].config["draft:expiresAt"].value
    assert datetime.fromisoformat(expires).strftime("%Y-%m-%d %H:%M UTC") in body


def test_a_forbidden_report_warns_but_keeps_the_deploy_green(envctl, cassette, monkeypatch) -> None:
    tape = cassette("gitlab_forbidden")
    for name, value in GITLAB_ENV.items():
        monkeypatch.setenv(name, value)

    result = envctl("draft", "up", "--branch", "feature/login", "--sha", "1111111aaaa")

    assert result.exit_code == 0
    assert "merge request report failed" in result.output and "HTTP 403" in result.output
    assert "glpat-test-token" not in result.output
    assert tape.done


def test_reap_in_gitlab_destroys_drafts_of_closed_merge_requests(
    envctl, cassette, monkeypatch, clock
) -> None:
    tape = cassette("gitlab_reaper_states")
    for name, value in GITLAB_ENV.items():
        monkeypatch.setenv(name, value)
    for branch in ("feature/merged", "feature/open", "feature/no-mr"):
        envctl.fake.seed(
            "draft-" + branch.replace("/", "-"),
            config={
                "draft:branch": branch,
                "draft:expiresAt": (clock[0] + timedelta(hours=40)).isoformat(),
            },
            last_update=clock[0] - timedelta(hours=8),
        )

    result = envctl("draft", "reap", "--concurrency", "1")

    assert result.exit_code == 0, result.output
    assert set(envctl.fake.stacks) == {"draft-feature-open", "draft-feature-no-mr"}
    assert "merge request of feature/merged is closed" in result.output
    assert tape.done


def test_the_report_never_breaks_its_table() -> None:
    body = render(DraftReport("failed", "draft-x", "feature/x", error="a | b\nc"))
    assert "> a \\| b c" in body


def test_gitlab_never_edits_a_marked_note_someone_else_wrote(cassette) -> None:
    tape = cassette("gitlab_foreign_marker")

    assert post(GITLAB_ENV, report()) == "created"

    assert tape.done
    assert [r.method for r in tape.seen if "/notes/" in r.url.path] == []  # no PUT of 903
    (created,) = tape.sent("POST")
    assert created["body"].startswith(MARKER)


def test_gitlab_edit_refused_with_403_is_reported_and_a_new_note_posted(cassette) -> None:
    tape = cassette("gitlab_edit_refused")

    action = post(GITLAB_ENV, report())

    assert tape.done
    assert action.startswith("created: editing envctl's earlier comment was refused")
    assert "HTTP 403" in action and "glpat" not in action
    (created,) = tape.sent("POST")
    assert created["body"].startswith(MARKER)


def test_the_comment_says_when_the_draft_expires_and_how_to_extend_it() -> None:
    body = render(report())
    assert "| Expires | 2026-11-24 12:00 UTC" in body
    assert "envctl draft extend --branch feature/login" in body
