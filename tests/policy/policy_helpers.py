"""Helpers for the policy pack tests: run `envctl plan` as a user does, read its findings."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from automation.plan.model import Plan, PlannedResource
from automation.plan.policy import PolicyFinding, evaluate_pack

REPO = Path(__file__).resolve().parents[2]
PACK = REPO / "policy"
PROGRAMS = Path(__file__).resolve().parent / "programs"
PACKS = Path(__file__).resolve().parent / "packs"
ENVCTL = Path(sys.executable).parent / "envctl"
STACK = "draft-x"  # the stack of hand-built plans: a draft stack unless a test says otherwise


@dataclass(frozen=True)
class PlanRun:
    """One `envctl plan --json` run: exit code, the plan document, stderr."""

    code: int
    document: dict[str, Any]
    stderr: str

    @property
    def violations(self) -> list[dict[str, Any]]:
        return list(self.document["policy"]["violations"])

    def findings(self, policy: str | None = None, level: str | None = None) -> list[dict[str, Any]]:
        return [
            v
            for v in self.violations
            if (policy is None or v["policy"] == policy) and (level is None or v["level"] == level)
        ]

    def urn_of(self, name: str) -> str:
        """The URN of the program's resource called ``name``."""
        urns = [r["urn"] for r in self.document["resources"] if r["name"] == name]
        assert len(urns) == 1, f"expected one resource named {name!r}, found {urns}"
        return str(urns[0])

    def on(self, name: str, policy: str) -> list[str]:
        """Messages of ``policy`` about the resource called ``name``."""
        urn = self.urn_of(name)
        return [v["message"] for v in self.findings(policy) if v["urn"] == urn]


def envctl_plan(stack: str, program: Path | None = None, pack: Path | None = PACK) -> PlanRun:
    """`envctl plan STACK --json [--cwd PROGRAM] [--policy-pack PACK]`, from the repository."""
    command = [str(ENVCTL), "plan", stack, "--json"]
    if program is not None:
        command += ["--cwd", str(program)]
    if pack is not None:
        command += ["--policy-pack", str(pack)]
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode in (0, 1), f"envctl plan crashed ({done.returncode}):\n{done.stderr}"
    try:
        document = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"envctl plan printed no plan document:\n{done.stdout}\n{done.stderr}")
    return PlanRun(done.returncode, document, done.stderr)


# --- hand-built plans, evaluated through the pack's own servicer -----------------------------


def resource(
    type_: str,
    name: str,
    inputs: dict[str, Any],
    stack: str = STACK,
    project: str = "rules",
    **options: Any,
) -> PlannedResource:
    return PlannedResource(
        urn=f"urn:pulumi:{stack}::{project}::{type_}::{name}",
        type=type_,
        name=name,
        custom=True,
        parent=None,
        depends_on=(),
        property_dependencies={},
        inputs=inputs,
        **options,
    )


def evaluate(
    *resources: PlannedResource, stack: str = STACK, config: dict[str, Any] | None = None
) -> list[PolicyFinding]:
    """The pack's findings on a plan of ``resources`` in stack ``stack``."""
    plan = Plan(
        project="rules",
        stack=stack,
        resources=list(resources),
        outputs={},
        config={},
        secret_keys=frozenset(),
    )
    return evaluate_pack(PACK, plan, config)


def messages(findings: list[PolicyFinding], policy: str) -> list[str]:
    return [f.message for f in findings if f.policy == policy]
