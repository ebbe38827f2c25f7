"""Shared test helpers.

Integration tests (markers ``staging``, ``vault``, ``engine``, ``cluster`` and ``prometheus``)
start their real services themselves. Where a service cannot run, they skip locally but fail in CI (``CI=true``):
CI must never pass by skipping.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> None:
    """A real dependency is missing: fail in CI, skip elsewhere."""
    if in_ci():
        pytest.fail(f"required test service unavailable in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root (the project's Pulumi program)."""
    return REPO


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The real Pulumi CLI (`make toolchain`) with a file backend under ``tmp_path``.

    Also set on this process: the Automation API finds the CLI on PATH and runs inline
    programs here.
    """
    from tests.engine.harness import engine_env, require_toolchain

    require_toolchain("pulumi")
    env = engine_env(tmp_path / "pulumi")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env
