"""Fixtures of the `engine` tests (the `engine` fixture itself is in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.harness import Project


@pytest.fixture
def project(engine: dict[str, str]) -> type[Project]:
    """``project(directory)``: a Pulumi project run inline under the real CLI."""

    def make(directory: Path) -> Project:
        return Project(directory, engine)

    return make  # type: ignore[return-value]
