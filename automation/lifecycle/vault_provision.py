"""What an admin writes to Vault, once per team/service, so drafts and their CI can read secrets.

The trust boundary: pipelines and drafts only *read*; nothing they run can write a policy or
a role. Per team/service an admin provisions (``envctl vault provision``, or the same writes
as ``vault``/``bao`` commands from ``render_commands``):

* policy ``draft.<team>.<service>`` and Kubernetes auth role ``draft.<team>.<service>``: read
  on ``<kv>/data/<team>/<service>`` (and any ``--also-read`` path: a service of the same
  team, or ``<team>/<service>``, e.g. a shared registry pull path), for
  the service account ``<service>`` in the namespaces ``draft-*-<owner>`` (the team/service's
  drafts, ``components.naming``), for tokens of audience ``vault`` only;
* policy ``ci.<team>.<service>`` and JWT (or AppRole) role ``ci.<team>.<service>``: the same
  reads, for the pipeline's identity token with the given bound claims.

Every token either role hands out lives at most an hour and cannot be renewed past it
(``token_ttl``, ``token_max_ttl`` and ``token_explicit_max_ttl`` all at most 3600 s, no
``token_period``). Writes are data: applied with hvac, or rendered as shell commands.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import hvac
import requests
from hvac import exceptions as hvac_errors

from automation.lifecycle.errors import BadInput, OperationFailed
from components.naming import NamingError, check_segment, vault_names

MAX_TOKEN_TTL = 3600
POLICY_PATH = "sys/policies/acl/"
_MOUNT_HELP = "a mount path such as 'kubernetes'"


@dataclass(frozen=True)
class ProvisionRequest:
    """One team/service's Vault access, as the admin asked for it."""

    team: str
    service: str
    ci_bound_claims: Mapping[str, str] = field(default_factory=dict)
    ci_auth: Literal["jwt", "approle"] = "jwt"
    also_read: tuple[str, ...] = ()
    service_account: str | None = None
    kv_mount: str = "draft"
    kubernetes_mount: str = "kubernetes"
    ci_mount: str | None = None
    audience: str = "vault"
    ci_audience: str = "vault"
    token_ttl: int = MAX_TOKEN_TTL


@dataclass(frozen=True)
class VaultWrite:
    """One write to Vault: a path and its JSON body."""

    path: str
    data: dict[str, Any]


def _mount(name: str, value: str) -> str:
    parts = value.strip("/").split("/")
    try:
        for part in parts:
            check_segment(name, part)
    except NamingError:
        raise BadInput(f"{name}: {value!r} must be {_MOUNT_HELP}") from None
    return "/".join(parts)


def checked(request: ProvisionRequest) -> ProvisionRequest:
    """The request with every name and lifetime checked; BadInput names the option."""
    try:
        for path in request.also_read:
            for part in path.split("/", 1):
                check_segment("--also-read", part)
        names = vault_names(request.team, request.service)
        check_segment("--service-account", request.service_account or request.service)
    except NamingError as exc:
        raise BadInput(f"--{exc}" if not str(exc).startswith("--") else str(exc)) from None
    if not 60 <= request.token_ttl <= MAX_TOKEN_TTL:
        raise BadInput(f"--token-ttl: expected 60 to {MAX_TOKEN_TTL} seconds (one hour at most)")
    if request.ci_auth == "jwt" and not request.ci_bound_claims:
        raise BadInput(
            '--ci-bound-claims: required for JWT auth, e.g. \'{"project_path": "group/app"}\' '
            "(without it every token the issuer signs could log in as "
            f"{names.ci_role})"
        )
    for key, value in request.ci_bound_claims.items():
        if not isinstance(value, str) or not value or "*" in value:
            raise BadInput(f"--ci-bound-claims: {key} must be an exact string, no '*'")
    for name, value in (("--audience", request.audience), ("--ci-audience", request.ci_audience)):
        if not value or any(c.isspace() or c == "," for c in value):
            raise BadInput(f"{name}: expected one audience such as 'vault'")
    default_ci_mount = "jwt" if request.ci_auth == "jwt" else "approle"
    return ProvisionRequest(
        team=request.team,
        service=request.service,
        ci_bound_claims=dict(request.ci_bound_claims),
        ci_auth=request.ci_auth,
        also_read=tuple(
            dict.fromkeys(
                p if "/" in p else f"{request.team}/{p}"
                for p in request.also_read
                if p not in (request.service, f"{request.team}/{request.service}")
            )
        ),
        service_account=request.service_account or request.service,
        kv_mount=_mount("--kv-mount", request.kv_mount),
        kubernetes_mount=_mount("--kubernetes-mount", request.kubernetes_mount),
        ci_mount=_mount("--ci-mount", request.ci_mount or default_ci_mount),
        audience=request.audience,
        ci_audience=request.ci_audience,
        token_ttl=request.token_ttl,
    )


def read_policy(request: ProvisionRequest, role: str) -> str:
    """HCL granting ``read`` on the service's own path (and ``also_read``), nothing else."""
    paths = (f"{request.team}/{request.service}", *request.also_read)
    blocks = "".join(
        f'path "{request.kv_mount}/data/{path}" {{\n  capabilities = ["read"]\n}}\n'
        for path in paths
    )
    return f"# {role}: read these draft secrets, nothing else\n{blocks}"


def _lifetime(ttl: int) -> dict[str, Any]:
    """At most an hour, and no renewal past it: the only hard cap is the explicit max."""
    return {
        "token_ttl": ttl,
        "token_max_ttl": ttl,
        "token_explicit_max_ttl": ttl,
        "token_period": 0,
        "token_num_uses": 0,
    }


def provision_writes(request: ProvisionRequest) -> list[VaultWrite]:
    """The writes that give one team/service its draft and CI access (request: ``checked``)."""
    names = vault_names(request.team, request.service)
    lifetime = _lifetime(request.token_ttl)
    writes = [
        VaultWrite(
            f"{POLICY_PATH}{names.draft_role}",
            {"policy": read_policy(request, names.draft_role)},
        ),
        VaultWrite(
            f"auth/{request.kubernetes_mount}/role/{names.draft_role}",
            {
                "bound_service_account_names": [request.service_account],
                "bound_service_account_namespaces": [names.namespaces],
                "audience": request.audience,
                "token_policies": [names.draft_role],
                "token_type": "service",
                **lifetime,
            },
        ),
        VaultWrite(
            f"{POLICY_PATH}{names.ci_role}", {"policy": read_policy(request, names.ci_role)}
        ),
    ]
    ci_role = f"auth/{request.ci_mount}/role/{names.ci_role}"
    if request.ci_auth == "jwt":
        writes.append(
            VaultWrite(
                ci_role,
                {
                    "role_type": "jwt",
                    "user_claim": "sub",
                    "bound_audiences": [request.ci_audience],
                    "bound_claims": dict(request.ci_bound_claims),
                    "token_policies": [names.ci_role],
                    "token_type": "service",
                    **lifetime,
                },
            )
        )
    else:
        writes.append(
            VaultWrite(
                ci_role,
                {
                    "token_policies": [names.ci_role],
                    "token_type": "service",
                    # A secret_id that never expires (ttl 0) would be a standing credential.
                    "secret_id_ttl": 24 * 3600,
                    "secret_id_num_uses": 0,
                    **lifetime,
                },
            )
        )
    return writes


def render_commands(writes: list[VaultWrite], cli: str = "vault") -> str:
    """The same writes as shell commands: ``policy write NAME -`` with the HCL, and
    ``write PATH -`` with the JSON body, each on standard input."""
    lines = [
        "# Run with an admin token: VAULT_ADDR (BAO_ADDR) and VAULT_TOKEN (BAO_TOKEN) set.",
        "set -eu",
    ]
    command = shlex.quote(cli)
    for write in writes:
        name = write.path.removeprefix(POLICY_PATH)
        if name != write.path:
            head, body = f"{command} policy write {shlex.quote(name)} -", write.data["policy"]
        else:
            head = f"{command} write {shlex.quote(write.path)} -"
            body = json.dumps(write.data, indent=2, sort_keys=True) + "\n"
        lines.append(f"{head} <<'EOF'\n{body}EOF")
    return "\n".join(lines) + "\n"


def apply_writes(client: hvac.Client, writes: list[VaultWrite]) -> None:
    """Write each in order (policies before the roles naming them); idempotent."""
    for write in writes:
        try:
            client.write_data(write.path, data=write.data)
        except hvac_errors.Forbidden:
            raise BadInput(
                f"Vault denied writing {write.path}: run this with an admin token "
                "(VAULT_TOKEN of a policy that may manage policies and auth roles)"
            ) from None
        except hvac_errors.InvalidRequest as exc:
            raise BadInput(f"Vault refused {write.path}: {exc}") from None
        except (requests.RequestException, hvac_errors.VaultError) as exc:
            raise OperationFailed(f"writing {write.path} failed ({type(exc).__name__})") from None
