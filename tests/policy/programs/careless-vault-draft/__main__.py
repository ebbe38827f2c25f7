"""A draft's Vault access written in a hurry: roles any service account or namespace can log
into, roles reaching beyond the drafts, and credential engines left on Vault's 768 h leases."""

import pulumi_vault as vault

NAMESPACE = "draft-vault"
TTLS = {"token_ttl": 600, "token_max_ttl": 3600}
SELECTOR = '{"matchLabels": {"team": "tasks"}}'


def k8s_role(name: str, names: list[str], namespaces: list[str], **extra: object) -> None:
    vault.kubernetes.AuthBackendRole(
        name,
        backend="kubernetes",
        role_name=name,
        bound_service_account_names=names,
        bound_service_account_namespaces=namespaces,
        token_policies=[NAMESPACE],
        **TTLS,
        **extra,
    )


k8s_role("any-account", ["*"], [NAMESPACE])
k8s_role("any-namespace", ["app"], ["*"])
k8s_role("every-draft", ["app"], ["draft-*"])
k8s_role("and-staging", ["app"], [NAMESPACE, "staging"])
k8s_role("by-label", ["app"], [NAMESPACE], bound_service_account_namespace_selector=SELECTOR)


def jwt_role(name: str, **binding: object) -> None:
    vault.jwt.AuthBackendRole(
        name,
        backend="jwt",
        role_name=name,
        role_type="jwt",
        user_claim="sub",
        bound_audiences=["vault"],
        token_policies=[NAMESPACE],
        **TTLS,
        **binding,
    )


jwt_role("any-token")
jwt_role("staging-subject", bound_subject="system:serviceaccount:staging:app")
jwt_role(
    "glob-namespace",
    bound_claims={"/kubernetes.io/namespace": "draft-*"},
    bound_claims_type="glob",
)

# Credential engines on Vault's defaults, or leased for a year.
vault.Mount("database", path="draft-vault-db", type="database")
vault.Mount(
    "pki",
    path="draft-vault-pki",
    type="pki",
    default_lease_ttl_seconds=3600,
    max_lease_ttl_seconds=31536000,
)
vault.aws.SecretBackend(
    "aws", path="draft-vault-aws", default_lease_ttl_seconds=7200, max_lease_ttl_seconds=0
)
vault.database.SecretsMount("postgres", path="draft-vault-postgres")
