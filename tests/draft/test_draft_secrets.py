"""No secret in clear, and no credential where it is not used.

draft:secrets (what `envctl draft up` reads from Vault) is used only where Pulumi itself needs
a value at deploy time, always as a Pulumi secret; the app's runtime secrets reach the
namespace through External Secrets, key by key, and never through Pulumi at all; the database
password is made in the cluster. Config set with `pulumi config set --secret` stays a secret
wherever it goes, or is refused.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from automation.plan.model import contains_secret, reveal
from automation.plan.render import plan_document
from automation.plan.runner import run_program
from automation.plan.stack_config import StackConfig, load_stack_config
from tests.draft.conftest import REPO, STACK, Draft, draft, envctl

REGISTRY_USER = "ci-bot-sentinel-user"
REGISTRY_PASSWORD = "hunter2-SENTINEL-registry-pw"
DATABASE_URL = "postgresql://app:SENTINEL-db-pw@db.example.com:5432/app"
APP_ONLY = "SENTINEL-app-api-key-never-in-state"
SECRETS = json.dumps(
    {
        "registryUsername": REGISTRY_USER,
        "registryPassword": REGISTRY_PASSWORD,
        "databaseUrl": DATABASE_URL,
        "appApiKey": APP_ONLY,
    }
)
EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret"
PASSWORD = "kubernetes:generators.external-secrets.io/v1alpha1:Password"
ENCRYPTED = "v1:AAAABBBBCCCCDDDDEEEE"


def _external_secrets(plan: Draft) -> dict[str, dict[str, Any]]:
    return {e.inputs["metadata"]["name"]: e.inputs for e in plan.of_type(EXTERNAL_SECRET)}


def _pod(plan: Draft, name: str) -> dict[str, Any]:
    return plan.named(name).inputs["spec"]["template"]["spec"]


def _secret_refs(pod: dict[str, Any]) -> set[tuple[str, str | None]]:
    """(Secret, key) pairs a pod reads: env, envFrom (key None) and image pull secrets."""
    refs: set[tuple[str, str | None]] = set()
    for container in pod["containers"]:
        for env in container.get("env", []):
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                refs.add((ref["name"], ref["key"]))
        for source in container.get("envFrom", []):
            refs.add((source["secretRef"]["name"], None))
    refs |= {(p["name"], None) for p in pod.get("imagePullSecrets", [])}
    return refs


# --- Pulumi's own secrets --------------------------------------------------------------


def test_registry_credentials_and_database_url_never_appear_in_clear(tmp_path: Path) -> None:
    out = tmp_path / "manifests"
    run = envctl(
        "plan",
        STACK,
        "--json",
        "--out",
        str(out),
        "--set",
        f"draft:secrets={SECRETS}",
        "--set",
        "draft:database.mode=external",
    )
    assert run.code == 0, run.stderr
    written = "\n".join(p.read_text() for p in sorted(out.glob("*.yaml")))
    for sentinel in (REGISTRY_USER, REGISTRY_PASSWORD, "SENTINEL-db-pw", APP_ONLY):
        assert sentinel not in run.stdout
        assert sentinel not in run.stderr
        assert sentinel not in written
    document = json.loads(run.stdout)
    by_name = {r["name"]: r for r in document["resources"]}
    # The engine sends an object holding a secret as one secret value.
    assert by_name["draft-image"]["inputs"]["registry"] == "[secret]"
    assert by_name["draft-db-secret"]["inputs"]["stringData"] == "[secret]"


def test_without_registry_credentials_the_push_uses_the_ci_login() -> None:
    image = draft().named("draft-image")
    assert "registry" not in image.inputs


def test_one_registry_credential_without_the_other_is_refused() -> None:
    run = envctl("plan", STACK, "--set", 'draft:secrets={"registryUsername": "u"}')
    assert run.code == 2
    assert "draft:secrets" in run.stderr and "registryPassword" in run.stderr


def test_outputs_hold_no_secret() -> None:
    outputs = draft(f"draft:secrets={SECRETS}").plan.outputs
    assert not contains_secret(outputs)
    assert set(outputs) == {"url", "namespace", "image", "expires_at", "smoke"}


# --- the database password: made in the cluster ----------------------------------------


def test_the_database_password_is_generated_in_the_cluster_once() -> None:
    plan = draft()
    assert [r.type for r in plan.plan.resources if r.type.startswith("random:")] == []
    generator = plan.one(PASSWORD).inputs
    assert generator["spec"]["length"] >= 32 and generator["spec"]["symbols"] == 0
    db = _external_secrets(plan)["db"]["spec"]
    assert db["refreshInterval"] == "0"  # generated once, never rotated under the volume
    assert "secretStoreRef" not in db  # a generator, not Vault
    (source,) = db["dataFrom"]
    assert source["sourceRef"]["generatorRef"] == {
        "apiVersion": "generators.external-secrets.io/v1alpha1",
        "kind": "Password",
        "name": generator["metadata"]["name"],
    }
    template = db["target"]["template"]["data"]
    host = f"db.{plan.namespace.inputs['metadata']['name']}.svc.cluster.local"
    assert template["url"] == f"postgresql://app:{{{{ .password }}}}@{host}:5432/app"
    assert template["password"] == "{{ .password }}"
    # The app, the migrations and PostgreSQL read that Secret.
    assert plan.named("draft-release").inputs["values"]["database"] == {
        "existingSecret": "db",
        "urlKey": "url",
    }
    assert ("db", "url") in _secret_refs(_pod(plan, "draft-migrations"))
    assert ("db", "password") in _secret_refs(_pod(plan, "draft-db"))


def test_pulumi_writes_no_kubernetes_secret_for_a_dedicated_database() -> None:
    plan = draft(f"draft:secrets={SECRETS}")
    for resource in plan.plan.resources:
        assert APP_ONLY not in json.dumps(reveal(resource.inputs)), resource.name
    assert APP_ONLY not in json.dumps(plan.plan.outputs)
    assert plan.of_type("kubernetes:core/v1:Secret") == []


# --- External Secrets: named keys, one Secret per use ----------------------------------


def test_the_app_gets_exactly_the_keys_it_reads() -> None:
    plan = draft()
    app = _external_secrets(plan)["tasks-secrets"]["spec"]
    assert "dataFrom" not in app
    assert app["data"] == [
        {
            "secretKey": "SMOKE_USERNAME",
            "remoteRef": {"key": "platform/tasks", "property": "smokeUsername"},
        },
        {
            "secretKey": "SMOKE_PASSWORD",
            "remoteRef": {"key": "platform/tasks", "property": "smokePassword"},
        },
    ]  # draft:externalSecrets.env of Pulumi.draft.yaml
    assert plan.named("draft-release").inputs["values"]["envFromSecrets"] == ["tasks-secrets"]


def test_no_external_secret_copies_a_whole_vault_path_or_the_push_credentials() -> None:
    plan = draft("draft:externalSecrets.env.tasks.API_KEY=apiKey")
    for name, secret in _external_secrets(plan).items():
        spec = secret["spec"]
        assert all("extract" not in source for source in spec.get("dataFrom", [])), name
        if name != "registry-pull":
            properties = {d["remoteRef"]["property"] for d in spec.get("data", [])}
            assert not properties & {"registryUsername", "registryPassword"}, name
    app = _external_secrets(plan)["tasks-secrets"]["spec"]["data"]
    assert {
        "secretKey": "API_KEY",
        "remoteRef": {"key": "platform/tasks", "property": "apiKey"},
    } in app


def test_every_pod_reads_only_the_secrets_it_uses() -> None:
    plan = draft()
    assert _secret_refs(_pod(plan, "draft-migrations")) == {("db", "url"), ("registry-pull", None)}
    assert _secret_refs(_pod(plan, "draft-smoke")) == {
        ("smoke-credentials", "username"),
        ("smoke-credentials", "password"),
    }
    assert _secret_refs(_pod(plan, "draft-db")) == {("db", "password")}
    assert _secret_refs(_pod(plan, "draft-mock-payments-mock")) == set()
    smoke = _external_secrets(plan)["smoke-credentials"]["spec"]
    assert {d["remoteRef"]["property"] for d in smoke["data"]} == {"smokeUsername", "smokePassword"}


def test_the_pull_secret_comes_from_its_read_only_path_and_never_stalls_the_update() -> None:
    plan = draft(f"draft:secrets={SECRETS}")
    pull = _external_secrets(plan)["registry-pull"]
    spec = pull["spec"]
    assert {d["remoteRef"]["key"] for d in spec["data"]} == {"platform/registry-pull"}
    template = spec["target"]["template"]
    assert template["type"] == "kubernetes.io/dockerconfigjson"
    rendered = template["data"][".dockerconfigjson"]
    assert "{{ .password }}" in rendered and REGISTRY_PASSWORD not in rendered
    assert not contains_secret(pull)
    # A missing key must not hold the update for the await timeout: no await at all.
    annotations = pull["metadata"]["annotations"]
    assert annotations == {"pulumi.com/skipAwait": "true"}
    for name, secret in _external_secrets(plan).items():
        if name != "registry-pull":
            assert secret["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=Ready"


def test_without_a_pull_path_no_pod_gets_a_pull_secret() -> None:
    plan = draft("draft:externalSecrets.registryPullPath=")
    assert "registry-pull" not in _external_secrets(plan)
    assert plan.named("draft-release").inputs["values"]["imagePullSecrets"] == []
    assert "imagePullSecrets" not in _pod(plan, "draft-migrations")


def test_each_service_with_keys_gets_its_own_external_secret_and_the_others_none() -> None:
    services = (
        "draft:externalSecrets.services[0]=tasks",
        "draft:externalSecrets.services[1]=billing",
    )
    plan = draft(*services, "draft:externalSecrets.env.billing.BILLING_KEY=apiKey")
    billing = _external_secrets(plan)["billing-secrets"]["spec"]["data"]
    assert billing == [
        {"secretKey": "BILLING_KEY", "remoteRef": {"key": "platform/billing", "property": "apiKey"}}
    ]
    values = plan.named("draft-release").inputs["values"]
    assert values["envFromSecrets"] == ["tasks-secrets", "billing-secrets"]
    # billing synced but with no keys the app reads: no ExternalSecret, nothing in the pods.
    plan = draft(*services)
    assert "billing-secrets" not in _external_secrets(plan)
    assert plan.named("draft-release").inputs["values"]["envFromSecrets"] == ["tasks-secrets"]


def test_keys_of_a_service_that_is_not_synced_are_refused() -> None:
    run = envctl("plan", STACK, "--set", "draft:externalSecrets.env.billing.KEY=apiKey")
    assert run.code == 2, run.stderr
    assert "draft:externalSecrets.env.billing" in run.stderr and "Traceback" not in run.stderr


# --- secret config stays secret --------------------------------------------------------


def _plan_with_secret_keys(overrides: list[str], secret: set[str]) -> dict[str, Any]:
    """The plan JSON as the real engine would run it: decrypted values, keys marked secret."""
    config = load_stack_config(REPO, STACK, overrides)
    config = StackConfig(config.project, config.values, config.secret_keys | secret)
    plan, _ = run_program(REPO, STACK, config)
    document = plan_document(plan, [])
    return {"raw": plan, "document": document, "text": json.dumps(document)}


def test_secret_helm_values_reach_the_release_as_a_secret() -> None:
    sentinel = "SENTINEL-helm-value-9f2"
    run = _plan_with_secret_keys([f"draft:chart.values.draft.token={sentinel}"], {"draft:chart"})
    assert sentinel not in run["text"]
    release = next(r for r in run["document"]["resources"] if r["name"] == "draft-release")
    assert release["inputs"]["values"] == "[secret]"
    raw = next(r for r in run["raw"].resources if r.name == "draft-release")
    assert sentinel in json.dumps(reveal(raw.inputs))  # it is there, only hidden


def test_secret_build_args_reach_the_build_as_a_secret() -> None:
    sentinel = "SENTINEL-npm-token-41c"
    run = _plan_with_secret_keys([f"draft:image.buildArgs.NPM_TOKEN={sentinel}"], {"draft:image"})
    assert sentinel not in run["text"]
    image = next(r for r in run["document"]["resources"] if r["name"] == "draft-image")
    build = image["inputs"]["build"]  # an object holding a secret is sent as one secret
    assert build == "[secret]" or build["args"] == "[secret]"
    raw = next(r for r in run["raw"].resources if r.name == "draft-image")
    assert sentinel in json.dumps(reveal(raw.inputs))


def test_plain_helm_values_stay_plain() -> None:
    values = draft("draft:chart.values.draft.note=hello").named("draft-release").inputs["values"]
    assert not contains_secret(values) and values["draft"]["note"] == "hello"


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """This project without tests and caches, to write a stack file with encrypted values."""
    skip = shutil.ignore_patterns(
        ".venv",
        ".git",
        "tests",
        "bench",
        "docs",
        "*cache*",
        "__pycache__",
        "*.egg-info",
        ".toolchain",
    )
    copy = tmp_path / "project"
    shutil.copytree(REPO, copy, ignore=skip)
    return copy


def _stack_file(project: Path, extra: str) -> None:
    (project / f"Pulumi.{STACK}.yaml").write_text(
        "config:\n  draft:sha: 0123456789abcdef0123456789abcdef01234567\n" + extra
    )


def test_an_encrypted_helm_value_is_a_secret_in_the_offline_plan(project_copy: Path) -> None:
    _stack_file(
        project_copy,
        f"  draft:chart:\n    values:\n      draft:\n        token:\n          secure: {ENCRYPTED}\n",
    )
    run = envctl("plan", STACK, "--cwd", str(project_copy), "--json")
    assert run.code == 0, run.stderr
    by_name = {r["name"]: r for r in json.loads(run.stdout)["resources"]}
    assert by_name["draft-release"]["inputs"]["values"] == "[secret]"
    assert ENCRYPTED not in run.stdout + run.stderr


@pytest.mark.parametrize(
    ("key", "yaml_value"),
    [
        ("draft:mocks", f"\n    secure: {ENCRYPTED}\n"),
        ("draft:team", f"\n    secure: {ENCRYPTED}\n"),
        ("draft:network", f"\n    ingressControllerNamespace:\n      secure: {ENCRYPTED}\n"),
    ],
)
def test_secret_config_that_would_be_used_in_clear_is_refused(
    project_copy: Path, key: str, yaml_value: str
) -> None:
    _stack_file(project_copy, f"  {key}:{yaml_value}")
    run = envctl("plan", STACK, "--cwd", str(project_copy))
    assert run.code == 2, run.stderr
    assert key in run.stderr and "secret config" in run.stderr
    assert ENCRYPTED not in run.stderr and "Traceback" not in run.stderr
