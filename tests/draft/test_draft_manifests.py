"""`envctl plan --out DIR` writes manifests the API server would accept.

Built-in kinds: kubernetes-validate, strict, against one pinned Kubernetes version. Custom
resources (External Secrets, Prometheus Operator): the JSON Schemas in schemas/ (subsets of
the official CRDs, see schemas/README.md). No kind goes unchecked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.draft.conftest import STACK, envctl

KUBERNETES_VERSION = "1.34.0"  # the one version every manifest is validated against
SCHEMAS = Path(__file__).parent / "schemas"
CRD_SCHEMAS = {
    ("external-secrets.io/v1", "ExternalSecret"): "externalsecret-v1.json",
    ("external-secrets.io/v1", "SecretStore"): "secretstore-v1.json",
    ("generators.external-secrets.io/v1alpha1", "Password"): "password-v1alpha1.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrule-v1.json",
}
EXPECTED_KINDS = {
    "Namespace",
    "ResourceQuota",
    "LimitRange",
    "NetworkPolicy",
    "ServiceAccount",
    "PersistentVolumeClaim",
    "StatefulSet",
    "Service",
    "Deployment",
    "Ingress",  # the app chart's, rendered by helm template
    "ConfigMap",
    "Job",
    "SecretStore",
    "ExternalSecret",
    "Password",
    "PrometheusRule",
}


@pytest.fixture(scope="module")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("manifests")
    run = envctl("plan", STACK, "--out", str(out))
    assert run.code == 0, run.stderr
    return [yaml.safe_load(path.read_text()) for path in sorted(out.glob("*.yaml"))]


def _unredacted(manifest: dict[str, Any]) -> dict[str, Any]:
    """A Secret's data as the API server would get it: the plan shows a map of secret values
    as the single string ``[secret]``; any map of strings stands in for it."""
    if manifest["kind"] != "Secret":
        return manifest
    return {
        k: ({"redacted": "value"} if k in ("data", "stringData") and v == "[secret]" else v)
        for k, v in manifest.items()
    }


def validate(manifest: dict[str, Any]) -> None:
    manifest = _unredacted(manifest)
    key = (manifest["apiVersion"], manifest["kind"])
    if key in CRD_SCHEMAS:
        schema = json.loads((SCHEMAS / CRD_SCHEMAS[key]).read_text())
        jsonschema.Draft7Validator(schema).validate(manifest)
    else:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def test_every_manifest_is_valid(manifests: list[dict[str, Any]]) -> None:
    for manifest in manifests:
        validate(manifest)


def test_every_kind_of_the_draft_is_written(manifests: list[dict[str, Any]]) -> None:
    assert {m["kind"] for m in manifests} == EXPECTED_KINDS


def test_the_draft_writes_no_secret_of_its_own(manifests: list[dict[str, Any]]) -> None:
    # The database password is generated in the cluster; everything else comes from Vault.
    assert [m for m in manifests if m["kind"] == "Secret"] == []


def test_an_external_database_url_is_written_without_its_value(tmp_path: Path) -> None:
    url = "postgresql://app:SENTINEL-pw@db.example.com:5432/app"
    run = envctl(
        "plan",
        STACK,
        "--out",
        str(tmp_path),
        "--set",
        "draft:database.mode=external",
        "--set",
        f'draft:secrets={{"databaseUrl": "{url}"}}',
    )
    assert run.code == 0, run.stderr
    manifests = [yaml.safe_load(p.read_text()) for p in sorted(tmp_path.glob("*.yaml"))]
    (secret,) = [m for m in manifests if m["kind"] == "Secret"]
    validate(secret)
    data = secret["stringData"]
    # Masked whole or key by key: no value of the Secret is written.
    assert data == "[secret]" or set(data.values()) == {"[secret]"}, data
    assert all("SENTINEL-pw" not in p.read_text() for p in tmp_path.glob("*.yaml"))


@pytest.mark.parametrize(
    ("kind", "path", "bad"),
    [
        ("ExternalSecret", ("spec", "target", "creationPolicy"), "Always"),
        ("Password", ("spec", "length"), "long"),
        ("SecretStore", ("spec", "provider", "vault", "version"), "v3"),
        ("PrometheusRule", ("spec", "groups", 0, "interval"), "5 minutes"),
        ("NetworkPolicy", ("spec", "podSelector"), "everything"),
        ("Job", ("spec", "backoffLimit"), "twice"),
    ],
)
def test_the_validators_refuse_a_broken_object(
    manifests: list[dict[str, Any]], kind: str, path: tuple[Any, ...], bad: Any
) -> None:
    manifest = json.loads(json.dumps(next(m for m in manifests if m["kind"] == kind)))
    node = manifest
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = bad
    with pytest.raises((jsonschema.ValidationError, kubernetes_validate.ValidationError)):
        validate(manifest)
