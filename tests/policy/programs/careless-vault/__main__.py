"""Vault roles and tokens as they get written in a hurry: copy-pasted, TTLs left to defaults."""

import pulumi_vault as vault

# No TTL at all: the mount's default (32 days) applies.
vault.kubernetes.AuthBackendRole(
    "no-ttl",
    backend="kubernetes",
    role_name="ci",
    bound_service_account_names=["ci"],
    bound_service_account_namespaces=["ci"],
    token_policies=["deploy"],
)

# "A week should be enough."
vault.jwt.AuthBackendRole(
    "week",
    backend="jwt",
    role_name="gitlab",
    role_type="jwt",
    user_claim="user_email",
    bound_audiences=["https://vault.example.com"],
    token_ttl=604800,
    token_max_ttl=604800,
)

# Tokens are short, but the secret ID never expires.
vault.approle.AuthBackendRole(
    "forever-secret-id",
    backend="approle",
    role_name="deployer",
    token_ttl=600,
    token_max_ttl=1200,
    secret_id_ttl=0,
)

# A token for a week, renewable without a cap.
vault.Token("long-token", policies=["deploy"], ttl="168h")

# Periodic tokens live forever while renewed.
vault.tokenauth.AuthBackendRole(
    "periodic",
    role_name="periodic",
    token_ttl=3600,
    token_max_ttl=3600,
    token_period=3600,
)

# Database credentials on the mount's default lease.
vault.database.SecretBackendRole(
    "db",
    backend="database",
    name="app",
    db_name="postgres",
    creation_statements=["CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}';"],
)

# An OIDC client on Vault's defaults: ID and access tokens for 24 hours.
vault.identity.OidcClient("oidc-client", name="ci", key="ci", redirect_uris=["https://ci/cb"])

# Certificates without a TTL: the role's or the mount's default (768 h unless tuned).
vault.pkisecret.SecretBackendCert("cert", backend="pki", name="app", common_name="app.example.com")
vault.pkisecret.SecretBackendSign(
    "signed",
    backend="pki",
    name="app",
    common_name="app.example.com",
    csr="-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n",
)
