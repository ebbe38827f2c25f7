"""Edge cases of the rules, on hand-built plans evaluated through the pack's own servicer.

The end-to-end tests show each rule on programs; these pin the Vault and Kubernetes
semantics the rules encode (periodic tokens, renewals, AppRole, STS roles, duration strings,
default-deny variants, provider namespaces) and where the credential heuristics stop.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from policy_helpers import STACK, evaluate, messages, resource

from automation.plan.model import PlannedResource, Secret

# --- Vault -----------------------------------------------------------------------------------

TOKEN = "vault:index/token:Token"
TOKEN_ROLE = "vault:tokenauth/authBackendRole:AuthBackendRole"


@pytest.mark.parametrize(
    "inputs",
    [
        {"ttl": "30m", "renewable": False},
        {"ttl": "1h", "explicitMaxTtl": "1h"},
        {"ttl": "20m", "period": "20m", "explicitMaxTtl": "3600"},
        {"ttl": 1800.0, "explicitMaxTtl": "45m30s"},
    ],
)
def test_tokens_that_end_within_the_hour_pass(inputs):
    assert messages(evaluate(resource(TOKEN, "t", inputs)), "vault-token-ttl") == []


@pytest.mark.parametrize(
    ("inputs", "says"),
    [
        ({"ttl": "1h30m", "explicitMaxTtl": "1h"}, "ttl = 5400 s"),
        ({"ttl": "2d", "renewable": False}, "ttl = 172800 s"),
        ({"renewable": False}, "ttl is not set"),
        ({"ttl": "soon", "renewable": False}, "ttl is not a duration"),
        ({"ttl": "1h", "explicitMaxTtl": "8h"}, "explicitMaxTtl = 28800 s"),
        ({"ttl": "1h", "period": "1h"}, "period is set"),
        ({"ttl": "1h", "explicitMaxTtl": "1h", "wrappingTtl": "24h"}, "wrappingTtl = 86400 s"),
    ],
)
def test_tokens_that_outlive_the_hour_are_refused(inputs, says):
    found = messages(evaluate(resource(TOKEN, "t", inputs)), "vault-token-ttl")

    assert any(says in m for m in found), found


def test_a_periodic_role_is_fine_once_an_explicit_max_ttl_caps_it():
    capped = {"tokenTtl": 600.0, "tokenMaxTtl": 3600.0, "tokenPeriod": 600.0}

    uncapped = messages(evaluate(resource(TOKEN_ROLE, "r", capped)), "vault-token-ttl")
    fixed = evaluate(resource(TOKEN_ROLE, "r", {**capped, "tokenExplicitMaxTtl": 3600.0}))

    assert any("tokenPeriod is set" in m for m in uncapped)
    assert messages(fixed, "vault-token-ttl") == []


def test_an_explicit_max_ttl_alone_caps_renewals():
    role = resource(TOKEN_ROLE, "r", {"tokenTtl": 600.0, "tokenExplicitMaxTtl": 3600.0})

    assert messages(evaluate(role), "vault-token-ttl") == []


def test_a_zero_token_ttl_means_the_mount_default():
    role = resource(TOKEN_ROLE, "r", {"tokenTtl": 0.0, "tokenMaxTtl": 3600.0})

    assert any("tokenTtl is 0" in m for m in messages(evaluate(role), "vault-token-ttl"))


def test_any_vault_type_with_token_fields_is_held_to_the_same_rule():
    """A type this pack does not list, say from a newer pulumi-vault, is still checked."""
    role = resource("vault:future/authBackendRole:AuthBackendRole", "r", {"tokenTtl": 86400.0})

    found = messages(evaluate(role), "vault-token-ttl")

    assert any("tokenTtl = 86400 s" in m for m in found)


def test_sts_credentials_need_a_ttl_iam_users_do_not():
    aws = "vault:aws/secretBackendRole:SecretBackendRole"
    sts = resource(aws, "sts", {"credentialType": "assumed_role", "roleArns": ["arn:x"]})
    iam = resource(aws, "iam", {"credentialType": "iam_user"})

    found = evaluate(sts, iam)

    assert {f.urn for f in found if f.policy == "vault-credential-ttl"} == {sts.urn}


def test_other_vault_ttls_are_bounded_when_set():
    oidc = resource("vault:identity/oidcClient:OidcClient", "c", {"idTokenTtl": 86400.0})

    found = messages(evaluate(oidc), "vault-credential-ttl")

    assert any("idTokenTtl = 86400 s" in m for m in found)


def test_a_secret_ttl_is_not_shown():
    role = resource(TOKEN_ROLE, "r", {"tokenTtl": Secret(86400.0), "tokenMaxTtl": 3600.0})

    found = messages(evaluate(role), "vault-token-ttl")

    assert any("tokenTtl = [secret]" in m for m in found)
    assert not any("86400" in m for m in found)


def test_an_approle_secret_id_must_expire():
    approle = "vault:appRole/authBackendRole:AuthBackendRole"
    base = {"tokenTtl": 600.0, "tokenMaxTtl": 1200.0}

    unset = messages(evaluate(resource(approle, "a", base)), "vault-secret-id-ttl")
    long = messages(
        evaluate(resource(approle, "a", {**base, "secretIdTtl": 7200.0})), "vault-secret-id-ttl"
    )

    assert any("secretIdTtl is not set" in m for m in unset)
    assert any("secretIdTtl = 7200 s" in m for m in long)


# --- secrets ---------------------------------------------------------------------------------

CONFIGMAP = "kubernetes:core/v1:ConfigMap"
COMMAND = "command:remote:Command"
RELEASE = "kubernetes:helm.sh/v3:Release"


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("DATABASE_URL", "postgres://app:pw-1234@db:5432/app", "a URL with an embedded password"),
        ("tls.key", "-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n", "a private key"),
        ("AWS_KEY_ID", "AKIAABCDEFGHIJKLMNOP", "an AWS access key id"),
        ("app.properties", "db.user=app\ndb.password=pw-1234\n", "assigned to 'db.password'"),
        ("VAULT", "hvs.CAESIJ0123456789abcdefghijklmn", "a Vault token"),
        ("clientSecret", "abcd1234", "under the key 'clientSecret'"),
    ],
)
def test_credential_shapes_in_a_configmap_are_found_without_echoing_them(key, value, reason):
    found = messages(
        evaluate(resource(CONFIGMAP, "cm", {"data": {key: value}})), "configmap-credentials"
    )

    assert any(reason in m for m in found), found
    assert not any(value.strip() in m for m in found)


@pytest.mark.parametrize(
    "data",
    [
        {"secretName": "db-creds", "existingSecret": "db", "imagePullSecret": "regcred"},
        {"tokenTtl": "3600", "passwordPolicy": "strong", "authMount": "kubernetes"},
        {"DB_PASSWORD": "${DB_PASSWORD}", "API_TOKEN": "$API_TOKEN", "secret": "{{ .Values.x }}"},
        {"DATABASE_URL": "postgres://app@db:5432/app", "docs": "https://example.com/password"},
        {"script.sh": 'PGPASSWORD="$(cat /run/secrets/db)" psql -c "select 1"'},
    ],
)
def test_references_names_and_settings_are_not_credentials(data):
    assert (
        messages(evaluate(resource(CONFIGMAP, "cm", {"data": data})), "configmap-credentials") == []
    )


def test_a_secret_marked_value_is_not_in_clear_but_still_not_in_command_text():
    command = resource(
        COMMAND,
        "c",
        {"create": Secret("deploy --token=abcdef123456"), "stdin": Secret("TOKEN=abcdef123456")},
    )

    found = evaluate(command)

    assert messages(found, "credentials-in-clear") == []
    assert any(
        "create command text contains a secret" in m
        for m in messages(found, "command-text-secrets")
    )


def test_a_secret_nested_in_values_covers_only_its_own_path():
    release = resource(
        RELEASE,
        "r",
        {
            "values": {
                "db": {"password": Secret("pw-1234-5678")},
                "cache": {"password": "pw-1234-5678"},
            }
        },
    )

    found = messages(evaluate(release), "credentials-in-clear")

    assert len(found) == 1 and "values.cache.password" in found[0]


# --- drafts ----------------------------------------------------------------------------------

NAMESPACE = "kubernetes:core/v1:Namespace"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
KEY = "environments.dev/expires-at"


def namespace(**metadata: Any) -> PlannedResource:
    return resource(NAMESPACE, "ns", {"metadata": {"name": STACK, **metadata}})


def network_policy(name: str, spec: dict[str, Any]) -> PlannedResource:
    return resource(POLICY, name, {"metadata": {"namespace": STACK}, "spec": spec})


def test_an_expiry_annotation_alone_in_full_iso_8601_passes():
    soon = datetime.now(UTC) + timedelta(hours=47)

    assert messages(evaluate(namespace(annotations={KEY: soon.isoformat()})), "draft-expiry") == []


@pytest.mark.parametrize("label", ["tomorrow", "2026-13-45", ""])
def test_an_unreadable_expiry_is_refused(label):
    found = messages(evaluate(namespace(labels={KEY: label})), "draft-expiry")

    assert any("not an ISO 8601 time" in m for m in found), found


def test_separate_ingress_and_egress_default_denies_count():
    deny = evaluate(
        namespace(),
        network_policy("deny-in", {"podSelector": {}, "policyTypes": ["Ingress"]}),
        network_policy("deny-out", {"podSelector": {"matchLabels": {}}, "policyTypes": ["Egress"]}),
    )

    assert messages(deny, "draft-default-deny") == []


@pytest.mark.parametrize(
    ("spec", "missing"),
    [
        (
            {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress", "Egress"]},
            "Ingress and Egress",
        ),
        (
            {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "egress": [{"to": []}]},
            "Egress",
        ),
        ({"podSelector": {}, "policyTypes": ["Ingress"]}, "Egress"),
    ],
)
def test_policies_that_do_not_deny_everything_do_not_count(spec, missing):
    found = messages(evaluate(namespace(), network_policy("np", spec)), "draft-default-deny")

    assert any(f"no default-deny NetworkPolicy for {missing}:" in m for m in found), found


def test_the_providers_default_namespace_puts_an_object_in_the_draft():
    provider = resource("pulumi:providers:kubernetes", "k8s", {"namespace": STACK})
    service = resource(
        "kubernetes:core/v1:Service",
        "web",
        {"spec": {"type": "NodePort"}},
        provider=f"{provider.urn}::k8s-id",
    )

    found = evaluate(provider, service)

    assert [f.urn for f in found if f.policy == "draft-service-exposure"] == [service.urn]


def test_a_core_object_registered_as_a_custom_resource_is_held_to_the_same_rules():
    """apiextensions.CustomResource(api_version="v1", kind="Service") registers kubernetes:v1:Service."""
    service = resource(
        "kubernetes:v1:Service",
        "web",
        {"metadata": {"namespace": STACK}, "spec": {"type": "LoadBalancer"}},
    )

    assert messages(evaluate(service), "draft-service-exposure")


def test_cron_jobs_pod_specs_are_checked():
    cron = resource(
        "kubernetes:batch/v1:CronJob",
        "nightly",
        {
            "metadata": {"namespace": STACK},
            "spec": {
                "schedule": "@daily",
                "jobTemplate": {
                    "spec": {
                        "template": {"spec": {"containers": [{"name": "job", "image": "job:1.0"}]}}
                    }
                },
            },
        },
    )

    found = messages(evaluate(cron), "draft-resource-limits")

    assert any("container 'job' has no resources.limits" in m for m in found)


def test_an_external_secret_mapping_is_not_a_credential():
    external = resource(
        "kubernetes:external-secrets.io/v1beta1:ExternalSecret",
        "app",
        {
            "metadata": {"namespace": STACK},
            "spec": {
                "secretStoreRef": {"name": "vault", "kind": "SecretStore"},
                "target": {"name": "app-secrets"},
                "data": [
                    {
                        "secretKey": "db-password",
                        "remoteRef": {"key": "draft/t/s", "property": "db"},
                    },
                    {
                        "secretKey": "API_TOKEN",
                        "remoteRef": {"key": "draft/t/s", "property": "api"},
                    },
                ],
            },
        },
    )

    assert messages(evaluate(external), "credentials-in-clear") == []
