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
from tests.engine.harness import Project, copy_project, require_toolchain
from tests.policy.policy_helpers import PACK, PROGRAMS, envctl_plan

pytestmark = pytest.mark.engine

BUILT_PROVIDERS = {"kubernetes"}


def providers_of(program: Path) -> set[str]:
    source = (program / "__main__.py").read_text(encoding="utf-8")
    return set(re.findall(r"^\s*(?:import|from) pulumi_(\w+)", source, re.MULTILINE))


PROGRAM_DIRS = sorted(p for p in PROGRAMS.iterdir() if (p / "__main__.py").exists())
RUNNABLE = [p for p in PROGRAM_DIRS if providers_of(p) <= BUILT_PROVIDERS]


def test_most_example_programs_run_under_the_real_engine() -> None:
    """What is left out needs a provider the proxy does not serve, and nothing else."""
    left_out = {
        p.name: providers_of(p) - BUILT_PROVIDERS for p in PROGRAM_DIRS if p not in RUNNABLE
    }
    assert all(left_out.values()), left_out
    assert len(RUNNABLE) >= 4, [p.name for p in RUNNABLE]


def engine_verdicts(project: Project, stack: str, pack: Path) -> set[tuple[str, str]]:
    """(policy, resource URN) of every mandatory policy event of a real preview."""
    events: list[auto.PolicyEvent] = []

    def on_event(event: auto.EngineEvent) -> None:
        if event.policy_event is not None:
            events.append(event.policy_event)

    try:
        project.stack(stack).preview(on_event=on_event, policy_packs=[str(pack)], color="never")
    except auto.CommandError as exc:
        # a mandatory violation fails the preview; anything else is a real failure
        if "mandatory" not in str(exc).lower() and not events:
            raise
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
    expected = {(v["policy"], v["urn"]) for v in offline.findings(level="mandatory")}
    real = engine_verdicts(project(copy_project(program, tmp_path)), stack, pack)

    assert real == expected
