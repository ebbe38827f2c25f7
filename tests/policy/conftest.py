"""Fixtures of the policy pack tests."""

from __future__ import annotations

from typing import Any

import pytest
from policy_helpers import PROGRAMS, PlanRun, envctl_plan


@pytest.fixture(scope="session")
def plan_program() -> Any:
    """Run (once per session) the throw-away program ``name`` as stack ``stack``."""
    cache: dict[tuple[str, str], PlanRun] = {}

    def run(name: str, stack: str) -> PlanRun:
        if (name, stack) not in cache:
            cache[name, stack] = envctl_plan(stack, PROGRAMS / name)
        return cache[name, stack]

    return run
