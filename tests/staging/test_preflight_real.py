"""Preflight and secrets hygiene, run for real over SSH on the test host."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest

from components.staging import commands
from components.staging.settings import load_staging_settings
from tests.staging.conftest import StagingWorld
from tests.staging.driver import StagingDriver

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


def this_os() -> str:
    """``<ID>:<VERSION_ID>`` of the machine the test sshd runs on."""
    fields = dict(
        line.split("=", 1)
        for line in Path("/etc/os-release").read_text().splitlines()
        if "=" in line
    )
    return f"{fields['ID'].strip(chr(34))}:{fields.get('VERSION_ID', '0').strip(chr(34))}"


def test_preflight_on_a_ready_host_installs_nothing_and_is_repeatable(world: StagingWorld) -> None:
    settings = load_staging_settings(REPO, world.config("ready", supportedOs=[this_os()]))
    first = world.ssh.run(commands.preflight(settings))
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
    driver = StagingDriver(world.ssh, config)
    watcher = ProcessWatcher(world.ssh.process.pid)
    watcher.start()
    try:
        result = driver.up()
    finally:
        watcher.done.set()
        watcher.join()
    try:
        assert result.ok, result.error
        secrets = driver.secret_values()
        assert len(watcher.seen) > 50  # the sampler saw the deploy's processes
        leaks = [s for s in secrets for line in watcher.seen if s in line]
        assert leaks == []
    finally:
        driver.destroy()
