"""Run a rendered staging script on the host over SSH, as pulumi-command does.

One SSH exec request with the script text as the command and the secrets on stdin; the
host key pinned (``known_hosts`` of one line); the private key, when given, only in a 0600
file of a private temporary directory. Used by ``envctl staging rollback`` and the tests.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path


def run_script(
    *,
    host: str,
    port: int,
    user: str,
    host_key: str,
    script: str,
    stdin: str = "",
    private_key: str | None = None,
    timeout: float = 1800,
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` on ``user@host:port``; without ``private_key`` the SSH agent is used."""
    with tempfile.TemporaryDirectory(prefix="staging-ssh-") as tmp:
        known = Path(tmp, "known_hosts")
        known.write_text(f"[{host}]:{port} {host_key}\n" if port != 22 else f"{host} {host_key}\n")
        argv = ["ssh", "-F", "/dev/null", "-p", str(port)]
        if private_key is not None:
            key = Path(tmp, "key")
            key.touch(mode=0o600)
            key.write_text(private_key if private_key.endswith("\n") else private_key + "\n")
            argv += ["-i", str(key), "-o", "IdentitiesOnly=yes"]
        options = {
            "UserKnownHostsFile": str(known),
            "StrictHostKeyChecking": "yes",
            "BatchMode": "yes",
            "LogLevel": "ERROR",
        }
        for name, value in options.items():
            argv += ["-o", f"{name}={value}"]
        argv += [f"{user}@{host}", script]
        return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout)
