"""The offline evaluator gives policies what the engine gives them.

A probe pack (tests/policy/packs/probe) reports, as JSON, what each of its policies received
when `envctl plan` runs a program that uses parents, an explicit and a default provider,
protect, custom timeouts, dependencies, secrets and stack config. The rest drives
``evaluate_pack`` directly with hand-built plans: unknown values, pack config, broken packs,
and that evaluating leaves the process as it found it.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pulumi
import pytest
from policy_helpers import PACK, PACKS, PROGRAMS, PlanRun, envctl_plan
from policy_helpers import resource as planned

from automation.plan.model import UNKNOWN, Plan, PlannedResource
from automation.plan.policy import (
    PolicyConfigError,
    PolicyPackError,
    evaluate_pack,
    load_pack_config,
)

STACK = "draft-evil"


def resource(type_: str, name: str, inputs: dict[str, Any], **options: Any) -> PlannedResource:
    return planned(type_, name, inputs, stack=STACK, project="evil", **options)


def plan_of(*resources: PlannedResource, config: dict[str, str] | None = None) -> Plan:
    return Plan(
        project="evil",
        stack=STACK,
        resources=list(resources),
        outputs={},
        config=config or {},
        secret_keys=frozenset(),
    )


ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole"
EVIL = plan_of(
    resource(ROLE, "app", {"roleName": "app", "tokenTtl": 7200.0, "tokenMaxTtl": 7200.0}),
    resource(
        "kubernetes:core/v1:Service",
        "web",
        {"metadata": {"namespace": STACK}, "spec": {"type": "LoadBalancer"}},
    ),
)


def levels(findings: list[Any], policy: str) -> set[str]:
    return {f.level for f in findings if f.policy == policy}


# --- what the probe pack receives ------------------------------------------------------------


@pytest.fixture(scope="module")
def probe() -> PlanRun:
    return envctl_plan("dev", PROGRAMS / "probe-target", pack=PACKS / "probe")


def seen(run: PlanRun, name: str) -> dict[str, Any]:
    reports = [json.loads(m) for m in run.on(name, "probe-resource")]
    assert len(reports) == 1, reports
    return reports[0]


def test_numbers_arrive_as_floats_as_from_a_protobuf_struct(probe):
    props = seen(probe, "role")["props"]

    assert props["tokenTtl"]["type"] == "float"
    assert props["tokenMaxTtl"]["type"] == "float"


def test_secrets_arrive_as_plain_text_without_a_marker(probe):
    data = seen(probe, "settings")["props"]["data"]

    assert data["password"]["type"] == "str"
    assert data["password"]["value"] not in ("[secret]", "")


def test_policies_see_stack_project_preview_and_stack_config(probe):
    report = seen(probe, "settings")

    assert (report["stack"], report["project"], report["dry_run"]) == ("dev", "probe-target", True)
    assert report["color"] == "blue"  # probe:color from Pulumi.dev.yaml


def test_policy_config_carries_schema_defaults(probe):
    config = seen(probe, "settings")["config"]

    assert config == {"limit": 3600.0}


def test_resource_options_reach_the_policy(probe):
    role, settings = seen(probe, "role"), seen(probe, "settings")

    assert role["protect"] is True and settings["protect"] is False
    assert settings["delete_timeout"] == 900.0  # customTimeouts delete "15m", in seconds
    assert role["parent"] == settings["parent"] == probe.urn_of("bundle")


def test_explicit_and_default_providers_reach_the_policy(probe):
    explicit, default = seen(probe, "settings")["provider"], seen(probe, "defaults")["provider"]

    assert explicit["type"] == "pulumi:providers:kubernetes" and explicit["name"] == "cluster"
    assert explicit["props"]["namespace"]["value"] == "from-provider"
    assert default["type"] == "pulumi:providers:kubernetes" and default["name"] == "default"
    assert default["props"]["namespace"]["value"] == "from-config"  # kubernetes:namespace


def test_stack_policies_see_the_tree_and_dependencies(probe):
    (message,) = [v["message"] for v in probe.findings("probe-stack")]
    tree = json.loads(message)
    root = next(name for name, r in tree.items() if r["type"] == "pulumi:pulumi:Stack")

    assert tree["bundle"]["parent"] == root
    assert tree["settings"]["parent"] == "bundle"
    assert tree["settings"]["dependencies"] == ["role"]
    assert tree["settings"]["property_dependencies"] == {"metadata": ["role"]}


def test_a_policy_disabled_by_the_packs_initial_config_never_runs(probe):
    """probe-never raises when called: the run would fail instead of exiting 0."""
    assert probe.code == 0
    assert probe.findings("probe-never") == []


def test_an_unknown_value_is_an_advisory_finding_not_a_crash():
    plan = plan_of(
        resource("kubernetes:core/v1:ConfigMap", "settings", {"data": {"later": UNKNOWN}})
    )

    findings = evaluate_pack(PACKS / "probe", plan)

    (unknown,) = [f for f in findings if f.policy == "probe-unknown"]
    assert unknown.level == "advisory"  # the policy itself is mandatory
    assert "can't be known during preview" in unknown.message
    assert unknown.urn == plan.resources[0].urn


def test_an_unknown_ttl_is_advisory_in_the_real_pack():
    plan = plan_of(resource(ROLE, "app", {"tokenTtl": UNKNOWN, "tokenMaxTtl": 3600.0}))

    findings = evaluate_pack(PACK, plan)

    assert levels(findings, "vault-token-ttl") == {"advisory"}


# --- pack config -----------------------------------------------------------------------------


def test_without_config_the_evil_plan_has_mandatory_findings():
    findings = evaluate_pack(PACK, EVIL)

    assert levels(findings, "vault-token-ttl") == {"mandatory"}
    assert levels(findings, "draft-service-exposure") == {"mandatory"}


def test_a_configured_limit_replaces_the_default():
    findings = evaluate_pack(PACK, EVIL, {"vault-token-ttl": {"maxTtlSeconds": 7200}})

    assert levels(findings, "vault-token-ttl") == set()


def test_an_enforcement_level_per_policy():
    findings = evaluate_pack(PACK, EVIL, {"draft-service-exposure": "advisory"})

    assert levels(findings, "draft-service-exposure") == {"advisory"}
    assert levels(findings, "vault-token-ttl") == {"mandatory"}


def test_remediate_without_a_remediation_reports_as_mandatory():
    """As the engine does when a violation is left after remediations."""
    findings = evaluate_pack(PACK, EVIL, {"draft-service-exposure": "remediate"})

    assert levels(findings, "draft-service-exposure") == {"mandatory"}


def test_all_disabled_runs_nothing():
    assert evaluate_pack(PACK, EVIL, {"all": "disabled"}) == []


def test_the_draft_prefix_is_configurable():
    namespace = "kubernetes:core/v1:Namespace"
    plan = plan_of(
        resource(namespace, "review", {"metadata": {"name": "review-x"}}),
        resource(namespace, "draft", {"metadata": {"name": "draft-x"}}),
    )

    findings = evaluate_pack(PACK, plan, {"draft-expiry": {"draftNamespacePrefix": "review-"}})

    flagged = {f.urn for f in findings if f.policy == "draft-expiry"}
    assert flagged == {plan.resources[0].urn}


@pytest.mark.parametrize(
    ("config", "names"),
    [
        ({"vault-token-ttl": {"maxTtlSeconds": "an hour"}}, ("vault-token-ttl", "maxTtlSeconds")),
        (
            {"vault-token-ttl": {"enforcementLevel": "fatal"}},
            ("vault-token-ttl", "enforcementLevel"),
        ),
        ({"draft-expiry": {"maxLifetimeHours": 0}}, ("draft-expiry", "maxLifetimeHours")),
        ({"vault-token-ttl": 3600}, ("vault-token-ttl",)),
    ],
)
def test_invalid_config_is_refused_naming_policy_and_key(config, names):
    with pytest.raises(PolicyConfigError) as refused:
        evaluate_pack(PACK, EVIL, config)

    assert all(name in str(refused.value) for name in names)


def test_a_policy_pack_config_file_reads_like_the_clis(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"all": "advisory", "vault-token-ttl": {"maxTtlSeconds": 1800}}))

    findings = evaluate_pack(PACK, EVIL, load_pack_config(path))

    assert {f.level for f in findings} == {"advisory"}


def test_a_broken_config_file_is_refused(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("{not json")

    with pytest.raises(PolicyConfigError, match=re.escape(str(path))):
        load_pack_config(path)


# --- broken packs ----------------------------------------------------------------------------


def write_pack(directory: Path, main: str, runtime: str = "python") -> Path:
    directory.mkdir()
    (directory / "PulumiPolicy.yaml").write_text(f"runtime: {runtime}\n")
    (directory / "__main__.py").write_text(main)
    return directory


def test_a_directory_without_a_pack_is_refused(tmp_path):
    with pytest.raises(PolicyPackError, match=r"PulumiPolicy\.yaml"):
        evaluate_pack(tmp_path, EVIL)


def test_a_nodejs_pack_cannot_run_offline(tmp_path):
    pack = write_pack(tmp_path / "node", "", runtime="nodejs")

    with pytest.raises(PolicyPackError, match="nodejs"):
        evaluate_pack(pack, EVIL)


def test_a_pack_that_fails_to_load_is_reported(tmp_path):
    pack = write_pack(tmp_path / "broken", "raise ValueError('no config here')\n")

    with pytest.raises(PolicyPackError, match="ValueError: no config here"):
        evaluate_pack(pack, EVIL)


def test_a_pack_without_a_policy_pack_is_reported(tmp_path):
    pack = write_pack(tmp_path / "empty", "x = 1\n")

    with pytest.raises(PolicyPackError, match="created no PolicyPack"):
        evaluate_pack(pack, EVIL)


def test_a_policy_that_raises_fails_the_evaluation_as_it_fails_an_update(tmp_path):
    pack = write_pack(
        tmp_path / "raising",
        "from pulumi_policy import PolicyPack, ResourceValidationPolicy\n"
        "def boom(args, report):\n"
        "    raise RuntimeError('bug in policy')\n"
        "PolicyPack(name='raising', policies=[ResourceValidationPolicy("
        "name='boom', description='d', validate=boom)])\n",
    )

    with pytest.raises(PolicyPackError, match="bug in policy"):
        evaluate_pack(pack, EVIL)


# --- leaves the process as it found it --------------------------------------------------------


def test_evaluating_leaves_environment_cwd_runtime_and_modules_alone():
    before_env = {k: os.environ.get(k) for k in ("PULUMI_CONFIG", "PULUMI_STACK", "PULUMI_PROJECT")}
    before_cwd = Path.cwd()
    before_stack = pulumi.get_stack()

    evaluate_pack(PACK, plan_of(*EVIL.resources, config={"draft:team": "x"}))

    assert {k: os.environ.get(k) for k in before_env} == before_env
    assert Path.cwd() == before_cwd
    assert pulumi.get_stack() == before_stack
    assert not {"vault_ttl", "pack_support", "draft_isolation"} & set(sys.modules)


def test_two_packs_with_the_same_module_names_do_not_mix(tmp_path):
    first = write_pack(
        tmp_path / "first",
        "from rules import POLICIES\nfrom pulumi_policy import PolicyPack\n"
        "PolicyPack(name='first', policies=POLICIES)\n",
    )
    second = tmp_path / "second"
    second.mkdir()
    for name in ("PulumiPolicy.yaml", "__main__.py"):
        (second / name).write_text((first / name).read_text().replace("first", "second"))
    template = (
        "from pulumi_policy import ResourceValidationPolicy\n"
        "POLICIES = [ResourceValidationPolicy(name='{name}', description='d',\n"
        "    validate=lambda args, report: report('{name} ran', None))]\n"
    )
    (first / "rules.py").write_text(template.format(name="from-first"))
    (second / "rules.py").write_text(template.format(name="from-second"))

    ran_first = {f.policy for f in evaluate_pack(first, EVIL)}
    ran_second = {f.policy for f in evaluate_pack(second, EVIL)}

    assert ran_first == {"from-first"} and ran_second == {"from-second"}
