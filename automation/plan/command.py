"""`envctl plan`: config -> offline run -> policy -> tree, JSON or manifests; an exit code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pulumi
from rich.console import Console

from automation.plan.render import plan_document, resource_tree, write_manifests
from automation.plan.runner import ProgramError, run_program
from automation.plan.stack_config import load_stack_config
from components.config import ConfigError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
DEFAULT_PACK = Path("policy")
STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")  # what Pulumi accepts as a stack name


def run_plan_command(
    *,
    stack: str,
    cwd: Path,
    policy_pack: Path | None,
    policy_pack_config: Path | None = None,
    overrides: list[str],
    as_json: bool,
    out_dir: Path | None,
    out: Console,
    err: Console,
) -> int:
    """Plan ``stack`` of the program in ``cwd``; print the result; return the exit code."""

    def error(message: str) -> None:
        err.print(f"[bold red]error:[/] {message}", highlight=False)

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
    try:
        config = load_stack_config(cwd.resolve(), stack, overrides)
        plan, warnings = run_program(cwd, stack, config)
    except ConfigError as exc:
        error(str(exc))
        return EXIT_BAD_INPUT
    except pulumi.RunError as exc:
        error(str(exc))
        return EXIT_FAILED
    except ProgramError as exc:
        error(f"the program failed: {exc}")
        return EXIT_FAILED
    for line in warnings:
        err.print(line, highlight=False, markup=False)

    findings = []
    if pack is not None:
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
        written = write_manifests(plan, out_dir)
        err.print(f"wrote {len(written)} Kubernetes manifests to {out_dir}", highlight=False)
    if as_json:
        out.print(
            json.dumps(plan_document(plan, findings), indent=2), markup=False, highlight=False
        )
    else:
        out.print(resource_tree(plan))
        document = plan_document(plan, [])
        for key, value in document["outputs"].items():
            out.print(f"  [bold]{key}[/]: {value}", highlight=False)
        for f in findings:
            colour = "red" if f.level == "mandatory" else "yellow"
            out.print(f"[{colour}]{f.level}[/] [bold]{f.policy}[/]: {f.message}", highlight=False)
    mandatory = [f for f in findings if f.level == "mandatory"]
    if mandatory:
        error(f"{len(mandatory)} mandatory policy violation(s)")
        return EXIT_FAILED
    return EXIT_OK
