"""``envctl draft up/destroy/list`` and ``staging`` against the fake workspace."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pulumi.automation import ConfigValue

from components.naming import is_dns_label
from tests.lifecycle.conftest import LOGIN_URL

GOOD, BAD = "1111111aaaa", "2222222bbbb"


def deploy(envctl, sha: str = GOOD, branch: str = "feature/login", *extra: str):
    return envctl("draft", "up", "--branch", branch, "--sha", sha, *extra)


def artefact() -> dict:
    return json.loads(Path("envctl-draft.json").read_text())


def test_first_deploy_sets_only_the_per_draft_keys(envctl, clock) -> None:
    result = deploy(envctl)

    assert result.exit_code == 0, result.output
    stack = envctl.fake.stacks["draft-feature-login"]
    config = {k: v.value for k, v in stack.config.items()}
    assert config["draft:branch"] == "feature/login"
    assert config["draft:sha"] == GOOD
    assert config["draft:team"] == "platform"  # from Pulumi.draft.yaml
    assert config["draft:service"] == "tasks"
    assert datetime.fromisoformat(config["draft:deployedAt"]) == clock[0]
    expires = datetime.fromisoformat(config["draft:expiresAt"])
    assert expires == clock[0] + timedelta(hours=48)
    # the template stays the template's: the program lays it under the stack on every run
    assert set(config) == {
        "draft:branch", "draft:sha", "draft:team", "draft:service", "draft:deployedAt",
        "draft:expiresAt", "draft:image", "draft:migrations",
    }  # fmt: skip
    assert json.loads(config["draft:image"]) == {"prebuilt": False}
    assert json.loads(config["draft:migrations"]) == {"skip": False}
    assert LOGIN_URL in result.output
    document = artefact()
    assert document["status"] == "deployed" and document["smoke"] == "passed"
    assert document["imageTag"] == "draft-feature-login-1111111"
    assert document["url"] == LOGIN_URL


def test_redeploy_renews_the_expiry_and_keeps_the_stacks_own_settings(envctl, clock) -> None:
    assert deploy(envctl).exit_code == 0
    envctl.fake.set_config("draft-feature-login", {"draft:baseDomain": ConfigValue("x.test")})
    clock[0] += timedelta(hours=30)

    # Another --team would be another owner's draft: refused (test_draft_owners.py).
    result = deploy(envctl, "3333333cccc", "feature/login")

    assert result.exit_code == 0, result.output
    config = envctl.fake.stacks["draft-feature-login"].config
    assert config["draft:baseDomain"].value == "x.test"
    assert config["draft:sha"].value == "3333333cccc"
    assert datetime.fromisoformat(config["draft:expiresAt"].value) == clock[0] + timedelta(hours=48)
    assert envctl.fake.calls_of("create_stack") == ["draft-feature-login"]


def test_failed_update_rolls_back_to_the_last_good_commit_and_fails(envctl) -> None:
    assert deploy(envctl, GOOD).exit_code == 0
    envctl.fake.failing_shas.add(BAD)

    result = deploy(envctl, BAD)

    assert result.exit_code == 1
    assert "rolled back to 1111111" in result.output
    stack = envctl.fake.stacks["draft-feature-login"]
    newest = stack.history[0]
    assert newest.kind == "update" and newest.succeeded and newest.config["draft:sha"] == GOOD
    assert [r.result for r in stack.history[:3]] == ["succeeded", "failed", "succeeded"]
    document = artefact()
    assert document["status"] == "rolled back"
    assert document["rolledBackTo"] == GOOD
    assert document["smoke"] == "failed"


def test_failure_without_an_earlier_good_deploy_leaves_the_stack_and_fails(envctl) -> None:
    envctl.fake.failing_shas.add(BAD)

    result = deploy(envctl, BAD)

    assert result.exit_code == 1
    assert "no earlier successful deployment" in result.output
    assert "draft-feature-login" in envctl.fake.stacks
    assert envctl.fake.calls_of("up") == ["draft-feature-login"]
    assert artefact()["status"] == "failed"


def test_a_failing_rollback_is_reported_as_such(envctl) -> None:
    assert deploy(envctl, GOOD).exit_code == 0
    envctl.fake.failing_shas.update({BAD, GOOD})

    result = deploy(envctl, BAD)

    assert result.exit_code == 1
    assert "rollback to 1111111 failed too" in result.output


def test_a_locked_stack_is_retried_then_deployed(envctl, monkeypatch) -> None:
    assert deploy(envctl).exit_code == 0
    envctl.fake.locks["draft-feature-login"] = 2

    result = deploy(envctl, "3333333cccc")

    assert result.exit_code == 0, result.output
    assert result.output.count("is locked by another update; retrying") == 2
    assert envctl.fake.stacks["draft-feature-login"].history[0].config["draft:sha"] == "3333333cccc"


def test_a_stack_that_stays_locked_fails_clearly_without_a_rollback(envctl, monkeypatch) -> None:
    assert deploy(envctl).exit_code == 0
    monkeypatch.setenv("ENVCTL_LOCK_ATTEMPTS", "3")
    envctl.fake.locks["draft-feature-login"] = 100
    updates_before = len(envctl.fake.stacks["draft-feature-login"].history)

    result = deploy(envctl, "3333333cccc")

    assert result.exit_code == 1
    assert "still locked by another update after 3 attempts" in result.output
    assert "pulumi cancel --stack draft-feature-login" in result.output
    assert len(envctl.fake.stacks["draft-feature-login"].history) == updates_before


def test_two_pipelines_for_one_branch_take_turns_on_the_stack_lock(envctl) -> None:
    """Two concurrent `draft up`s: the second finds the stack locked, waits, then runs."""
    import threading

    from automation.lifecycle.drafts import deploy_draft, plan_draft
    from automation.lifecycle.locking import Backoff

    fake, now = envctl.fake, datetime.fromisoformat("2026-11-22T12:00:00+00:00")
    assert deploy(envctl).exit_code == 0
    fake.hold_seconds = 0.2  # each update holds the lock this long
    shas = ("4444444dddd", "5555555eeee")
    plans = [plan_draft("feature/login", sha, None, envctl.project, now) for sha in shas]
    waits: list[str] = []
    results = []

    def run(plan) -> None:
        backoff = Backoff(attempts=200, first_wait=0.01, max_wait=0.05)
        results.append(deploy_draft(fake, plan, {}, _null_display, backoff, waits.append))

    threads = [threading.Thread(target=run, args=(p,)) for p in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.status for r in results) == ["deployed", "deployed"]
    assert waits, "one pipeline must have waited for the other's lock"
    history = fake.stacks["draft-feature-login"].history
    assert [r.result for r in history[:2]] == ["succeeded", "succeeded"]
    assert {r.config["draft:sha"] for r in history[:2]} == set(shas)


def _null_display(_title: str):
    from contextlib import nullcontext

    return nullcontext(lambda _event: None)


@pytest.mark.parametrize(
    "branch",
    [
        "feature/Login-Page",
        "feature/ünïcødé-ветка",
        "bugfix/" + "x" * 200,
        "refs/heads/feature/UPPER_case.v2",
    ],
)
def test_hurried_branch_names_still_get_valid_stack_names(envctl, branch) -> None:
    result = deploy(envctl, GOOD, branch)

    assert result.exit_code == 0, result.output
    (stack,) = envctl.fake.stacks
    assert is_dns_label(stack) and len(stack) <= 53
    assert artefact()["stack"] == stack


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--branch", "main", "--sha", GOOD], "--branch"),
        (["--branch", "feature/ok", "--sha", "not-a-sha"], "--sha"),
        (["--branch", "feature/ok", "--sha", GOOD, "--team", "Team A"], "--team"),
        (["--branch", "feature/ok", "--sha", GOOD, "--team", "x" * 60], "--team"),
    ],
)
def test_bad_input_exits_2_names_the_argument_and_creates_nothing(envctl, args, named) -> None:
    result = envctl("draft", "up", *args)

    assert result.exit_code == 2
    assert named in result.output
    assert envctl.fake.calls == []


def test_a_week_long_ttl_in_the_template_is_refused(envctl) -> None:
    template = envctl.project / "Pulumi.draft.yaml"
    template.write_text(template.read_text().replace("draft:ttlHours: 48", "draft:ttlHours: 168"))

    result = deploy(envctl)

    assert result.exit_code == 2
    assert "draft:ttlHours" in result.output and "1 to 48" in result.output
    assert envctl.fake.calls == []


def test_vault_addr_without_a_ci_identity_is_bad_input(envctl, monkeypatch) -> None:
    monkeypatch.setenv("VAULT_ADDR", "https://vault.example.com")

    result = deploy(envctl)

    assert result.exit_code == 2
    assert "VAULT_ROLE_ID" in result.output and "VAULT_ID_TOKEN" in result.output
    assert envctl.fake.calls_of("create_stack") == []


def test_missing_pulumi_cli_exits_2_with_the_install_hint(envctl) -> None:
    envctl.fake.cli_missing = True
    commands = [
        ["draft", "up", "--branch", "feature/x", "--sha", "abc1234"],
        ["draft", "destroy", "--branch", "feature/x"],
        ["draft", "reap"],
        ["draft", "list"],
        ["staging", "up"],
        ["staging", "preview"],
        ["staging", "destroy", "--yes"],
    ]
    for command in commands:
        result = envctl(*command)
        assert result.exit_code == 2, command
        assert "https://www.pulumi.com/docs/install/" in result.output, command
    assert "created" not in " ".join(op for op, _ in envctl.fake.calls)


def test_the_real_workspace_without_pulumi_on_path_exits_2(tmp_path, monkeypatch) -> None:
    """The Done-when check: no CLI on PATH, `envctl draft up` says so and exits 2."""
    from typer.testing import CliRunner

    from automation.cli import app

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("VAULT_ADDR", raising=False)
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    result = CliRunner().invoke(app, ["draft", "up", "--branch", "feature/x", "--sha", "abc1234"])

    assert result.exit_code == 2
    assert "Pulumi CLI was not found" in result.output
    assert "https://www.pulumi.com/docs/install/" in result.output


def test_destroy_removes_the_stack(envctl) -> None:
    assert deploy(envctl).exit_code == 0

    result = envctl("draft", "destroy", "--branch", "feature/login")

    assert result.exit_code == 0, result.output
    assert "draft-feature-login" not in envctl.fake.stacks
    assert envctl.fake.calls_of("destroy") == ["draft-feature-login"]


def test_destroy_of_a_missing_stack_is_success(envctl) -> None:
    result = envctl("draft", "destroy", "--branch", "feature/never-deployed")

    assert result.exit_code == 0
    assert "nothing to destroy" in result.output
    assert envctl.fake.calls_of("destroy") == []


def test_a_failing_destroy_leaves_the_stack_for_the_reaper(envctl) -> None:
    assert deploy(envctl).exit_code == 0
    envctl.fake.failing_destroys.add("draft-feature-login")

    result = envctl("draft", "destroy", "--branch", "feature/login")

    assert result.exit_code == 1
    assert "left in place" in result.output and "envctl draft reap" in result.output
    assert "draft-feature-login" in envctl.fake.stacks


def test_destroy_waits_for_a_locked_stack(envctl) -> None:
    assert deploy(envctl).exit_code == 0
    envctl.fake.locks["draft-feature-login"] = 1

    result = envctl("draft", "destroy", "--branch", "feature/login")

    assert result.exit_code == 0, result.output
    assert "draft-feature-login" not in envctl.fake.stacks


def test_list_json_shows_branch_url_age_expiry_and_last_result(envctl, clock) -> None:
    assert deploy(envctl, GOOD, "feature/login").exit_code == 0
    envctl.fake.failing_shas.add(BAD)
    assert deploy(envctl, BAD, "bugfix/crash").exit_code == 1
    clock[0] += timedelta(hours=3)

    result = envctl("draft", "list", "--json")

    assert result.exit_code == 0, result.output
    rows = {row["stack"]: row for row in json.loads(result.stdout)}
    login = rows["draft-feature-login"]
    assert login["branch"] == "feature/login"
    assert login["url"] == LOGIN_URL
    assert login["ageSeconds"] == 3 * 3600
    assert login["lastResult"] == "update succeeded"
    assert datetime.fromisoformat(login["expiresAt"]) - clock[0] == timedelta(hours=45)
    assert rows["draft-bugfix-crash"]["lastResult"] == "update failed"


def test_list_as_a_table(envctl) -> None:
    assert deploy(envctl).exit_code == 0

    result = envctl("draft", "list")

    assert result.exit_code == 0
    assert "draft-feature-login" in result.output and "feature/login" in result.output


def test_staging_up_preview_destroy(envctl) -> None:
    preview = envctl("staging", "preview")
    assert preview.exit_code == 0 and "3 to create" in preview.output

    assert envctl("staging", "up").exit_code == 0
    assert envctl.fake.stacks["staging"].history[0].succeeded
    assert "no changes" in envctl("staging", "preview").output

    assert envctl("staging", "destroy").exit_code == 2  # no terminal, no --yes
    assert envctl.fake.stacks["staging"].resources

    assert envctl("staging", "destroy", "--yes").exit_code == 0
    assert envctl.fake.stacks["staging"].resources == []
    assert envctl("staging", "destroy", "--yes").exit_code == 0


def test_error_messages_keep_their_brackets(envctl) -> None:
    from automation.lifecycle.errors import OperationFailed

    assert deploy(envctl).exit_code == 0

    def destroy(_name, _on_event=None):
        raise OperationFailed("error: [409] Conflict while deleting [secret]")

    envctl.fake.destroy = destroy

    result = envctl("draft", "destroy", "--branch", "feature/login")

    assert result.exit_code == 1
    assert "error: [409] Conflict while deleting [secret]" in result.output


def image_settings(envctl) -> dict:
    return json.loads(envctl.fake.stacks["draft-feature-login"].config["draft:image"].value)


def test_set_makes_the_deploy_use_the_image_ci_pushed(envctl) -> None:
    result = deploy(
        envctl,
        GOOD,
        "feature/login",
        "--set",
        "draft:image.prebuilt=true",
        "--set",
        "draft:image.registry=registry.gitlab.example.com",
        "--set",
        "draft:image.repository=group/app",
    )

    assert result.exit_code == 0, result.output
    image = image_settings(envctl)
    assert image["prebuilt"] is True
    assert image["registry"] == "registry.gitlab.example.com"
    assert image["repository"] == "group/app"


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("draft:image.registry=Registry.Example.com/path", "draft:image.registry"),
        ("draft:chart.timeoutSeconds=5", "draft:chart.timeoutSeconds"),
        ("draft:imgae.prebuilt=true", "draft:imgae"),
        ("draft:smoke.image=curlimages/curl:latest", "draft:smoke.image"),
    ],
)
def test_a_bad_draft_setting_exits_2_naming_the_key_and_creates_no_stack(
    envctl, setting, named
) -> None:
    result = deploy(envctl, GOOD, "feature/login", "--set", setting)

    assert result.exit_code == 2, result.output
    assert named in result.output
    assert envctl.fake.calls_of("create_stack") == []
    assert envctl.fake.stacks == {}


def test_a_bad_value_in_the_template_exits_2_before_any_stack_exists(envctl) -> None:
    template = envctl.project / "Pulumi.draft.yaml"
    template.write_text(
        template.read_text().replace("draft:baseDomain: drafts.example.com", "draft:baseDomain: x")
    )

    result = deploy(envctl)

    assert result.exit_code == 2
    assert "draft:baseDomain" in result.output
    assert envctl.fake.stacks == {}


def test_a_bad_value_on_an_existing_stack_stops_the_deploy_before_the_update(envctl) -> None:
    assert deploy(envctl).exit_code == 0
    envctl.fake.set_config("draft-feature-login", {"draft:quota.pods": ConfigValue("100000")})

    result = deploy(envctl, "3333333cccc")

    assert result.exit_code == 2
    assert "draft:quota.pods" in result.output
    assert envctl.fake.calls_of("up") == ["draft-feature-login"]  # the first deploy only


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("draft:sha=3333333", "--sha"),
        ("draft:secrets.x=y", "Vault"),
        ("image.prebuilt=true", "draft:KEY=VALUE"),
        ("draft:image.prebuilt=maybe", "true or false"),
    ],
)
def test_set_refuses_envctls_own_keys_and_bad_forms(envctl, setting, named) -> None:
    result = deploy(envctl, GOOD, "feature/login", "--set", setting)

    assert result.exit_code == 2
    assert "--set" in result.output or "draft:image.prebuilt" in result.output
    assert named in result.output
    assert envctl.fake.calls == []


def test_rollback_references_the_last_good_image_without_a_build(envctl) -> None:
    assert deploy(envctl, GOOD).exit_code == 0
    assert image_settings(envctl)["prebuilt"] is False  # the template's: the program builds
    envctl.fake.failing_shas.add(BAD)
    rollback_config: list[dict] = []
    original_up = envctl.fake.up

    def up(name, on_event=None, message=""):
        config = envctl.fake.stacks[name].config
        rollback_config.append(
            {"sha": config["draft:sha"].value, "image": json.loads(config["draft:image"].value)}
        )
        return original_up(name, on_event, message)

    envctl.fake.up = up

    assert deploy(envctl, BAD).exit_code == 1

    failed, rollback = rollback_config
    assert failed["sha"] == BAD and failed["image"]["prebuilt"] is False
    assert rollback["sha"] == GOOD and rollback["image"]["prebuilt"] is True
    document = artefact()
    assert document["imageTag"] == "draft-feature-login-2222222"  # what was asked for
    assert document["live"] == {
        "sha": GOOD,
        "imageTag": "draft-feature-login-1111111",
        "smoke": "passed",
    }


def test_the_next_deploy_after_a_rollback_builds_again(envctl) -> None:
    assert deploy(envctl, GOOD).exit_code == 0
    envctl.fake.failing_shas.add(BAD)
    assert deploy(envctl, BAD).exit_code == 1

    assert deploy(envctl, "3333333cccc").exit_code == 0

    assert image_settings(envctl)["prebuilt"] is False
    assert artefact()["live"]["sha"] == "3333333cccc"


def test_a_rollback_whose_smoke_test_fails_too_is_a_failure(envctl) -> None:
    assert deploy(envctl, GOOD).exit_code == 0
    envctl.fake.failing_shas.update({BAD, GOOD})  # e.g. a shared dependency broke

    result = deploy(envctl, BAD)

    assert result.exit_code == 1
    assert "the rollback to 1111111 failed too" in result.output
    assert artefact()["status"] == "failed"


def test_team_help_shows_its_default(envctl) -> None:
    result = envctl("draft", "up", "--help", env={"COLUMNS": "200"})

    assert "[default: draft:team of Pulumi.draft.yaml]" in result.output


@pytest.mark.parametrize(
    "key",
    ["draft:sha", "draft:team", "draft:service", "draft:deployedAt", "draft:expiresAt"],
)
def test_set_of_a_key_envctl_owns_is_refused_before_anything_is_touched(envctl, key) -> None:
    result = deploy(envctl, GOOD, "feature/login", "--set", f"{key}=x")
    assert result.exit_code == 2
    assert f"--set: {key} is set by envctl" in result.output
    assert envctl.fake.calls == []
