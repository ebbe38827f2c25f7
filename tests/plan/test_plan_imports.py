"""``envctl plan`` loads only what planning needs; every command group stays reachable.

The lifecycle (hvac, httpx, the CI driver's modules) is imported on first use of ``draft``,
``staging`` or ``vault``: an offline plan does not pay for it (``bench/plan.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from automation.cli import app
from tests.conftest import REPO

LIFECYCLE_ONLY = ("hvac", "httpx", "automation.lifecycle")


def modules_after(tmp_path: Path, *args: str) -> tuple[int, set[str]]:
    """Run ``envctl ARGS`` in a fresh interpreter; its exit code and every loaded module."""
    listing = tmp_path / "modules.json"
    script = (
        "import json, sys\n"
        "from automation.cli import app\n"  # not main(): after a plan it ends the process at once
        "try:\n"
        "    app()\n"
        "finally:\n"
        f"    open({str(listing)!r}, 'w').write(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return done.returncode, set(json.loads(listing.read_text()))


def loaded(modules: set[str], package: str) -> bool:
    return any(m == package or m.startswith(package + ".") for m in modules)


def test_plan_does_not_import_the_lifecycle(tmp_path: Path) -> None:
    code, modules = modules_after(tmp_path, "plan", "draft-feature-x", "--json")

    assert code == 0
    assert loaded(modules, "pulumi_kubernetes"), "the plan ran the program"
    assert [p for p in LIFECYCLE_ONLY if loaded(modules, p)] == []


def test_a_draft_command_imports_the_lifecycle_it_needs(tmp_path: Path) -> None:
    code, modules = modules_after(tmp_path, "draft", "reap", "--help")

    assert code == 0
    assert "automation.lifecycle.cli" in modules


def test_help_lists_every_command_and_group() -> None:
    runner = CliRunner()

    top = runner.invoke(app, ["--help"])
    draft = runner.invoke(app, ["draft", "--help"])
    typo = runner.invoke(app, ["drafts"])

    assert top.exit_code == 0
    for command in ("name", "plan", "draft", "staging", "vault"):
        assert f" {command} " in top.output
    assert draft.exit_code == 0
    for command in ("up", "destroy", "reap", "list"):
        assert f" {command} " in draft.output
    assert "--install-completion" not in draft.output
    assert typo.exit_code == 2 and "Did you mean 'draft'?" in typo.output
