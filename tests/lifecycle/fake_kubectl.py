"""A recorded ``kubectl`` for the orphan sweep's decisions: namespaces in memory.

It answers ``get namespaces --selector K=V,... --output json`` the way the API server
filters (every label must match) and ``delete namespace N`` by marking N terminating; every
call is recorded. The real cluster proves the rest (tests/cluster/test_orphan_sweep.py).
"""

from __future__ import annotations

import json
import subprocess
from datetime import datetime
from typing import Any


class FakeKubectl:
    def __init__(self, *namespaces: dict[str, Any]) -> None:
        self.namespaces = list(namespaces)
        self.calls: list[list[str]] = []
        self.failing_deletes: set[str] = set()
        self.get_error: str | None = None

    def __call__(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(args)
        if args[:2] == ["get", "namespaces"]:
            if self.get_error is not None:
                return self._done(1, stderr=self.get_error)
            wanted = dict(p.split("=", 1) for p in args[args.index("--selector") + 1].split(","))
            items = [
                ns
                for ns in self.namespaces
                if wanted.items() <= (ns["metadata"].get("labels") or {}).items()
            ]
            return self._done(0, json.dumps({"kind": "NamespaceList", "items": items}))
        if args[:2] == ["delete", "namespace"]:
            name = args[2]
            if name in self.failing_deletes:
                return self._done(1, stderr=f'namespaces "{name}" is forbidden: denied')
            for ns in self.namespaces:
                if ns["metadata"]["name"] == name:
                    ns["metadata"]["deletionTimestamp"] = "2026-11-22T12:00:00Z"
            return self._done(0, f'namespace "{name}" deleted')
        raise AssertionError(f"unexpected kubectl call: {args}")

    def deleted(self) -> list[str]:
        return [c[2] for c in self.calls if c[:2] == ["delete", "namespace"]]

    @staticmethod
    def _done(code: int, stdout: str = "", stderr: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(["kubectl"], code, stdout, stderr)


def draft_namespace(
    slug: str, owner: str, team: str, service: str, created: datetime, **labels: str
) -> dict[str, Any]:
    """A draft namespace as ``components/draft`` labels it."""
    return {
        "metadata": {
            "name": f"draft-{slug}-{owner}",
            "creationTimestamp": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "labels": {
                "app.kubernetes.io/managed-by": "environments",
                "environments.dev/kind": "draft",
                "environments.dev/branch": slug,
                "environments.dev/team": team,
                "environments.dev/service": service,
                **labels,
            },
        }
    }
