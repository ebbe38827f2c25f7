"""Helpers to run envctl the way a user does: as a command, in a subprocess."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ENVCTL = Path(sys.executable).with_name("envctl")


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def envctl(*args: str, cwd: Path = REPO) -> Run:
    done = subprocess.run(
        [str(ENVCTL), *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def program(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write a throw-away Pulumi program (project 'demo') and return its directory."""

    def write(main: str, stack_files: dict[str, str] | None = None) -> Path:
        (tmp_path / "Pulumi.yaml").write_text("name: demo\nruntime: python\n")
        (tmp_path / "__main__.py").write_text(textwrap.dedent(main))
        for stack, text in (stack_files or {}).items():
            (tmp_path / f"Pulumi.{stack}.yaml").write_text(textwrap.dedent(text))
        return tmp_path

    return write
