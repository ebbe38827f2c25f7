"""Short-lived Vault credentials: log in as the CI job, read secrets, lend the token, revoke.

Login uses the job's own identity: a JWT (GitLab ``id_tokens`` as ``VAULT_ID_TOKEN``, the
older ``CI_JOB_JWT_V2``, or a GitHub Actions OIDC token fetched on the spot), with AppRole
(``VAULT_ROLE_ID`` + ``VAULT_SECRET_ID``) as the fallback. A static ``VAULT_TOKEN`` is never
used. The token Vault hands out is checked with ``lookup_self`` before it reads anything:
its TTL must be at most one hour, and it must not outlive that by renewal (no period; a
renewable token needs an explicit max TTL of at most one hour). Anything else is refused
and the token revoked at once. The pipeline's role (``ci.<team>.<service>``, provisioned
by an admin: ``vault_provision``) reads ``<kv>/<team>/<service>`` and can write nothing.
The same token is lent to the Pulumi operation that follows (``VAULT_TOKEN`` and
``VAULT_ADDR`` in the Pulumi process's environment, never on a command line or in
config): the draft program no longer uses it, only stacks deployed while it managed
per-draft Vault roles still hold a Vault provider. It is renewed while the operation runs
(never past its max TTL of at most an hour) and revoked when the operation ends,
whatever the outcome.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import hvac
import requests
from hvac import exceptions as hvac_errors

from automation.lifecycle.errors import BadInput, OperationFailed
from automation.lifecycle.redact import Redactor

MAX_TOKEN_TTL_SECONDS = 3600
DEFAULT_JWT_MOUNT = "jwt"
DEFAULT_APPROLE_MOUNT = "approle"
DEFAULT_AUDIENCE = "vault"
_SEGMENT = re.compile(r"[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?")
_MOUNT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_/-]{0,99}")


@dataclass(frozen=True)
class VaultLogin:
    """How to log in: where, with which method, mount and credentials (never printed)."""

    address: str
    method: Literal["jwt", "approle"]
    mount: str
    role: str = ""
    jwt: str = field(default="", repr=False)
    role_id: str = field(default="", repr=False)
    secret_id: str = field(default="", repr=False)
    source: str = ""
    namespace: str | None = None
    verify: bool | str = True

    def secrets(self) -> tuple[str, ...]:
        return tuple(v for v in (self.jwt, self.role_id, self.secret_id) if v)


@dataclass(frozen=True)
class TokenInfo:
    """What ``lookup_self`` says about the token we were given."""

    ttl: int
    creation_ttl: int
    explicit_max_ttl: int
    period: int
    renewable: bool
    token_type: str
    accessor: str

    @classmethod
    def from_lookup(cls, data: Mapping[str, Any]) -> TokenInfo:
        return cls(
            ttl=int(data.get("ttl") or 0),
            creation_ttl=int(data.get("creation_ttl") or 0),
            explicit_max_ttl=int(data.get("explicit_max_ttl") or 0),
            period=int(data.get("period") or 0),
            renewable=bool(data.get("renewable")),
            token_type=str(data.get("type") or "service"),
            accessor=str(data.get("accessor") or ""),
        )


def token_problem(info: TokenInfo, max_ttl: int) -> str | None:
    """Why a token may live longer than ``max_ttl`` seconds, or None when it may not."""
    if info.period:
        return f"it is periodic (period {info.period}s) and so can be renewed forever"
    if info.ttl <= 0 and info.token_type != "batch":
        return "it never expires (TTL 0)"
    longest = max(info.ttl, info.creation_ttl)
    if longest > max_ttl:
        return f"its TTL is {longest}s, above the limit of {max_ttl}s"
    if info.renewable and not 0 < info.explicit_max_ttl <= max_ttl:
        cap = f"{info.explicit_max_ttl}s" if info.explicit_max_ttl else "none"
        return f"it is renewable without a hard cap of at most {max_ttl}s (explicit max TTL: {cap})"
    return None


def github_oidc_token(env: Mapping[str, str], audience: str, client: httpx.Client) -> str:
    """A GitHub Actions OIDC JWT (needs ``permissions: id-token: write`` in the workflow)."""
    url = env["ACTIONS_ID_TOKEN_REQUEST_URL"]
    try:
        response = client.get(
            url,
            params={"audience": audience},
            headers={"Authorization": f"bearer {env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']}"},
        )
        response.raise_for_status()
        value = response.json().get("value")
    except (httpx.HTTPError, ValueError) as exc:
        raise OperationFailed(f"GitHub OIDC token request failed ({type(exc).__name__})") from None
    if not isinstance(value, str) or not value:
        raise OperationFailed("GitHub OIDC token request returned no token")
    return value


def login_from_env(env: Mapping[str, str], http: httpx.Client | None = None) -> VaultLogin | None:
    """The Vault login the environment describes; None when ``VAULT_ADDR`` is unset."""
    address = (env.get("VAULT_ADDR") or env.get("VAULT_SERVER_URL") or "").strip()
    if not address:
        return None
    if not re.fullmatch(r"https?://[^/\s]+/?", address):
        raise BadInput("VAULT_ADDR: expected a URL like https://vault.example.com:8200")
    common: dict[str, Any] = {
        "address": address.rstrip("/"),
        "namespace": env.get("VAULT_NAMESPACE") or None,
        "verify": env.get("VAULT_CACERT") or True,
    }
    role = (env.get("VAULT_ROLE") or env.get("VAULT_AUTH_ROLE") or "").strip()
    jwt_mount = _mount(env, "VAULT_AUTH_PATH", DEFAULT_JWT_MOUNT)
    for name in ("VAULT_ID_TOKEN", "CI_JOB_JWT_V2"):
        if env.get(name):
            return _jwt_login(common, jwt_mount, role, env[name], name)
    if env.get("ACTIONS_ID_TOKEN_REQUEST_URL") and env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"):
        if not role:
            raise BadInput("VAULT_ROLE: required to log in with the GitHub OIDC token")
        audience = env.get("VAULT_JWT_AUDIENCE") or DEFAULT_AUDIENCE
        with http or httpx.Client(timeout=30) as client:
            token = github_oidc_token(env, audience, client)
        return _jwt_login(common, jwt_mount, role, token, "GitHub OIDC")
    role_id, secret_id = env.get("VAULT_ROLE_ID", ""), env.get("VAULT_SECRET_ID", "")
    if role_id and secret_id:
        mount = _mount(env, "VAULT_APPROLE_PATH", DEFAULT_APPROLE_MOUNT)
        return VaultLogin(
            method="approle",
            mount=mount,
            role_id=role_id,
            secret_id=secret_id,
            source="AppRole",
            **common,
        )
    raise BadInput(
        "VAULT_ADDR is set but no CI identity to log in with: provide a JWT as VAULT_ID_TOKEN "
        "(GitLab id_tokens) with VAULT_ROLE, run in GitHub Actions with 'id-token: write', "
        "or set VAULT_ROLE_ID and VAULT_SECRET_ID (AppRole)"
    )


def _jwt_login(common: dict[str, Any], mount: str, role: str, jwt: str, source: str) -> VaultLogin:
    if not role:
        raise BadInput(f"VAULT_ROLE: required to log in with the JWT from {source}")
    return VaultLogin(method="jwt", mount=mount, role=role, jwt=jwt, source=source, **common)


def _mount(env: Mapping[str, str], name: str, default: str) -> str:
    value = (env.get(name) or default).strip().strip("/")
    if not _MOUNT.fullmatch(value):
        raise BadInput(f"{name}: expected an auth mount path such as '{default}'")
    return value


def _vault_reason(exc: Exception) -> str:
    """Vault's own error strings (they never contain the request's secrets)."""
    errors = getattr(exc, "errors", None)
    if isinstance(errors, list) and errors:
        return "; ".join(str(e) for e in errors)
    return type(exc).__name__


class VaultSession:
    """A logged-in token whose lifetime was checked: reads secrets, is lent to Pulumi, revoked.

    Use it through ``vault_session``, which revokes the token however the block ends.
    """

    def __init__(self, client: hvac.Client, login: VaultLogin, info: TokenInfo) -> None:
        self._client = client
        self.login = login
        self.info = info
        self.revoked = False

    def read(self, kv_mount: str, team: str, service: str, redact: Redactor) -> dict[str, str]:
        """The key/value pairs at ``<kv_mount>/<team>/<service>`` ({} when there are none)."""
        path = secret_path(kv_mount, team, service)
        return _read(self._client, kv_mount, f"{team}/{service}", path, redact)

    def pulumi_env(self) -> dict[str, str]:
        """What a ``vault.Provider`` reads from its environment (never printed)."""
        env = {"VAULT_ADDR": self.login.address, "VAULT_TOKEN": str(self._client.token)}
        if self.login.namespace:
            env["VAULT_NAMESPACE"] = self.login.namespace
        if isinstance(self.login.verify, str):
            env["VAULT_CACERT"] = self.login.verify
        return env

    @contextmanager
    def kept_alive(self) -> Iterator[None]:
        """Renew the token in the background while the block runs (never past its max TTL)."""
        if not self.info.renewable or self.info.token_type == "batch":
            yield
            return
        stop = threading.Event()
        renewer = threading.Thread(target=self._renew_until, args=(stop,), daemon=True)
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join()

    def _renew_until(self, stop: threading.Event) -> None:
        ttl = self.info.ttl
        while ttl > 0 and not stop.wait(max(1.0, ttl / 2)):
            try:
                ttl = int(self._client.auth.token.renew_self()["auth"]["lease_duration"])
            except (requests.RequestException, hvac_errors.VaultError, KeyError, TypeError):
                return  # it still lives out its current TTL

    def revoke(self) -> bool:
        """Revoke the token; False when Vault would not (a batch token expires on its own)."""
        if self._client.token is not None:
            self.revoked = _revoke(self._client)
        return self.revoked


@contextmanager
def vault_session(
    login: VaultLogin, redact: Redactor, max_ttl: int = MAX_TOKEN_TTL_SECONDS
) -> Iterator[VaultSession]:
    """Log in and check the token's lifetime; the token is revoked when the block ends."""
    if not 60 <= max_ttl <= MAX_TOKEN_TTL_SECONDS:
        raise BadInput(f"draft:vault.tokenTtlSeconds: expected 60 to {MAX_TOKEN_TTL_SECONDS}")
    redact.add(*login.secrets())
    client = hvac.Client(
        url=login.address, namespace=login.namespace, verify=login.verify, timeout=30
    )
    try:
        _log_in(client, login)
    except (requests.RequestException, hvac_errors.VaultDown) as exc:
        raise OperationFailed(
            f"Vault at {login.address} is unreachable ({type(exc).__name__})"
        ) from None
    except hvac_errors.VaultError as exc:
        raise BadInput(
            f"Vault refused the {login.source} login at auth/{login.mount} "
            f"({redact(_vault_reason(exc))}); check the role and its bound claims"
        ) from None
    redact.add(str(client.token))
    session: VaultSession | None = None
    try:
        info = TokenInfo.from_lookup(client.auth.token.lookup_self()["data"])
        problem = token_problem(info, max_ttl)
        if problem:
            raise BadInput(
                f"Vault token refused: {problem}. Configure the role with token_ttl and "
                f"token_explicit_max_ttl of at most {max_ttl}s and no token_period"
            )
        session = VaultSession(client, login, info)
        yield session
    finally:
        if session is not None:
            session.revoke()
        else:
            _revoke(client)


def secret_path(kv_mount: str, team: str, service: str) -> str:
    """``<kv_mount>/<team>/<service>``, refusing a team or service that would leave it."""
    for name, value in (("team", team), ("service", service)):
        if not _SEGMENT.fullmatch(value):
            raise BadInput(f"{name}: {value!r} must be lowercase letters, digits and inner dashes")
    return f"{kv_mount}/{team}/{service}"


def _log_in(client: hvac.Client, login: VaultLogin) -> None:
    if login.method == "jwt":
        client.auth.jwt.jwt_login(role=login.role, jwt=login.jwt, path=login.mount)
    else:
        client.auth.approle.login(
            role_id=login.role_id, secret_id=login.secret_id, mount_point=login.mount
        )


def _read(client: hvac.Client, mount: str, key: str, path: str, redact: Redactor) -> dict[str, str]:
    try:
        response = client.secrets.kv.v2.read_secret_version(
            path=key, mount_point=mount, raise_on_deleted_version=True
        )
    except hvac_errors.InvalidPath:
        return {}
    except hvac_errors.Forbidden:
        raise BadInput(
            f"Vault denied reading {path}: the role's policy must allow "
            f"'read' on {mount}/data/{key}"
        ) from None
    except (requests.RequestException, hvac_errors.VaultError) as exc:
        raise OperationFailed(f"reading {path} from Vault failed ({_vault_reason(exc)})") from None
    data = response["data"]["data"] or {}
    values = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
    redact.add(*values.values())
    return values


def _revoke(client: hvac.Client) -> bool:
    """Revoke the token; False when Vault would not (a batch token expires on its own)."""
    try:
        client.auth.token.revoke_self()
    except (requests.RequestException, hvac_errors.VaultError):
        return False
    finally:
        client.token = None
    return True
