"""Vault credentials live at most an hour: TTL policies for every pulumi-vault type that mints one.

Vault semantics the rules follow: a TTL of 0 or unset means the mount's default (768 h unless
tuned), so a missing TTL is a violation; ``token_max_ttl``/``token_explicit_max_ttl`` cap
renewals (the explicit one cannot be raised by anything else); periodic tokens
(``token_period``) live forever while renewed unless an explicit max TTL caps them; AppRole
``secret_id_ttl = 0`` never expires. Roles take seconds, ``Token`` takes duration strings.
Property names are the wire (camelCase) names of the pulumi-vault schema.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pack_support import (
    config_number,
    config_texts,
    describe,
    draft_stack,
    duration_seconds,
    get_path,
    prefix_schema,
    show_seconds,
    shown,
    texts_schema,
)
from pulumi_policy import (
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

MAX_TTL_SECONDS = 3600

TOKEN_TTL = "tokenTtl"
TOKEN_MAX_TTL = "tokenMaxTtl"
TOKEN_EXPLICIT_MAX_TTL = "tokenExplicitMaxTtl"
TOKEN_PERIOD = "tokenPeriod"
TOKEN_FIELDS = (TOKEN_TTL, TOKEN_MAX_TTL, TOKEN_EXPLICIT_MAX_TTL, TOKEN_PERIOD)

APPROLE_ROLE = "vault:appRole/authBackendRole:AuthBackendRole"
APPROLE_SECRET_ID = "vault:appRole/authBackendRoleSecretId:AuthBackendRoleSecretId"
TOKEN = "vault:index/token:Token"

# Every pulumi-vault 7.x type whose schema has the token_* fields: auth backend roles of every
# method (Kubernetes, JWT/OIDC, AppRole, token, cloud...), plus auth backends and users that log
# in directly. Any other vault:* type that carries a token TTL field is treated the same way.
TOKEN_ISSUERS = frozenset(
    {
        "vault:alicloud/authBackendRole:AuthBackendRole",
        APPROLE_ROLE,
        "vault:aws/authBackendRole:AuthBackendRole",
        "vault:azure/authBackendRole:AuthBackendRole",
        "vault:index/certAuthBackendRole:CertAuthBackendRole",
        "vault:cf/authBackendRole:AuthBackendRole",
        "vault:gcp/authBackendRole:AuthBackendRole",
        "vault:github/authBackend:AuthBackend",
        "vault:jwt/authBackendRole:AuthBackendRole",
        "vault:index/kerberosAuthBackendLdapConfig:KerberosAuthBackendLdapConfig",
        "vault:kubernetes/authBackendRole:AuthBackendRole",
        "vault:ldap/authBackend:AuthBackend",
        "vault:index/ociAuthBackendRole:OciAuthBackendRole",
        "vault:okta/authBackend:AuthBackend",
        "vault:radius/authBackend:AuthBackend",
        "vault:saml/authBackendRole:AuthBackendRole",
        "vault:index/scepAuthBackendRole:ScepAuthBackendRole",
        "vault:spiffe/authBackendRole:AuthBackendRole",
        "vault:tokenauth/authBackendRole:AuthBackendRole",
        "vault:index/tpmAuthBackendRole:TpmAuthBackendRole",
        "vault:index/userpassAuthBackendUser:UserpassAuthBackendUser",
    }
)

# Secret-engine roles that mint credentials: (default TTL field, max TTL field or None). Both
# must be set; unset means the mount's lease defaults.
CREDENTIAL_ROLES: dict[str, tuple[str, str | None]] = {
    "vault:database/secretBackendRole:SecretBackendRole": ("defaultTtl", "maxTtl"),
    "vault:kubernetes/secretBackendRole:SecretBackendRole": ("tokenDefaultTtl", "tokenMaxTtl"),
    "vault:ldap/secretBackendDynamicRole:SecretBackendDynamicRole": ("defaultTtl", "maxTtl"),
    "vault:azure/backendRole:BackendRole": ("ttl", "maxTtl"),
    "vault:consul/secretBackendRole:SecretBackendRole": ("ttl", "maxTtl"),
    "vault:alicloud/secretBackendRole:SecretBackendRole": ("ttl", "maxTtl"),
    "vault:terraformcloud/secretRole:SecretRole": ("ttl", "maxTtl"),
    "vault:mongodbatlas/secretRole:SecretRole": ("ttl", "maxTtl"),
    "vault:ssh/secretBackendRole:SecretBackendRole": ("ttl", "maxTtl"),
    "vault:pkiSecret/secretBackendRole:SecretBackendRole": ("ttl", "maxTtl"),
    "vault:ad/secretRole:SecretRole": ("ttl", None),
    "vault:gcp/secretImpersonatedAccount:SecretImpersonatedAccount": ("ttl", None),
    "vault:spiffe/secretBackendRole:SecretBackendRole": ("ttl", None),
    "vault:identity/oidcRole:OidcRole": ("ttl", None),
    "vault:aws/secretBackendRole:SecretBackendRole": ("defaultStsTtl", "maxStsTtl"),
    # Not roles, but they mint credentials with long lifetimes when the TTL is left out.
    "vault:identity/oidcClient:OidcClient": ("idTokenTtl", "accessTokenTtl"),
    "vault:pkiSecret/secretBackendCert:SecretBackendCert": ("ttl", None),
    "vault:pkiSecret/secretBackendSign:SecretBackendSign": ("ttl", None),
}
# What an unset TTL means, where it is not the mount's default lease TTL.
UNSET_MEANS = {
    "vault:identity/oidcClient:OidcClient": "Vault's default of 24 h applies",
    "vault:pkiSecret/secretBackendCert:SecretBackendCert": (
        "the role's TTL or the mount's default applies, 768 h unless tuned"
    ),
    "vault:pkiSecret/secretBackendSign:SecretBackendSign": (
        "the role's TTL or the mount's default applies, 768 h unless tuned"
    ),
}
# AWS roles of these credential types have no TTL at all (IAM users live until revoked by lease).
AWS_ROLE = "vault:aws/secretBackendRole:SecretBackendRole"
AWS_TTL_CREDENTIAL_TYPES = frozenset({"assumed_role", "federation_token", "session_token"})

# Any other vault:* property with one of these names is a credential lifetime: when set, it
# must be within the limit. Lease tuning of mounts (defaultLeaseTtlSeconds, maxLeaseTtlSeconds)
# and key rotation periods are not credential lifetimes.
GENERIC_TTL_FIELDS = (
    "ttl",
    "maxTtl",
    "explicitMaxTtl",
    "period",
    "defaultTtl",
    "tokenTtl",
    "tokenMaxTtl",
    "tokenExplicitMaxTtl",
    "tokenPeriod",
    "tokenDefaultTtl",
    "defaultStsTtl",
    "maxStsTtl",
    "secretIdTtl",
    "wrappingTtl",
    "idTokenTtl",
    "accessTokenTtl",
    "identityTokenTtl",
    "tlsClientTtl",
    "defaultTlsClientTtl",
    "certTtl",
    "defaultCertTtl",
    "maxTokenTtl",
)
# Types whose TTL fields are not credentials handed to a pipeline: CA certificates, DNS record
# TTLs, control-group request windows, TOTP periods.
DEFAULT_EXCLUDED_TYPES = (
    "vault:pkiSecret/secretBackendRootCert:SecretBackendRootCert",
    "vault:pkiSecret/secretBackendRootSignIntermediate:SecretBackendRootSignIntermediate",
    "vault:kmip/secretCaGenerated:SecretCaGenerated",
    "vault:pkiexternalca/secretBackendDnsProviderAwsRoute53:SecretBackendDnsProviderAwsRoute53",
    "vault:pkiexternalca/secretBackendDnsProviderAzure:SecretBackendDnsProviderAzure",
    "vault:pkiexternalca/secretBackendDnsProviderGcp:SecretBackendDnsProviderGcp",
    "vault:pkiexternalca/secretBackendDnsProviderRfc2136:SecretBackendDnsProviderRfc2136",
    "vault:config/controlGroup:ControlGroup",
    "vault:identity/mfaTotp:MfaTotp",
    "vault:index/mfaTotp:MfaTotp",
)

MOUNT_DEFAULT = "the mount's default TTL applies, 768 h unless tuned"

# Secret engines that mint credentials. Their mount's lease TTLs bound every lease whose role
# leaves a TTL unset, and cap the ones that set it; unset or 0 means the system's 768 h.
MOUNT = "vault:index/mount:Mount"
CREDENTIAL_ENGINES = (
    "database",
    "pki",
    "aws",
    "gcp",
    "azure",
    "alicloud",
    "consul",
    "rabbitmq",
    "nomad",
    "kubernetes",
    "ldap",
    "openldap",
    "ad",
    "mongodbatlas",
    "terraform",
)
# pulumi-vault's dedicated mounts of those engines, with the same lease fields as Mount.
CREDENTIAL_BACKENDS = frozenset(
    {
        "vault:ad/secretBackend:SecretBackend",
        "vault:aws/secretBackend:SecretBackend",
        "vault:azure/backend:Backend",
        "vault:consul/secretBackend:SecretBackend",
        "vault:database/secretsMount:SecretsMount",
        "vault:gcp/secretBackend:SecretBackend",
        "vault:index/nomadSecretBackend:NomadSecretBackend",
        "vault:kubernetes/secretBackend:SecretBackend",
        "vault:ldap/secretBackend:SecretBackend",
        "vault:rabbitMq/secretBackend:SecretBackend",
        "vault:terraformcloud/secretBackend:SecretBackend",
    }
)
LEASE_FIELDS = ("defaultLeaseTtlSeconds", "maxLeaseTtlSeconds")
SYSTEM_DEFAULT = "Vault's system default of 768 h applies"


def _max_schema() -> dict[str, Any]:
    return {
        "type": "integer",
        "minimum": 1,
        "default": MAX_TTL_SECONDS,
        "description": "longest credential lifetime allowed, in seconds",
    }


def _limit(args: ResourceValidationArgs) -> float:
    return config_number(args, "maxTtlSeconds", MAX_TTL_SECONDS)


class _Checker:
    """Reads TTL fields of one resource and reports what is missing or too long."""

    def __init__(self, args: ResourceValidationArgs, report: ReportViolation) -> None:
        self.args = args
        self.report = report
        self.limit = _limit(args)

    def seconds(self, field: str) -> float | None:
        """Seconds of ``field``: None when unset; reports an unreadable value."""
        value = get_path(self.args.props, (field,))
        if value is None:
            return None
        seconds = duration_seconds(value)
        if seconds is None:
            self.report(
                f"{describe(self.args)}: {field} is not a duration Vault understands "
                f"(expected seconds or e.g. '45m'); limit {show_seconds(self.limit)}.",
                None,
            )
            return None
        return seconds

    def found(self, field: str, seconds: float) -> str:
        value = shown(self.args, (field,), show_seconds(seconds))
        return f"{field} = {value}"

    def require(self, field: str, why: str = MOUNT_DEFAULT) -> float | None:
        """``field`` must be set, positive and within the limit."""
        seconds = self.seconds(field)
        if seconds is None or seconds == 0:
            state = "not set" if seconds is None else "0"
            self.report(
                f"{describe(self.args)}: {field} is {state} ({why}); "
                f"set it to at most {show_seconds(self.limit)}.",
                None,
            )
            return None
        self.within(field, seconds)
        return seconds

    def within(self, field: str, seconds: float) -> bool:
        if seconds < 0:
            self.report(f"{describe(self.args)}: {self.found(field, seconds)} is negative.", None)
            return False
        if seconds > self.limit:
            self.report(
                f"{describe(self.args)}: {self.found(field, seconds)} exceeds the limit of "
                f"{show_seconds(self.limit)}.",
                None,
            )
            return False
        return True

    def optional(self, field: str) -> float | None:
        """``field`` may be unset or 0; when set it must be within the limit."""
        seconds = self.seconds(field)
        if seconds is not None and seconds != 0:
            self.within(field, seconds)
        return seconds


def _token_issuer(args: ResourceValidationArgs) -> bool:
    if args.resource_type in TOKEN_ISSUERS:
        return True
    return args.resource_type.startswith("vault:") and any(
        field in args.props for field in TOKEN_FIELDS
    )


def _check_token_fields(check: _Checker) -> None:
    """Auth roles and backends: token TTL, a cap on renewals, no uncapped periodic tokens."""
    check.require(TOKEN_TTL)
    max_ttl = check.optional(TOKEN_MAX_TTL)
    explicit = check.optional(TOKEN_EXPLICIT_MAX_TTL)
    capped = any(v is not None and 0 < v <= check.limit for v in (max_ttl, explicit))
    if not capped and not any(v is not None and v > 0 for v in (max_ttl, explicit)):
        check.report(
            f"{describe(check.args)}: neither {TOKEN_MAX_TTL} nor {TOKEN_EXPLICIT_MAX_TTL} is "
            f"set, so tokens can be renewed up to the mount's maximum (768 h unless tuned); "
            f"set {TOKEN_MAX_TTL} to at most {show_seconds(check.limit)}.",
            None,
        )
    period = check.optional(TOKEN_PERIOD)
    if period and (explicit is None or not 0 < explicit <= check.limit):
        check.report(
            f"{describe(check.args)}: {TOKEN_PERIOD} is set, and periodic tokens live forever "
            f"while renewed; drop it, or cap them with {TOKEN_EXPLICIT_MAX_TTL} of at most "
            f"{show_seconds(check.limit)}.",
            None,
        )


def _check_token_resource(check: _Checker) -> None:
    """``vault.Token``: a TTL, and renewals capped by an explicit max TTL."""
    check.require("ttl")
    explicit = check.optional("explicitMaxTtl")
    check.optional("wrappingTtl")
    capped = explicit is not None and 0 < explicit <= check.limit
    renewable = get_path(check.args.props, ("renewable",))
    if renewable is not False and not capped:
        check.report(
            f"{describe(check.args)}: the token is renewable and explicitMaxTtl is not set, so it "
            f"can be renewed up to the mount's maximum (768 h unless tuned); set explicitMaxTtl "
            f"to at most {show_seconds(check.limit)} or renewable = false.",
            None,
        )
    period = check.optional("period")
    if period and not capped:
        check.report(
            f"{describe(check.args)}: period is set, and periodic tokens live forever while "
            f"renewed; drop it, or set explicitMaxTtl to at most {show_seconds(check.limit)}.",
            None,
        )


def validate_token_ttl(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == TOKEN:
        _check_token_resource(_Checker(args, report))
    elif _token_issuer(args):
        _check_token_fields(_Checker(args, report))


def validate_secret_id_ttl(args: ResourceValidationArgs, report: ReportViolation) -> None:
    check = _Checker(args, report)
    if args.resource_type == APPROLE_ROLE:
        if get_path(args.props, ("bindSecretId",)) is False:
            return  # no secret ID is ever issued
        check.require("secretIdTtl", why="secret IDs never expire")
    elif args.resource_type == APPROLE_SECRET_ID:
        # Unset means the role's secret_id_ttl, which the rule above bounds.
        check.optional("ttl")
        check.optional("wrappingTtl")


def validate_credential_ttl(args: ResourceValidationArgs, report: ReportViolation) -> None:
    kind = args.resource_type
    if not kind.startswith("vault:") or kind in (TOKEN, APPROLE_ROLE, APPROLE_SECRET_ID):
        return
    if _token_issuer(args):
        return  # vault-token-ttl covers it
    if kind in config_texts(args, "excludeTypes", DEFAULT_EXCLUDED_TYPES):
        return
    check = _Checker(args, report)
    checked: set[str] = set()
    required = CREDENTIAL_ROLES.get(kind)
    if required is not None:
        credential_type = get_path(args.props, ("credentialType",))
        if kind != AWS_ROLE or credential_type in AWS_TTL_CREDENTIAL_TYPES:
            for field in required:
                if field is not None:
                    why = UNSET_MEANS.get(kind, "the mount's default lease TTL applies")
                    check.require(field, why=why)
                    checked.add(field)
    for field in GENERIC_TTL_FIELDS:
        if field not in checked and field in args.props:
            check.optional(field)


def validate_mount_lease(args: ResourceValidationArgs, report: ReportViolation) -> None:
    kind = args.resource_type
    if kind == MOUNT:
        engine = get_path(args.props, ("type",))
        if engine not in config_texts(args, "credentialEngines", CREDENTIAL_ENGINES):
            return
    elif kind not in CREDENTIAL_BACKENDS:
        return
    if draft_stack(args) is None:
        return  # platform mounts (a PKI root's, say) may need long leases
    check = _Checker(args, report)
    for field in LEASE_FIELDS:
        check.require(field, why=SYSTEM_DEFAULT)


def _policy(
    name: str,
    description: str,
    validate: Callable[[ResourceValidationArgs, ReportViolation], None],
    extra: dict[str, dict[str, Any]] | None = None,
) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        config_schema=PolicyConfigSchema(
            properties={"maxTtlSeconds": _max_schema(), **(extra or {})}
        ),
    )


POLICIES = [
    _policy(
        "vault-token-ttl",
        "Vault tokens live at most an hour: auth roles and backends set token TTL and max TTL "
        "within the limit, tokens set a TTL and cap renewals.",
        validate_token_ttl,
    ),
    _policy(
        "vault-secret-id-ttl",
        "AppRole secret IDs expire within the limit (secret_id_ttl = 0 never expires).",
        validate_secret_id_ttl,
    ),
    _policy(
        "vault-credential-ttl",
        "Credentials minted by Vault secret engines live at most an hour; every other "
        "pulumi-vault TTL is within the limit.",
        validate_credential_ttl,
        extra={
            "excludeTypes": texts_schema(
                DEFAULT_EXCLUDED_TYPES, "vault:* types whose TTLs are not credential lifetimes"
            )
        },
    ),
    _policy(
        "vault-mount-lease",
        "In drafts, Vault secret engines that mint credentials (database, PKI, cloud...) set "
        "their mount's default and max lease TTL within the limit.",
        validate_mount_lease,
        extra={
            "draftNamespacePrefix": prefix_schema(),
            "credentialEngines": texts_schema(
                CREDENTIAL_ENGINES, "vault.Mount types whose leases are credentials"
            ),
        },
    ),
]
