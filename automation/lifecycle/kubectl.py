"""``kubectl``, run the one way envctl runs it: the kubeconfig Pulumi uses, no stdin, a timeout."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

Run = Callable[[list[str]], subprocess.CompletedProcess[str]]
"""Runs ``kubectl ARGS`` (tests pass a recorder instead)."""
TIMEOUT = 60


def kubectl(args: list[str]) -> subprocess.CompletedProcess[str]:
    """``kubectl ARGS`` with this process's environment; no stdin, so a kubeconfig without
    credentials fails instead of prompting for a password."""
    return subprocess.run(
        ["kubectl", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
