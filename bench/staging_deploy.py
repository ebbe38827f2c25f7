"""Wall time of a full staging deploy beside a bare `docker compose up --wait`, as a ratio.

Starts the same real services the staging tests use (dockerd, sshd, Pebble, a local app
repository), then in one run: (1) the staging component's remote scripts through the tests'
driver (preflight, checkout, .env, override, deploy with validation, pull-agent), and
(2) a bare `docker compose --profile traefik up --detach --wait --build` of the same
project with the same .env and override. Prints one JSON line. Needs root.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.staging import services  # noqa: E402
from tests.staging.conftest import StagingWorld  # noqa: E402
from tests.staging.driver import StagingDriver  # noqa: E402


def main() -> int:
    docker = services.start_docker()
    ssh = acme = repo = None
    workdir = Path(tempfile.mkdtemp(prefix="stg-bench-", dir="/tmp"))
    try:
        services.build_images(docker)
        ssh = services.start_sshd(docker)
        acme = services.start_pebble(docker)
        repo = services.make_app_repo(docker, acme)
        world = StagingWorld(docker, ssh, acme, repo, workdir)

        config = world.config("full")
        driver = StagingDriver(ssh, config)
        started = time.monotonic()
        result = driver.up()
        full = time.monotonic() - started
        if not result.ok:
            print(result.error, file=sys.stderr)
            return 1
        state_dir = Path(config["staging:stateDir"])
        env_text = (state_dir / "env/.env").read_text()
        override = (state_dir / "live/compose.override.yml").read_text()
        config["staging:purgeVolumes"] = True
        driver.destroy()

        bare_dir = workdir / "bare"
        subprocess.run(
            ["git", "clone", "-q", "--branch", "v1", repo.url, str(bare_dir)], check=True
        )
        (bare_dir / ".env").write_text(env_text)
        (bare_dir / "override.yml").write_text(override)
        env = {**os.environ, **docker.env}
        argv = ["docker", "compose", "-p", "bare", "-f", "docker-compose.yml", "-f", "override.yml"]
        started = time.monotonic()
        subprocess.run(
            [*argv, "--profile", "traefik", "up", "--detach", "--wait", "--build"],
            cwd=bare_dir,
            env=env,
            check=True,
            capture_output=True,
        )
        bare = time.monotonic() - started
        subprocess.run(
            [*argv, "--profile", "*", "down", "--volumes"],
            cwd=bare_dir,
            env=env,
            capture_output=True,
        )
        print(
            json.dumps(
                {
                    "bench": "staging_deploy",
                    "full_deploy_seconds": round(full, 2),
                    "bare_compose_up_wait_seconds": round(bare, 2),
                    "ratio": round(full / bare, 2),
                }
            )
        )
        return 0
    finally:
        if acme is not None:
            services.stop_pebble(docker, acme)
        if ssh is not None:
            services.stop_sshd(ssh)
        services.stop_docker(docker)
        shutil.rmtree(workdir, ignore_errors=True)
        if repo is not None:
            shutil.rmtree(repo.workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
