"""What the CI environment tells envctl: which platform, which pipeline, which repository."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Platform = Literal["gitlab", "github", "none"]


@dataclass(frozen=True)
class CiContext:
    """The pipeline running envctl, as far as its environment variables say."""

    platform: Platform
    pipeline_url: str | None = None
    pull_number: int | None = None


def detect(env: Mapping[str, str]) -> CiContext:
    """GitLab CI (``GITLAB_CI``), GitHub Actions (``GITHUB_ACTIONS``), or neither."""
    if env.get("GITLAB_CI", "").lower() == "true":
        iid = env.get("CI_MERGE_REQUEST_IID", "")
        return CiContext(
            "gitlab",
            env.get("CI_PIPELINE_URL") or env.get("CI_JOB_URL") or None,
            int(iid) if iid.isdigit() else None,
        )
    if env.get("GITHUB_ACTIONS", "").lower() == "true":
        server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        repo, run = env.get("GITHUB_REPOSITORY", ""), env.get("GITHUB_RUN_ID", "")
        url = f"{server}/{repo}/actions/runs/{run}" if repo and run else None
        return CiContext("github", url, _github_pull_number(env))
    return CiContext("none")


def _github_pull_number(env: Mapping[str, str]) -> int | None:
    """The pull request of a ``pull_request`` event, from its payload or from GITHUB_REF."""
    explicit = env.get("ENVCTL_PR_NUMBER", "")
    if explicit.isdigit():
        return int(explicit)
    path = env.get("GITHUB_EVENT_PATH")
    if path:
        try:
            payload = json.loads(Path(path).read_text(encoding="utf-8"))
            number = (payload.get("pull_request") or {}).get("number")
            if isinstance(number, int):
                return number
        except (OSError, ValueError, AttributeError):
            pass
    ref = env.get("GITHUB_REF", "")
    parts = ref.split("/")
    if len(parts) == 4 and parts[:2] == ["refs", "pull"] and parts[2].isdigit():
        return int(parts[2])
    return None
