"""The example pipelines are complete and call envctl with flags it really has."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ci"
SAMPLE = {
    "CI_COMMIT_REF_NAME": "feature/login",
    "HEAD_REF": "feature/login",
    "CI_COMMIT_SHA": "1111111aaaa",
    "SHA": "1111111aaaa",
}


def load(name: str) -> dict:
    return yaml.safe_load((EXAMPLES / name).read_text())


def envctl_commands(name: str) -> list[list[str]]:
    lines = (EXAMPLES / name).read_text().splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    text = text.replace("\\\n", " ")
    text = re.sub(r"\n\s+(--)", r" \1", text)  # YAML folded continuation lines
    commands = []
    for match in re.finditer(r"envctl (draft [^\n|>]*)", text):
        line = re.sub(r"\$\{?(\w+)\}?", lambda m: SAMPLE.get(m.group(1), m.group(0)), match[1])
        commands.append(shlex.split(line))
    return commands


def test_gitlab_review_app_environment_with_stop_and_auto_stop() -> None:
    pipeline = load("gitlab-ci.yml")
    deploy = pipeline["deploy_draft"]
    stop = pipeline[deploy["environment"]["on_stop"]]
    assert deploy["environment"]["auto_stop_in"] == "48 hours"
    assert stop["environment"] == {"name": deploy["environment"]["name"], "action": "stop"}
    assert deploy["resource_group"] == stop["resource_group"]
    assert "VAULT_ID_TOKEN" in deploy["id_tokens"]
    assert deploy["artifacts"]["reports"]["dotenv"] == "draft.env"
    assert pipeline["reap_drafts"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    assert {"lint", "test", "build", "deploy", "cleanup"} <= set(pipeline["stages"])


def test_github_workflow_covers_pr_events_and_the_schedule() -> None:
    workflow = load("github-actions.yml")
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert set(triggers["pull_request"]["types"]) >= {"opened", "synchronize", "closed"}
    assert triggers["schedule"]
    assert workflow["permissions"]["id-token"] == "write"
    assert {"deploy", "destroy", "reap", "lint", "test", "build"} <= set(workflow["jobs"])


@pytest.mark.parametrize("example", ["gitlab-ci.yml", "github-actions.yml"])
def test_every_envctl_command_in_the_examples_runs(envctl, example) -> None:
    commands = envctl_commands(example)
    assert {c[1] for c in commands} >= {"up", "destroy", "reap"}
    for command in commands:
        result = envctl(*command)
        assert result.exit_code == 0, (command, result.output)
