"""A draft pod's Vault login, reviewed by the real API server (markers ``cluster``, ``vault``).

The real OpenBao's Kubernetes auth points at the test cluster's kube-apiserver, configured as
docs/platform.md tells an admin to: its CA, and as ``token_reviewer_jwt`` the token of the
platform stack's ``vault-token-reviewer`` (``system:auth-delegator``). The roles are what
``envctl vault provision`` writes. A pod's token comes from the API server's TokenRequest
for Vault's audience only, as ESO asks for it. Proven here, beyond
tests/lifecycle/test_vault_provision.py's loopback reviewer:

* a pod of team-a/tasks' draft logs in to its own role and reads only its own path;
* it cannot use another team's or service's role, whatever it asks for;
* the API server really reviews: a token of another audience, a token of a deleted service
  account, and any login once the reviewer's binding is gone are refused;
* reviewing with the pod's own token instead (no reviewer JWT) cannot work: the API server
  refuses a Vault-audience token as a credential, so such a login fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import hvac
import pytest
from hvac import exceptions as hvac_errors

from automation.lifecycle.vault_provision import (
    ProvisionRequest,
    apply_writes,
    checked,
    provision_writes,
)
from components.naming import names_for, vault_names
from tests.cluster.cluster import Cluster, service_account_token, wait_for
from tests.cluster.test_platform_cluster import platform, reviewer_token  # noqa: F401 (the stack)
from tests.lifecycle.conftest import openbao  # noqa: F401 (the real OpenBao fixture)

pytestmark = [pytest.mark.cluster, pytest.mark.vault]

MOUNT = "cluster-k8s"
OWNERS = (("team-a", "tasks"), ("team-b", "tasks"), ("team-a", "billing"))
SECRETS = {owner: {"API_KEY": f"key-{owner[0]}-{owner[1]}-Zq81"} for owner in OWNERS}
REVIEWER_BINDING = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/vault-token-reviewer"


def namespace_of(team: str, service: str) -> str:
    return names_for("feature/login", team=team, service=service).namespace


def configure(root: hvac.Client, cluster: Cluster, reviewer_jwt: str | None) -> None:
    """auth/<mount>/config as docs/platform.md writes it (or without the reviewer JWT)."""
    config = {
        "kubernetes_host": cluster.server,
        "kubernetes_ca_cert": (cluster.root / "pki" / "ca.crt").read_text(),
        "disable_local_ca_jwt": True,
    }
    if reviewer_jwt is not None:
        config["token_reviewer_jwt"] = reviewer_jwt
    root.write(f"auth/{MOUNT}/config", **config)


@pytest.fixture(scope="module")
def vault(openbao: Any, cluster: Cluster, platform: Any) -> Iterator[Any]:  # noqa: F811
    """OpenBao's Kubernetes auth on the real API server; a draft namespace per owner."""
    root = openbao.root
    root.sys.enable_auth_method("kubernetes", path=MOUNT)
    configure(root, cluster, reviewer_token(cluster))
    for (team, service), data in SECRETS.items():
        root.secrets.kv.v2.create_or_update_secret(f"{team}/{service}", data, mount_point="draft")
        request = ProvisionRequest(team=team, service=service, kubernetes_mount=MOUNT,
                                   ci_bound_claims={"project_path": f"group/{service}"})  # fmt: skip
        apply_writes(root, provision_writes(checked(request)))
        namespace = namespace_of(team, service)
        cluster.apply("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                             "metadata": {"name": namespace}})  # fmt: skip
        cluster.apply(f"/api/v1/namespaces/{namespace}/serviceaccounts", {
            "apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": service}})  # fmt: skip
    try:
        yield openbao
    finally:
        root.sys.disable_auth_method(MOUNT)
        for team, service in OWNERS:
            names = vault_names(team, service)
            root.delete(f"auth/jwt/role/{names.ci_role}")
            for policy in (names.draft_role, names.ci_role):
                root.sys.delete_policy(policy)
            cluster.request("DELETE", f"/api/v1/namespaces/{namespace_of(team, service)}")


def pod_token(cluster: Cluster, team: str, service: str, audience: str = "vault") -> str:
    """The token the kubelet would project into a pod of the owner's draft (TokenRequest)."""
    return service_account_token(cluster, namespace_of(team, service), service, (audience,))


def login(vault: Any, role: str, jwt: str) -> hvac.Client:
    client = hvac.Client(url=vault.address)
    client.auth.kubernetes.login(role, jwt, mount_point=MOUNT)
    return client


def refused(vault: Any, role: str, jwt: str) -> bool:
    try:
        login(vault, role, jwt).auth.token.revoke_self()
    except hvac_errors.Forbidden:
        return True
    return False


def reads(client: hvac.Client, team: str, service: str) -> bool:
    try:
        answer = client.secrets.kv.v2.read_secret_version(
            path=f"{team}/{service}", mount_point="draft", raise_on_deleted_version=True
        )
    except hvac_errors.Forbidden:
        return False
    assert answer["data"]["data"] == SECRETS[(team, service)]
    return True


def test_a_drafts_pod_logs_in_to_its_own_role_and_reads_only_its_own_path(
    vault: Any, cluster: Cluster
) -> None:
    client = login(vault, "draft.team-a.tasks", pod_token(cluster, "team-a", "tasks"))
    try:
        assert reads(client, "team-a", "tasks")
        assert not reads(client, "team-b", "tasks")
        assert not reads(client, "team-a", "billing")
        ttl = client.auth.token.lookup_self()["data"]["ttl"]
        assert 0 < ttl <= 3600
    finally:
        client.auth.token.revoke_self()


@pytest.mark.parametrize(
    ("owner", "role"),
    [
        (("team-a", "tasks"), "draft.team-b.tasks"),
        (("team-a", "tasks"), "draft.team-a.billing"),
        (("team-b", "tasks"), "draft.team-a.tasks"),
        (("team-a", "billing"), "draft.team-a.tasks"),
    ],
    ids=["into-other-team", "into-other-service", "other-team-in", "other-service-in"],
)
def test_a_drafts_pod_cannot_use_another_teams_or_services_role(
    vault: Any, cluster: Cluster, owner: tuple[str, str], role: str
) -> None:
    with pytest.raises(hvac_errors.VaultError, match="not authorized"):
        login(vault, role, pod_token(cluster, *owner))


def test_the_api_server_reviews_every_login(vault: Any, cluster: Cluster) -> None:
    role = "draft.team-a.tasks"
    with pytest.raises(hvac_errors.VaultError, match="audience"):
        login(vault, role, pod_token(cluster, "team-a", "tasks", audience="https://example.com"))

    token = pod_token(cluster, "team-a", "tasks")
    configure(vault.root, cluster, None)  # review with the pod's own, Vault-only token
    try:
        with pytest.raises(hvac_errors.VaultError, match="permission denied"):
            login(vault, role, token)
    finally:
        configure(vault.root, cluster, reviewer_token(cluster))
    login(vault, role, token).auth.token.revoke_self()

    namespace = namespace_of("team-a", "tasks")
    cluster.request("DELETE", f"/api/v1/namespaces/{namespace}/serviceaccounts/tasks")
    # A token of a deleted service account is refused (once the API server's cache sees it).
    wait_for(lambda: refused(vault, role, token), "the deleted account's token to be refused", 30)

    other = pod_token(cluster, "team-b", "tasks")
    status, binding = cluster.request("GET", REVIEWER_BINDING)
    assert status == 200 and isinstance(binding, dict)
    cluster.request("DELETE", REVIEWER_BINDING)
    try:  # the reviewer may not review any more: every login is refused
        wait_for(lambda: refused(vault, "draft.team-b.tasks", other), "logins to be refused", 30)
    finally:
        binding["metadata"] = {"name": binding["metadata"]["name"],
                               "labels": binding["metadata"].get("labels", {})}  # fmt: skip
        cluster.apply("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", binding)
    wait_for(lambda: not refused(vault, "draft.team-b.tasks", other), "logins to work again", 30)
