"""Present a Plan: the resource tree, the plan JSON document and Kubernetes manifests."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import yaml
from rich.markup import escape
from rich.tree import Tree

from automation.plan.model import ROOT_STACK_TYPE, Plan, PlannedResource, redact, redact_leaves

_K8S_TYPE = re.compile(r"kubernetes:(?P<group>[^:]+)/(?P<version>v[^:]+):(?P<kind>[A-Za-z]+)")
_NOT_OBJECTS = ("helm.sh", "yaml", "kustomize")
_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9_-]+")


class Finding(Protocol):
    """A policy finding as the plan shows it (see automation.plan.policy.PolicyFinding)."""

    @property
    def policy(self) -> str: ...
    @property
    def level(self) -> str: ...
    @property
    def urn(self) -> str | None: ...
    @property
    def message(self) -> str: ...


def stack_urn(plan: Plan) -> str:
    return (
        f"urn:pulumi:{plan.stack}::{plan.project}::{ROOT_STACK_TYPE}::{plan.project}-{plan.stack}"
    )


def plan_document(plan: Plan, findings: Sequence[Finding]) -> dict[str, Any]:
    """The plan JSON of DESIGN.md; every secret value is the string ``[secret]``."""
    root = stack_urn(plan)
    resources: list[dict[str, Any]] = [
        {
            "urn": root,
            "type": ROOT_STACK_TYPE,
            "name": f"{plan.project}-{plan.stack}",
            "parent": None,
            "dependsOn": [],
            "inputs": {},
        }
    ]
    for r in plan.resources:
        resources.append(
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "parent": r.parent or root,
                "dependsOn": sorted(set(r.depends_on)),
                "inputs": redact(r.inputs),
            }
        )
    return {
        "project": plan.project,
        "stack": plan.stack,
        "resources": resources,
        "outputs": redact(plan.outputs),
        "policy": {
            "violations": [
                {"policy": f.policy, "level": f.level, "urn": f.urn, "message": f.message}
                for f in findings
            ]
        },
    }


def _label(resource: PlannedResource) -> str:
    metadata = resource.inputs.get("metadata")
    real_name = metadata.get("name") if isinstance(metadata, dict) else None
    suffix = f"  [dim]{escape(str(redact(real_name)))}[/]" if isinstance(real_name, str) else ""
    kind = "" if resource.custom else "  [dim](component)[/]"
    return f"[bold]{escape(resource.name)}[/]  [cyan]{escape(resource.type)}[/]{kind}{suffix}"


def resource_tree(plan: Plan) -> Tree:
    """The resources as a tree of parents and children, in registration order."""
    root_urn = stack_urn(plan)
    children: dict[str, list[PlannedResource]] = defaultdict(list)
    known = {r.urn for r in plan.resources}
    for r in plan.resources:
        children[r.parent if r.parent in known else root_urn].append(r)
    tree = Tree(
        f"[bold]{escape(plan.project)}[/] / [bold green]{escape(plan.stack)}[/]"
        f"  ({len(plan.resources)} resources)"
    )

    def add(node: Tree, urn: str) -> None:
        for child in children.get(urn, []):
            add(node.add(_label(child)), child.urn)

    add(tree, root_urn)
    return tree


def kubernetes_objects(plan: Plan) -> list[tuple[PlannedResource, dict[str, Any]]]:
    """Every Kubernetes object the plan creates, as a manifest (secret leaves as ``[secret]``)."""
    objects = []
    for r in plan.resources:
        match = _K8S_TYPE.fullmatch(r.type)
        if not r.custom or match is None or match["group"].split("/")[0] in _NOT_OBJECTS:
            continue
        group, version, kind = match["group"], match["version"], match["kind"]
        body = redact_leaves(r.inputs)
        manifest: dict[str, Any] = {
            "apiVersion": body.pop(
                "apiVersion", version if group == "core" else f"{group}/{version}"
            ),
            "kind": body.pop("kind", kind),
        }
        manifest.update(body)
        objects.append((r, manifest))
    return objects


def manifest_file_name(index: int, kind: str, name: str) -> str:
    """``007-secret-db-creds.yaml``: letters, digits, '_' and '-' only (never a path)."""
    safe = _UNSAFE_IN_FILE_NAME.sub("-", f"{kind.lower()}-{name}").strip("-")[:100]
    return f"{index:03d}-{safe or 'object'}.yaml"


def write_manifests(plan: Plan, out_dir: Path) -> list[Path]:
    """Write one YAML file per Kubernetes object into ``out_dir``; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for index, (resource, manifest) in enumerate(kubernetes_objects(plan), start=1):
        path = out_dir / manifest_file_name(index, str(manifest["kind"]), resource.name)
        path.write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
        written.append(path)
    return written
