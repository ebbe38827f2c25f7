"""A template edit reaches an existing draft on its next deploy.

``envctl draft up`` (against the fake workspace) writes only the per-draft keys; the real
program, run offline by ``envctl plan`` on the stack file those deploys leave behind, lays
the *current* ``Pulumi.draft.yaml`` under them — as ``pulumi up`` does in CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.lifecycle.conftest import LOGIN_URL

REPO = Path(__file__).resolve().parents[2]
GOOD, NEXT = "1111111aaaa", "3333333cccc"
STACK = "draft-feature-login"


def _copy_project(tmp_path: Path) -> Path:
    skip = shutil.ignore_patterns(
        ".venv", ".git", ".toolchain", "tests", "bench", "docs", "*cache*", "__pycache__",
        "*.egg-info", "node_modules",
    )  # fmt: skip
    copy = tmp_path / "checkout"
    shutil.copytree(REPO, copy, ignore=skip)
    return copy


def _planned(project: Path, fake_config: dict[str, Any]) -> dict[str, Any]:
    """The real program's plan of the stack whose config the fake backend holds."""
    native = {key: _native(value.value) for key, value in fake_config.items()}
    (project / f"Pulumi.{STACK}.yaml").write_text(yaml.safe_dump({"config": native}))
    done = subprocess.run(
        [sys.executable, "-c", "from automation.cli import main; main()", "plan", STACK,
         "--cwd", str(project), "--json"],
        env={**os.environ, "PYTHONPATH": str(project)},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _native(text: str) -> Any:
    if text[:1] in "{[":
        return json.loads(text)
    return text


def test_a_template_edit_reaches_an_existing_draft_on_its_next_deploy(
    envctl, tmp_path: Path
) -> None:
    project = _copy_project(tmp_path)
    up = ["draft", "up", "--branch", "feature/login", "--no-report", "--cwd", str(project)]
    assert envctl(*up, "--sha", GOOD).exit_code == 0
    first = _planned(project, envctl.fake.stacks[STACK].config)
    assert first["outputs"]["url"] == LOGIN_URL

    template = project / "Pulumi.draft.yaml"
    text = template.read_text()
    assert "draft:baseDomain: drafts.example.com" in text
    template.write_text(text.replace("drafts.example.com", "previews.example.org"))
    result = envctl(*up, "--sha", NEXT)

    assert result.exit_code == 0, result.output
    config = envctl.fake.stacks[STACK].config
    assert "draft:baseDomain" not in config  # never copied into the stack
    second = _planned(project, config)
    assert second["outputs"]["url"] == LOGIN_URL.replace(
        "drafts.example.com", "previews.example.org"
    )
    assert second["outputs"]["image"].endswith(f"draft-feature-login-{NEXT[:7]}")


def test_a_set_path_through_a_template_list_keeps_the_rest_of_the_list(
    envctl, tmp_path: Path
) -> None:
    project = _copy_project(tmp_path)
    result = envctl(
        "draft", "up", "--branch", "feature/login", "--sha", GOOD, "--no-report",
        "--cwd", str(project), "--set", "draft:mocks[0].port=9090",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    mocks = json.loads(envctl.fake.stacks[STACK].config["draft:mocks"].value)
    assert mocks[0]["port"] == 9090 and mocks[0]["name"] == "payments-mock"
    plan = _planned(project, envctl.fake.stacks[STACK].config)
    services = [r for r in plan["resources"] if r["type"] == "kubernetes:core/v1:Service"]
    ports = [
        p["port"] for r in services if "mock" in r["name"] for p in r["inputs"]["spec"]["ports"]
    ]
    assert ports == [9090]
