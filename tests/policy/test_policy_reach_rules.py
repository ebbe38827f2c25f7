"""Edge cases of the rules that keep a draft within its reach: node paths, allow rules,
cluster-wide RBAC, Vault auth role bindings and credential engines' leases.

Hand-built plans through the pack's own servicer, in a draft stack unless a test names
another: what counts as the runtime socket, as "every namespace" or "every address", when an
RBAC object or a Vault role is a draft's, and what an unset lease means.
"""

from __future__ import annotations

from typing import Any

import pytest
from policy_helpers import STACK, evaluate, messages, resource

from automation.plan.model import UNKNOWN, Secret

PLATFORM = "platform"  # a stack that is not a draft's
POD = "kubernetes:core/v1:Pod"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
RBAC = "kubernetes:rbac.authorization.k8s.io/v1:"
K8S_ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole"
JWT_ROLE = "vault:jwt/authBackendRole:AuthBackendRole"
MOUNT = "vault:index/mount:Mount"
TTLS = {"tokenTtl": 600.0, "tokenMaxTtl": 3600.0}


def level_of(findings: list[Any], policy: str) -> set[str]:
    return {f.level for f in findings if f.policy == policy}


# --- node paths ------------------------------------------------------------------------------


def pod_with_host_path(path: Any) -> Any:
    volume = {"name": "v", "hostPath": {"path": path}}
    return resource(POD, "p", {"metadata": {"namespace": STACK}, "spec": {"volumes": [volume]}})


@pytest.mark.parametrize(
    "path",
    ["/var/run/docker.sock", "/run/docker.sock", "/var/run", "/var/run/", "/", "/run//containerd"],
)
def test_mounting_the_runtime_socket_or_a_directory_holding_it_is_named_as_such(path):
    found = messages(evaluate(pod_with_host_path(path)), "draft-pod-security")

    assert any("spec.volumes[0].hostPath mounts the container runtime's socket" in m for m in found)


@pytest.mark.parametrize("path", ["/var/log", "/data", "/var/run-other", "/etc/docker.sock.d"])
def test_any_other_node_directory_is_refused_too(path):
    found = messages(evaluate(pod_with_host_path(path)), "draft-pod-security")

    assert any("spec.volumes[0].hostPath mounts a directory of the node" in m for m in found)
    assert not any(path in m for m in found), "the node path is not echoed"


def test_a_pod_outside_the_drafts_may_mount_node_paths():
    pod = resource(
        POD,
        "agent",
        {"metadata": {"namespace": "kube-system"}, "spec": {"volumes": [{"hostPath": {}}]}},
    )

    assert messages(evaluate(pod), "draft-pod-security") == []


# --- allow rules -----------------------------------------------------------------------------


def allow(**spec: Any) -> Any:
    return resource(NETPOL, "np", {"metadata": {"namespace": STACK}, "spec": spec})


@pytest.mark.parametrize(
    "peer",
    [
        {"podSelector": {}},  # every pod of this namespace
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}},
        {"namespaceSelector": {"matchExpressions": [{"key": "team", "operator": "Exists"}]}},
        {"ipBlock": {"cidr": "10.0.0.0/8"}},
        {"ipBlock": {"cidr": "2001:db8::/32"}},
    ],
)
def test_named_peers_pass(peer):
    found = evaluate(allow(ingress=[{"from": [peer]}], egress=[{"to": [peer]}]))

    assert messages(found, "draft-network-allow-rules") == []


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        ({"from": []}, "spec.ingress[0] has no from"),
        ({}, "spec.ingress[0] has no from"),
        ({"from": [{"podSelector": None}]}, "spec.ingress[0].from[0] is an empty peer"),
        (
            {"from": [{"namespaceSelector": {"matchLabels": {}, "matchExpressions": []}}]},
            "from[0].namespaceSelector selects every namespace",
        ),
        ({"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}, "from[0].ipBlock.cidr covers every"),
        ({"from": [{"ipBlock": {"cidr": "::/0"}}]}, "from[0].ipBlock.cidr covers every"),
        ({"from": [{"ipBlock": {"cidr": "10.1.2.3/0"}}]}, "from[0].ipBlock.cidr covers every"),
    ],
)
def test_rules_that_reopen_the_draft_are_refused(rule, says):
    found = messages(evaluate(allow(ingress=[rule])), "draft-network-allow-rules")

    assert any(says in m for m in found), found
    assert not any("0.0.0.0" in m or "::/0" in m for m in found), "the CIDR is not echoed"


def test_egress_to_everywhere_is_refused_like_ingress():
    found = messages(
        evaluate(allow(egress=[{"ports": [{"port": 53}]}])), "draft-network-allow-rules"
    )

    assert any("spec.egress[0] has no to, which allows every destination" in m for m in found)


def test_an_unknown_namespace_selector_gets_no_verdict_but_an_advisory():
    """During a preview the selector may be computed: it may narrow the peer."""
    np = allow(ingress=[{"from": [{"namespaceSelector": {"matchLabels": UNKNOWN}}]}])

    found = evaluate(np)

    assert level_of(found, "draft-network-allow-rules") == {"advisory"}


def test_allow_rules_outside_the_drafts_are_not_the_packs_concern():
    np = resource(NETPOL, "np", {"metadata": {"namespace": "ingress"}, "spec": {"ingress": [{}]}})

    assert messages(evaluate(np), "draft-network-allow-rules") == []


# --- cluster-wide power ----------------------------------------------------------------------


def binding(kind: str, role: str, subjects: list[dict[str, str]], namespace: str | None = None):
    metadata = {"name": "b"} if namespace is None else {"name": "b", "namespace": namespace}
    inputs = {
        "metadata": metadata,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": subjects,
    }
    return resource(RBAC + kind, "b", inputs, stack=PLATFORM)


@pytest.mark.parametrize(
    "subject",
    [
        {"kind": "ServiceAccount", "name": "app", "namespace": "draft-x"},
        {"kind": "Group", "name": "system:serviceaccounts:draft-x"},
        {"kind": "User", "name": "system:serviceaccount:draft-x:app"},
    ],
)
def test_a_platform_stack_granting_a_draft_cluster_wide_power_is_refused(subject):
    found = messages(
        evaluate(binding("ClusterRoleBinding", "view", [subject]), stack=PLATFORM),
        "draft-cluster-access",
    )

    assert any("binding draft service accounts (subjects[0])" in m for m in found), found


def test_a_platform_stack_keeps_its_own_cluster_roles_and_bindings():
    role = resource(RBAC + "ClusterRole", "r", {"rules": []}, stack=PLATFORM)
    admins = binding("ClusterRoleBinding", "cluster-admin", [{"kind": "Group", "name": "ops"}])
    view = binding("RoleBinding", "view", [{"kind": "ServiceAccount", "name": "a"}], "draft-x")

    found = evaluate(role, admins, stack=PLATFORM)

    assert messages(found, "draft-cluster-access") == []
    # A RoleBinding to a harmless role is fine even in a draft namespace.
    assert messages(evaluate(view, stack=PLATFORM), "draft-cluster-access") == []


def test_a_service_account_subject_without_namespace_lives_in_the_bindings_namespace():
    edit = binding("RoleBinding", "edit", [{"kind": "ServiceAccount", "name": "a"}], "draft-x")

    found = messages(evaluate(edit, stack=PLATFORM), "draft-cluster-access")

    assert any("in draft namespace 'draft-x'" in m and "ClusterRole 'edit'" in m for m in found)


def test_the_forbidden_roles_are_configurable():
    view = binding("RoleBinding", "view", [{"kind": "ServiceAccount", "name": "a"}], "draft-x")
    config = {"draft-cluster-access": {"forbiddenClusterRoles": ["view"]}}

    found = messages(evaluate(view, config=config), "draft-cluster-access")

    assert any("ClusterRole 'view'" in m for m in found)


def test_a_patch_of_a_cluster_role_from_a_draft_is_refused():
    patch = resource(RBAC + "ClusterRolePatch", "p", {"metadata": {"name": "view"}})

    assert messages(evaluate(patch), "draft-cluster-access")


# --- Vault auth roles ------------------------------------------------------------------------


def test_wildcards_and_foreign_namespaces_are_a_drafts_problem_only():
    """A platform stack's role for CI may bind what it likes; the same role in a draft may not."""
    inputs = {
        **TTLS,
        "boundServiceAccountNames": ["*"],
        "boundServiceAccountNamespaces": ["ci-runners"],
    }

    platform = evaluate(resource(K8S_ROLE, "role", inputs, stack=PLATFORM), stack=PLATFORM)
    draft = messages(evaluate(resource(K8S_ROLE, "role", inputs)), "vault-auth-binding")

    assert messages(platform, "vault-auth-binding") == []
    assert any("boundServiceAccountNames[0] is a glob" in m for m in draft)
    assert any("boundServiceAccountNamespaces[0] is not a draft namespace" in m for m in draft)
    assert not any("ci-runners" in m for m in draft), "bound values are not echoed"


@pytest.mark.parametrize(
    ("binding_", "says"),
    [
        ({"boundSubject": "system:serviceaccount:draft-x:app"}, None),
        ({"boundClaims": {"/kubernetes.io/namespace": "draft-x"}}, None),
        ({"boundClaims": {"/kubernetes.io/namespace": ["draft-x", "draft-y"]}}, None),
        (
            {"boundClaims": {"/kubernetes.io/namespace": "draft-x,prod"}},
            "boundClaims./kubernetes.io/namespace is not a draft namespace",
        ),
        (
            {"boundClaims": {"project_path": "group/*"}, "boundClaimsType": "glob"},
            "boundClaims key 'project_path' is a glob",
        ),
        ({"boundClaims": {"project_path": "group/app"}}, "neither boundSubject"),
        ({"boundSubject": "app@example.com"}, "neither boundSubject"),
    ],
)
def test_jwt_roles_of_a_draft_bind_a_draft_namespace(binding_, says):
    role = resource(JWT_ROLE, "r", {**TTLS, "userClaim": "sub", **binding_})

    found = messages(evaluate(role), "vault-auth-binding")

    if says is None:
        assert found == []
    else:
        assert any(says in m for m in found), found


def test_a_glob_type_claim_without_a_wildcard_is_an_exact_binding():
    claims = {"/kubernetes.io/namespace": "draft-x"}
    role = resource(JWT_ROLE, "r", {**TTLS, "boundClaims": claims, "boundClaimsType": "glob"})

    assert messages(evaluate(role), "vault-auth-binding") == []


# --- credential engines' leases --------------------------------------------------------------


@pytest.mark.parametrize(
    ("leases", "says"),
    [
        ({}, "defaultLeaseTtlSeconds is not set (Vault's system default of 768 h"),
        ({"defaultLeaseTtlSeconds": 0.0, "maxLeaseTtlSeconds": 3600.0}, "is 0"),
        ({"defaultLeaseTtlSeconds": 600.0}, "maxLeaseTtlSeconds is not set"),
        (
            {"defaultLeaseTtlSeconds": 600.0, "maxLeaseTtlSeconds": 2764800.0},
            "maxLeaseTtlSeconds = 2764800 s (768 h = 32 d) exceeds the limit of 3600 s",
        ),
    ],
)
@pytest.mark.parametrize("engine", ["database", "pki", "aws", "gcp", "azure"])
def test_credential_engines_of_a_draft_lease_for_at_most_an_hour(engine, leases, says):
    mount = resource(MOUNT, "m", {"path": "m", "type": engine, **leases})

    found = messages(evaluate(mount), "vault-mount-lease")

    assert any(says in m for m in found), found


def test_leases_within_the_hour_pass_as_the_engine_sends_them():
    """Numbers arrive as floats."""
    leases = {"defaultLeaseTtlSeconds": 1800.0, "maxLeaseTtlSeconds": 3600.0}
    mounts = [
        resource(MOUNT, "db", {"path": "db", "type": "database", **leases}),
        resource("vault:gcp/secretBackend:SecretBackend", "gcp", {"path": "gcp", **leases}),
    ]

    assert messages(evaluate(*mounts), "vault-mount-lease") == []


def test_mounts_that_mint_nothing_and_platform_mounts_are_not_checked():
    kv = resource(MOUNT, "kv", {"path": "kv", "type": "kv"})
    root_ca = resource(MOUNT, "pki", {"path": "pki", "type": "pki"}, stack=PLATFORM)

    assert messages(evaluate(kv), "vault-mount-lease") == []
    assert messages(evaluate(root_ca, stack=PLATFORM), "vault-mount-lease") == []


def test_a_secret_lease_is_judged_but_not_shown():
    mount = resource(
        MOUNT,
        "db",
        {
            "path": "db",
            "type": "database",
            "defaultLeaseTtlSeconds": 600.0,
            "maxLeaseTtlSeconds": Secret(86400.0),
        },
    )

    found = messages(evaluate(mount), "vault-mount-lease")

    assert any("maxLeaseTtlSeconds = [secret] exceeds" in m for m in found), found
    assert not any("86400" in m for m in found)
