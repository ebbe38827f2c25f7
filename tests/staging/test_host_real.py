"""StagingHost's remote scripts against a real sshd, Docker engine, Compose, Traefik and ACME CA.

The scripts are the component's own (``components.staging.commands``), run over SSH in the
order and with the stdin the component wires (driver.py). The tests then look at the host
as a user would: HTTPS answers, containers, volumes, files.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from components.staging import commands
from tests.staging.conftest import StagingWorld
from tests.staging.driver import Run, StagingDriver

pytestmark = pytest.mark.staging
CHAIN = ["preflight", "checkout", "env", "override", "teardown", "deploy", "pull-agent"]


def https(
    world: StagingWorld, config: dict[str, Any], host: str, path: str, *curl: str
) -> tuple[int, str]:
    """GET https://<host>.<domain><path> through the deployed Traefik, verifying TLS."""
    port = config["staging:httpsPort"]
    name = f"{host}.{config['staging:domain']}"
    done = subprocess.run(
        [
            "curl",
            "-sS",
            "--max-time",
            "15",
            "--cacert",
            str(world.acme.root_ca),
            "--resolve",
            f"{name}:{port}:127.0.0.1",
            "-w",
            "\n%{http_code}",
            *curl,
            f"https://{name}:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    body, _, status = done.stdout.rpartition("\n")
    return int(status), body


def containers(world: StagingWorld, project: str) -> dict[str, str]:
    """Service -> state of the project's containers."""
    out = world.docker.run(
        "ps",
        "-a",
        "--filter",
        f"label=com.docker.compose.project={project}",
        "--format",
        '{{.Label "com.docker.compose.service"}} {{.State}}',
    )
    return dict(line.split(" ", 1) for line in out.splitlines() if line)


def volumes(world: StagingWorld, project: str) -> set[str]:
    out = world.docker.run(
        "volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={project}"
    )
    return set(out.split())


def agent_running(config: dict[str, Any]) -> bool:
    """Is the host's pull-agent (agent.sh) of this host running?"""
    pid_file = Path(config["staging:stateDir"]) / "agent/pid"
    return pid_file.exists() and Path(f"/proc/{pid_file.read_text().strip()}").exists()


@dataclass
class Deployed:
    driver: StagingDriver
    config: dict[str, Any]
    first: Run
    project: str


@pytest.fixture(scope="module")
def deployed(world: StagingWorld) -> Iterator[Deployed]:
    """One staging host, first deployed at tag v1; torn down with purge at the end."""
    config = world.config("main")
    driver = StagingDriver(world.ssh, config)
    first = driver.up()
    yield Deployed(driver, config, first, "main")
    config["staging:purgeVolumes"] = True
    driver.destroy()


def test_compose_on_the_host_is_the_real_plugin_and_reports_failures(world: StagingWorld) -> None:
    done = world.ssh.run("docker compose -f /nonexistent.yml config")
    assert done.returncode != 0
    assert "/nonexistent.yml" in done.stderr
    version = world.ssh.run("docker compose version --short")
    assert version.returncode == 0 and version.stdout.startswith("2."), version


def test_first_deploy_is_healthy_validated_and_serves_https(
    world: StagingWorld, deployed: Deployed
) -> None:
    assert deployed.first.ok, deployed.first.error
    assert deployed.first.names() == CHAIN
    state = containers(world, deployed.project)
    services = ("app", "postgres", "redis", "ollama", "traefik")
    assert {s: state.get(s) for s in services} == {s: "running" for s in services}
    assert "pull-agent" not in state  # the app's own agent stays off; the host's runs
    assert agent_running(deployed.config)
    status, body = https(world, deployed.config, "app", "/version")
    assert (status, body.strip()) == (200, "v1")
    deployed_commit = commands.parse_deployed(deployed.first.stdout("deploy"))
    assert deployed_commit == world.repo.commits["v1"]


def test_dashboard_refuses_anonymous_and_wrong_credentials_and_accepts_the_right_ones(
    world: StagingWorld, deployed: Deployed
) -> None:
    right = deployed.driver.passwords["DASHBOARD"]
    assert https(world, deployed.config, "traefik", "/dashboard/")[0] == 401
    assert https(world, deployed.config, "traefik", "/dashboard/", "-u", "admin:wrong")[0] == 401
    assert https(world, deployed.config, "traefik", "/dashboard/", "-u", f"admin:{right}")[0] == 200


def test_private_ports_are_bound_to_loopback_only(world: StagingWorld, deployed: Deployed) -> None:
    out = world.docker.run(
        "ps",
        "--filter",
        f"label=com.docker.compose.project={deployed.project}",
        "--format",
        '{{.Label "com.docker.compose.service"}}\t{{.Ports}}',
    )
    ports = dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)
    for service in ("app", "postgres", "ollama", "traefik"):
        bindings = [p for p in ports[service].split(", ") if "->" in p]
        assert bindings, f"{service} publishes nothing"
        assert all(p.startswith("127.0.0.1:") for p in bindings), (service, bindings)


def test_env_file_is_private_and_secrets_stay_out_of_commands_and_logs(
    world: StagingWorld, deployed: Deployed
) -> None:
    app_dir = Path(deployed.config["staging:appDir"])
    env_dir = Path(deployed.config["staging:stateDir"]) / "env"
    assert not (app_dir / ".env").exists()  # outside the build context
    assert (env_dir / ".env").stat().st_mode & 0o777 == 0o600
    assert env_dir.stat().st_mode & 0o777 == 0o700
    secrets = deployed.driver.secret_values()
    assert len(secrets) >= 8
    for execution in deployed.driver.history:
        for secret in secrets:
            assert secret not in execution.script, f"secret in the text of {execution.name}"
            assert secret not in execution.stdout, f"secret in the output of {execution.name}"
            assert secret not in execution.stderr, f"secret in the log of {execution.name}"
    git_config = (app_dir / ".git/config").read_text()
    assert deployed.config["staging:gitToken"] not in git_config


def test_running_the_chain_again_keeps_the_running_containers(
    world: StagingWorld, deployed: Deployed
) -> None:
    """What a replacement of the commands runs: the same scripts again, on a live host."""
    ids = world.docker.run(
        "ps", "-q", "--no-trunc", "--filter", f"label=com.docker.compose.project={deployed.project}"
    ).split()
    again = deployed.driver.up()
    assert again.ok, again.error
    after = world.docker.run(
        "ps", "-q", "--no-trunc", "--filter", f"label=com.docker.compose.project={deployed.project}"
    ).split()
    assert sorted(after) == sorted(ids)
    assert https(world, deployed.config, "app", "/version")[1].strip() == "v1"


def test_changed_secret_reaches_the_running_env_file(deployed: Deployed) -> None:
    deployed.config["staging:misApiKey"] = "Mis-Key-rotated-" + "r4" * 10
    result = deployed.driver.up()
    assert result.ok, result.error
    env = (Path(deployed.config["staging:stateDir"]) / "env/.env").read_text()
    assert f"MIS_API_KEY='{deployed.config['staging:misApiKey']}'" in env


def test_failing_update_rolls_back_and_keeps_the_database_volume(
    world: StagingWorld, deployed: Deployed
) -> None:
    container = f"{deployed.project}-postgres-1"
    world.docker.run(
        "exec", container, "sh", "-c", "echo patient-42 > /var/lib/postgresql/data/rows"
    )
    deployed.config["staging:ref"] = "broken"
    result = deployed.driver.up()
    assert not result.ok
    assert result.names()[-1] == "deploy"
    assert "rolled back to " + world.repo.commits["v1"] in result.error
    assert https(world, deployed.config, "app", "/version")[1].strip() == "v1"
    assert (
        world.docker.run("exec", container, "cat", "/var/lib/postgresql/data/rows").strip()
        == "patient-42"
    )
    # a good update after the failed one goes through
    deployed.config["staging:ref"] = "v2"
    result = deployed.driver.up()
    assert result.ok, result.error
    assert https(world, deployed.config, "app", "/version")[1].strip() == "v2"
    assert (
        world.docker.run("exec", container, "cat", "/var/lib/postgresql/data/rows").strip()
        == "patient-42"
    )


def test_destroy_keeps_volumes_unless_purged(world: StagingWorld) -> None:
    config = world.config("destroy")
    driver = StagingDriver(world.ssh, config)
    assert (first := driver.up()).ok, first.error
    kept = volumes(world, "destroy")
    assert "destroy_postgres-data" in kept
    result = driver.destroy()
    assert result.ok, result.error
    assert result.names() == ["pull-agent", "teardown"]
    assert containers(world, "destroy") == {}
    assert volumes(world, "destroy") == kept
    assert not agent_running(config)
    app_dir, state_dir = Path(config["staging:appDir"]), Path(config["staging:stateDir"])
    assert not (state_dir / "env").exists() and not (state_dir / "releases").exists()
    # again, then destroy with staging:purgeVolumes
    config["staging:purgeVolumes"] = True
    assert (again := driver.up()).ok, again.error
    assert driver.destroy().ok
    assert containers(world, "destroy") == {}
    assert volumes(world, "destroy") == set()
    assert not app_dir.exists() and not state_dir.exists()


def test_first_deploy_failing_health_checks_is_taken_down(world: StagingWorld) -> None:
    driver = StagingDriver(world.ssh, world.config("unhealthy", ref="broken"))
    result = driver.up()
    assert not result.ok
    assert result.names()[-1] == "deploy"
    assert "first deploy" in result.error and "is unhealthy" in result.error
    assert containers(world, "unhealthy") == {}
    assert volumes(world, "unhealthy") == set()
    driver.destroy()


def test_a_compose_file_compose_refuses_fails_the_deploy(world: StagingWorld) -> None:
    driver = StagingDriver(world.ssh, world.config("badfile", ref="badfile"))
    result = driver.up()
    assert not result.ok
    assert result.names()[-1] == "deploy"
    assert "imagee" in result.error  # Compose's own validation error
    assert "nothing started or stopped" in result.error
    assert containers(world, "badfile") == {}
    driver.destroy()


def test_validation_gates_the_pull_agent(world: StagingWorld) -> None:
    config = world.config(
        "gated", smokeChecks=[{"path": "/api/health"}, {"path": "/api/patients", "status": 200}]
    )
    driver = StagingDriver(world.ssh, config)
    result = driver.up()
    assert not result.ok
    assert "smoke check /api/patients: expected status 200, got 404" in result.error
    assert not agent_running(config)
    driver.destroy()


def _until(predicate: Any, attempts: int = 150) -> None:
    import time

    for _ in range(attempts):
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached")
