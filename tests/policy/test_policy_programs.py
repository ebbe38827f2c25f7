"""The policy pack on real programs, through `envctl plan --cwd ... --policy-pack policy`.

Each rule has a program that breaks it the way people do (a careless-* program) and one that
follows it (careful-*); the evil/fixed pair is the issue's Done-when. Findings are read from
the plan JSON a pipeline would read, and the exit code is the one CI acts on.
"""

from __future__ import annotations

import pytest
from policy_helpers import PROGRAMS, PlanRun, envctl_plan

VAULT_POLICIES = (
    "vault-token-ttl",
    "vault-secret-id-ttl",
    "vault-credential-ttl",
    "vault-mount-lease",
    "vault-auth-binding",
)
SECRET_POLICIES = (
    "kubernetes-secret-data",
    "configmap-credentials",
    "credentials-in-clear",
    "command-text-secrets",
)
DRAFT_POLICIES = (
    "draft-expiry",
    "draft-service-exposure",
    "draft-pod-security",
    "draft-resource-limits",
    "draft-image-tags",
    "draft-default-deny",
    "draft-namespace-guardrails",
    "draft-network-allow-rules",
    "draft-cluster-access",
)


def mandatory(run: PlanRun) -> list[str]:
    return [f"{v['policy']}: {v['message']}" for v in run.findings(level="mandatory")]


# --- Done-when ---------------------------------------------------------------------------------


def test_the_evil_draft_is_refused_for_its_token_ttl_and_its_load_balancer(plan_program):
    run = plan_program("evil", "draft-evil")

    assert run.code == 1
    ttl = run.on("app", "vault-token-ttl")
    assert any("tokenTtl = 7200 s" in m and "limit of 3600 s" in m for m in ttl), ttl
    exposure = run.on("web", "draft-service-exposure")
    assert any("spec.type = LoadBalancer" in m and "draft-evil" in m for m in exposure), exposure
    assert all(
        v["level"] == "mandatory"
        for v in run.findings("vault-token-ttl") + run.findings("draft-service-exposure")
    )


def test_the_fixed_draft_passes(plan_program):
    run = plan_program("fixed", "draft-evil")

    assert run.code == 0, mandatory(run)
    assert mandatory(run) == []


def test_the_evil_draft_also_lacks_the_mandatory_namespace_guardrails(plan_program):
    run = plan_program("evil", "draft-evil")

    guardrails = run.findings("draft-namespace-guardrails", level="mandatory")
    texts = " ".join(v["message"] for v in guardrails)
    assert "has no ResourceQuota" in texts and "has no LimitRange" in texts


def test_the_pack_in_policy_is_the_default(plan_program):
    """`envctl plan` from the repository evaluates ./policy without --policy-pack."""
    run = envctl_plan("draft-evil", PROGRAMS / "evil", pack=None)

    assert run.code == 1
    assert run.on("app", "vault-token-ttl")


# --- the project's own stacks ------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["draft-feature-x", "staging"])
def test_the_project_stacks_pass_the_pack(stack):
    run = envctl_plan(stack)

    assert run.code == 0, mandatory(run)
    assert mandatory(run) == []


# --- Vault TTLs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "policy", "says"),
    [
        ("no-ttl", "vault-token-ttl", "tokenTtl is not set"),
        ("no-ttl", "vault-token-ttl", "neither tokenMaxTtl nor tokenExplicitMaxTtl is set"),
        ("week", "vault-token-ttl", "tokenTtl = 604800 s"),
        ("week", "vault-token-ttl", "tokenMaxTtl = 604800 s"),
        ("forever-secret-id", "vault-secret-id-ttl", "secretIdTtl is 0"),
        ("long-token", "vault-token-ttl", "ttl = 604800 s"),
        ("long-token", "vault-token-ttl", "renewable and explicitMaxTtl is not set"),
        ("periodic", "vault-token-ttl", "tokenPeriod is set"),
        ("db", "vault-credential-ttl", "defaultTtl is not set"),
        ("db", "vault-credential-ttl", "maxTtl is not set"),
        ("oidc-client", "vault-credential-ttl", "idTokenTtl is not set (Vault's default of 24 h"),
        ("oidc-client", "vault-credential-ttl", "accessTokenTtl is not set"),
        ("cert", "vault-credential-ttl", "ttl is not set"),
        ("signed", "vault-credential-ttl", "ttl is not set"),
    ],
)
def test_careless_vault_credentials_are_refused(plan_program, resource, policy, says):
    run = plan_program("careless-vault", "dev")

    assert run.code == 1
    messages = run.on(resource, policy)
    assert any(says in m for m in messages), messages
    assert all("3600 s" in m for m in messages), "every message names the limit"


def test_careless_vault_findings_are_all_mandatory(plan_program):
    run = plan_program("careless-vault", "dev")

    assert {v["level"] for v in run.violations} == {"mandatory"}


def test_vault_credentials_within_an_hour_pass(plan_program):
    """Including AppRole without secret IDs, an IAM-user role, a CA's lifetime, a KV mount,
    an OIDC client and certificates with TTLs of their own."""
    run = plan_program("careful-vault", "dev")

    assert run.code == 0, mandatory(run)
    assert [v for p in VAULT_POLICIES for v in run.findings(p)] == []


# --- secrets -----------------------------------------------------------------------------------

CARELESS_SECRET_VALUES = (
    "hunter2-but-longer",
    "glpat-abcdefghijklmnopqrst",
    "s3cr3t-from-config",
    "9f3b2c1d8e7a6b5c4d3e2f1a0b9c8d7e",
    "AAAAC3NzaC1lZDI1NTE5AAAAIhunter2",
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAAS",
    "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
    "mode=fast",
)


@pytest.mark.parametrize(
    ("resource", "policy", "says"),
    [
        ("app-config", "configmap-credentials", "data.DB_PASSWORD"),
        ("raw-secret", "kubernetes-secret-data", "stringData key(s) 'password'"),
        ("pasted", "credentials-in-clear", "input yaml"),
        ("api", "credentials-in-clear", "containers[0].env[0].value"),
        ("migrate", "credentials-in-clear", "input create"),
        ("migrate", "credentials-in-clear", "input stdin holds a GitLab token"),
        ("login", "command-text-secrets", "the create command text contains a secret"),
        ("db", "credentials-in-clear", "values.auth.password"),
        # A ConfigMap is not a secret store: marking the value secret does not make it one.
        ("marked-secret", "configmap-credentials", "data.DB_PASSWORD holds a literal value"),
        ("marked-secret", "configmap-credentials", "data holds a value marked secret"),
        ("all-secret", "configmap-credentials", "data holds a value marked secret"),
        *(
            ("named-credentials", "configmap-credentials", f"data.{key} holds a literal value")
            for key in (
                "DB_PASS",
                "MYSQL_PWD",
                "pwd",
                "SECRET_KEY_BASE",
                "ssh_key",
                "private_key_pem",
                "smtp_pass",
                "STRIPE_KEY",
            )
        ),
        ("scripts", "configmap-credentials", "data.mysql.sh holds a password on a mysql"),
        ("scripts", "configmap-credentials", "data.login.sh holds a password on a registry login"),
        ("scripts", "configmap-credentials", "data.probe.sh holds a user:password on a curl"),
        ("scripts", "configmap-credentials", "data.ssh.sh holds a password on an sshpass"),
        ("scripts", "configmap-credentials", "data.redis.sh holds a password on a redis-cli"),
        ("backup", "credentials-in-clear", "input create holds a password on a mysql command"),
    ],
)
def test_careless_secrets_are_refused(plan_program, resource, policy, says):
    run = plan_program("careless-secrets", "dev")

    assert run.code == 1
    messages = run.on(resource, policy)
    assert any(says in m for m in messages), messages


def test_secret_findings_never_echo_the_secret(plan_program):
    run = plan_program("careless-secrets", "dev")

    messages = " ".join(v["message"] for v in run.violations)
    assert run.violations
    assert not [s for s in CARELESS_SECRET_VALUES if s in messages]


def test_configmap_look_alikes_and_prompting_commands_pass(plan_program):
    """PWD as a directory, public and lookup keys, mysql -p, --password-stdin, curl -u "$U:$P"."""
    run = plan_program("careful-secrets", "dev")

    assert run.on("look-alikes", "configmap-credentials") == []


def test_credentials_as_secrets_through_stdin_or_by_reference_pass(plan_program):
    run = plan_program("careful-secrets", "dev")

    assert run.code == 0, mandatory(run)
    assert [v for p in SECRET_POLICIES for v in run.findings(p)] == []


# --- drafts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "policy", "says"),
    [
        ("draft", "draft-expiry", "label environments.dev/expires-at"),
        ("draft", "draft-expiry", "annotation environments.dev/expires-at"),
        ("scratch", "draft-expiry", "has no environments.dev/expires-at"),
        ("web", "draft-pod-security", "hostNetwork = true"),
        ("web", "draft-pod-security", "securityContext.privileged = true"),
        ("web", "draft-resource-limits", "container 'web' has no resources.limits"),
        ("web", "draft-resource-limits", "container 'wait' has no resources.limits"),
        ("web", "draft-image-tags", "container 'web' uses image tag 'latest'"),
        ("web", "draft-image-tags", "container 'wait' has an image without a tag"),
        ("app", "draft-image-tags", "values image.tag = latest"),
        ("app", "draft-service-exposure", "values service.type = LoadBalancer"),
        ("draft", "draft-default-deny", "'draft-careless' has no default-deny NetworkPolicy"),
        ("scratch", "draft-default-deny", "'draft-scratch' has no default-deny NetworkPolicy"),
    ],
)
def test_careless_drafts_are_refused(plan_program, resource, policy, says):
    run = plan_program("careless-draft", "draft-careless")

    assert run.code == 1
    messages = run.on(resource, policy)
    assert any(says in m for m in messages), messages


def test_careless_draft_service_is_refused_for_its_node_port(plan_program):
    run = plan_program("careless-draft", "draft-careless")

    messages = run.on("web-public", "draft-service-exposure")
    assert any("spec.type = NodePort" in m for m in messages), messages


def test_missing_namespace_guardrails_are_mandatory(plan_program):
    """Objects a Helm release installs are invisible to the pack: the namespace must enforce."""
    run = plan_program("careless-draft", "draft-careless")

    guardrails = run.findings("draft-namespace-guardrails")
    assert {v["level"] for v in guardrails} == {"mandatory"}
    texts = " ".join(v["message"] for v in guardrails)
    assert "pod-security.kubernetes.io/enforce is missing" in texts
    assert "has no ResourceQuota" in texts and "has no LimitRange" in texts


ESCAPING_KINDS = (
    "pod",
    "pod-template",
    "rc",
    "deployment",
    "stateful-set",
    "daemon-set",
    "replica-set",
    "job",
    "cron-job",
)


@pytest.mark.parametrize("kind", ESCAPING_KINDS)
@pytest.mark.parametrize(
    "says",
    [
        "ports[1].hostPort, which opens a port on the node",
        "securityContext.allowPrivilegeEscalation = true",
        "container 'escape' adds capability SYS_ADMIN",
        "container 'init' adds capability NET_ADMIN",
        "hostNetwork = true shares the node's network",
        "hostPID = true shares the node's process IDs",
        "hostIPC = true shares the node's IPC",
        "volumes[1].hostPath mounts the container runtime's socket",
        "volumes[2].hostPath mounts a directory of the node",
    ],
)
def test_pods_that_reach_the_node_are_refused_in_every_kind(plan_program, kind, says):
    run = plan_program("escaping-pods", "draft-escaping")

    assert run.code == 1
    messages = run.on(kind, "draft-pod-security")
    assert any(says in m for m in messages), messages
    assert not [m for m in messages if "'web'" in m], "NET_BIND_SERVICE alone is allowed"


def test_a_release_asking_for_host_ports_or_escalation_is_refused(plan_program):
    run = plan_program("escaping-pods", "draft-escaping")

    messages = run.on("app", "draft-pod-security")
    assert any("values ports.metrics.hostPort opens a port" in m for m in messages), messages
    assert any("containerSecurityContext.allowPrivilegeEscalation = true" in m for m in messages)
    assert any("values hostPID = true" in m for m in messages), messages
    assert any(
        "extraVolumes[0].hostPath mounts the container runtime's socket" in m for m in messages
    )


def test_an_empty_dir_volume_is_no_host_access(plan_program):
    run = plan_program("escaping-pods", "draft-escaping")

    assert not [m for m in run.on("pod", "draft-pod-security") if "volumes[0]" in m]
    assert not [m for m in run.findings() if "/var/run/docker.sock" in m["message"]]


def test_only_pod_security_is_what_the_escaping_pods_break(plan_program):
    run = plan_program("escaping-pods", "draft-escaping")

    assert {v["policy"] for v in run.violations} == {"draft-pod-security"}


def test_a_draft_within_the_guardrails_passes_without_any_finding(plan_program):
    """Expiry in a day, default deny plus an allow rule, quota, limits, pinned images,
    ClusterIP services, NET_BIND_SERVICE without escalation; a LoadBalancer outside the
    drafts is not the pack's concern."""
    run = plan_program("careful-draft", "draft-careful")

    assert run.code == 0, mandatory(run)
    assert run.violations == []


def test_the_draft_namespace_label_format_of_the_project_is_understood():
    """The project's component writes the expiry label in ISO 8601 basic format."""
    run = envctl_plan("draft-feature-x")

    namespaces = [
        r for r in run.document["resources"] if r["type"] == "kubernetes:core/v1:Namespace"
    ]
    assert namespaces, "the draft stack creates its namespace"
    assert run.findings("draft-expiry") == []


# --- cluster-wide power ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "says"),
    [
        (
            "operator",
            "ClusterRole 'operator' (kubernetes:rbac.authorization.k8s.io/v1:ClusterRole)",
        ),
        ("operator-binding", "ClusterRoleBinding 'operator-binding'"),
        ("god-mode", "roleRef binds the ClusterRole 'cluster-admin'"),
        ("edit", "in draft namespace 'draft-rbac': roleRef binds the ClusterRole 'edit'"),
        ("admin-for-everyone", "roleRef binds the ClusterRole 'admin'"),
        (
            "into-staging",
            "created by draft stack 'draft-rbac': roleRef binds the ClusterRole 'edit'",
        ),
    ],
)
def test_a_draft_granting_itself_cluster_wide_power_is_refused(plan_program, resource, says):
    run = plan_program("careless-rbac", "draft-rbac")

    assert run.code == 1
    messages = run.on(resource, "draft-cluster-access")
    assert any(says in m for m in messages), messages
    assert {v["level"] for v in run.findings("draft-cluster-access")} == {"mandatory"}


def test_the_same_rbac_outside_a_draft_stack_is_judged_by_its_subjects(plan_program):
    """In a platform stack a ClusterRole is no draft's; bindings of a draft's account still are."""
    run = plan_program("careless-rbac", "platform")

    assert run.on("operator", "draft-cluster-access") == []
    binding = run.on("operator-binding", "draft-cluster-access")
    assert any("binding draft service accounts (subjects[0])" in m for m in binding), binding


# --- allow rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "says"),
    [
        ("port-80", "spec.ingress[0] has no from, which allows every source"),
        ("empty-peer", "spec.ingress[0].from[0] is an empty peer"),
        ("all-namespaces", "spec.ingress[0].from[0].namespaceSelector selects every namespace"),
        ("all-namespaces", "spec.ingress[0].from[1].namespaceSelector selects every namespace"),
        ("internet", "spec.ingress[0].from[0].ipBlock.cidr covers every address"),
        ("internet", "spec.egress[0].to[0].ipBlock.cidr covers every address"),
        ("internet", "spec.egress[1].to[0].ipBlock.cidr covers every address"),
        ("dns-anywhere", "spec.egress[0] has no to, which allows every destination"),
    ],
)
def test_allow_rules_that_reopen_a_draft_are_refused(plan_program, resource, says):
    run = plan_program("careless-network", "draft-network")

    assert run.code == 1
    messages = run.on(resource, "draft-network-allow-rules")
    assert any(says in m for m in messages), messages


def test_the_default_deny_itself_is_no_opening(plan_program):
    run = plan_program("careless-network", "draft-network")

    assert run.on("default-deny", "draft-network-allow-rules") == []
    assert run.findings("draft-default-deny") == []


# --- Vault roles and engines of a draft --------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "policy", "says"),
    [
        ("any-account", "vault-auth-binding", "boundServiceAccountNames[0] is a glob"),
        ("any-namespace", "vault-auth-binding", "boundServiceAccountNamespaces[0] is a glob"),
        ("every-draft", "vault-auth-binding", "boundServiceAccountNamespaces[0] is a glob"),
        (
            "and-staging",
            "vault-auth-binding",
            "boundServiceAccountNamespaces[1] is not a draft namespace",
        ),
        ("by-label", "vault-auth-binding", "boundServiceAccountNamespaceSelector is set"),
        ("any-token", "vault-auth-binding", "every service account of every namespace"),
        ("staging-subject", "vault-auth-binding", "boundSubject is not a draft namespace"),
        ("glob-namespace", "vault-auth-binding", "'/kubernetes.io/namespace' is a glob"),
        ("database", "vault-mount-lease", "defaultLeaseTtlSeconds is not set"),
        ("database", "vault-mount-lease", "maxLeaseTtlSeconds is not set"),
        ("pki", "vault-mount-lease", "maxLeaseTtlSeconds = 31536000 s (8760 h = 365 d)"),
        ("aws", "vault-mount-lease", "defaultLeaseTtlSeconds = 7200 s (2 h) exceeds"),
        ("aws", "vault-mount-lease", "maxLeaseTtlSeconds is 0 (Vault's system default of 768 h"),
        ("postgres", "vault-mount-lease", "defaultLeaseTtlSeconds is not set"),
    ],
)
def test_a_drafts_careless_vault_access_is_refused(plan_program, resource, policy, says):
    run = plan_program("careless-vault-draft", "draft-vault")

    assert run.code == 1
    messages = run.on(resource, policy)
    assert any(says in m for m in messages), messages


def test_vault_binding_findings_never_echo_what_is_bound(plan_program):
    run = plan_program("careless-vault-draft", "draft-vault")

    texts = " ".join(v["message"] for v in run.findings("vault-auth-binding"))
    assert texts
    for bound in ("system:serviceaccount:staging", "draft-*", '"team"', "tasks"):
        assert bound not in texts


def test_the_same_vault_access_outside_a_draft_stack_is_the_platforms_business(plan_program):
    """Binding rules are about drafts; a platform's PKI root may need a long lease."""
    run = plan_program("careless-vault-draft", "platform")

    assert run.findings("vault-auth-binding") == []
    assert run.findings("vault-mount-lease") == []


def test_a_drafts_vault_access_bound_to_itself_and_leased_for_an_hour_passes(plan_program):
    run = plan_program("careful-vault-draft", "draft-vault")

    assert run.code == 0, mandatory(run)
    assert run.violations == []
