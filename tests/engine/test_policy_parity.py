"""The policy pack gives the same mandatory verdicts under the real engine as in `envctl plan`.

Every example program of the pack's tests whose providers the toolchain has is previewed with
`pulumi preview --policy-pack` (real CLI, real kubernetes provider, the pack started by the
CLI); its policy events are compared with the violations `envctl plan --json` reports for the
same program and stack. Programs that need providers the Go module proxy does not serve
(vault, random, command, docker) cannot be previewed here and are listed, not skipped silently.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pulumi import automation as auto

from automation.lifecycle.pulumi_workspace import policy_pack_executable
from tests.conftest import REPO
from tests.engine.harness import Project, copy_project, require_toolchain
from tests.policy.policy_helpers import PACK, PROGRAMS, envctl_plan

pytestmark = pytest.mark.engine

BUILT_PROVIDERS = {"kubernetes"}


def providers_of(program: Path) -> set[str]:
    source = (program / "__main__.py").read_text(encoding="utf-8")
    return set(re.findall(r"^\s*(?:import|from) pulumi_(\w+)", source, re.MULTILINE))


STACK_POLICIES = {
    name
    for module in PACK.glob("*.py")
    for name in re.findall(r'StackValidationPolicy\(\s*name="([^"]+)"', module.read_text())
}
PROGRAM_DIRS = sorted(p for p in PROGRAMS.iterdir() if (p / "__main__.py").exists())
RUNNABLE = [p for p in PROGRAM_DIRS if providers_of(p) <= BUILT_PROVIDERS]


def test_the_stack_policies_are_known() -> None:
    assert {"draft-default-deny", "draft-namespace-guardrails"} <= STACK_POLICIES


def test_most_example_programs_run_under_the_real_engine() -> None:
    """What is left out needs a provider the proxy does not serve, and nothing else."""
    left_out = {
        p.name: providers_of(p) - BUILT_PROVIDERS for p in PROGRAM_DIRS if p not in RUNNABLE
    }
    assert all(left_out.values()), left_out
    assert len(RUNNABLE) >= 4, [p.name for p in RUNNABLE]


def mirrored(program: Path, tmp_path: Path) -> Path:
    """A copy of ``program`` at the same depth under a mirror of the repository (the programs
    find their chart from their own path); the CLI writes stack files beside it."""
    mirror = tmp_path / "repo"
    charts = program.parents[1] / "charts"
    (mirror / charts.relative_to(REPO)).parent.mkdir(parents=True, exist_ok=True)
    (mirror / charts.relative_to(REPO)).symlink_to(charts)
    return copy_project(program, mirror / program.parent.relative_to(REPO))


def engine_verdicts(project: Project, stack: str, pack: Path) -> set[tuple[str, str]]:
    """(policy, resource URN) of every mandatory policy event of a real preview.

    The preview may fail only because of those: any other error (a resource the provider
    refuses, say) fails the test.
    """
    events: list[auto.PolicyEvent] = []
    errors: list[str] = []

    def on_event(event: auto.EngineEvent) -> None:
        if event.policy_event is not None:
            events.append(event.policy_event)
        diagnostic = event.diagnostic_event
        if diagnostic is not None and diagnostic.severity == "error" and diagnostic.urn:
            errors.append(diagnostic.message)

    try:
        project.stack(stack).preview(on_event=on_event, policy_packs=[str(pack)], color="never")
    except auto.CommandError:
        if not any(str(e.enforcement_level).lower().endswith("mandatory") for e in events):
            raise
    assert errors == [], errors
    return {
        (e.policy_name, e.resource_urn or "")
        for e in events
        if str(e.enforcement_level).lower().endswith("mandatory")
    }


@pytest.mark.parametrize("program", RUNNABLE, ids=[p.name for p in RUNNABLE])
def test_mandatory_verdicts_match_envctl_plan(program: Path, project, tmp_path: Path) -> None:
    require_toolchain("pulumi", "pulumi-resource-kubernetes")
    stack = f"draft-{program.name}"
    pack = policy_pack_executable(PACK, tmp_path / "pack")

    offline = envctl_plan(stack, program)
    planned = {
        (v["policy"], v["urn"])
        for v in offline.findings(level="mandatory")
        # The objects a Helm release installs are invisible to the engine's policy analysis;
        # envctl plan renders them (helm template) and judges them too.
        if "helm.sh/v3:Release$" not in v["urn"]
    }
    real = engine_verdicts(project(mirrored(program, tmp_path)), stack, pack)

    def of_resources(verdicts: set[tuple[str, str]]) -> set[tuple[str, str]]:
        return {v for v in verdicts if v[0] not in STACK_POLICIES}

    assert of_resources(real) == of_resources(planned)
    if of_resources(real):
        # The engine stops before its stack analysis once a resource policy has failed the
        # preview; envctl plan still shows the stack policies' verdicts.
        assert real - of_resources(real) <= planned - of_resources(planned)
    else:
        assert real == planned
