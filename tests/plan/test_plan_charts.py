"""The objects of Helm releases are in the plan: rendered by the real `helm template`.

The chart's Deployment, Service and Ingress reach the plan JSON, `--out` and the policy pack;
a chart that sets `:latest`, a LoadBalancer or no limits is caught; values its
values.schema.json refuses are bad input (exit 2).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from automation.plan.charts import helm_command
from tests.conftest import unavailable
from tests.plan.conftest import envctl

CHARTS = Path(__file__).resolve().parent / "charts"

CARELESS_PROGRAM = """\
import pulumi_kubernetes as k8s

k8s.helm.v3.Release(
    "web",
    name="web",
    namespace="draft-hurry",
    chart={chart!r},
    values={values!r},
)
"""


@pytest.fixture(autouse=True)
def helm() -> None:
    if helm_command() is None:
        unavailable("the Helm CLI is not built: run `make toolchain`")


def test_the_drafts_chart_objects_are_planned_in_its_namespace(tmp_path: Path) -> None:
    run = envctl("plan", "draft-feature-x", "--json", "--out", str(tmp_path))

    assert run.code == 0, run.stderr
    document = json.loads(run.stdout)
    (release,) = [r for r in document["resources"] if r["type"].endswith("helm.sh/v3:Release")]
    children = {r["type"]: r for r in document["resources"] if r["parent"] == release["urn"]}
    assert set(children) == {
        "kubernetes:apps/v1:Deployment",
        "kubernetes:core/v1:Service",
        "kubernetes:networking.k8s.io/v1:Ingress",
    }
    namespace = document["outputs"]["namespace"]
    deployment = children["kubernetes:apps/v1:Deployment"]["inputs"]
    assert deployment["metadata"]["namespace"] == namespace
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == document["outputs"]["image"]
    assert container["resources"]["limits"]
    written = [yaml.safe_load(p.read_text()) for p in tmp_path.rglob("*.yaml")]
    assert any(m["kind"] == "Ingress" and m["metadata"]["namespace"] == namespace for m in written)


def test_a_careless_chart_is_caught_by_the_policy_pack(program) -> None:  # type: ignore[no-untyped-def]
    cwd = program(CARELESS_PROGRAM.format(chart=str(CHARTS / "careless"), values={"replicas": 1}))

    run = envctl("plan", "draft-hurry", "--json", "--cwd", str(cwd))

    assert run.code == 1, run.stderr
    found = {
        (v["policy"], v["urn"].rsplit("::", 1)[0].rsplit("$", 1)[-1])
        for v in json.loads(run.stdout)["policy"]["violations"]
        if v["level"] == "mandatory"
    }
    assert ("draft-image-tags", "kubernetes:apps/v1:Deployment") in found
    assert ("draft-resource-limits", "kubernetes:apps/v1:Deployment") in found
    assert ("draft-service-exposure", "kubernetes:core/v1:Service") in found


def test_values_the_charts_schema_refuses_are_bad_input(program) -> None:  # type: ignore[no-untyped-def]
    cwd = program(
        CARELESS_PROGRAM.format(chart=str(CHARTS / "careless"), values={"replicas": "many"})
    )

    run = envctl("plan", "draft-hurry", "--cwd", str(cwd))

    assert run.code == 2, run.stderr
    assert "careless" in run.stderr and "values.schema.json" in run.stderr
    assert "replicas" in run.stderr
