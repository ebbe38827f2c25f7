"""``PulumiWorkspace`` that can clear a stale lock: when it was taken, cancel, refresh.

``locked_since`` asks the backend: Pulumi Cloud reports the in-progress update and its
start (``Stack.info()``); a ``file://`` backend keeps one lock file per holder under
``.pulumi/locks/<org>/<project>/<stack>/`` with the time it was taken. Other DIY backends
(``s3://``, ``gs://``, ``azblob://``) do not say: their locks are only waited for.
``cancel`` is the Automation API's ``Stack.cancel()`` (``pulumi cancel``: Pulumi Cloud
cancels the update, a DIY backend deletes its lock files); ``refresh`` reads the real
state of the resources the killed update may have left half-changed.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

from automation.lifecycle.inventory import parse_time
from automation.lifecycle.pulumi_workspace import PulumiWorkspace


def file_backend_root(url: str | None) -> Path | None:
    """The directory of a ``file://`` backend URL (None for any other backend)."""
    if not url or not url.startswith("file://"):
        return None
    parsed = urlparse(url)
    path = (
        unquote(parsed.netloc + parsed.path)
        if parsed.netloc not in ("", "localhost")
        else unquote(parsed.path)
    )
    return Path(os.path.expanduser(path))


def file_lock_since(root: Path, project: str, stack: str) -> datetime | None:
    """The oldest lock file's time of ``stack`` in a file backend, or None."""
    times = []
    for lock in root.glob(f".pulumi/locks/*/{project}/{stack}/*.json"):
        try:
            content = json.loads(lock.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        stamp = content.get("timestamp") if isinstance(content, dict) else None
        moment = parse_time(stamp) if isinstance(stamp, str) else None
        times.append(moment or datetime.fromtimestamp(lock.stat().st_mtime, UTC))
    return min(times) if times else None


class LockBreakingWorkspace(PulumiWorkspace):
    """The Automation API workspace, able to clear a lock a killed job left behind."""

    def locked_since(self, name: str) -> datetime | None:
        summary = self._call(name, lambda: self._stack(name).info())
        if summary is not None and summary.result == "in-progress":
            started = summary.start_time
            return started if started.tzinfo else started.replace(tzinfo=UTC)
        url = self.env.get("PULUMI_BACKEND_URL") or os.environ.get("PULUMI_BACKEND_URL")
        if not url:
            url = self._call(name, self._workspace.who_am_i).url
        root = file_backend_root(url)
        if root is None:
            return None
        return file_lock_since(root, self._workspace.project_settings().name, name)

    def cancel(self, name: str) -> None:
        self._call(name, lambda: self._stack(name).cancel())

    def refresh(self, name: str) -> None:
        self._call(name, lambda: self._stack(name).refresh(color="never"))
