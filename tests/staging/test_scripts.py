"""The remote scripts as text: rendered once, parsed by real shells, override read by Compose."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from components.staging import commands
from components.staging.envfile import EnvValueError, render_env
from components.staging.override import DISABLED_PROFILE, render_override
from components.staging.render import render
from components.staging.settings import StagingSettings, load_staging_settings
from tests.conftest import unavailable
from tests.staging.services import ServiceUnavailable, compose_plugin

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def settings() -> StagingSettings:
    return load_staging_settings(REPO, {})


def all_commands(s: StagingSettings) -> dict[str, str]:
    return {
        "preflight": commands.preflight(s),
        "checkout": commands.checkout(s),
        "install_file": commands.install_file(s, commands.staged_env_path(s), "600"),
        "deploy": commands.deploy(s, "0" * 40),
        "agent_deploy": commands.deploy(s, ""),
        "rollback": commands.rollback(s),
        "agent": commands.agent(s),
        "pull_agent": commands.pull_agent(s),
        "pull_agent_stop": commands.pull_agent_stop(s),
        "teardown_arm": commands.teardown_arm(s),
        "teardown": commands.teardown(s),
    }


@pytest.mark.parametrize("shell", ["sh", "dash", "bash", "busybox"])
def test_every_rendered_script_parses(settings: StagingSettings, shell: str) -> None:
    if shutil.which(shell) is None:
        unavailable(f"{shell} is not installed (bash tools/install-system-deps.sh)")
    argv = [shell, "sh", "-n"] if shell == "busybox" else [shell, "-n"]
    for name, text in all_commands(settings).items():
        done = subprocess.run(argv, input=text, capture_output=True, text=True)
        assert done.returncode == 0, f"{name}: {done.stderr}"


def test_every_rendered_script_is_shellcheck_clean_posix_sh(settings: StagingSettings) -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        unavailable("shellcheck is not installed (bash tools/install-system-deps.sh)")
    for name, text in all_commands(settings).items():
        done = subprocess.run(
            # SC1091: /etc/os-release is the remote host's file, not ours to follow
            [shellcheck, "--shell=sh", "--severity=style", "--exclude=SC1091", "-"],
            input=text,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, f"{name}:\n{done.stdout}"


def test_parameters_are_quoted_so_values_cannot_run_code() -> None:
    text = render(
        "teardown_arm", {"APP_DIR": "/tmp/x; touch /tmp/pwned", "PURGE": True, "PROJECT": "p$(id)"}
    )
    assert "APP_DIR='/tmp/x; touch /tmp/pwned'\n" in text
    assert "PROJECT='p$(id)'\n" in text
    assert "PURGE=true\n" in text
    with pytest.raises(ValueError):
        render("teardown_arm", {"app_dir": "/x"})
    with pytest.raises(ValueError):
        render("../etc/passwd", {})


def test_rendering_is_deterministic(settings: StagingSettings) -> None:
    assert all_commands(settings) == all_commands(settings)
    assert render_override(settings) == render_override(settings)


def test_secrets_are_never_parameters(settings: StagingSettings) -> None:
    for name, text in all_commands(settings).items():
        for word in ("PASSWORD=", "TOKEN=", "SECRET=", "TRAEFIK_AUTH="):
            assert word not in text.split("\n# lib.sh")[0], f"{name} takes a secret as a parameter"
    # each secret-taking script reads it from stdin, in a shell variable, never exported
    assert "IFS= read -r git_token" in commands.checkout(settings)
    assert "IFS= read -r dashboard_password" in commands.deploy(settings, "0" * 40)
    for name, text in all_commands(settings).items():
        assert not re.search(r"^\s*export\s", text, re.MULTILINE), f"{name} exports a variable"


def test_env_file_quotes_values_literally_and_refuses_what_it_cannot_hold() -> None:
    text = render_env({"TRAEFIK_AUTH": "admin:$2a$10$abc", "B": "x y"})
    assert text.splitlines()[1:] == ["B='x y'", "TRAEFIK_AUTH='admin:$2a$10$abc'"]
    with pytest.raises(EnvValueError) as error:
        render_env({"MIS_API_KEY": "it's"})
    assert "MIS_API_KEY" in str(error.value) and "it's" not in str(error.value)


def test_override_is_read_by_compose_as_intended(settings: StagingSettings, tmp_path: Path) -> None:
    """docker compose config (no engine needed) merges the override over an app file."""
    try:
        compose_plugin()
    except ServiceUnavailable as exc:
        unavailable(str(exc))
    (tmp_path / "compose.yml").write_text(
        """services:
  app: {image: app, ports: ["3000:3000"], labels: ["traefik.http.routers.prod.rule=Host(`prod`)"]}
  postgres: {image: pg, ports: ["5432:5432"]}
  ollama: {image: ol, ports: ["11434:11434"]}
  traefik: {image: tr, ports: ["80:80", "443:443"], profiles: [traefik]}
  pull-agent: {image: pa}
"""
    )
    (tmp_path / "override.yml").write_text(render_override(settings))
    (tmp_path / ".env").write_text(render_env({"TRAEFIK_AUTH": "admin:$2a$10$abcdefghijklmnop"}))
    done = subprocess.run(
        [
            "docker",
            "compose",
            "-p",
            "t",
            "-f",
            "compose.yml",
            "-f",
            "override.yml",
            "--profile",
            "*",
            "config",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    merged = yaml.safe_load(done.stdout)["services"]
    app_labels = merged["app"]["labels"]
    assert "traefik.http.routers.prod.rule" not in app_labels
    project = settings.resolved_project
    assert (
        app_labels[f"traefik.http.routers.{project}-app.rule"] == f"Host(`app.{settings.domain}`)"
    )
    auth = merged["traefik"]["labels"][
        f"traefik.http.middlewares.{project}-dashboard-auth.basicauth.users"
    ]
    # `config` prints the interpolated value escaped for reuse ('$$' is one literal '$')
    assert auth == "admin:$$2a$$10$$abcdefghijklmnop"
    for service in ("app", "postgres", "ollama"):
        assert {p["host_ip"] for p in merged[service]["ports"]} == {"127.0.0.1"}
    assert {p["published"] for p in merged["traefik"]["ports"]} == {"80", "443"}
    assert merged["pull-agent"]["profiles"] == [DISABLED_PROFILE]  # the app's agent stays off


def test_docker_compose_is_the_real_plugin_that_fails_on_a_missing_file() -> None:
    try:
        compose_plugin()
    except ServiceUnavailable as exc:
        unavailable(str(exc))
    done = subprocess.run(
        ["docker", "compose", "-f", "/nonexistent.yml", "config"], capture_output=True, text=True
    )
    assert done.returncode != 0
    assert "/nonexistent.yml" in done.stderr


def config_check_shell(
    tmp_path: Path, body: str, **params: str
) -> subprocess.CompletedProcess[str]:
    """Run ``body`` after lib.sh and config_check.sh, rendered as the deploy renders them."""
    values = {
        "STATE_DIR": str(tmp_path / "state"),
        "APP_DIR": str(tmp_path),
        "PROJECT": "t",
        "COMPOSE_FILES": "compose.yml",
        "PROFILES": "",
        "PRODUCTION_HOSTS": "",
        "ALLOW_PRODUCTION_VALUES": "",
        **params,
    }
    return subprocess.run(
        ["sh", "-c", render("config_check", values) + body],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(
    ("engine", "traefik", "serves"),
    [
        ("29.0.0", "3.0", False),
        ("29.1.2", "3.6.0", False),
        ("29.0.0", "2.11.30", False),
        ("29.0.0", "3.6.1", True),
        ("29.0.0", "2.11.31", True),
        ("28.5.1", "3.0", True),  # before 29 every Traefik finds its containers
        ("29.0.0", "", True),  # unknown version (e.g. latest): not refused
    ],
)
def test_a_traefik_docker_29_cannot_serve_is_refused(
    tmp_path: Path, engine: str, traefik: str, serves: bool
) -> None:
    done = config_check_shell(tmp_path, f"traefik_serves {engine} '{traefik}'\n")
    assert (done.returncode == 0) is serves, done.stderr


def test_env_file_starts_from_env_example_with_the_managed_keys_over_it(tmp_path: Path) -> None:
    (tmp_path / ".env.example").write_text(
        "# app settings\nPOSTGRES_USER=app\nPOSTGRES_PASSWORD=\nexport JWT_SECRET=changeme\n"
    )
    (tmp_path / "staged").write_text("JWT_SECRET='s3cret'\nPOSTGRES_PASSWORD='pw'\n")
    done = config_check_shell(tmp_path, "build_env staged out.env\n")
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out.env"
    assert out.read_text().splitlines() == [
        "# app settings",
        "POSTGRES_USER=app",
        "JWT_SECRET='s3cret'",
        "POSTGRES_PASSWORD='pw'",
    ]
    assert out.stat().st_mode & 0o777 == 0o600


def test_config_check_names_every_variable_without_a_value_and_every_production_value(
    tmp_path: Path,
) -> None:
    try:
        compose_plugin()
    except ServiceUnavailable as exc:
        unavailable(str(exc))
    (tmp_path / "compose.yml").write_text(
        """services:
  app:
    image: app
    environment:
      DB: postgresql://${DB_USER}:${DB_PASSWORD}@db/${DB_NAME}
      OPTIONAL: ${OPTIONAL-}
      LEVEL: ${LOG_LEVEL:-info}
      OAUTH: ${OAUTH_URL:-https://auth.example.com/oauth}
      MIS: ${MIS_URL}
      REQUIRED: ${MUST:?set it}
"""
    )
    (tmp_path / "env").write_text(
        "DB_USER=app\nDB_PASSWORD='Secret-9'\nDB_NAME=\nMIS_URL='https://mis.example.com:8443/api'\n"
    )
    hosts = {"PRODUCTION_HOSTS": "auth.example.com mis.example.com"}
    done = config_check_shell(tmp_path, "check_config env\n", **hosts)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "variables interpolated without a default have no value: DB_NAME MUST; set them in "
        "staging:env (or in the app's .env.example)",
        "values point at production: MIS_URL (mis.example.com) OAUTH_URL (auth.example.com); "
        "set a staging value in staging:env, or list the variable in "
        "staging:allowProductionValues",
    ]
    assert "Secret-9" not in done.stdout + done.stderr
    (tmp_path / "env").write_text(
        "DB_USER=app\nDB_PASSWORD=x\nDB_NAME=app\nMUST=1\nMIS_URL=https://mis.staging.example.com\n"
    )
    allowed = {**hosts, "ALLOW_PRODUCTION_VALUES": "OAUTH_URL"}
    done = config_check_shell(tmp_path, "check_config env\n", **allowed)
    assert (done.returncode, done.stdout) == (0, ""), done.stderr
