"""Runs StagingHost's own remote scripts over SSH, in the component's order, with its stdin.

Not a Pulumi engine: no state, no diff, no update or replace. ``up`` runs each create
script of the chain once and stops at the first failure (as a failed command stops its
dependents in ``pulumi up``); ``destroy`` runs the delete scripts, pull-agent first. The
scripts come from the builders the component uses (``components.staging.commands``), and
stdin is what the component wires: the git token line, the rendered ``.env``, the override,
the dashboard password line (and the token line to the pull-agent). What the engine adds on top (replace on a trigger change,
delete before replace, secrets in state) is checked on the offline plan
(test_plan_staging.py).
"""

from __future__ import annotations

import secrets
import string
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.staging import commands
from components.staging.envfile import configured_secrets, env_file, traefik_auth
from components.staging.override import render_override
from components.staging.settings import StagingSettings, load_staging_settings
from tests.staging.services import SshHost

REPO = Path(__file__).resolve().parents[2]
GENERATED = {"POSTGRES_PASSWORD": 40, "JWT_SECRET": 64, "SESSION_SECRET": 64, "DASHBOARD": 32}


@dataclass
class Execution:
    """One script run over SSH: what went in and what came out."""

    name: str
    script: str
    stdin: str
    exit_code: int
    stdout: str
    stderr: str


@dataclass
class Run:
    executions: list[Execution] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(e.exit_code == 0 for e in self.executions)

    @property
    def error(self) -> str:
        return "".join(e.stderr for e in self.executions if e.exit_code != 0)

    def names(self) -> list[str]:
        return [e.name for e in self.executions]

    def stdout(self, name: str) -> str:
        return next(e.stdout for e in self.executions if e.name == name)


def password(length: int) -> str:
    """Letters and digits, as the component's RandomPassword(special=False)."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def bcrypt(value: str) -> str:
    done = subprocess.run(
        ["htpasswd", "-niB", "-C", "10", "user"], input=value, capture_output=True, text=True
    )
    done.check_returncode()
    # the random provider hashes with Go's bcrypt, whose prefix is $2a$
    return done.stdout.strip().split(":", 1)[1].replace("$2y$", "$2a$", 1)


class StagingDriver:
    """One staging host's scripts, with the secrets a first ``pulumi up`` would generate."""

    def __init__(self, ssh: SshHost, config: dict[str, Any]) -> None:
        self.ssh = ssh
        self.config = config
        self.passwords = {key: password(length) for key, length in GENERATED.items()}
        self.dashboard_hash = bcrypt(self.passwords["DASHBOARD"])
        self.history: list[Execution] = []

    @property
    def settings(self) -> StagingSettings:
        """Settings from the current ``config`` (tests change it between runs)."""
        return load_staging_settings(REPO, self.config)

    def secret_values(self) -> list[str]:
        """Every secret this host holds: configured ones, generated ones, the hash."""
        s = self.settings
        return [*configured_secrets(s).values(), *self.passwords.values(), self.dashboard_hash]

    def env_file(self, s: StagingSettings) -> str:
        """The ``.env`` the component renders from the same values."""
        generated = {k: v for k, v in self.passwords.items() if k != "DASHBOARD"}
        generated["TRAEFIK_AUTH"] = traefik_auth(s, self.dashboard_hash)
        return env_file(s, {**generated, **configured_secrets(s)})

    def run(self, name: str, script: str, stdin: str = "", into: Run | None = None) -> Execution:
        done = self.ssh.run(script, stdin)
        execution = Execution(name, script, stdin, done.returncode, done.stdout, done.stderr)
        self.history.append(execution)
        if into is not None:
            into.executions.append(execution)
        return execution

    def up(self) -> Run:
        """Every create script of the chain, in the component's dependency order."""
        s = self.settings
        run = Run()
        token = configured_secrets(s).get("GIT_TOKEN", "")
        steps = [
            ("preflight", lambda: commands.preflight(s), ""),
            ("checkout", lambda: commands.checkout(s), commands.stdin_line(token)),
            (
                "env",
                lambda: commands.install_file(s, commands.staged_env_path(s), "600"),
                self.env_file(s),
            ),
            (
                "override",
                lambda: commands.install_file(s, commands.staged_override_path(s), "644"),
                render_override(s),
            ),
            ("teardown", lambda: commands.teardown_arm(s), ""),
            (
                "deploy",
                lambda: commands.deploy(s, commands.parse_commit(run.stdout("checkout"))),
                commands.stdin_line(self.passwords["DASHBOARD"]),
            ),
        ]
        if s.pull_agent:
            steps.append(("pull-agent", lambda: commands.pull_agent(s), commands.stdin_line(token)))
        for name, script, stdin in steps:
            if self.run(name, script(), stdin, run).exit_code != 0:
                break
        return run

    def destroy(self) -> Run:
        """The delete scripts: the pull-agent's stop, then the teardown."""
        s = self.settings
        run = Run()
        if s.pull_agent and self.run("pull-agent", commands.pull_agent_stop(s), "", run).exit_code:
            return run
        self.run("teardown", commands.teardown(s), "", run)
        return run
