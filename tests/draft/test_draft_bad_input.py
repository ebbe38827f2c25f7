"""Bad input: `envctl plan` exits 2, names the key and the expected form, registers nothing."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from automation.plan.command import run_plan_command
from automation.plan.monitor import RecordingMonitor
from automation.plan.runner import run_program
from automation.plan.stack_config import load_stack_config
from components.config import ConfigError
from tests.draft.conftest import NS, REPO, STACK, Run, envctl


def plan_command(*args: str) -> Run:
    """`envctl plan STACK --json --set ...` in-process (the CLI's own function, faster)."""
    out, err = io.StringIO(), io.StringIO()
    overrides = [args[i + 1] for i, arg in enumerate(args) if arg == "--set"]
    code = run_plan_command(
        stack=STACK,
        cwd=REPO,
        policy_pack=None,
        overrides=overrides,
        as_json=True,
        out_dir=None,
        out=Console(file=out, width=200),
        err=Console(file=err, width=200),
    )
    return Run(code, out.getvalue(), err.getvalue())


BAD_INPUT = [
    # (--set overrides, what the message must name)
    (["draft:branch=main"], "draft:branch: 'main' gets no draft environment"),
    (["draft:branch=hotfix/x"], "draft:branch: 'hotfix/x' gets no draft environment"),
    (["draft:chart.path=charts/missing"], "draft:chart.path: charts/missing is not a chart"),
    (["draft:chart.valuesFile=values/missing.yaml"], "draft:chart.valuesFile"),
    (["draft:chart.values.replicaCount=0"], "replicaCount: fails minimum 1"),
    (["draft:chart.values.nodePort=30080"], "unknown key(s) nodePort"),
    (["draft:chart.values.containerPort=99999"], "containerPort: fails maximum 65535"),
    (["draft:ttlHours=49"], "draft:ttlHours is invalid"),
    (["draft:vault.tokenTtlSeconds=7200"], "draft:vault.tokenTtlSeconds is invalid"),
    (["draft:migrations.timeoutSeconds=86400"], "draft:migrations.timeoutSeconds is invalid"),
    (
        ["draft:image.registry=https://"],
        "draft:image.registry is invalid: value error, the registry URL has no host",
    ),
    (["draft:image.registry=:5000"], "draft:image.registry is invalid"),
    (["draft:image.registry=registry.example.com/team"], "draft:image.registry is invalid"),
    (["draft:team=../prod"], "draft:team is invalid"),
    (["draft:service=tasks/../../prod"], "draft:service is invalid"),
    (["draft:vault.kvMount=secret/data"], "draft:vault.kvMount is invalid"),
    (
        ["draft:externalSecrets.services[0]=../admin"],
        "draft:externalSecrets.services[0] is invalid",
    ),
    (["draft:mocks[0].image=wiremock/wiremock:latest"], "draft:mocks[0].image is invalid"),
    (["draft:mocks[0].image=wiremock/wiremock"], "draft:mocks[0].image is invalid"),
    (
        [
            "draft:mocks[0].name=db",
            "draft:mocks[0].image=wiremock/wiremock:3.9.1",
            "draft:mocks[0].port=80",
        ],
        "mock service names must not be one of",
    ),
    (["draft:image.context=nowhere"], "draft:image.context: nowhere is not a directory"),
    (["draft:database.mode=external"], "draft:secrets.databaseUrl is required"),
    (["draft:database.mode=sqlite"], "draft:database.mode is invalid"),
    (["draft:quota.pods=3"], "draft:quota.pods is too small"),
    (["draft:database.resources.limitsCpu=8"], "draft:database.resources exceeds draft:limits"),
    (
        [
            # a third target: [0] and [1] are the template's vault and registry
            "draft:network.egress[2].name=anywhere",
            "draft:network.egress[2].cidrs[0]=0.0.0.0/0",
            "draft:network.egress[2].ports[0].port=443",
        ],
        "whole internet",
    ),
    (["draft:smok.enabled=false"], "draft:smok is not a known setting; did you mean draft:smoke?"),
    (
        [f"draft:expiresAt={(datetime.now(UTC) + timedelta(days=7)).isoformat()}"],
        "draft:expiresAt is invalid (expected: an ISO 8601 time after draft:deployedAt, at most 48",
    ),
    (
        [f"draft:expiresAt={(datetime.now(UTC) - timedelta(hours=1)).isoformat()}"],
        "draft:expiresAt is invalid",
    ),
    # The public URL is behind the ingress, which the draft's NetworkPolicies do not reach.
    (
        ["draft:smoke.baseUrl=https://feature-x.drafts.example.com"],
        f"draft:smoke.baseUrl is outside namespace {NS}",
    ),
    (
        ["draft:smoke.baseUrl=http://app.draft-other.svc.cluster.local"],
        f"draft:smoke.baseUrl is outside namespace {NS}",
    ),
    (["draft:smoke.baseUrl=http://10.0.0.7:8080"], "draft:smoke.baseUrl is outside namespace"),
]


@pytest.mark.parametrize(("overrides", "named"), BAD_INPUT, ids=[o[0] for o, _ in BAD_INPUT])
def test_bad_input_exits_2_naming_the_key(overrides: list[str], named: str) -> None:
    args = [arg for override in overrides for arg in ("--set", override)]
    run = plan_command(*args)
    assert run.code == 2, run.stderr
    assert named in run.stderr
    assert run.stdout == ""  # no plan: nothing was registered


def test_the_command_exits_2_and_prints_the_expected_form() -> None:
    run = envctl("plan", STACK, "--set", "draft:image.registry=https://")
    assert run.code == 2 and run.stdout == ""
    assert "(expected: registry host[:port]" in run.stderr


def test_schema_errors_never_echo_the_value() -> None:
    run = plan_command("--set", "draft:chart.values.integrations.payments.mode=SENTINEL")
    assert run.code == 2
    assert "integrations.payments.mode: fails enum" in run.stderr
    assert "SENTINEL" not in run.stderr


@pytest.mark.parametrize(
    "override",
    ["draft:chart.values.replicaCount=0", "draft:image.context=nowhere", "draft:branch=main"],
)
def test_bad_input_is_refused_before_any_resource_is_registered(
    override: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    registered: list[str] = []
    original = RecordingMonitor.RegisterResource

    def spy(self: RecordingMonitor, request: object) -> object:
        registered.append(request.type)  # type: ignore[attr-defined]
        return original(self, request)

    monkeypatch.setattr(RecordingMonitor, "RegisterResource", spy)
    with pytest.raises(ConfigError):
        run_program(REPO, STACK, load_stack_config(REPO, STACK, [override]))
    assert set(registered) <= {"pulumi:pulumi:Stack"}


@pytest.mark.parametrize(
    "base_url",
    ["http://payments-mock:8080", f"http://payments-mock.{NS}.svc.cluster.local:8080"],
)
def test_a_smoke_base_url_of_a_service_in_the_namespace_is_accepted(base_url: str) -> None:
    run = plan_command("--set", f"draft:smoke.baseUrl={base_url}")
    assert run.code == 0, run.stderr


# --- what a hurried user types -------------------------------------------------------------

HURRIED_BRANCHES = {
    "uppercase-unicode": "feature/Ünïcode-LOGIN",
    "200-characters": "feature/" + "a" * 192,
}


@pytest.mark.parametrize("branch", HURRIED_BRANCHES.values(), ids=HURRIED_BRANCHES.keys())
def test_a_branch_plans_on_the_stack_envctl_name_prints(branch: str) -> None:
    named = envctl("name", branch, "--json")
    assert named.code == 0, named.stderr
    stack, namespace = (json.loads(named.stdout)[key] for key in ("stack", "namespace"))

    run = envctl("plan", stack, "--set", f"draft:branch={branch}", "--json")
    assert run.code == 0, run.stderr
    document = json.loads(run.stdout)
    assert document["outputs"]["namespace"] == namespace
    assert len(namespace) <= 63 and stack == stack.lower()
    assert [v for v in document["policy"]["violations"] if v["level"] == "mandatory"] == []


@pytest.mark.parametrize("branch", HURRIED_BRANCHES.values(), ids=HURRIED_BRANCHES.keys())
def test_a_branch_on_another_stack_exits_2_naming_its_own_stack(branch: str) -> None:
    stack = json.loads(envctl("name", branch, "--json").stdout)["stack"]
    run = plan_command("--set", f"draft:branch={branch}")
    assert run.code == 2 and run.stdout == ""
    assert f"draft:branch belongs to stack {stack}, not {STACK}" in run.stderr


@pytest.mark.parametrize("stack", ["draft-Feature-X", "draft-feature_x", "draft-" + "a" * 60])
def test_a_stack_name_no_namespace_can_take_exits_2_naming_the_stack(stack: str) -> None:
    run = envctl("plan", stack, "--set", "draft:branch=feature/x")
    assert run.code == 2 and run.stdout == ""
    assert f"stack: {stack!r}" in run.stderr and "draft stack name" in run.stderr
    assert "envctl name BRANCH" in run.stderr  # how to get it right
