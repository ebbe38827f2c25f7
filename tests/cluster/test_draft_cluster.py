"""The draft stack under the real Pulumi engine against a real Kubernetes API.

`pulumi up` of `draft-feature-x` (file backend, the policy pack on) creates the whole draft and
meets every await the provider has (Jobs complete, StatefulSet and Deployments ready, the Helm
release's objects, the ExternalSecrets' Ready condition); a second `up` changes nothing;
`pulumi destroy` leaves no draft namespace and no object labelled for the draft anywhere.
A migration Job that fails fails the update with the Job's reason, and the next `up` of the same
commit runs it again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pulumi import automation as auto

from automation.lifecycle.pulumi_workspace import policy_pack_executable
from components.naming import names_for
from tests.cluster.cluster import (
    Cluster,
    StandIns,
    kubectl_env,
    labelled_anywhere,
    program_copy,
    wait_for,
)
from tests.conftest import REPO
from tests.engine.harness import Project, require_toolchain

pytestmark = [pytest.mark.cluster, pytest.mark.engine]

SHA = "c8254fa3b1d04e2f9a7c6b5d4e3f2a1b0c9d8e7f"
SHA7 = SHA[:7]


@pytest.fixture
def draft(
    tmp_path: Path, engine: dict[str, str], cluster: Cluster, stand_ins: StandIns, monkeypatch
) -> auto.Stack:
    """Stack draft-feature-x of a copy of this project, configured as `envctl draft up` would."""
    require_toolchain("pulumi", "pulumi-resource-kubernetes")
    for key, value in kubectl_env(cluster).items():
        monkeypatch.setenv(key, value)
    work = program_copy(tmp_path)
    env = {**engine, **kubectl_env(cluster)}
    stack = Project(work, env).stack("draft-feature-x")
    deployed = datetime.now(UTC).replace(microsecond=0)
    stack.set_all_config(
        {
            "draft:branch": auto.ConfigValue("feature/x"),
            "draft:sha": auto.ConfigValue(SHA),
            "draft:deployedAt": auto.ConfigValue(deployed.isoformat()),
            "draft:image.prebuilt": auto.ConfigValue("true"),
        },
        path=True,
    )
    return stack


def pack(tmp_path: Path) -> str:
    return str(policy_pack_executable(REPO / "policy", tmp_path / "pack"))


def test_up_creates_the_whole_draft_a_second_up_changes_nothing_destroy_leaves_nothing(
    draft: auto.Stack, cluster: Cluster, tmp_path: Path
) -> None:
    policy = pack(tmp_path)

    result = draft.up(policy_packs=[policy], color="never", on_output=print)

    outputs = {k: v.value for k, v in result.outputs.items()}
    namespace = outputs["namespace"]
    assert namespace == names_for("feature/x", team="platform", service="tasks").namespace
    assert outputs["url"] == f"https://{namespace.removeprefix('draft-')}.drafts.example.com"
    assert outputs["image"].endswith(f":draft-feature-x-{SHA7}")
    assert outputs["smoke"] == "passed"
    ns = cluster.get(f"/api/v1/namespaces/{namespace}")
    assert isinstance(ns, dict)
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    jobs = {
        j["metadata"]["name"]: j
        for j in cluster.items(f"/apis/batch/v1/namespaces/{namespace}/jobs")
    }
    assert jobs[f"migrate-{SHA7}"]["status"].get("succeeded") == 1
    deployments = cluster.items(f"/apis/apps/v1/namespaces/{namespace}/deployments")
    assert any(d["metadata"]["name"] != "payments-mock" for d in deployments), "the chart's app"
    assert cluster.items(f"/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses")

    again = draft.preview(policy_packs=[policy], expect_no_changes=True, color="never")
    assert set(again.change_summary) == {"same"}, again.change_summary
    second = draft.up(policy_packs=[policy], color="never")
    assert set(second.summary.resource_changes or {}) == {"same"}

    draft.destroy(color="never")

    wait_for(
        lambda: not cluster.exists(f"/api/v1/namespaces/{namespace}"), "the namespace to go", 180
    )
    assert labelled_anywhere(cluster, "feature-x") == []


def test_a_failing_migration_fails_the_update_and_the_next_up_of_the_same_commit_reruns_it(
    draft: auto.Stack, cluster: Cluster, tmp_path: Path
) -> None:
    policy = pack(tmp_path)
    cluster.fail_jobs(f"migrate-{SHA7}")
    try:
        with pytest.raises(auto.CommandError) as failed:
            draft.up(policy_packs=[policy], color="never")
        assert f"migrate-{SHA7}" in str(failed.value)
        assert "BackoffLimitExceeded" in str(failed.value) or "failed" in str(failed.value).lower()
    finally:
        cluster.fail_jobs()  # the database is back: the same Job would now succeed

    result = draft.up(policy_packs=[policy], color="never")

    assert result.outputs["smoke"].value == "passed"
    draft.destroy(color="never")
