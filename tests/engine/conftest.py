"""Fixtures of the `engine` tests: the real Pulumi CLI on PATH with a file backend per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.harness import Project, engine_env, require_toolchain


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The real CLI's environment, also set on this process (the Automation API finds the CLI
    on PATH and runs inline programs here)."""
    require_toolchain("pulumi")
    env = engine_env(tmp_path / "pulumi")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def project(engine: dict[str, str]) -> type[Project]:
    """``project(directory)``: a Pulumi project run inline under the real CLI."""

    def make(directory: Path) -> Project:
        return Project(directory, engine)

    return make  # type: ignore[return-value]
