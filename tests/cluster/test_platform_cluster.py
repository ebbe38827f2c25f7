"""The platform stack under the real Pulumi engine against a real Kubernetes API.

`pulumi up --stack platform` (policy pack on) creates the in-cluster reaper and the pipeline
boundary, and a second preview changes nothing. The reaper's own script, run with kubectl as
the CronJob's service account (a token the API server issues for it), deletes exactly the
draft namespaces whose expiry has passed and says so; that account can neither delete a
namespace that is not a draft (the admission policy) nor read anything but namespaces (RBAC).
A pipeline identity with cluster-admin rights still writes only in its own drafts'
namespaces. kwok runs no container, so the CronJob's pods never run the script themselves.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pulumi import automation as auto

from automation.lifecycle.pulumi_workspace import policy_pack_executable
from components.draft.blueprint import expiry_label
from components.naming import owner_key
from components.platform.reaper import EXPIRES_LABEL, KIND_LABEL, SCRIPT
from tests.cluster.cluster import (
    Cluster,
    StandIns,
    envctl,
    kubectl_env,
    pipeline_env,
    program_copy,
    service_account_token,
    wait_for,
)
from tests.conftest import REPO
from tests.engine.harness import TOOLCHAIN, Project, engine_env, require_toolchain

pytestmark = [pytest.mark.cluster, pytest.mark.engine]

SYSTEM = "environments-system"
OWNER = owner_key("payments", "api")
OTHER_OWNER = owner_key("billing", "api")


def reviewer_token(cluster: Cluster) -> str:
    """What the admin hands Vault: the token the cluster wrote into the reviewer's Secret."""
    path = f"/api/v1/namespaces/{SYSTEM}/secrets/vault-token-reviewer"

    def filled() -> bool:
        secret = cluster.get(path)
        return isinstance(secret, dict) and "token" in (secret.get("data") or {})

    wait_for(filled, "the cluster to write the reviewer's token")
    secret = cluster.get(path)
    assert isinstance(secret, dict)
    return base64.b64decode(secret["data"]["token"]).decode()


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory, cluster: Cluster) -> Iterator[auto.UpResult]:
    """The platform stack, up (and refreshed) once for the module and destroyed after it."""
    require_toolchain("pulumi", "pulumi-resource-kubernetes", "kubectl")

    tmp = tmp_path_factory.mktemp("platform")
    env = {**engine_env(tmp / "state"), **kubectl_env(cluster)}
    saved = os.environ.get("KUBECONFIG")
    os.environ["KUBECONFIG"] = str(cluster.kubeconfig)  # the inline program's provider reads it
    stack = Project(program_copy(tmp), env).stack("platform")
    policy = str(policy_pack_executable(REPO / "policy", tmp / "pack"))
    try:
        result = stack.up(policy_packs=[policy], color="never")
        # Vault's reviewer token: once the cluster has written it and a refresh has read it
        # back, the state as stored holds it only encrypted (export_stack would decrypt).
        token = reviewer_token(cluster)
        stack.refresh(color="never")
        backend = Path(env["PULUMI_BACKEND_URL"].removeprefix("file://"))
        state = (backend / ".pulumi/stacks/environments/platform.json").read_text()
        assert token not in state and base64.b64encode(token.encode()).decode() not in state
        again = stack.preview(policy_packs=[policy], expect_no_changes=True, color="never")
        assert set(again.change_summary) == {"same"}, again.change_summary
        yield result
        stack.destroy(color="never")
        admission = "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies"
        assert not cluster.exists(f"{admission}/draft-reaper-deletes-only-drafts")
        assert not cluster.exists(f"{admission}/draft-pipelines-own-namespaces")
        assert not cluster.exists(f"/api/v1/namespaces/{SYSTEM}")
    finally:
        if saved is None:
            os.environ.pop("KUBECONFIG", None)
        else:
            os.environ["KUBECONFIG"] = saved


def token_kubeconfig(cluster: Cluster, namespace: str, account: str, into: Path) -> Path:
    """A kubeconfig acting as service account ``namespace/account`` (a TokenRequest's token)."""
    token = service_account_token(cluster, namespace, account)
    config = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "test", "cluster": {
            "server": cluster.server, "certificate-authority": str(cluster.root / "pki/ca.crt")}}],
        "users": [{"name": account, "user": {"token": token}}],
        "contexts": [{"name": "sa", "context": {"cluster": "test", "user": account}}],
        "current-context": "sa",
    }  # fmt: skip
    path = into / f"kubeconfig-{account}"
    path.write_text(json.dumps(config))
    return path


def kubectl(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TOOLCHAIN / "kubectl"), f"--kubeconfig={kubeconfig}", *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def reap(kubeconfig: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """One pass of the CronJob's script, as the identity of ``kubeconfig``."""
    env = {"PATH": f"{TOOLCHAIN}:/usr/bin:/bin", "HOME": str(home), "KUBECONFIG": str(kubeconfig),
           "KIND_LABEL": KIND_LABEL, "EXPIRES_LABEL": EXPIRES_LABEL}  # fmt: skip
    return subprocess.run(
        ["sh", str(SCRIPT)], capture_output=True, text=True, timeout=120, check=False, env=env
    )


def make_namespace(cluster: Cluster, name: str, labels: dict[str, str]) -> None:
    cluster.apply(
        "/api/v1/namespaces",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}},
    )


def gone_or_terminating(cluster: Cluster, name: str) -> bool:
    status, body = cluster.request("GET", f"/api/v1/namespaces/{name}")
    return status == 404 or (isinstance(body, dict) and body["status"]["phase"] == "Terminating")


def test_platform_up_creates_the_reaper_cronjob_within_fifteen_minutes(
    platform: auto.UpResult, cluster: Cluster
) -> None:
    assert platform.outputs["reaperSchedule"].value == "*/5 * * * *"
    cron = cluster.get(f"/apis/batch/v1/namespaces/{SYSTEM}/cronjobs/draft-reaper")
    assert isinstance(cron, dict)
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "draft-reaper"
    assert pod["containers"][0]["command"] == ["/bin/sh", "/scripts/reap-expired.sh"]
    script = cluster.get(f"/api/v1/namespaces/{SYSTEM}/configmaps/draft-reaper")
    assert isinstance(script, dict)
    assert script["data"]["reap-expired.sh"] == SCRIPT.read_text()


def test_the_reaper_deletes_expired_drafts_only_and_says_so(
    platform: auto.UpResult, cluster: Cluster, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    draft = {KIND_LABEL: "draft"}
    make_namespace(cluster, f"draft-expired-{OWNER}", draft | {EXPIRES_LABEL: expiry_label(now - timedelta(minutes=1))})  # fmt: skip
    make_namespace(cluster, f"draft-expired-{OTHER_OWNER}", draft | {EXPIRES_LABEL: expiry_label(now - timedelta(hours=3))})  # fmt: skip
    make_namespace(cluster, f"draft-live-{OWNER}", draft | {EXPIRES_LABEL: expiry_label(now + timedelta(hours=47))})  # fmt: skip
    make_namespace(cluster, f"draft-unlabelled-{OWNER}", draft)
    make_namespace(cluster, "team-database", {EXPIRES_LABEL: expiry_label(now - timedelta(days=2))})
    reaper = token_kubeconfig(cluster, SYSTEM, "draft-reaper", tmp_path)

    done = reap(reaper, tmp_path)

    assert done.returncode == 0, done.stderr
    assert f"deleted draft namespace draft-expired-{OWNER}" in done.stdout
    assert f"deleted draft namespace draft-expired-{OTHER_OWNER}" in done.stdout
    assert "2 expired draft namespace(s) deleted, 0 failed" in done.stdout
    assert f"kept draft-unlabelled-{OWNER}: no well-formed expiry label" in done.stderr
    for name in (f"draft-expired-{OWNER}", f"draft-expired-{OTHER_OWNER}"):
        wait_for(lambda name=name: gone_or_terminating(cluster, name), f"{name} to go")
    for name in (f"draft-live-{OWNER}", f"draft-unlabelled-{OWNER}", "team-database"):
        ns = cluster.get(f"/api/v1/namespaces/{name}")
        assert isinstance(ns, dict) and ns["status"]["phase"] == "Active", name

    # Least power: no namespace but a draft, nothing but namespaces.
    refused = kubectl(reaper, "delete", "namespace", "team-database", "--wait=false")
    assert refused.returncode != 0
    assert "the draft reaper deletes draft namespaces only" in refused.stderr
    assert kubectl(reaper, "get", "secrets", "-A").returncode != 0
    assert kubectl(reaper, "get", "pods", "-n", f"draft-live-{OWNER}").returncode != 0
    # A pass that cannot read the namespaces fails, and so does its Job.
    binding_path = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/draft-reaper"
    binding = cluster.get(binding_path)
    assert isinstance(binding, dict)
    cluster.request("DELETE", binding_path)
    try:
        wait_for(lambda: reap(reaper, tmp_path).returncode != 0, "the pass to fail", 30)
        assert "forbidden" in reap(reaper, tmp_path).stderr.lower()
    finally:
        binding["metadata"] = {"name": "draft-reaper", "labels": binding["metadata"]["labels"]}
        cluster.apply("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", binding)
    wait_for(lambda: reap(reaper, tmp_path).returncode == 0, "the pass to work again", 30)


def test_a_draft_the_reaper_deleted_is_then_destroyed_by_the_ci_reaper(
    platform: auto.UpResult,
    cluster: Cluster,
    stand_ins: StandIns,
    engine: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    work = program_copy(tmp_path)
    env = pipeline_env(engine, cluster, tmp_path)
    stack = Project(work, env).stack("draft-feature-expired")
    deployed = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    stack.set_all_config(
        {
            "draft:branch": auto.ConfigValue("feature/expired"),
            "draft:sha": auto.ConfigValue("5" * 40),
            "draft:deployedAt": auto.ConfigValue(deployed.isoformat()),
            "draft:ttlHours": auto.ConfigValue("1"),
            "draft:image.prebuilt": auto.ConfigValue("true"),
        },
        path=True,
    )
    namespace = stack.up(color="never").outputs["namespace"].value

    reaped = reap(token_kubeconfig(cluster, SYSTEM, "draft-reaper", tmp_path), tmp_path)

    assert f"deleted draft namespace {namespace}" in reaped.stdout, reaped.stderr
    wait_for(lambda: not cluster.exists(f"/api/v1/namespaces/{namespace}"), "the namespace", 180)
    # CI later destroys what is left: the stack, whose objects are already gone.
    ci = envctl(env, work, "draft", "reap")
    assert ci.returncode == 0, ci.stdout + ci.stderr
    assert "draft-feature-expired" in ci.stdout
    assert json.loads(envctl(env, work, "draft", "list", "--json").stdout) == []


def test_a_pipeline_with_cluster_admin_still_writes_only_in_its_own_drafts(
    platform: auto.UpResult, cluster: Cluster, tmp_path: Path
) -> None:
    make_namespace(cluster, "envctl-ci", {})
    account = f"ci-{OWNER}"
    cluster.apply("/api/v1/namespaces/envctl-ci/serviceaccounts", {
        "apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": account}})  # fmt: skip
    cluster.apply("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": f"test-{account}-admin"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": "envctl-ci"}],
    })  # fmt: skip
    pipeline = token_kubeconfig(cluster, "envctl-ci", account, tmp_path)
    own, other = f"draft-feature-x-{OWNER}", f"draft-feature-x-{OTHER_OWNER}"
    message = "writes only in its own team/service's draft namespaces"

    assert kubectl(pipeline, "create", "namespace", own).returncode == 0
    created = kubectl(pipeline, "create", "configmap", "app", "-n", own, "--from-literal=a=b")
    assert created.returncode == 0, created.stderr
    for refused in (
        kubectl(pipeline, "create", "namespace", other),
        kubectl(pipeline, "create", "configmap", "app", "-n", "default", "--from-literal=a=b"),
        kubectl(pipeline, "create", "clusterrole", f"draft-x-{OWNER}", "--verb=get",
                "--resource=secrets"),
        kubectl(pipeline, "delete", "namespace", "envctl-ci", "--wait=false"),
    ):  # fmt: skip
        assert refused.returncode != 0
        assert message in refused.stderr, refused.stderr
    assert kubectl(pipeline, "delete", "namespace", own, "--wait=false").returncode == 0
