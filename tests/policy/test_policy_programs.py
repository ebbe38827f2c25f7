"""The policy pack on real programs, through `envctl plan --cwd ... --policy-pack policy`.

Each rule has a program that breaks it the way people do (a careless-* program) and one that
follows it (careful-*); the evil/fixed pair is the issue's Done-when. Findings are read from
the plan JSON a pipeline would read, and the exit code is the one CI acts on.
"""

from __future__ import annotations

import pytest
from policy_helpers import PROGRAMS, PlanRun, envctl_plan

VAULT_POLICIES = ("vault-token-ttl", "vault-secret-id-ttl", "vault-credential-ttl")
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
    """Including AppRole without secret IDs, an IAM-user role, a CA's lifetime, a KV mount."""
    run = plan_program("careful-vault", "dev")

    assert run.code == 0, mandatory(run)
    assert [v for p in VAULT_POLICIES for v in run.findings(p)] == []


# --- secrets -----------------------------------------------------------------------------------

CARELESS_SECRET_VALUES = ("hunter2-but-longer", "glpat-abcdefghijklmnopqrst", "s3cr3t-from-config")


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


def test_missing_namespace_guardrails_are_advisory(plan_program):
    run = plan_program("careless-draft", "draft-careless")

    guardrails = run.findings("draft-namespace-guardrails")
    assert {v["level"] for v in guardrails} == {"advisory"}
    texts = " ".join(v["message"] for v in guardrails)
    assert "pod-security.kubernetes.io/enforce is missing" in texts
    assert "has no ResourceQuota" in texts and "has no LimitRange" in texts


def test_a_draft_within_the_guardrails_passes_without_any_finding(plan_program):
    """Expiry in a day, default deny plus an allow rule, quota, limits, pinned images,
    ClusterIP services; a LoadBalancer outside the drafts is not the pack's concern."""
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
