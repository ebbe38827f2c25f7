"""StagingHost against a real sshd, Docker engine, Compose v2, Traefik and an ACME CA.

The project's program runs under the mock runtime with a small engine (engine.py) that
executes each remote command exactly as pulumi-command would: the same text, over SSH,
with the same stdin. The tests then look at the host as a user would: HTTPS answers,
containers, volumes, files.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.staging.conftest import DOMAIN, SECRET_KEYS, StagingWorld
from tests.staging.engine import Engine, Result

pytestmark = pytest.mark.staging


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


def secret_values(engine: Engine, config: dict[str, Any]) -> list[str]:
    """Every secret the stack holds: configured ones and generated passwords."""
    values = [config[k] for k in SECRET_KEYS if k in config and k != "staging:sshPrivateKey"]
    for record in engine.state.values():
        if record.type == "random:index/randomPassword:RandomPassword":
            values += [record.outputs["result"], record.outputs["bcryptHash"]]
    return values


@dataclass
class Deployed:
    engine: Engine
    config: dict[str, Any]
    first: Result
    project: str


@pytest.fixture(scope="module")
def deployed(world: StagingWorld) -> Iterator[Deployed]:
    """One staging host, first deployed at tag v1; destroyed (with purge) at the end."""
    config = world.config("main")
    engine = Engine()
    first = engine.up(config, SECRET_KEYS)
    yield Deployed(engine, config, first, "main")
    engine.up({**config, "staging:purgeVolumes": True}, SECRET_KEYS)
    engine.destroy()


def test_first_deploy_is_healthy_validated_and_serves_https(
    world: StagingWorld, deployed: Deployed
) -> None:
    assert deployed.first.ok, deployed.first.error
    ran = deployed.first.ran()
    assert ran[:2] == [("staging-preflight", "create"), ("staging-checkout", "create")]
    assert sorted(ran[2:5]) == [
        ("staging-env", "create"),
        ("staging-override", "create"),
        ("staging-teardown", "create"),
    ]
    assert ran[5:] == [("staging-deploy", "create"), ("staging-pull-agent", "create")]
    state = containers(world, deployed.project)
    assert {
        s: state.get(s) for s in ("app", "postgres", "redis", "ollama", "traefik", "pull-agent")
    } == {s: "running" for s in ("app", "postgres", "redis", "ollama", "traefik", "pull-agent")}
    status, body = https(world, deployed.config, "app", "/version")
    assert (status, body.strip()) == (200, "v1")
    assert deployed.first.outputs["commit"] == world.repo.commits["v1"]
    assert deployed.first.outputs["url"] == f"https://app.main.{DOMAIN}"


def test_dashboard_refuses_anonymous_and_wrong_credentials_and_accepts_the_right_ones(
    world: StagingWorld, deployed: Deployed
) -> None:
    password = deployed.engine.command("staging-deploy").inputs["stdin"]
    from tests.staging.engine import reveal

    right = reveal(password).strip()
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
    assert (app_dir / ".env").stat().st_mode & 0o777 == 0o600
    secrets = secret_values(deployed.engine, deployed.config)
    for execution in deployed.engine.history:
        for secret in secrets:
            assert secret not in execution.script, f"secret in the text of {execution.name}"
            assert secret not in execution.stdout, f"secret in the output of {execution.name}"
            assert secret not in execution.stderr, f"secret in the log of {execution.name}"
    for record in deployed.engine.state.values():
        if record.type == "command:remote:Command":
            for key in ("create", "update", "delete"):
                text = json.dumps(record.inputs.get(key))
                assert not any(s in text for s in secrets), f"secret in {record.name}.{key}"
    git_config = (app_dir / ".git/config").read_text()
    assert deployed.config["staging:gitToken"] not in git_config


def test_unchanged_rerun_runs_no_remote_command(deployed: Deployed) -> None:
    again = deployed.engine.up(deployed.config, SECRET_KEYS)
    assert again.ok, again.error
    assert again.ran() == []


def test_changed_secret_reruns_only_what_depends_on_it(
    world: StagingWorld, deployed: Deployed
) -> None:
    deployed.config["staging:misApiKey"] = "Mis-Key-rotated-" + "r4" * 10
    result = deployed.engine.up(deployed.config, SECRET_KEYS)
    assert result.ok, result.error
    assert result.ran() == [
        ("staging-env", "update"),
        ("staging-deploy", "update"),
        ("staging-pull-agent", "update"),
    ]
    env = (Path(deployed.config["staging:appDir"]) / ".env").read_text()
    assert f"MIS_API_KEY='{deployed.config['staging:misApiKey']}'" in env


def test_pull_agent_shares_the_deploy_lock(world: StagingWorld, deployed: Deployed) -> None:
    lock = Path(deployed.config["staging:appDir"]) / ".deploy/lock/deploy.lock"
    log = "/app/data/agent.log"
    container = f"{deployed.project}-pull-agent-1"
    with lock.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # what deploy.sh's `flock` takes, held by this test
        world.docker.run("exec", container, "sh", "-c", f": > {log}")
        # the agent announces each round, then blocks on the lock held here
        _until(lambda: "waiting" in world.docker.run("exec", container, "cat", log))
        assert "locked" not in world.docker.run("exec", container, "cat", log)
    _until(lambda: "locked" in world.docker.run("exec", container, "cat", log))


def test_failing_update_rolls_back_and_keeps_the_database_volume(
    world: StagingWorld, deployed: Deployed
) -> None:
    container = f"{deployed.project}-postgres-1"
    world.docker.run(
        "exec", container, "sh", "-c", "echo patient-42 > /var/lib/postgresql/data/rows"
    )
    deployed.config["staging:ref"] = "broken"
    result = deployed.engine.up(deployed.config, SECRET_KEYS)
    assert not result.ok
    assert ("staging-deploy", "update") in result.ran()
    assert "rolled back to " + world.repo.commits["v1"] in result.error
    assert https(world, deployed.config, "app", "/version")[1].strip() == "v1"
    assert (
        world.docker.run("exec", container, "cat", "/var/lib/postgresql/data/rows").strip()
        == "patient-42"
    )
    # a good update after the failed one goes through
    deployed.config["staging:ref"] = "v2"
    result = deployed.engine.up(deployed.config, SECRET_KEYS)
    assert result.ok, result.error
    assert https(world, deployed.config, "app", "/version")[1].strip() == "v2"
    assert (
        world.docker.run("exec", container, "cat", "/var/lib/postgresql/data/rows").strip()
        == "patient-42"
    )


def test_destroy_keeps_volumes_unless_purged(world: StagingWorld) -> None:
    config = world.config("destroy")
    engine = Engine()
    assert (first := engine.up(config, SECRET_KEYS)).ok, first.error
    kept = volumes(world, "destroy")
    assert "destroy_postgres-data" in kept
    result = engine.destroy()
    assert result.ok, result.error
    assert result.ran()[0] == ("staging-pull-agent", "delete")
    assert containers(world, "destroy") == {}
    assert volumes(world, "destroy") == kept
    app_dir = Path(config["staging:appDir"])
    assert not (app_dir / ".env").exists()
    # again, then destroy with staging:purgeVolumes
    config["staging:purgeVolumes"] = True
    assert (again := engine.up(config, SECRET_KEYS)).ok, again.error
    assert engine.destroy().ok
    assert containers(world, "destroy") == {}
    assert volumes(world, "destroy") == set()
    assert not app_dir.exists()


def test_first_deploy_failing_health_checks_is_taken_down(world: StagingWorld) -> None:
    config = world.config("unhealthy", ref="broken")
    engine = Engine()
    result = engine.up(config, SECRET_KEYS)
    assert not result.ok
    assert "first deploy" in result.error
    assert ("staging-pull-agent", "create") not in result.ran()
    assert containers(world, "unhealthy") == {}
    assert volumes(world, "unhealthy") == set()
    engine.destroy()


def test_validation_gates_the_pull_agent(world: StagingWorld) -> None:
    config = world.config(
        "gated", smokeChecks=[{"path": "/api/health"}, {"path": "/api/patients", "status": 200}]
    )
    engine = Engine()
    result = engine.up(config, SECRET_KEYS)
    assert not result.ok
    assert "smoke check /api/patients: expected status 200, got 404" in result.error
    assert ("staging-pull-agent", "create") not in result.ran()
    assert "pull-agent" not in containers(world, "gated")
    engine.destroy()


def _until(predicate: Any, attempts: int = 150) -> None:
    import time

    for _ in range(attempts):
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached")
