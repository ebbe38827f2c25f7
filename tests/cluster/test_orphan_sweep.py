"""``envctl draft reap`` sweeps the draft namespaces left without a stack, on a real cluster.

The real CLI, a file backend and a real API server (kubectl from `make toolchain`): a draft
deployed with ``draft up`` (a namespace with its stack), an orphan of this team/service
(a namespace labelled as ``components/draft`` labels one, whose stack never existed), a
younger orphan (a first deploy in flight) and the same branch of another team (its
drafts live in another backend). Only the old orphan of this owner is deleted; the dry
run lists it and deletes nothing.
"""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from components.naming import owner_key
from tests.cluster.cluster import (
    Cluster,
    StandIns,
    envctl,
    free_port,
    pipeline_env,
    program_copy,
    wait_for,
)
from tests.engine.harness import require_toolchain

pytestmark = [pytest.mark.cluster, pytest.mark.engine]

SHA = "0d3f5a7c9e1b2d4f6a8c0e2b4d6f8a0c2e4b6d8f"
TEAM, SERVICE = "sweepers", "tasks"  # an owner no other test deploys as
GRACE = timedelta(minutes=1)


def create_draft_namespace(cluster: Cluster, slug: str, team: str) -> str:
    """A namespace labelled as a draft of ``team``/tasks for branch ``slug``; its name."""
    name = f"draft-{slug}-{owner_key(team, SERVICE)}"
    expires = (datetime.now(UTC) + timedelta(hours=47)).strftime("%Y%m%dT%H%M%SZ")
    labels = {
        "app.kubernetes.io/managed-by": "environments",
        "environments.dev/kind": "draft",
        "environments.dev/branch": slug,
        "environments.dev/team": team,
        "environments.dev/service": SERVICE,
        "environments.dev/sha": SHA[:7],
        "environments.dev/expires-at": expires,
    }
    cluster.apply(
        "/api/v1/namespaces",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}},
    )
    return name


def live(cluster: Cluster, namespace: str) -> bool:
    """The namespace exists and is not being deleted."""
    status, body = cluster.request("GET", f"/api/v1/namespaces/{namespace}")
    return (
        status == 200 and isinstance(body, dict) and not body["metadata"].get("deletionTimestamp")
    )


def test_reap_deletes_only_this_owners_old_namespaces_without_a_stack(
    engine: dict[str, str], cluster: Cluster, stand_ins: StandIns, tmp_path: Path
) -> None:
    work = program_copy(tmp_path)
    template = work / "Pulumi.draft.yaml"
    template.write_text(template.read_text().replace("draft:team: platform", f"draft:team: {TEAM}"))
    env = pipeline_env(engine, cluster, tmp_path)
    orphan = create_draft_namespace(cluster, "feature-crashed", TEAM)
    foreign = create_draft_namespace(cluster, "feature-crashed", "other-team")
    old_enough = time.monotonic() + GRACE.total_seconds() + 2
    up = envctl(env, work, "draft", "up", "--branch", "feature/kept",
                "--sha", SHA, "--set", "draft:image.prebuilt=true", "--no-report")  # fmt: skip
    assert up.returncode == 0, up.stderr
    deployed = f"draft-feature-kept-{owner_key(TEAM, SERVICE)}"
    assert live(cluster, deployed)
    young = create_draft_namespace(cluster, "feature-starting", TEAM)
    time.sleep(max(0.0, old_enough - time.monotonic()))

    dry = envctl(env, work, "draft", "reap", "--dry-run", "--orphan-grace", "1m")

    assert dry.returncode == 0, dry.stderr
    would = [line for line in dry.stdout.splitlines() if line.startswith("would delete")]
    assert len(would) == 1 and orphan in would[0], dry.stdout
    assert "no stack draft-feature-crashed" in would[0]
    assert any(line.startswith("left") and young in line for line in dry.stdout.splitlines())
    assert foreign not in dry.stdout and deployed not in dry.stdout
    assert "(dry run)" in dry.stdout
    assert all(live(cluster, ns) for ns in (orphan, foreign, young, deployed))

    reap = envctl(env, work, "draft", "reap", "--orphan-grace", "1m")

    assert reap.returncode == 0, reap.stderr
    assert any(line.startswith("deleted") and orphan in line for line in reap.stdout.splitlines())
    wait_for(lambda: not cluster.exists(f"/api/v1/namespaces/{orphan}"), "the orphan's deletion")
    assert all(live(cluster, ns) for ns in (foreign, young, deployed))
    listed = envctl(env, work, "draft", "list", "--json")
    assert '"draft-feature-kept"' in listed.stdout, "the deployed draft keeps its stack"

    destroy = envctl(env, work, "draft", "destroy", "--branch", "feature/kept", "--no-report")
    assert destroy.returncode == 0, destroy.stderr
    for namespace in (foreign, young):
        cluster.request("DELETE", f"/api/v1/namespaces/{namespace}")


def test_reap_says_why_the_sweep_failed_and_still_examines_the_stacks(
    engine: dict[str, str], tmp_path: Path
) -> None:
    """Without a reachable cluster the sweep fails loudly (exit 1) after the stack pass."""
    require_toolchain("kubectl")
    work = program_copy(tmp_path)
    unreachable = tmp_path / "kubeconfig"  # a cluster whose API server is down
    unreachable.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "down",
        "clusters": [{"name": "down", "cluster": {
            "server": f"https://127.0.0.1:{free_port()}", "insecure-skip-tls-verify": True}}],
        "users": [{"name": "ci", "user": {"token": "not-a-real-token"}}],
        "contexts": [{"name": "down", "context": {"cluster": "down", "user": "ci"}}],
    }))  # fmt: skip
    env = {**engine, "KUBECONFIG": str(unreachable), "HOME": str(tmp_path), "CI": ""}
    created = subprocess.run(
        ["pulumi", "stack", "init", "draft-feature-abandoned", "--cwd", str(work)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr

    reap = envctl(env, work, "draft", "reap", "--max-age", "1m")

    assert reap.returncode == 1
    assert "1 draft stacks: 1 kept" in reap.stdout, "the stacks were examined"
    assert "orphan sweep failed: kubectl get namespaces failed" in reap.stderr
    assert "connection refused" in reap.stderr or "was refused" in reap.stderr
