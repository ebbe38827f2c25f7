"""Staging of an application shaped like a real one (realistic.py), for real, in order.

One host, steps building on each other: the deploy is stopped before anything starts
while variables lack values or point at production; then it deploys; no secret is in the
image; the host's pull-agent redeploys ``main`` with the staging routes and closed ports,
after waiting on a held lock; a rollback takes seconds and rebuilds nothing; an update
that lacks a variable leaves the running release alone.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from automation.lifecycle.staging import staging_rollback
from tests.staging.conftest import StagingWorld
from tests.staging.driver import StagingDriver
from tests.staging.realistic import PRODUCTION_HOSTS, make_realistic_repo
from tests.staging.services import TRAEFIK_IMAGE, AppRepo
from tests.staging.test_host_real import containers, https, volumes

pytestmark = pytest.mark.staging
PROJECT = "scoliologic"
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Realistic:
    world: StagingWorld
    repo: AppRepo
    config: dict[str, Any]
    driver: StagingDriver

    @property
    def state(self) -> Path:
        return Path(self.config["staging:stateDir"])

    def move_main(self, tag: str) -> None:
        """Push ``tag``'s commit to ``main`` of the app's repository."""
        subprocess.run(
            [
                "git",
                "--git-dir",
                self.repo.url,
                "update-ref",
                "refs/heads/main",
                self.repo.commits[tag],
            ],
            check=True,
        )

    def version(self) -> str:
        return https(self.world, self.config, "app", "/version")[1].strip()

    def container_ids(self) -> list[str]:
        out = self.world.docker.run(
            "ps", "-q", "--no-trunc", "--filter", f"label=com.docker.compose.project={PROJECT}"
        )
        return sorted(out.split())


@pytest.fixture(scope="module")
def app(world: StagingWorld) -> Iterator[Realistic]:
    repo = make_realistic_repo(world.docker, world.acme)
    domain_name = "realistic"
    config = world.config(
        domain_name,
        repoUrl=repo.url,
        ref="main",
        projectName=PROJECT,
        images={"traefik": TRAEFIK_IMAGE},
        productionHosts=list(PRODUCTION_HOSTS),
        agentIntervalSeconds=5,
        validateTimeoutSeconds=180,
    )
    realistic = Realistic(world, repo, config, StagingDriver(world.ssh, config))
    yield realistic
    config["staging:purgeVolumes"] = True
    realistic.driver.destroy()
    shutil.rmtree(repo.workdir, ignore_errors=True)


def until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(1)
    raise AssertionError(f"{what}: not within {timeout:.0f}s")


def test_variables_without_values_and_production_values_stop_it_before_anything_starts(
    app: Realistic,
) -> None:
    result = app.driver.up()
    assert not result.ok
    assert result.names()[-1] == "deploy"
    assert "nothing started or stopped" in result.error
    # from .env.example, left empty there and not set by staging:
    assert "have no value: MIS_API_URL PUBLIC_URL;" in result.error
    # a default that names a production host
    assert "point at production: OAUTH_SERVER_URL (auth.scoliologic.example);" in result.error
    assert not any(secret in result.error for secret in app.driver.secret_values())
    assert containers(app.world, PROJECT) == {}
    assert volumes(app.world, PROJECT) == set()


def test_a_production_value_passes_only_when_allowed(app: Realistic) -> None:
    domain = app.config["staging:domain"]
    app.config["staging:env"] = {
        "MIS_API_URL": f"https://mis.{domain}/api",
        "PUBLIC_URL": f"https://app.{domain}",
    }
    result = app.driver.up()
    assert not result.ok
    assert "have no value" not in result.error
    assert "OAUTH_SERVER_URL (auth.scoliologic.example)" in result.error
    assert containers(app.world, PROJECT) == {}
    app.config["staging:allowProductionValues"] = ["OAUTH_SERVER_URL"]
    result = app.driver.up()
    assert result.ok, result.error


def test_the_deployed_app_serves_with_its_env_and_staging_routes(app: Realistic) -> None:
    world = app.world
    assert app.version() == "v1"
    password = app.driver.passwords["DASHBOARD"]
    assert https(world, app.config, "traefik", "/dashboard/")[0] == 401
    assert https(world, app.config, "traefik", "/dashboard/", "-u", f"admin:{password}")[0] == 200
    env = world.docker.run("exec", "scoliologic-postgres", "env")
    assert "POSTGRES_USER=scoliologic\n" in env and "POSTGRES_DB=scoliologic\n" in env
    image = world.docker.run("inspect", "--format", "{{.Config.Image}}", "scoliologic-traefik")
    assert image.strip() == TRAEFIK_IMAGE  # staging:images replaced the app's traefik:v3.0
    assert_staging_shape(app)


def assert_staging_shape(app: Realistic) -> None:
    """Staging routes only, private ports on loopback, the app's own agent off."""
    world = app.world
    port = app.config["staging:httpsPort"]
    production = subprocess.run(
        [
            "curl",
            "-sk",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--resolve",
            f"scoliologic.example:{port}:127.0.0.1",
            f"https://scoliologic.example:{port}/",
        ],
        capture_output=True,
        text=True,
    )
    assert production.stdout == "404"  # the production router is gone
    out = world.docker.run(
        "ps",
        "--filter",
        f"label=com.docker.compose.project={PROJECT}",
        "--format",
        "{{.Names}}\t{{.Ports}}",
    )
    ports = dict(line.split("\t", 1) for line in out.splitlines() if line)
    assert "scoliologic-pull-agent" not in ports
    for name in ("scoliologic-app", "scoliologic-postgres", "scoliologic-ollama"):
        bindings = [p for p in ports[name].split(", ") if "->" in p]
        assert bindings and all(p.startswith("127.0.0.1:") for p in bindings), (name, bindings)


def test_no_secret_is_in_any_image_layer(app: Realistic) -> None:
    env = {**os.environ, **app.world.docker.env}
    saved = subprocess.run(
        ["docker", "save", f"{PROJECT}-app"], capture_output=True, env=env, check=True
    ).stdout
    assert len(saved) > 100_000
    for secret in app.driver.secret_values():
        assert secret.encode() not in saved
    listing = app.world.docker.run("run", "--rm", f"{PROJECT}-app", "ls", "-a", "/srv")
    assert ".env.example" in listing.split() and ".env" not in listing.split()


def test_agent_redeploys_main_after_a_held_lock_with_the_staging_shape(app: Realistic) -> None:
    lock = app.state / "lock/deploy.lock"
    with lock.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # what `pulumi up` or a rollback would hold
        app.move_main("v2")
        time.sleep(20)  # four agent rounds
        assert app.version() == "v1"
    until(lambda: app.version() == "v2", 240, "the agent deploys v2")
    assert_staging_shape(app)
    password = app.driver.passwords["DASHBOARD"]
    assert (
        https(app.world, app.config, "traefik", "/dashboard/", "-u", f"admin:{password}")[0] == 200
    )
    # v2 serves before its validation ends; then it is kept as release 2
    until(lambda: (app.state / "releases/2/commit").exists(), 120, "release 2 is kept")
    assert (app.state / "releases/2/commit").read_text().strip() == app.repo.commits["v2"]


def test_rollback_takes_seconds_and_rebuilds_nothing(app: Realistic) -> None:
    v1_images = dict(
        line.split() for line in (app.state / "releases/1/images").read_text().splitlines()
    )
    started = time.monotonic()
    commit = staging_rollback(REPO, app.config)  # what `envctl staging rollback` runs
    elapsed = time.monotonic() - started
    assert commit == app.repo.commits["v1"]
    assert app.version() == "v1"
    running = app.world.docker.run("inspect", "--format", "{{.Image}}", "scoliologic-app").strip()
    assert running == v1_images[f"{PROJECT}-app"]  # the v1 image itself, not a rebuild
    assert elapsed < 60, elapsed
    time.sleep(12)  # the agent leaves the commit rolled back from alone
    assert app.version() == "v1"


def test_an_update_missing_a_variable_leaves_the_running_release_alone(app: Realistic) -> None:
    before = app.container_ids()
    app.move_main("needs-smtp")
    log = app.state / "agent/log"
    until(lambda: "SMTP_HOST" in log.read_text(), 120, "the agent reports SMTP_HOST")
    assert "have no value: SMTP_HOST;" in log.read_text()
    assert app.container_ids() == before
    assert app.version() == "v1"
