"""The objects a Helm release installs, rendered with the real ``helm template`` for the plan.

A ``helm.v3.Release`` installs its chart's objects itself: neither the engine nor the mock
runtime registers them, so the policy pack and ``--out`` would never see the app's Deployment,
Service or Ingress. The plan renders every Release whose chart is a local directory with the
Helm CLI (which also enforces the chart's ``values.schema.json``) and adds the objects as the
Release's children. Secret values render as ``[secret]`` and unknown ones as ``unknown``: the
plan never holds a secret in clear.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from automation.plan import model
from automation.plan.model import Plan, PlannedResource

RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
KUBERNETES_VERSION = "1.34.0"


class ChartError(Exception):
    """The chart refused its values (``values.schema.json``) or could not be rendered."""


def _renderable(value: Any) -> Any:
    # By class name: a program run from another checkout of this project brings its own copy
    # of automation.plan.model (runner.py), whose classes are not these.
    kind = type(value).__name__
    if kind == model.Secret.__name__:
        return "[secret]"
    if kind == type(model.UNKNOWN).__name__:
        return "unknown"
    if isinstance(value, dict):
        return {str(k): _renderable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_renderable(v) for v in value]
    return value


def _type_token(api_version: str, kind: str) -> str:
    group_version = api_version if "/" in api_version else f"core/{api_version}"
    return f"kubernetes:{group_version}:{kind}"


def _rendered(release: PlannedResource, plan: Plan, documents: list[Any]) -> list[PlannedResource]:
    qualified = release.urn.split("::")[2]
    namespace = _renderable(release.inputs.get("namespace"))
    objects = []
    for document in documents:
        if not isinstance(document, dict) or "kind" not in document:
            continue
        metadata = document.setdefault("metadata", {})
        if namespace and "namespace" not in metadata:
            metadata["namespace"] = namespace
        type_ = _type_token(str(document.get("apiVersion", "v1")), str(document["kind"]))
        name = str(metadata.get("name", ""))
        objects.append(
            PlannedResource(
                urn=f"urn:pulumi:{plan.stack}::{plan.project}::{qualified}${type_}::{name}",
                type=type_,
                name=name,
                custom=True,
                parent=release.urn,
                depends_on=(),
                property_dependencies={},
                inputs=document,
            )
        )
    return objects


def helm_command() -> str | None:
    """The Helm CLI: ``.toolchain/bin/helm`` of this repository, else ``helm`` on PATH."""
    built = Path(__file__).resolve().parents[2] / ".toolchain" / "bin" / "helm"
    return str(built) if built.is_file() else shutil.which("helm")


def render_releases(plan: Plan, program_dir: Path) -> list[str]:
    """Add the rendered objects of the plan's Releases to it; return warnings for those not
    rendered (no Helm CLI, a chart from a repository). Raises ChartError for refused values."""
    releases = [r for r in plan.resources if r.type == RELEASE_TYPE]
    if not releases:
        return []
    helm = helm_command()
    if helm is None:
        return ["the Helm CLI was not found: the objects of Helm releases are not in the plan"]
    warnings = []
    for release in releases:
        chart = release.inputs.get("chart")
        path = (program_dir / chart).resolve() if isinstance(chart, str) else None
        if path is None or not (path / "Chart.yaml").is_file():
            warnings.append(f"release {release.name}: chart {chart!r} is not a local chart")
            continue
        values = _renderable(release.inputs.get("values") or {})
        if not isinstance(values, dict):
            warnings.append(f"release {release.name}: its values are secret, so are its objects")
            continue
        name = _renderable(release.inputs.get("name")) or release.name
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as values_file:
            yaml.safe_dump(values, values_file)
            values_file.flush()
            done = subprocess.run(
                [helm, "template", str(name), str(path), "--values", values_file.name,
                 "--namespace", str(_renderable(release.inputs.get("namespace")) or "default"),
                 "--kube-version", KUBERNETES_VERSION],
                capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
        if done.returncode != 0:
            reason = done.stderr.strip().splitlines()[-1:] or ["helm template failed"]
            raise ChartError(f"chart {path.name} of release {release.name}: {reason[0]}")
        plan.resources.extend(_rendered(release, plan, list(yaml.safe_load_all(done.stdout))))
    return warnings
