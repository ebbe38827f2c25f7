"""Helpers: run the real program offline (in-process, or as `envctl plan` in a subprocess)."""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automation.plan.model import Plan, PlannedResource
from automation.plan.policy import PolicyFinding, evaluate_pack
from automation.plan.render import plan_document
from automation.plan.runner import run_program
from automation.plan.stack_config import load_stack_config
from components.naming import names_for

REPO = Path(__file__).resolve().parents[2]
ENVCTL = Path(sys.executable).with_name("envctl")
STACK = "draft-feature-x"
# The namespace of Pulumi.draft.yaml's team/service: draft-feature-x-<owner hash>.
NS = names_for("feature/x", team="platform", service="tasks").namespace
COMPONENT = "environments:draft:DraftEnvironment"


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def envctl(*args: str) -> Run:
    """`envctl ARGS` as a user runs it, from the repository."""
    done = subprocess.run(
        [str(ENVCTL), *args], cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    return Run(done.returncode, done.stdout, done.stderr)


@dataclass(frozen=True)
class Draft:
    """One offline plan of the draft stack, with lookups tests need."""

    plan: Plan
    findings: tuple[PolicyFinding, ...]

    @property
    def document(self) -> dict[str, Any]:
        return plan_document(self.plan, list(self.findings))

    def named(self, name: str) -> PlannedResource:
        matches = [r for r in self.plan.resources if r.name == name]
        assert len(matches) == 1, f"{name}: {len(matches)} resources"
        return matches[0]

    def of_type(self, type_token: str) -> list[PlannedResource]:
        return self.plan.of_type(type_token)

    def one(self, type_token: str) -> PlannedResource:
        found = self.of_type(type_token)
        assert len(found) == 1, f"{type_token}: {len(found)} resources"
        return found[0]

    @property
    def component(self) -> PlannedResource:
        return self.one(COMPONENT)

    @property
    def namespace(self) -> PlannedResource:
        return self.one("kubernetes:core/v1:Namespace")

    def depends(self, resource: PlannedResource) -> set[str]:
        """Names of what ``resource`` depends on, directly or through its inputs."""
        by_urn = self.plan.by_urn()
        urns = set(resource.depends_on)
        for deps in resource.property_dependencies.values():
            urns |= set(deps)
        return {by_urn[u].name for u in urns if u in by_urn}

    def ancestors(self, resource: PlannedResource) -> set[str]:
        """Names of everything ``resource`` waits for, transitively."""
        seen: set[str] = set()
        todo = [resource]
        while todo:
            for name in self.depends(todo.pop()):
                if name not in seen:
                    seen.add(name)
                    todo.append(self.named(name))
        return seen


@functools.cache
def draft(*overrides: str, stack: str = STACK) -> Draft:
    """The draft plan with ``--set`` ``overrides`` (cached: plans are deterministic enough)."""
    config = load_stack_config(REPO, stack, list(overrides))
    plan, _ = run_program(REPO, stack, config)
    return Draft(plan, tuple(evaluate_pack(REPO / "policy", plan)))


def namespaced(plan: Plan) -> Iterable[PlannedResource]:
    """Kubernetes objects that live in a namespace (a Helm release counts: its objects do)."""
    for resource in plan.resources:
        if not resource.type.startswith("kubernetes:") or resource.type.endswith(":Namespace"):
            continue
        if resource.type == "kubernetes:helm.sh/v3:Release":
            yield resource
            continue
        metadata = resource.inputs.get("metadata")
        if isinstance(metadata, dict) and metadata.get("namespace"):
            yield resource
