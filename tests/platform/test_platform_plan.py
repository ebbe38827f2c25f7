"""The platform stack's offline plan: what it creates, how config is checked, the reaper script.

What the objects do in a cluster is proved in tests/cluster/test_platform_cluster.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from components.platform.reaper import SCRIPT
from tests.conftest import unavailable
from tests.plan.conftest import envctl


def test_the_platform_plan_passes_the_pack_and_reaps_within_fifteen_minutes() -> None:
    run = envctl("plan", "platform", "--json")
    assert run.code == 0, run.stderr
    document = json.loads(run.stdout)
    by_name = {(r["type"].rsplit(":", 1)[-1], r["name"]): r for r in document["resources"]}
    cron = by_name[("CronJob", "platform-reaper-cronjob")]["inputs"]
    assert cron["spec"]["schedule"] == "*/5 * * * *"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    role = by_name[("ClusterRole", "platform-reaper-role")]["inputs"]
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "delete"]}
    ]
    assert ("ValidatingAdmissionPolicy", "platform-pipelines-policy") in by_name
    # Vault's reviewer: only system:auth-delegator; its token never enters the program.
    reviewer = by_name[("ClusterRoleBinding", "platform-vault-reviewer-binding")]["inputs"]
    assert reviewer["roleRef"]["name"] == "system:auth-delegator"
    token = by_name[("Secret", "platform-vault-reviewer-token")]["inputs"]
    assert token["type"] == "kubernetes.io/service-account-token"
    assert "data" not in token and "stringData" not in token
    assert document["policy"]["violations"] == []


def test_every_platform_manifest_is_valid_kubernetes_1_34(tmp_path: Path) -> None:
    run = envctl("plan", "platform", "--out", str(tmp_path))
    assert run.code == 0, run.stderr
    manifests = [yaml.safe_load(p.read_text()) for p in sorted(tmp_path.glob("*.yaml"))]
    kinds = {m["kind"] for m in manifests}
    assert {"CronJob", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"} <= kinds
    for manifest in manifests:
        kubernetes_validate.validate(manifest, "1.34.0", strict=True)


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("platform:reaper.intervalMinutes=60", "platform:reaper.intervalMinutes"),
        ("platform:reaper.intervalMinutes=0", "platform:reaper.intervalMinutes"),
        ("platform:reaper.image=Alpine K8s", "platform:reaper.image"),
        ("platform:reaper.image=alpine/k8s:latest", "platform:reaper.image"),
        ("platform:pipelines.usernamePrefix=ci runner", "platform:pipelines.usernamePrefix"),
        ("platform:namespace=Environments", "platform:namespace"),
        ("platform:reaper.schedule=* * * * *", "platform:reaper.schedule"),
    ],
)
def test_bad_platform_config_exits_2_naming_the_key(setting: str, named: str) -> None:
    run = envctl("plan", "platform", "--set", setting)
    assert run.code == 2, run.stdout
    assert named in run.stderr
    assert "Traceback" not in run.stderr


def test_the_reaper_script_is_shellcheck_clean_posix_sh() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        unavailable("shellcheck is not installed (bash tools/install-system-deps.sh)")
    done = subprocess.run(
        [shellcheck, "--shell=sh", "--severity=style", str(SCRIPT)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout
