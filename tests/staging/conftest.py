"""Fixtures of the staging tests: real dockerd, sshd, test images, an ACME CA, an app repo.

Session-scoped: started once, stopped (by pid) at the end. Missing software skips the
tests locally and fails them in CI (tests/conftest.py ``unavailable``).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import unavailable
from tests.staging import services
from tests.staging.services import (
    TRAEFIK_IMAGE,
    Acme,
    AppRepo,
    Docker,
    ServiceUnavailable,
    SshHost,
    free_port,
)

DOMAIN = "staging.example.test"


@dataclass
class StagingWorld:
    docker: Docker
    ssh: SshHost
    acme: Acme
    repo: AppRepo
    workdir: Path

    def config(self, name: str, **overrides: Any) -> dict[str, Any]:
        """Stack config for a staging host under ``workdir/name`` on the test sshd.

        Each host gets its own domain (``<name>.staging.example.test``): the hosts share one
        Docker engine, and every Traefik on it sees every project's routers.
        """
        values: dict[str, Any] = {
            "staging:host": "127.0.0.1",
            "staging:port": self.ssh.port,
            "staging:user": "root",
            "staging:hostKey": self.ssh.host_key,
            "staging:sshPrivateKey": self.ssh.private_key,
            "staging:domain": f"{name}.{DOMAIN}",
            "staging:repoUrl": self.repo.url,
            "staging:ref": "v1",
            "staging:appDir": str(self.workdir / name),
            "staging:stateDir": str(self.workdir / f"{name}-state"),
            "staging:acmeEmail": "devops@example.test",
            "staging:listenAddress": "127.0.0.1",
            "staging:httpPort": free_port(),
            "staging:httpsPort": free_port(),
            "staging:privatePorts": {
                "app": [f"{free_port()}:3000"],
                "postgres": [f"{free_port()}:5432"],
                "ollama": [f"{free_port()}:11434"],
            },
            "staging:caFile": str(self.acme.root_ca),
            "staging:images": {"traefik": TRAEFIK_IMAGE},  # the rig's real Traefik binary
            "staging:minCpus": 1,
            "staging:minMemoryGb": 1,
            "staging:minDiskGb": 1,
            "staging:smokeChecks": [
                {"path": "/api/health", "status": 200, "contains": "ok"},
                {"path": "/version", "status": 200},
            ],
            "staging:validateTimeoutSeconds": 120,
            "staging:waitTimeoutSeconds": 180,
            "staging:lockTimeoutSeconds": 300,
            "staging:gitToken": "ghp_" + "T0ken" * 8,
            "staging:esiaClientId": "esia-client-id-for-tests",
            "staging:esiaClientSecret": "Esia-Secret-" + "x9" * 12,
            "staging:misApiKey": "Mis-Key-" + "k7" * 12,
        }
        values.update({f"staging:{k}": v for k, v in overrides.items()})
        return values


@pytest.fixture(scope="session")
def docker() -> Iterator[Docker]:
    try:
        engine = services.start_docker()
    except ServiceUnavailable as exc:
        unavailable(str(exc))
    try:
        services.build_images(engine)
        yield engine
    except ServiceUnavailable as exc:
        unavailable(str(exc))
    finally:
        services.stop_docker(engine)


@pytest.fixture(scope="session")
def ssh_host(docker: Docker) -> Iterator[SshHost]:
    try:
        host = services.start_sshd(docker)
    except ServiceUnavailable as exc:
        unavailable(str(exc))
    yield host
    services.stop_sshd(host)


@pytest.fixture(scope="session")
def acme(docker: Docker) -> Iterator[Acme]:
    try:
        ca = services.start_pebble(docker)
    except ServiceUnavailable as exc:
        unavailable(str(exc))
    yield ca
    services.stop_pebble(docker, ca)


@pytest.fixture(scope="session")
def world(docker: Docker, ssh_host: SshHost, acme: Acme) -> Iterator[StagingWorld]:
    repo = services.make_app_repo(docker, acme)
    workdir = Path(tempfile.mkdtemp(prefix="stg-hosts-", dir="/tmp"))
    yield StagingWorld(docker, ssh_host, acme, repo, workdir)
    shutil.rmtree(workdir, ignore_errors=True)
    shutil.rmtree(repo.workdir, ignore_errors=True)
