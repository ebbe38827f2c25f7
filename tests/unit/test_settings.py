"""Settings: layered config, and bad values stopped with a message that names the key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from components.config import ConfigError, SettingsModel, load_settings, stack_kind
from components.draft.settings import DraftSettings, load_draft_settings

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SHA = "0123456789abcdef0123456789abcdef01234567"
TEMPLATE = """\
config:
  draft:team: platform
  draft:service: tasks
  draft:baseDomain: drafts.example.com
  draft:vault:
    kvMount: draft
    tokenTtlSeconds: 3600
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "Pulumi.draft.yaml").write_text(TEMPLATE)
    return tmp_path


def load(project: Path, stack: str = "draft-feature-x", **config: str) -> DraftSettings:
    values = {"draft:sha": SHA, "draft:deployedAt": NOW.isoformat(), **config}
    return load_draft_settings(stack, project, values)


def test_stack_config_is_laid_over_the_template_key_by_key(project: Path) -> None:
    settings = load(project, **{"draft:vault": '{"tokenTtlSeconds": 1800}', "draft:ttlHours": "12"})
    assert settings.vault.token_ttl_seconds == 1800
    assert settings.vault.kv_mount == "draft"  # from the template, untouched by the override
    assert settings.ttl_hours == 12
    assert settings.team == "platform"


def test_branch_is_derived_from_a_plain_stack_name(project: Path) -> None:
    settings = load(project, "draft-bugfix-crash-42")
    assert settings.branch == "bugfix/crash-42"
    assert settings.names().stack == "draft-bugfix-crash-42"
    assert settings.names().namespace.startswith("draft-bugfix-crash-42-")  # + the owner


def test_hashed_stacks_need_their_branch_and_it_must_match(project: Path) -> None:
    with pytest.raises(ConfigError, match="draft:branch is required"):
        load(project, "draft-feature-x--abcdefgh")
    with pytest.raises(ConfigError, match="draft:branch belongs to stack draft-feature-y"):
        load(project, "draft-feature-x", **{"draft:branch": "feature/y"})


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (
            "draft:ttlHours",
            "500",
            r"draft:ttlHours is invalid: .*less than or equal to 48 .*expected: hours",
        ),
        ("draft:ttlHours", "168", r"draft:ttlHours is invalid"),
        ("draft:ttlHours", "two days", r"draft:ttlHours is invalid: .*integer"),
        (
            "draft:vault",
            '{"tokenTtlSeconds": 604800}',
            r"draft:vault.tokenTtlSeconds is invalid: .*3600",
        ),
        (
            "draft:team",
            "../../prod",
            r"draft:team is invalid: it does not have the expected form \(expected: lowercase "
            r"letters, digits and inner dashes, at most 40 characters; owning team",
        ),
        ("draft:service", "Tasks API", r"draft:service is invalid"),
        ("draft:baseDomain", "https://drafts.example.com", r"draft:baseDomain is invalid"),
        (
            "draft:ttlhours",
            "12",
            r"draft:ttlhours is not a known setting; did you mean draft:ttlHours\?",
        ),
        ("draft:sha", "not-a-sha", r"draft:sha: 'not-a-sha' must be a hex commit id"),
        (
            "draft:branchPrefixes",
            '["Feature/"]',
            r"draft:branchPrefixes: 'Feature/' must be lowercase",
        ),
    ],
)
def test_bad_values_name_the_key_and_the_expected_form(
    project: Path, key: str, value: str, expected: str
) -> None:
    with pytest.raises(ConfigError, match=expected):
        load(project, **{key: value})


def test_list_items_are_named_in_pulumi_config_set_path_form(project: Path) -> None:
    mocks = '[{"name": "payments-mock", "image": "wiremock/wiremock:3.9.1", "prot": 8080}]'
    with pytest.raises(ConfigError) as caught:
        load(project, **{"draft:mocks": mocks})
    message = str(caught.value)
    assert "draft:mocks[0].port is required but not set (expected: port it listens on)" in message
    assert (
        "draft:mocks[0].prot is not a known setting; did you mean draft:mocks[0].port?" in message
    )


def test_a_check_across_keys_names_the_namespace(project: Path) -> None:
    mocks = '[{"name": "smoke", "image": "wiremock/wiremock:3.9.1", "port": 8080}]'
    with pytest.raises(ConfigError, match=r"draft: settings are invalid: .*mock service names"):
        load(project, **{"draft:mocks": mocks})


def test_each_bad_key_gets_one_message(project: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(project, **{"draft:team": "Platform Team", "draft:ttlHours": "500"})
    lines = str(caught.value).splitlines()[1:]
    assert [line.split()[0] for line in lines] == ["draft:team", "draft:ttlHours"]


def test_errors_never_echo_the_value(project: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(project, **{"draft:team": "hunter2-SECRET"})
    assert "hunter2" not in str(caught.value)


def test_a_missing_required_key_is_named(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.draft.yaml").write_text("config:\n  draft:team: platform\n")
    with pytest.raises(ConfigError) as caught:
        load(tmp_path)
    message = str(caught.value)
    assert "draft:service is required but not set" in message
    assert "draft:baseDomain is required but not set" in message


def test_the_template_may_not_hold_encrypted_values(project: Path) -> None:
    (project / "Pulumi.draft.yaml").write_text(TEMPLATE + "  draft:token:\n    secure: v1:abc\n")
    with pytest.raises(
        ConfigError, match="draft:token is encrypted, but a template cannot hold secrets"
    ):
        load(project)


def test_expiry_is_ttl_after_the_deploy_unless_set_and_never_beyond_48_hours(
    project: Path,
) -> None:
    assert load(project, **{"draft:ttlHours": "6"}).expiry == NOW + timedelta(hours=6)
    later = (NOW + timedelta(hours=10)).isoformat()
    assert load(project, **{"draft:expiresAt": later}).expiry == NOW + timedelta(hours=10)
    week = (NOW + timedelta(days=7)).isoformat()
    with pytest.raises(ConfigError, match=r"draft:expiresAt is invalid .*at most 48 hours"):
        load(project, **{"draft:expiresAt": week})
    earlier = (NOW - timedelta(minutes=1)).isoformat()
    with pytest.raises(ConfigError, match=r"draft:expiresAt is invalid .*after draft:deployedAt"):
        load(project, **{"draft:expiresAt": earlier})


def test_a_stored_expiry_long_past_is_still_valid_config(project: Path) -> None:
    """The program checks structure, not the clock: an old stack still previews and
    destroys; that it has expired is the reapers' business."""
    long_ago = datetime(2001, 1, 1, tzinfo=UTC)
    settings = load(
        project,
        **{
            "draft:deployedAt": long_ago.isoformat(),
            "draft:expiresAt": (long_ago + timedelta(hours=1)).isoformat(),
        },
    )
    assert settings.expiry == long_ago + timedelta(hours=1)


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("draft:sha", r"draft:sha is required but not set \(expected: the commit id"),
        ("draft:deployedAt", r"draft:deployedAt is required but not set \(expected: the ISO"),
    ],
)
def test_commit_and_deploy_time_come_from_config_only(
    project: Path, missing: str, message: str
) -> None:
    values = {"draft:sha": SHA, "draft:deployedAt": NOW.isoformat()}
    del values[missing]
    with pytest.raises(ConfigError, match=message):
        load_draft_settings("draft-feature-x", project, values)


@pytest.mark.parametrize("stack", ["production", "prod", "draft-", "Staging", "dev"])
def test_stacks_of_no_known_kind_are_refused(stack: str) -> None:
    with pytest.raises(ConfigError, match=f"stack: '{stack}' is not a stack this project deploys"):
        stack_kind(stack)


class _Demo(SettingsModel):
    host: str
    domain: str = "example.com"


def test_each_model_reads_only_its_own_namespace(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.staging.yaml").write_text("config:\n  staging:host: 203.0.113.10\n")
    settings = load_settings(_Demo, "staging", "staging", tmp_path, {"draft:host": "elsewhere"})
    assert settings.host == "203.0.113.10"
