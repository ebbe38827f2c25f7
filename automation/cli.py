"""envctl: the command line. Verbs live here; the work lives in the modules they call.

Exit codes, for every command: 0 success; 1 a mandatory policy violation or a failed
operation; 2 bad input or configuration (nothing was created).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from automation import PROJECT_ROOT
from automation.lifecycle.cli import draft_app, staging_app
from automation.lifecycle.vault_cli import vault_app
from components.naming import NamingError, names_for

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2

app = typer.Typer(
    name="envctl",
    help="Draft and staging environments from code: offline plans and the CI lifecycle.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(draft_app, name="draft")
app.add_typer(staging_app, name="staging")
app.add_typer(vault_app, name="vault")

# Logs and pipes get whole lines (rich would cut the plan's tree at 80 columns).
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print ``message`` as one error line on stderr and return the Exit to raise."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


@app.command()
def name(
    branch: Annotated[str, typer.Argument(help="git branch, e.g. feature/login")],
    sha: Annotated[str | None, typer.Option(help="commit id for the image tag")] = None,
    team: Annotated[
        str | None, typer.Option(help="owning team [default: draft:team of Pulumi.draft.yaml]")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON object")] = False,
    cwd: Annotated[
        Path | None,
        typer.Option(help="project whose Pulumi.draft.yaml sets the prefixes [default: envctl's]"),
    ] = None,
) -> None:
    """Print the names a branch's draft gets (stack, namespace, Helm release, image tag).

    Only branches under the template's ``draft:branchPrefixes`` (Pulumi.draft.yaml) get one;
    the namespace carries the owner: ``--team`` (or ``draft:team``) and ``draft:service``.
    """
    from automation.lifecycle.drafts import load_template, template_prefixes
    from automation.lifecycle.errors import BadInput

    try:
        template = load_template(cwd or PROJECT_ROOT)
        owner, service = team or template.get("draft:team"), template.get("draft:service")
        if not (isinstance(owner, str) and isinstance(service, str)):
            owner = service = None  # no namespace without both
        names = names_for(branch, sha, template_prefixes(template), team=owner, service=service)
    except (NamingError, BadInput) as exc:
        raise fail(str(exc)) from None
    if as_json:
        out.print_json(json.dumps(names.as_dict()))
        return
    for key, value in names.as_dict().items():
        if value is not None:
            out.print(f"{key:<13}{value}", highlight=False, markup=False)


@app.command()
def plan(
    stack: Annotated[str, typer.Argument(help="stack name, e.g. draft-feature-x or staging")],
    cwd: Annotated[
        Path | None,
        typer.Option(help="directory of the Pulumi program [default: envctl's repository]"),
    ] = None,
    policy_pack: Annotated[
        Path | None,
        typer.Option(help="policy pack to evaluate [default: policy/ of envctl's repository]"),
    ] = None,
    policy_pack_config: Annotated[
        Path | None,
        typer.Option(help="JSON file of policy config, as 'pulumi up --policy-pack-config'"),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="override config in memory, like 'pulumi config set --path'"),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="print the plan document as JSON")
    ] = False,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="also write Kubernetes objects as YAML manifests")
    ] = None,
) -> None:
    """Run the program offline under Pulumi's mock runtime and show what it would create."""
    from automation.plan.command import run_plan_command

    code = run_plan_command(
        stack=stack,
        cwd=cwd,
        policy_pack=policy_pack,
        policy_pack_config=policy_pack_config,
        overrides=set_ or [],
        as_json=as_json,
        out_dir=out_dir,
        out=out,
        err=err,
    )
    raise typer.Exit(code)


def main() -> None:
    """Console-script entry point."""
    app()
