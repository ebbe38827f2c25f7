"""Settings and blueprint rules that are not visible in a single plan."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from components.config import ConfigError, validate_settings
from components.draft.blueprint import build_blueprint, quantity
from components.draft.settings import DraftSettings, resolve_draft
from tests.draft.conftest import REPO, STACK

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SHA = "0123456789abcdef0123456789abcdef01234567"
BASE = {
    "team": "platform",
    "service": "tasks",
    "baseDomain": "drafts.example.com",
    "sha": SHA,
    "deployedAt": NOW.isoformat(),
}


def settings(**values: object) -> DraftSettings:
    loaded = validate_settings(DraftSettings, "draft", {**BASE, **values})
    return resolve_draft(loaded, STACK)


@pytest.mark.parametrize(
    ("given", "host"),
    [
        ("registry.example.com", "registry.example.com"),
        ("https://registry.example.com/", "registry.example.com"),
        ("http://127.0.0.1:5000", "127.0.0.1:5000"),
        ("registry.example.com:5000", "registry.example.com:5000"),
    ],
)
def test_registry_urls_become_host_and_port(given: str, host: str) -> None:
    assert settings(image={"registry": given}).image.registry == host


def test_the_image_lives_at_registry_team_service_unless_a_repository_is_set() -> None:
    plan = build_blueprint(settings(), REPO)
    assert plan.image == "registry.example.com/platform/tasks:draft-feature-x-0123456"
    plan = build_blueprint(settings(image={"repository": "apps/todo"}), REPO)
    assert plan.image_repository == "registry.example.com/apps/todo"


def test_oci_wins_over_a_repository_which_wins_over_a_path() -> None:
    chart = {"repository": "https://charts.example.com", "name": "tasks"}
    assert settings(chart=chart).chart.source == "repository"
    assert settings(chart={**chart, "oci": "oci://r.example.com/c/tasks"}).chart.source == "oci"
    with pytest.raises(ConfigError, match=r"draft:chart is invalid: .*needs chart\.name"):
        settings(chart={"repository": "https://charts.example.com"})


def test_charts_from_a_repository_are_not_read_locally() -> None:
    chart = {"repository": "https://charts.example.com", "name": "tasks", "path": "nowhere"}
    plan = build_blueprint(settings(chart=chart), REPO)
    assert plan.chart.repository == "https://charts.example.com" and plan.chart.chart == "tasks"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("250m", "0.25"),
        ("2", "2"),
        ("1Gi", str(2**30)),
        ("512Mi", str(512 * 2**20)),
        ("1k", "1000"),
    ],
)
def test_quantities_are_read_like_kubernetes_reads_them(text: str, value: str) -> None:
    assert quantity(text) == Decimal(value)


def test_the_expiry_and_sha_reach_the_namespace_labels() -> None:
    plan = build_blueprint(settings(ttlHours=6), REPO)
    assert plan.labels["environments.dev/expires-at"] == "20261122T180000Z"
    assert plan.labels["environments.dev/sha"] == "0123456"
