"""`envctl plan staging`: the command chain, its dependencies, and no secret in clear.

Also what ``pulumi up`` does with the commands beyond running their scripts (those run
for real in test_host_real.py): pulumi-command replaces a command whose triggers change,
so the triggers decide what re-runs, and ``deleteBeforeReplace`` decides that the
pull-agent's stop script runs before it starts again.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
ENVCTL = Path(sys.executable).parent / "envctl"
SECRET = "s3cr3t-token-value-for-plan"
# The offline plan's resources with their options and revealed triggers (the JSON shows the
# trigger list as "[secret]", and carries no resource options).
ENGINE_VIEW = """
import json, sys
from pathlib import Path
from automation.plan.model import reveal
from automation.plan.runner import run_program
from automation.plan.stack_config import load_stack_config
repo = Path.cwd()
plan, _ = run_program(repo, "staging", load_stack_config(repo, "staging", sys.argv[1:]))
print(json.dumps({
    r.name: {"deleteBeforeReplace": r.delete_before_replace,
             "triggers": reveal(r.inputs.get("triggers")),
             "delete": "delete" in r.inputs}
    for r in plan.resources if r.type == "command:remote:Command"
}, default=lambda value: "[unknown]"))
"""


def plan(*sets: str) -> subprocess.CompletedProcess[str]:
    argv = [str(ENVCTL), "plan", "staging", "--json"]
    for item in sets:
        argv += ["--set", item]
    return subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    done = plan(f"staging:gitToken={SECRET}", f"staging:misApiKey={SECRET}-mis")
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout
    return json.loads(done.stdout)


def by_name(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in document["resources"]}


def test_plan_shows_the_command_chain_with_its_dependencies(document: dict[str, Any]) -> None:
    resources = by_name(document)
    urn = {name: r["urn"] for name, r in resources.items()}
    host = resources["staging"]
    assert host["type"] == "environments:staging:StagingHost"
    commands = {n: r for n, r in resources.items() if r["type"] == "command:remote:Command"}
    assert set(commands) == {
        "staging-preflight",
        "staging-checkout",
        "staging-env",
        "staging-override",
        "staging-teardown",
        "staging-deploy",
        "staging-pull-agent",
    }
    assert all(r["parent"] == host["urn"] for r in commands.values())

    def needs(name: str, *deps: str) -> None:
        assert {urn[d] for d in deps} <= set(commands[name]["dependsOn"]), name

    needs("staging-checkout", "staging-preflight")
    needs("staging-env", "staging-checkout")
    needs("staging-override", "staging-checkout")
    needs("staging-teardown", "staging-checkout")
    needs("staging-deploy", "staging-env", "staging-override", "staging-teardown")
    needs("staging-pull-agent", "staging-deploy")
    assert "delete" in commands["staging-teardown"]["inputs"]
    assert "delete" not in commands["staging-deploy"]["inputs"]


def test_secrets_are_secret_in_the_plan(document: dict[str, Any]) -> None:
    commands = by_name(document)
    for name in ("staging-checkout", "staging-env", "staging-deploy", "staging-pull-agent"):
        assert commands[name]["inputs"]["stdin"] == "[secret]", name
    assert commands["staging-deploy"]["inputs"]["triggers"] == "[secret]"
    assert "[secret]" not in commands["staging-override"]["inputs"]["stdin"]
    for resource in document["resources"]:
        for key in ("create", "update", "delete"):
            assert SECRET not in json.dumps(resource["inputs"].get(key, ""))


def test_plan_exports_the_dns_records_the_plan_needs(document: dict[str, Any]) -> None:
    records = document["outputs"]["dnsRecords"]
    names = {r["name"] for r in records}
    assert {"app.staging.example.com", "traefik.staging.example.com"} <= names
    assert {r["type"] for r in records} == {"A"}
    assert document["outputs"]["url"] == "https://app.staging.example.com"


def test_bad_staging_config_exits_2_naming_the_key() -> None:
    done = plan("staging:httpsPort=99999")
    assert done.returncode == 2
    assert "staging:httpsPort" in done.stderr


def engine_view(*sets: str) -> dict[str, dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-c", ENGINE_VIEW, *sets],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    view: dict[str, dict[str, Any]] = json.loads(done.stdout)
    return view


def test_triggers_rerun_the_deploy_only_when_env_or_override_change() -> None:
    base = engine_view(f"staging:misApiKey={SECRET}")
    same = engine_view(f"staging:misApiKey={SECRET}")
    rotated = engine_view(f"staging:misApiKey={SECRET}-rotated")
    moved = engine_view(f"staging:misApiKey={SECRET}", "staging:httpsPort=8443")
    env_digest, override_digest = base["staging-deploy"]["triggers"]
    assert same["staging-deploy"]["triggers"] == [env_digest, override_digest]  # no-op up
    assert rotated["staging-deploy"]["triggers"][0] != env_digest  # a secret changed: .env
    assert rotated["staging-deploy"]["triggers"][1] == override_digest
    assert moved["staging-deploy"]["triggers"][0] == env_digest
    assert moved["staging-deploy"]["triggers"][1] != override_digest  # the override changed
    for name in ("staging-preflight", "staging-checkout", "staging-env", "staging-override"):
        assert base[name]["triggers"] is None, name  # re-run only when their own text changes


def test_pull_agent_is_replaced_after_every_deploy_stopping_first() -> None:
    view = engine_view()
    agent = view["staging-pull-agent"]
    # the deploy's release inputs plus its stdout: every new deploy replaces the agent ...
    assert agent["triggers"][:2] == view["staging-deploy"]["triggers"]
    assert len(agent["triggers"]) == 3
    # ... and the replacement runs the stop script before the start script
    assert agent["deleteBeforeReplace"] and agent["delete"]
    assert view["staging-teardown"]["deleteBeforeReplace"] and view["staging-teardown"]["delete"]
    assert not view["staging-deploy"]["delete"]
