"""Keep the logs of a draft's failed pods before a rollback replaces them.

A failed update leaves failed pods (the new commit's migration Job, a crashing app, the
smoke Job); the rollback deletes or replaces them, and their logs with them. Before it
runs, ``save_failed_pod_logs`` writes every failed container's log (``kubectl logs``, the
previous run's too when it restarted) into a directory the pipeline keeps as an artefact.
It needs ``kubectl`` and the kubeconfig Pulumi uses; without them it says why and the
rollback goes on.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from automation.lifecycle.kubectl import Run, kubectl
from automation.lifecycle.redact import Redactor


def _failed(status: Mapping[str, Any]) -> tuple[bool, bool]:
    """(this container failed, its previous run failed)."""
    state, last = status.get("state") or {}, status.get("lastState") or {}
    terminated = state.get("terminated") or {}
    waiting = state.get("waiting") or {}
    now = bool(terminated and terminated.get("exitCode", 0) != 0) or waiting.get("reason") in (
        "CrashLoopBackOff",
        "Error",
    )
    before = bool((last.get("terminated") or {}).get("exitCode", 0))
    return now or before, before


def failed_containers(pods: Mapping[str, Any]) -> Iterator[tuple[str, str, bool]]:
    """(pod, container, previous) of every failed container in a ``kubectl get pods -o json``."""
    for pod in pods.get("items", []):
        name = pod.get("metadata", {}).get("name", "")
        status = pod.get("status", {})
        statuses = [*status.get("initContainerStatuses", []), *status.get("containerStatuses", [])]
        pod_failed = status.get("phase") == "Failed"
        for container in statuses:
            failed, previous = _failed(container)
            if failed or pod_failed:
                yield name, str(container.get("name", "")), previous


def save_failed_pod_logs(
    namespace: str, out_dir: Path, redact: Redactor, run: Run = kubectl
) -> str:
    """Write the failed containers' logs of ``namespace`` into ``out_dir``; a one-line summary."""
    if run is kubectl and shutil.which("kubectl") is None:
        return "failed pods' logs not kept: kubectl is not on PATH"
    listed = run(["get", "pods", "--namespace", namespace, "--output", "json"])
    if listed.returncode != 0:
        return (
            f"failed pods' logs not kept: kubectl get pods failed: {redact(listed.stderr.strip())}"
        )
    try:
        pods = json.loads(listed.stdout)
    except json.JSONDecodeError:
        return "failed pods' logs not kept: kubectl get pods printed no JSON"
    written: list[Path] = []
    for pod, container, previous in failed_containers(pods):
        out_dir.mkdir(parents=True, exist_ok=True)
        base = ["logs", "--namespace", namespace, pod, "--container", container, "--timestamps"]
        runs = [("", base)] + ([(".previous", [*base, "--previous"])] if previous else [])
        for suffix, args in runs:
            done = run(args)
            text = done.stdout if done.returncode == 0 else f"(kubectl logs failed: {done.stderr})"
            path = out_dir / f"{pod}.{container}{suffix}.log"
            path.write_text(redact(text), encoding="utf-8")
            written.append(path)
    if not written:
        return f"no failed pods in {namespace}"
    return f"kept the logs of {len(written)} failed container runs in {out_dir}/"
