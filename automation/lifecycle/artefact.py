"""The pipeline artefacts of ``draft up``: a JSON document and an optional dotenv file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from automation.lifecycle.drafts import DeployResult
from automation.lifecycle.redact import Redactor


def artefact(result: DeployResult, pipeline_url: str | None) -> dict[str, Any]:
    """The JSON document of one deploy; outputs are already masked, nothing secret is added.

    ``sha``, ``imageTag`` and ``smoke`` are the requested commit's; ``live`` is what serves
    the draft now (after a rollback: the last good commit, its image and its smoke test),
    null when that is unknown (a failure with no rollback, or a failed rollback). ``watch``
    is the post-deploy watch's verdict and summary (null without ``--watch``).
    """
    plan = result.plan
    live = None
    if result.live_sha is not None:
        live = {
            "sha": result.live_sha,
            "imageTag": result.live_image_tag,
            "smoke": result.live_smoke,
        }
    return {
        "stack": plan.names.stack,
        "branch": plan.names.branch,
        "sha": plan.sha,
        "imageTag": plan.names.image_tag,
        "namespace": plan.names.namespace,
        "helmRelease": plan.names.helm_release,
        "team": plan.team,
        "status": result.status,
        "smoke": result.smoke,
        "url": result.url,
        "expiresAt": plan.expires_at.isoformat(),
        "live": live,
        "rolledBackTo": result.rolled_back_to,
        "error": result.error,
        "watch": None
        if result.watch is None
        else {"verdict": result.watch.verdict, "summary": result.watch.summary()},
        "created": result.created,
        "pipelineUrl": pipeline_url,
        "outputs": dict(result.outputs),
    }


def _write(path: Path, text: str) -> None:
    """Write atomically, so a pipeline never picks up half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def write_json(path: Path, document: dict[str, Any], redact: Redactor) -> None:
    """The artefact as JSON; any registered secret that slipped in is masked."""
    _write(path, redact(json.dumps(document, indent=2, sort_keys=True)) + "\n")


def write_dotenv(path: Path, document: dict[str, Any]) -> None:
    """``DRAFT_URL=...`` lines for GitLab's ``artifacts:reports:dotenv`` (environment URL)."""
    keys = {
        "DRAFT_URL": "url",
        "DRAFT_STACK": "stack",
        "DRAFT_IMAGE_TAG": "imageTag",
        "DRAFT_LIVE_SHA": "liveSha",
        "DRAFT_STATUS": "status",
        "DRAFT_SMOKE": "smoke",
        "DRAFT_EXPIRES_AT": "expiresAt",
    }
    flat = {**document, "liveSha": (document.get("live") or {}).get("sha")}
    lines = [f"{name}={flat.get(key) or ''}" for name, key in keys.items()]
    _write(path, "\n".join(lines) + "\n")
