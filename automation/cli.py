"""envctl: the command line. Verbs live here; the work lives in the modules they call.

Exit codes, for every command: 0 success; 1 a mandatory policy violation or a failed
operation; 2 bad input or configuration (nothing was created).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from typer import _click as click  # typer 0.29 vendors click
from typer.core import TyperGroup

from automation import PROJECT_ROOT
from components.naming import NamingError, names_for

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2

SUB_APPS = {
    "draft": ("automation.lifecycle.cli", "draft_app"),
    "staging": ("automation.lifecycle.cli", "staging_app"),
    "vault": ("automation.lifecycle.vault_cli", "vault_app"),
}
"""Command groups by name: (module, Typer attribute), imported only when used."""


class LazyGroups(TyperGroup):
    """envctl's commands, with the lifecycle groups imported on first use: ``envctl plan``
    never loads the Automation API, hvac or httpx (help lists every group as before)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in SUB_APPS if n not in self.commands)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:  # an unknown name loads all: "did you mean"
            for name in [cmd_name] if cmd_name in SUB_APPS else SUB_APPS:
                self.commands.setdefault(name, _sub_group(name))
        return super().get_command(ctx, cmd_name)


def _sub_group(name: str) -> click.Command:
    """The command group ``name`` of SUB_APPS, built as ``add_typer`` would build it."""
    module, attribute = SUB_APPS[name]
    holder = typer.Typer(add_completion=False)
    holder.add_typer(getattr(importlib.import_module(module), attribute), name=name)
    built = typer.main.get_command(holder)
    assert isinstance(built, TyperGroup)
    return built.commands[name]


app = typer.Typer(
    name="envctl",
    help="Draft and staging environments from code: offline plans and the CI lifecycle.",
    cls=LazyGroups,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

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

    global _exit_at_once
    _exit_at_once = True
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


_exit_at_once = False
"""Set by ``plan``: its process holds the whole Pulumi SDK and nothing to clean up."""


def main() -> None:
    """Console-script entry point.

    After ``plan``, the interpreter's teardown of the SDK's thousands of classes takes about
    half a second (a third of an offline plan) and does nothing a plan needs: the process
    ends with its streams flushed instead.
    """
    try:
        app()
    except SystemExit as done:
        if not _exit_at_once:
            raise
        code = done.code if isinstance(done.code, int) else 0 if done.code is None else 1
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (BrokenPipeError, ValueError):  # a reader that went away, a closed stream
                code = code or 1
        os._exit(code)
