"""``envctl vault provision``: the admin step that gives a team/service its Vault access."""

from __future__ import annotations

import json
import os
from typing import Annotated, Literal

import hvac
import requests
import typer
from hvac import exceptions as hvac_errors
from rich.console import Console
from rich.markup import escape

from automation.lifecycle.errors import BadInput, LifecycleError, OperationFailed
from automation.lifecycle.vault_provision import (
    MAX_TOKEN_TTL,
    ProvisionRequest,
    apply_writes,
    checked,
    provision_writes,
    render_commands,
)
from components.naming import vault_names

vault_app = typer.Typer(
    help="Admin steps in Vault/OpenBao (run with an admin token, never in a pipeline).",
    no_args_is_help=True,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _claims(text: str) -> dict[str, str]:
    try:
        claims = json.loads(text) if text else {}
    except json.JSONDecodeError:
        raise BadInput(
            '--ci-bound-claims: expected a JSON object, e.g. \'{"project_path": "group/app"}\''
        ) from None
    if not isinstance(claims, dict):
        raise BadInput("--ci-bound-claims: expected a JSON object of claim names to values")
    return claims


def _admin_client() -> hvac.Client:
    """A client with the admin's token from ``VAULT_TOKEN`` (or ``BAO_TOKEN``)."""
    address = os.environ.get("VAULT_ADDR") or os.environ.get("BAO_ADDR") or ""
    token = os.environ.get("VAULT_TOKEN") or os.environ.get("BAO_TOKEN") or ""
    if not address or not token:
        raise BadInput(
            "VAULT_ADDR and VAULT_TOKEN: both are required (the Vault URL and an admin token); "
            "or use --print-commands"
        )
    client = hvac.Client(
        url=address,
        token=token,
        namespace=os.environ.get("VAULT_NAMESPACE") or None,
        verify=os.environ.get("VAULT_CACERT") or True,
        timeout=30,
    )
    try:
        client.auth.token.lookup_self()
    except hvac_errors.Forbidden:
        raise BadInput("VAULT_TOKEN: Vault does not accept this token") from None
    except (requests.RequestException, hvac_errors.VaultError) as exc:
        raise OperationFailed(f"Vault at {address} is unreachable ({type(exc).__name__})") from None
    return client


@vault_app.command("provision")
def provision(
    team: Annotated[str, typer.Option(help="owning team, e.g. platform")],
    service: Annotated[str, typer.Option(help="service, e.g. tasks (draft:service)")],
    ci_bound_claims: Annotated[
        str,
        typer.Option(
            help="JSON claims the pipeline's JWT must carry, e.g. "
            '\'{"project_path": "group/app"}\' (GitLab) or \'{"repository": "org/app"}\''
        ),
    ] = "",
    ci_auth: Annotated[
        Literal["jwt", "approle"], typer.Option(help="how pipelines log in")
    ] = "jwt",
    also_read: Annotated[
        list[str] | None,
        typer.Option(
            help="another path the drafts read: a service of the team, or TEAM/SERVICE "
            "(e.g. a shared registry pull path; repeatable)"
        ),
    ] = None,
    service_account: Annotated[
        str | None, typer.Option(help="the drafts' service account [default: the service]")
    ] = None,
    kv_mount: Annotated[str, typer.Option(help="KV v2 mount (draft:vault.kvMount)")] = "draft",
    kubernetes_mount: Annotated[
        str, typer.Option(help="Kubernetes auth mount (draft:vault.authMount)")
    ] = "kubernetes",
    ci_mount: Annotated[
        str | None, typer.Option(help="the pipelines' auth mount [default: jwt or approle]")
    ] = None,
    audience: Annotated[
        str, typer.Option(help="audience of the drafts' tokens (draft:vault.audience)")
    ] = "vault",
    ci_audience: Annotated[
        str, typer.Option(help="audience of the pipelines' JWT (VAULT_JWT_AUDIENCE)")
    ] = "vault",
    token_ttl: Annotated[
        int, typer.Option(help=f"token lifetime in seconds, 60 to {MAX_TOKEN_TTL}")
    ] = MAX_TOKEN_TTL,
    print_commands: Annotated[
        bool, typer.Option("--print-commands", help="print the vault commands, write nothing")
    ] = False,
    cli: Annotated[
        Literal["vault", "bao"], typer.Option(help="CLI name in --print-commands")
    ] = "vault",
) -> None:
    """Create or update a team/service's draft and CI roles and read-only policies."""
    try:
        request = checked(
            ProvisionRequest(
                team=team,
                service=service,
                ci_bound_claims=_claims(ci_bound_claims),
                ci_auth=ci_auth,
                also_read=tuple(also_read or ()),
                service_account=service_account,
                kv_mount=kv_mount,
                kubernetes_mount=kubernetes_mount,
                ci_mount=ci_mount,
                audience=audience,
                ci_audience=ci_audience,
                token_ttl=token_ttl,
            )
        )
        writes = provision_writes(request)
        if print_commands:
            out.print(render_commands(writes, cli), markup=False, highlight=False, end="")
            return
        apply_writes(_admin_client(), writes)
    except LifecycleError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(exc.exit_code) from None
    names = vault_names(request.team, request.service)
    for write in writes:
        out.print(f"wrote {write.path}", markup=False, highlight=False)
    out.print(
        f"drafts: draft:vault.role {names.draft_role} (the default), service account "
        f"{request.service_account} in {names.namespaces}, audience {request.audience}; "
        f"pipelines: VAULT_ROLE={names.ci_role} on auth/{request.ci_mount}",
        markup=False,
        highlight=False,
    )
