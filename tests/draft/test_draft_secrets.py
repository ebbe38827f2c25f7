"""No secret in clear: not in the plan JSON, not in the manifests, not in the messages.

draft:secrets (what `envctl draft up` reads from Vault) is used only where Pulumi itself needs
a value at deploy time, always as a Pulumi secret; the app's runtime secrets reach the
namespace through External Secrets and never through Pulumi at all.
"""

from __future__ import annotations

import json
from pathlib import Path

from automation.plan.model import contains_secret, reveal
from tests.draft.conftest import STACK, draft, envctl

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
MOCK_PASSWORD = "mock-password-"  # what the mocked RandomPassword generates


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


def test_the_generated_database_password_is_a_secret_everywhere(tmp_path: Path) -> None:
    out = tmp_path / "manifests"
    run = envctl("plan", STACK, "--json", "--out", str(out))
    assert run.code == 0, run.stderr
    assert MOCK_PASSWORD not in run.stdout
    assert all(MOCK_PASSWORD not in p.read_text() for p in out.glob("*.yaml"))
    plan = draft()
    secret = plan.named("draft-db-secret")
    assert contains_secret(secret.inputs["stringData"])
    assert MOCK_PASSWORD in json.dumps(reveal(secret.inputs))  # it is there, only hidden


def test_vault_values_the_app_needs_never_pass_through_pulumi() -> None:
    plan = draft(f"draft:secrets={SECRETS}")
    for resource in plan.plan.resources:
        assert APP_ONLY not in json.dumps(reveal(resource.inputs)), resource.name
    assert APP_ONLY not in json.dumps(plan.plan.outputs)
    # The only Kubernetes Secret Pulumi writes is the database's; the app's come from ESO.
    assert [s.inputs["metadata"]["name"] for s in plan.of_type("kubernetes:core/v1:Secret")] == [
        "db"
    ]


def test_without_registry_credentials_the_push_uses_the_ci_login() -> None:
    image = draft().named("draft-image")
    assert "registry" not in image.inputs


def test_one_registry_credential_without_the_other_is_refused() -> None:
    run = envctl("plan", STACK, "--set", 'draft:secrets={"registryUsername": "u"}')
    assert run.code == 2
    assert "draft:secrets" in run.stderr and "registryPassword" in run.stderr


def test_the_pull_secret_is_rendered_by_external_secrets_from_references_only() -> None:
    pull = draft(f"draft:secrets={SECRETS}").named("draft-pull-secret")
    template = pull.inputs["spec"]["target"]["template"]["data"][".dockerconfigjson"]
    assert "{{ .registryPassword }}" in template and "{{ .registryUsername }}" in template
    assert REGISTRY_PASSWORD not in template and not contains_secret(pull.inputs)


def test_outputs_hold_no_secret() -> None:
    outputs = draft(f"draft:secrets={SECRETS}").plan.outputs
    assert not contains_secret(outputs)
    assert set(outputs) == {"url", "namespace", "image", "expires_at", "smoke"}
