"""A draft's Vault access done right: roles bound to the draft's own service account in its
own namespace (Kubernetes auth and JWT, by subject or by claim), and credential engines whose
leases end within the hour. A KV mount holds no leases and is not an engine that mints."""

import pulumi_vault as vault

NAMESPACE = "draft-vault"
TTLS = {"token_ttl": 600, "token_max_ttl": 3600}
HOUR = {"default_lease_ttl_seconds": 1800, "max_lease_ttl_seconds": 3600}

vault.kubernetes.AuthBackendRole(
    "app",
    backend="kubernetes",
    role_name=NAMESPACE,
    bound_service_account_names=["app"],
    bound_service_account_namespaces=[NAMESPACE],
    token_policies=[NAMESPACE],
    **TTLS,
)
vault.jwt.AuthBackendRole(
    "app-jwt",
    backend="jwt",
    role_name=f"{NAMESPACE}-jwt",
    role_type="jwt",
    user_claim="sub",
    bound_audiences=["vault"],
    bound_subject=f"system:serviceaccount:{NAMESPACE}:app",
    token_policies=[NAMESPACE],
    **TTLS,
)
vault.jwt.AuthBackendRole(
    "app-claims",
    backend="jwt",
    role_name=f"{NAMESPACE}-claims",
    role_type="jwt",
    user_claim="sub",
    bound_audiences=["vault"],
    bound_claims={
        "/kubernetes.io/namespace": NAMESPACE,
        "/kubernetes.io/serviceaccount/name": "app",
    },
    token_policies=[NAMESPACE],
    **TTLS,
)

vault.Mount("database", path="draft-vault-db", type="database", **HOUR)
vault.Mount("pki", path="draft-vault-pki", type="pki", **HOUR)
vault.aws.SecretBackend("aws", path="draft-vault-aws", **HOUR)
vault.database.SecretsMount("postgres", path="draft-vault-postgres", **HOUR)
vault.Mount("kv", path="draft-vault-kv", type="kv", options={"version": "2"})
