"""Preflight and secrets hygiene, run for real over SSH on the test host."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest

from components.staging import commands
from components.staging.settings import load_staging_settings
from tests.staging.conftest import SECRET_KEYS, StagingWorld
from tests.staging.engine import Engine

pytestmark = pytest.mark.staging
REPO = Path(__file__).resolve().parents[2]


def test_preflight_refuses_a_host_below_the_plan_with_the_reasons(world: StagingWorld) -> None:
    config = world.config(
        "small",
        minCpus=(os.cpu_count() or 1) + 1,
        minMemoryGb=100_000,
        minDiskGb=100_000_000,
        supportedOs=["ubuntu:99.04"],
    )
    settings = load_staging_settings(REPO, config)
    done = world.ssh.run(commands.preflight(settings))
    assert done.returncode == 1
    assert "does not meet the staging plan" in done.stderr
    for reason in (
        "CPUs; the plan needs at least",
        "memory is",
        "the file system of",
        "operating system is",
    ):
        assert reason in done.stderr, reason
    assert not Path(config["staging:appDir"]).exists()  # refused before touching anything


def test_preflight_on_a_ready_host_installs_nothing_and_is_repeatable(world: StagingWorld) -> None:
    settings = load_staging_settings(
        REPO, world.config("ready", supportedOs=["debian:12", "ubuntu:22.04"])
    )
    first = world.ssh.run(commands.preflight(settings))
    if first.returncode != 0 and "operating system" in first.stderr:
        pytest.skip("the test host is not Debian 12+/Ubuntu 22.04+")
    assert first.returncode == 0, first.stderr
    assert "installing" not in first.stderr
    assert "docker " in first.stdout and "firewall" in first.stdout
    second = world.ssh.run(commands.preflight(settings))
    assert (second.returncode, second.stdout) == (0, first.stdout)


class ProcessWatcher(threading.Thread):
    """Samples every process's command line, and the environment of processes under sshd."""

    def __init__(self, sshd_pid: int) -> None:
        super().__init__(daemon=True)
        self.sshd_pid = sshd_pid
        self.seen: set[str] = set()
        self.done = threading.Event()

    def _parent(self, pid: str) -> int:
        try:
            return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            return 0

    def _under_sshd(self, pid: str) -> bool:
        current = int(pid)
        for _ in range(64):
            if current == self.sshd_pid:
                return True
            if current <= 1:
                return False
            current = self._parent(str(current))
        return False

    def run(self) -> None:
        while not self.done.is_set():
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    self.seen.add(
                        Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace")
                    )
                    if self._under_sshd(entry):
                        self.seen.add(
                            Path(f"/proc/{entry}/environ").read_bytes().decode(errors="replace")
                        )
                except OSError:
                    continue


def test_secrets_never_reach_a_process_list_or_environment(world: StagingWorld) -> None:
    config: dict[str, Any] = world.config("pscheck", pullAgent=False)
    engine = Engine()
    watcher = ProcessWatcher(world.ssh.process.pid)
    watcher.start()
    try:
        result = engine.up(config, SECRET_KEYS)
    finally:
        watcher.done.set()
        watcher.join()
    try:
        assert result.ok, result.error
        secrets = [config[k] for k in SECRET_KEYS if k != "staging:sshPrivateKey"]
        secrets += [
            r.outputs["result"] for r in engine.state.values() if r.type.startswith("random:")
        ]
        assert len(watcher.seen) > 50  # the sampler saw the deploy's processes
        leaks = [s for s in secrets for line in watcher.seen if s in line]
        assert leaks == []
    finally:
        engine.destroy()
