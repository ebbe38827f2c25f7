"""Vault roles and tokens that follow the one-hour rule, and TTLs the rule does not govern."""

import pulumi_vault as vault

vault.kubernetes.AuthBackendRole(
    "ci",
    backend="kubernetes",
    role_name="ci",
    bound_service_account_names=["ci"],
    bound_service_account_namespaces=["ci"],
    token_policies=["deploy"],
    token_ttl=3600,
    token_max_ttl=3600,
)

vault.jwt.AuthBackendRole(
    "gitlab",
    backend="jwt",
    role_name="gitlab",
    role_type="jwt",
    user_claim="user_email",
    bound_audiences=["https://vault.example.com"],
    token_ttl=900,
    token_explicit_max_ttl=3600,
)

vault.approle.AuthBackendRole(
    "deployer",
    backend="approle",
    role_name="deployer",
    token_ttl=600,
    token_max_ttl=1200,
    secret_id_ttl=600,
    secret_id_num_uses=1,
)

# AppRole without secret IDs (bound by CIDR only): no secret ID to expire.
vault.approle.AuthBackendRole(
    "cidr-only",
    backend="approle",
    role_name="cidr-only",
    bind_secret_id=False,
    secret_id_bound_cidrs=["10.0.0.0/8"],
    token_bound_cidrs=["10.0.0.0/8"],
    token_ttl=300,
    token_max_ttl=600,
)

vault.Token("pipeline", policies=["deploy"], ttl="1h", explicit_max_ttl="1h")
vault.Token("one-shot", policies=["deploy"], ttl="15m", renewable=False)

vault.tokenauth.AuthBackendRole(
    "periodic",
    role_name="periodic",
    token_ttl=1800,
    token_max_ttl=3600,
    token_period=1800,
    token_explicit_max_ttl=3600,
)

vault.database.SecretBackendRole(
    "db",
    backend="database",
    name="app",
    db_name="postgres",
    creation_statements=["CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}';"],
    default_ttl=300,
    max_ttl=3600,
)

# IAM users have no TTL to set; STS credentials would.
vault.aws.SecretBackendRole(
    "iam-user",
    backend="aws",
    name="reader",
    credential_type="iam_user",
    policy_arns=["arn:aws:iam::aws:policy/ReadOnlyAccess"],
)

# Not credentials handed to a pipeline: a CA's lifetime and a mount's lease tuning.
vault.pkisecret.SecretBackendRootCert(
    "root-ca",
    backend="pki",
    type="internal",
    common_name="Example Root CA",
    ttl="87600h",
)
vault.Mount("kv", path="kv", type="kv-v2", max_lease_ttl_seconds=2764800)

# An OIDC client and certificates with lifetimes of their own, within the hour.
vault.identity.OidcClient(
    "oidc-client",
    name="ci",
    key="ci",
    redirect_uris=["https://ci/cb"],
    id_token_ttl=900,
    access_token_ttl=3600,
)
vault.pkisecret.SecretBackendCert(
    "cert", backend="pki", name="app", common_name="app.example.com", ttl="1h"
)
vault.pkisecret.SecretBackendSign(
    "signed",
    backend="pki",
    name="app",
    common_name="app.example.com",
    csr="-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n",
    ttl="30m",
)
