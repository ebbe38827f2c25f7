"""envctl draft up / list / reap / destroy end to end: the real CLI, a file backend, a real API.

As a pipeline runs it: `envctl` as a command, the project's policy pack on, the image prebuilt
by CI (`draft:image.prebuilt=true`), no Vault reachable (a prebuilt draft needs nothing from it).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.naming import names_for
from tests.cluster.cluster import (
    Cluster,
    StandIns,
    envctl,
    labelled_anywhere,
    pipeline_env,
    program_copy,
    wait_for,
)

pytestmark = [pytest.mark.cluster, pytest.mark.engine]

SHA = "0d3f5a7c9e1b2d4f6a8c0e2b4d6f8a0c2e4b6d8f"


def test_draft_up_list_reap_and_destroy_on_a_real_cluster(
    engine: dict[str, str], cluster: Cluster, stand_ins: StandIns, tmp_path: Path
) -> None:
    work = program_copy(tmp_path)
    env = pipeline_env(engine, cluster, tmp_path)
    artefact = tmp_path / "envctl-draft.json"

    up = envctl(env, work, "draft", "up", "--branch", "feature/envctl", "--sha", SHA,
                "--set", "draft:image.prebuilt=true", "--no-report",
                "--artifact", str(artefact))  # fmt: skip

    assert up.returncode == 0, up.stderr
    deployed = json.loads(artefact.read_text())
    namespace = deployed["namespace"]
    assert namespace == names_for("feature/envctl", team="platform", service="tasks").namespace
    assert deployed["url"] == f"https://{namespace.removeprefix('draft-')}.drafts.example.com"
    assert cluster.exists(f"/api/v1/namespaces/{namespace}")
    assert cluster.items(f"/apis/batch/v1/namespaces/{namespace}/jobs")

    listed = envctl(env, work, "draft", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    (entry,) = json.loads(listed.stdout)
    assert entry["stack"] == "draft-feature-envctl" and entry["branch"] == "feature/envctl"
    assert entry["lastResult"] == "update succeeded" and entry["expiresAt"]

    reap = envctl(env, work, "draft", "reap")
    assert reap.returncode == 0, reap.stderr
    assert cluster.exists(f"/api/v1/namespaces/{namespace}"), "a live draft is kept"

    destroy = envctl(env, work, "draft", "destroy", "--branch", "feature/envctl")

    assert destroy.returncode == 0, destroy.stderr
    wait_for(lambda: not cluster.exists(f"/api/v1/namespaces/{namespace}"), "the namespace", 180)
    assert labelled_anywhere(cluster, "feature-envctl") == []
    gone = envctl(env, work, "draft", "list", "--json")
    assert json.loads(gone.stdout) == []
