"""`envctl plan`: config -> offline run -> policy -> tree, JSON or manifests; an exit code."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from automation import PROJECT_ROOT
from automation.plan.render import plan_document, resource_tree, write_manifests
from automation.plan.runner import ProgramError, is_config_error, run_program
from automation.plan.stack_config import load_stack_config

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
DEFAULT_PACK = PROJECT_ROOT / "policy"
STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")  # what Pulumi accepts as a stack name


def run_plan_command(
    *,
    stack: str,
    cwd: Path | None = None,
    policy_pack: Path | None,
    policy_pack_config: Path | None = None,
    overrides: list[str],
    as_json: bool,
    out_dir: Path | None,
    out: Console,
    err: Console,
) -> int:
    """Plan ``stack`` of the program in ``cwd`` (default: envctl's repository); return the exit code."""

    def error(message: str) -> None:
        err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)

    if not STACK_NAME.fullmatch(stack):
        error(
            f"STACK: {stack!r} is not a stack name (expected letters, digits, '-', '_' or '.', "
            "e.g. draft-feature-x or staging)"
        )
        return EXIT_BAD_INPUT
    if policy_pack is not None and not (policy_pack / "PulumiPolicy.yaml").is_file():
        error(
            f"--policy-pack: {policy_pack} holds no PulumiPolicy.yaml (expected a policy pack directory)"
        )
        return EXIT_BAD_INPUT
    pack = policy_pack or (DEFAULT_PACK if (DEFAULT_PACK / "PulumiPolicy.yaml").is_file() else None)
    if out_dir is not None and (problem := _unwritable(out_dir)):
        error(f"--out: {out_dir} {problem} (expected a directory envctl may write manifests into)")
        return EXIT_BAD_INPUT
    program_dir = (cwd or PROJECT_ROOT).resolve()
    try:
        config = load_stack_config(program_dir, stack, overrides)
        plan, warnings = run_program(program_dir, stack, config)
    except ProgramError as exc:
        error(f"the program failed: {exc}")
        return EXIT_FAILED
    except Exception as exc:
        if not is_config_error(exc):
            raise
        error(config_error_message(exc))
        return EXIT_BAD_INPUT
    from automation.plan.charts import ChartError, render_releases

    try:
        warnings += render_releases(plan, program_dir)
    except ChartError as exc:
        error(f"{exc} (expected values the chart's values.schema.json accepts)")
        return EXIT_BAD_INPUT
    for line in warnings:
        err.print(line, highlight=False, markup=False)

    findings = []
    if pack is None:
        err.print(
            f"warning: no policy pack evaluated ({DEFAULT_PACK} holds no PulumiPolicy.yaml; "
            "pass --policy-pack DIR)",
            highlight=False,
            markup=False,
        )
    else:
        from automation.plan.policy import (
            PolicyConfigError,
            PolicyPackError,
            evaluate_pack,
            load_pack_config,
        )

        try:
            pack_config = load_pack_config(policy_pack_config) if policy_pack_config else None
            findings = evaluate_pack(pack.resolve(), plan, pack_config)
        except PolicyConfigError as exc:
            error(str(exc))
            return EXIT_BAD_INPUT
        except PolicyPackError as exc:
            error(str(exc))
            return EXIT_FAILED

    if out_dir is not None:
        try:
            written = write_manifests(plan, out_dir)
        except OSError as exc:
            error(f"--out: cannot write manifests into {out_dir} ({exc.strerror or exc})")
            return EXIT_BAD_INPUT
        err.print(
            f"wrote {len(written)} Kubernetes manifests to {out_dir}", highlight=False, markup=False
        )
    if as_json:
        out.print(
            json.dumps(plan_document(plan, findings), indent=2), markup=False, highlight=False
        )
    else:
        out.print(resource_tree(plan))
        document = plan_document(plan, [])
        for key, value in document["outputs"].items():
            out.print(f"  [bold]{escape(key)}[/]: {escape(str(value))}", highlight=False)
        for f in findings:
            colour = "red" if f.level == "mandatory" else "yellow"
            out.print(
                f"[{colour}]{f.level}[/] [bold]{escape(f.policy)}[/]: {escape(f.message)}",
                highlight=False,
            )
    mandatory = [f for f in findings if f.level == "mandatory"]
    if mandatory:
        error(f"{len(mandatory)} mandatory policy violation(s)")
        return EXIT_FAILED
    return EXIT_OK


def _unwritable(out_dir: Path) -> str | None:
    """Why manifests cannot be written into ``out_dir`` (None when they can); creates nothing."""
    existing = out_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        return "is a file" if existing == out_dir else f"cannot be created: {existing} is a file"
    if not os.access(existing, os.W_OK | os.X_OK):
        return "is not writable" if existing == out_dir else f"cannot be created in {existing}"
    return None


def config_error_message(exc: BaseException) -> str:
    """The message of a config error; Pulumi's own name the key and never show the value."""
    key = getattr(exc, "key", None)
    kind = type(exc).__name__
    if kind == "ConfigTypeError" and key:
        return f"{key} is invalid (expected: a value of type {getattr(exc, 'expect_type', '?')})"
    if kind == "ConfigMissingError" and key:
        flag = " --secret" if getattr(exc, "secret", False) else ""
        return (
            f"{key} is required but not set "
            f"(expected: pulumi config set{flag} {key} VALUE, or --set {key}=VALUE)"
        )
    return str(exc)
