"""A rollback brings back the last good release only, and keeps the failed pods' logs.

``draft up`` of a failing commit (the fake workspace fails its update) rolls back to the
last good update: its commit's prebuilt image, its own values, ``draft:migrations.skip``.
The real program, run offline on the config the rollback left, has no migration Job (the
old code's ``alembic upgrade head`` would fail on the newer database) and releases the old
image. Before the rollback replaces anything, the failed pods' logs are written (a stub
``kubectl`` on PATH answers as the API server would).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from automation.plan.render import plan_document
from automation.plan.runner import run_program
from automation.plan.stack_config import StackConfig

REPO = Path(__file__).resolve().parents[2]
GOOD, BAD, NEXT = "1111111aaaa", "2222222bbbb", "3333333cccc"
STACK = "draft-feature-login"

PODS = {
    "items": [
        {
            "metadata": {"name": "draft-migrations-2222222-x7k2p"},
            "status": {
                "phase": "Failed",
                "containerStatuses": [
                    {
                        "name": "migrate",
                        "state": {"terminated": {"exitCode": 1}},
                        "lastState": {},
                    }
                ],
            },
        },
        {
            "metadata": {"name": "app-5d9f-ok"},
            "status": {
                "phase": "Running",
                "containerStatuses": [{"name": "app", "state": {"running": {}}, "lastState": {}}],
            },
        },
    ]
}

KUBECTL = """#!/bin/sh
echo "$@" >> "$KUBECTL_LOG"
case "$1" in
  get) cat "$PODS_JSON" ;;
  logs) echo "alembic: Can't locate revision identified by 'b7e1' (pod $4)" ;;
esac
"""


def up(envctl, sha: str, *extra: str):
    return envctl("draft", "up", "--branch", "feature/login", "--sha", sha, "--no-report", *extra)


def program_plan(config: dict) -> dict:  # type: ignore[type-arg]
    values = {key: value.value for key, value in config.items()}
    plan, _ = run_program(REPO, STACK, StackConfig("environments", values, frozenset()))
    return plan_document(plan, [])


def program_plan_of_a_build() -> list[dict]:  # type: ignore[type-arg]
    values = {"draft:sha": NEXT, "draft:deployedAt": "2026-11-22T12:00:00Z"}
    plan, _ = run_program(REPO, STACK, StackConfig("environments", values, frozenset()))
    return list(plan_document(plan, [])["resources"])


@pytest.fixture
def kubectl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "kubectl"
    script.write_text(KUBECTL)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    (tmp_path / "pods.json").write_text(json.dumps(PODS))
    monkeypatch.setenv("PODS_JSON", str(tmp_path / "pods.json"))
    monkeypatch.setenv("KUBECTL_LOG", str(tmp_path / "kubectl.log"))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return tmp_path / "kubectl.log"


def test_a_rollback_deploys_the_last_good_release_without_migrations(envctl, kubectl) -> None:
    assert up(envctl, GOOD, "--set", "draft:chart.values.replicaCount=1").exit_code == 0
    envctl.fake.failing_shas.add(BAD)

    result = up(envctl, BAD, "--set", "draft:chart.values.replicaCount=2")

    assert result.exit_code == 1
    assert "rolling back draft-feature-login to 1111111 (its image and values" in result.output
    config = envctl.fake.stacks[STACK].config
    assert config["draft:sha"].value == GOOD
    assert json.loads(config["draft:migrations"].value) == {"skip": True}
    assert json.loads(config["draft:image"].value)["prebuilt"] is True
    assert json.loads(config["draft:chart"].value)["values"]["replicaCount"] == 1  # its values

    document = program_plan(config)
    jobs = [r["name"] for r in document["resources"] if r["type"] == "kubernetes:batch/v1:Job"]
    assert not [name for name in jobs if "migrat" in name]
    release = next(r for r in document["resources"] if r["type"] == "kubernetes:helm.sh/v3:Release")
    assert release["inputs"]["values"]["image"]["tag"] == f"draft-feature-login-{GOOD[:7]}"
    assert not any(r["type"] == "docker:index/image:Image" for r in document["resources"])
    assert any(r["type"] == "docker:index/image:Image" for r in program_plan_of_a_build())

    # the next deploy migrates again
    assert up(envctl, NEXT).exit_code == 0
    config = envctl.fake.stacks[STACK].config
    assert json.loads(config["draft:migrations"].value) == {"skip": False}


def test_the_failed_pods_logs_are_kept_before_the_rollback_runs(envctl, kubectl) -> None:
    assert up(envctl, GOOD).exit_code == 0
    envctl.fake.failing_shas.add(BAD)
    logs = Path("envctl-failed-pods")
    seen_before_rollback: list[bool] = []
    original = envctl.fake.up

    def watched(name, *args, **kwargs):
        seen_before_rollback.append(logs.is_dir() and any(logs.iterdir()))
        return original(name, *args, **kwargs)

    envctl.fake.up = watched
    result = up(envctl, BAD)

    assert result.exit_code == 1
    assert seen_before_rollback == [False, True]  # the failing update, then the rollback
    kept = sorted(p.name for p in logs.iterdir())
    assert kept == ["draft-migrations-2222222-x7k2p.migrate.log"]
    assert "Can't locate revision" in (logs / kept[0]).read_text()
    assert "kept the logs of 1 failed container runs" in result.output
    namespace = json.loads(Path("envctl-draft.json").read_text())["namespace"]
    assert f"get pods --namespace {namespace} --output json" in kubectl.read_text()


def test_without_kubectl_the_rollback_still_runs(envctl, monkeypatch, tmp_path: Path) -> None:
    assert up(envctl, GOOD).exit_code == 0
    envctl.fake.failing_shas.add(BAD)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = up(envctl, BAD)
    assert result.exit_code == 1
    assert "failed pods' logs not kept: kubectl is not on PATH" in result.output
    assert "rolled back to 1111111" in result.output


def test_the_rollback_config_is_set_path_by_path_never_as_json_strings() -> None:
    """Pulumi stores a JSON string set on a key as a string, and a later path set under it
    silently replaces the whole value: objects from the history go in as paths."""
    from datetime import UTC, datetime

    from automation.lifecycle.drafts import rollback_config
    from automation.lifecycle.workspace import UpdateRecord

    good = UpdateRecord(
        "update",
        "succeeded",
        datetime(2026, 11, 22, tzinfo=UTC),
        config={
            "draft:sha": GOOD,
            "draft:image": '{"prebuilt": false, "registry": "ghcr.io"}',
            "draft:network": '{"ingressControllerPodLabels": {"app.kubernetes.io/name": "x"}}',
            "draft:mocks": '[{"name": "payments-mock", "port": 8080}]',
            "draft:secrets": "[secret]",
            "draft:expiresAt": "2026-11-24T00:00:00+00:00",
        },
    )
    values = {key: value.value for key, value in rollback_config(good).items()}
    assert values == {
        "draft:sha": GOOD,
        "draft:image.prebuilt": "true",
        "draft:image.registry": "ghcr.io",
        'draft:network.ingressControllerPodLabels["app.kubernetes.io/name"]': "x",
        "draft:mocks[0].name": "payments-mock",
        "draft:mocks[0].port": "8080",
        "draft:migrations.skip": "true",
    }
