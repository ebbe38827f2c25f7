"""What each remote command is: script name plus parameters from settings, rendered.

The component and the tests both build command text here, so the tests run exactly what
``pulumi up`` sends.
"""

from __future__ import annotations

import re

from components.staging.override import DISABLED_PROFILE
from components.staging.render import Param, render
from components.staging.settings import StagingSettings

MEMORY_TOLERANCE = 0.9  # a server sold as 8 GB reports a little less as MemTotal
DISK_TOLERANCE = 0.9  # a 100 GB disk formats to a little less
_COMMIT_LINE = re.compile(r"^commit ([0-9a-f]{40}|[0-9a-f]{64})$", re.MULTILINE)


def staged_env_path(settings: StagingSettings) -> str:
    return f"{settings.resolved_state_dir}/staged/env"


def staged_override_path(settings: StagingSettings) -> str:
    return f"{settings.resolved_state_dir}/staged/compose.override.yml"


def _project(settings: StagingSettings) -> dict[str, Param]:
    return {
        "APP_DIR": settings.resolved_app_dir,
        "STATE_DIR": settings.resolved_state_dir,
        "PROJECT": settings.resolved_project,
        "COMPOSE_FILES": " ".join(settings.compose_files),
        "PROFILES": " ".join(settings.profiles),
        "LOCK_TIMEOUT": settings.lock_timeout_seconds,
    }


def preflight(settings: StagingSettings) -> str:
    return render(
        "preflight",
        {
            "APP_DIR": settings.resolved_app_dir,
            "STATE_DIR": settings.resolved_state_dir,
            "SUPPORTED_OS": " ".join(settings.supported_os),
            "MIN_CPUS": settings.min_cpus,
            "MIN_MEMORY_GB": settings.min_memory_gb,
            "MIN_MEMORY_MB": int(settings.min_memory_gb * 1024 * MEMORY_TOLERANCE),
            "MIN_DISK_GB": settings.min_disk_gb,
            "MIN_DISK_MB": int(settings.min_disk_gb * 1e9 / 2**20 * DISK_TOLERANCE),
            "INSTALL_MISSING": settings.install_missing,
            "OPEN_FIREWALL": settings.open_firewall,
            "HTTP_PORT": settings.http_port,
            "HTTPS_PORT": settings.https_port,
            "DNS_RESOLVER": settings.dns_resolver or "",
            "DNS_NAMES": " ".join(settings.dns_names),
            "PUBLIC_IP": settings.resolved_public_ip or "",
            "DOCKER_VERSION": settings.docker_version,
        },
    )


def checkout(settings: StagingSettings) -> str:
    """Fetch the repository and print ``commit <sha>``; the git token comes on stdin."""
    params = _project(settings)
    params.update({"REPO_URL": settings.repo_url, "REF": settings.ref})
    return render("checkout", params)


def parse_commit(stdout: str | None) -> str:
    """The commit id the checkout printed ('' when there is none yet, as in a preview)."""
    match = _COMMIT_LINE.search(stdout or "")
    return match.group(1) if match else ""


def parse_deployed(stdout: str | None) -> str:
    """The commit a deploy reports as live (its last line: ``release <n> deployed <sha>``)."""
    return (stdout or "").strip().rpartition(" ")[2]


def stdin_line(secret: str) -> str:
    """A secret as the one stdin line the scripts ``read -r``."""
    return secret + "\n"


def install_file(settings: StagingSettings, target: str, mode: str) -> str:
    """Write stdin to ``target`` with ``mode`` (octal, e.g. '600')."""
    params = _project(settings)
    params.update({"TARGET": target, "MODE": mode})
    return render("install_file", params)


def smoke_lines(settings: StagingSettings) -> str:
    return "\n".join(
        f"{check.status}\t{check.path}\t{check.contains or ''}" for check in settings.smoke_checks
    )


def _release(settings: StagingSettings) -> dict[str, Param]:
    """Parameters of the scripts that bring a release up (deploy, rollback)."""
    params = _project(settings)
    params.update(
        {
            "BUILD": settings.build,
            "WAIT_TIMEOUT": settings.wait_timeout_seconds,
            "KEEP_RELEASES": settings.keep_releases,
            "APP_HOST": settings.app_host,
            "DASHBOARD_HOST": settings.dashboard_host,
            "DASHBOARD_USER": settings.dashboard_user,
            "HTTPS_PORT": settings.https_port,
            "PROBE_ADDRESS": settings.probe_address,
            "CA_FILE": settings.ca_file or "",
            "VALIDATE_TIMEOUT": settings.validate_timeout_seconds,
            "SMOKE_CHECKS": smoke_lines(settings),
        }
    )
    return params


def deploy(settings: StagingSettings, commit: str) -> str:
    """Check, activate ``commit`` ('' : the first argument), up --wait, validate; roll back
    or tear down on failure. The dashboard password comes on stdin."""
    params = _release(settings)
    params.update(
        {
            "COMMIT": commit,
            "TRAEFIK_SERVICE": settings.traefik_service,
            "PRODUCTION_HOSTS": " ".join(settings.production_hosts),
            "ALLOW_PRODUCTION_VALUES": " ".join(settings.allow_production_values),
        }
    )
    return render("deploy", params, uses=("validate", "config_check", "releases", "agent_ctl"))


def rollback(settings: StagingSettings) -> str:
    """Make the release before the live one live again, without a rebuild, and validate it."""
    return render("rollback", _release(settings), uses=("validate", "releases"))


def agent(settings: StagingSettings) -> str:
    """The host's pull-agent loop (agent.sh)."""
    params = _project(settings)
    params.update({"REF": settings.ref, "AGENT_INTERVAL": settings.agent_interval_seconds})
    return render("agent", params)


def pull_agent(settings: StagingSettings) -> str:
    """Install and start the host's pull-agent; the git token on stdin."""
    params = _project(settings)
    params.update(
        {
            "REF": settings.ref,
            "AGENT_INTERVAL": settings.agent_interval_seconds,
            "PULL_AGENT_SERVICE": settings.pull_agent_service,
            "DISABLED_PROFILE": DISABLED_PROFILE,
            "CHECKOUT_SCRIPT": checkout(settings),
            "DEPLOY_SCRIPT": deploy(settings, ""),
            "AGENT_SCRIPT": agent(settings),
        }
    )
    return render("pull_agent", params, uses=("agent_ctl",))


def pull_agent_stop(settings: StagingSettings) -> str:
    return render("pull_agent_stop", _project(settings), uses=("agent_ctl",))


def teardown_arm(settings: StagingSettings) -> str:
    params = _project(settings)
    params["PURGE"] = settings.purge_volumes
    return render("teardown_arm", params)


def teardown(settings: StagingSettings) -> str:
    params = _project(settings)
    params["PURGE"] = settings.purge_volumes
    return render("teardown", params)
