"""A deploy whose new migration fails is rolled back on a real cluster, the database kept.

`envctl draft up` of a good commit, then of a commit whose migration Job fails (its pods end
Failed, as `alembic upgrade head` against a database it cannot migrate would): the update
fails, envctl rolls the release back to the good commit without running any migration, and
the cluster then runs the good commit's image, with the same database StatefulSet and volume
claim (same UIDs: nothing recreated). The real CLI, the project's policy pack, a file backend,
kubectl from `make toolchain`; no Vault reachable.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cluster.cluster import Cluster, StandIns, envctl, pipeline_env, program_copy, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.engine]

GOOD = "4b1d2c3e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c"
BAD = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d"


def database_uids(cluster: Cluster, namespace: str) -> dict[str, str]:
    """UIDs of the draft's database StatefulSet and volume claims."""
    return {
        f"{kind}/{item['metadata']['name']}": item["metadata"]["uid"]
        for kind, path in (
            ("statefulset", f"/apis/apps/v1/namespaces/{namespace}/statefulsets"),
            ("claim", f"/api/v1/namespaces/{namespace}/persistentvolumeclaims"),
        )
        for item in cluster.items(path)
    }


def app_images(cluster: Cluster, namespace: str) -> set[str]:
    """Images of the app's Deployments (the chart's, not the mocks')."""
    images = set()
    for deployment in cluster.items(f"/apis/apps/v1/namespaces/{namespace}/deployments"):
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            if "/platform/tasks:" in container["image"]:
                images.add(container["image"].rsplit(":", 1)[-1])
    return images


def test_a_failed_migration_rolls_back_to_the_good_release_and_keeps_the_database(
    engine: dict[str, str], cluster: Cluster, stand_ins: StandIns, tmp_path: Path
) -> None:
    work = program_copy(tmp_path)
    env = pipeline_env(engine, cluster, tmp_path)
    artefact = tmp_path / "envctl-draft.json"

    def up(sha: str) -> tuple[int, str]:
        done = envctl(env, work, "draft", "up", "--branch", "feature/rollback", "--sha", sha,
                      "--set", "draft:image.prebuilt=true", "--no-report",
                      "--artifact", str(artefact))  # fmt: skip
        return done.returncode, done.stdout + done.stderr

    code, output = up(GOOD)
    assert code == 0, output
    namespace = next(
        ns["metadata"]["name"]
        for ns in cluster.items("/api/v1/namespaces")
        if ns["metadata"]["name"].startswith("draft-feature-rollback-")
    )
    database = database_uids(cluster, namespace)
    assert database and app_images(cluster, namespace) == {f"draft-feature-rollback-{GOOD[:7]}"}

    cluster.fail_jobs(f"migrate-{BAD[:7]}")
    try:
        code, output = up(BAD)
    finally:
        cluster.fail_jobs()

    assert code == 1, output
    assert f"migrate-{BAD[:7]}" in output
    assert f"rolled back to {GOOD[:7]}" in output
    wait_for(
        lambda: app_images(cluster, namespace) == {f"draft-feature-rollback-{GOOD[:7]}"},
        "the good release to serve again",
    )
    assert database_uids(cluster, namespace) == database  # the migrated database, untouched
    jobs = [
        j["metadata"]["name"] for j in cluster.items(f"/apis/batch/v1/namespaces/{namespace}/jobs")
    ]
    assert f"migrate-{GOOD[:7]}" not in jobs  # the old code never migrates the newer database

    assert envctl(env, work, "draft", "destroy", "--branch", "feature/rollback").returncode == 0
    wait_for(lambda: not cluster.exists(f"/api/v1/namespaces/{namespace}"), "the namespace", 180)
