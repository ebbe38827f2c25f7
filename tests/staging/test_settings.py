"""StagingSettings: what users write under staging: becomes typed values or a ConfigError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components.config import ConfigError
from components.staging.settings import StagingSettings, load_staging_settings

HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEVeah1hwhMp5SeatmpR84lOjiF9+fZ+ifCk6Axd/v2m"
MINIMAL = {
    "staging:host": "203.0.113.10",
    "staging:domain": "staging.example.com",
    "staging:hostKey": HOST_KEY,
    "staging:repoUrl": "https://github.com/sileade/scoliologic-app.git",
    "staging:acmeEmail": "devops@example.com",
}


def load(tmp_path: Path, **overrides: Any) -> StagingSettings:
    config = {**MINIMAL, **{f"staging:{k}": v for k, v in overrides.items()}}
    return load_staging_settings(tmp_path, {k: v for k, v in config.items() if v is not None})


def test_defaults_follow_the_staging_plan(tmp_path: Path) -> None:
    s = load(tmp_path)
    assert s.resolved_app_dir == "/opt/scoliologic-app"
    assert s.resolved_project == "scoliologic-app"
    assert (s.min_cpus, s.min_memory_gb, s.min_disk_gb) == (4, 8, 100)
    assert s.supported_os == ("ubuntu:22.04", "debian:12")
    assert s.profiles == ("traefik",)
    assert s.purge_volumes is False
    assert s.redirect_uri == "https://app.staging.example.com/api/auth/esia/callback"
    assert s.vault_path == "staging/platform/scoliologic-app"
    assert s.resolved_public_ip == "203.0.113.10"  # host is an address
    assert s.resolved_state_dir == "/var/lib/environments/scoliologic-app"  # outside appDir
    assert s.docker_version == "28.5.1"  # pinned: Docker 29 needs a recent Traefik


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("hostKey", None, "staging:hostKey is required"),
        ("hostKey", "AAAA", "staging:hostKey is invalid"),
        ("domain", "Staging_Example", "staging:domain is invalid"),
        ("port", 70000, "staging:port is invalid"),
        ("appDir", "opt/app", "staging:appDir is invalid"),
        ("composeFiles", ["../evil.yml"], "staging:composeFiles is invalid"),
        ("supportedOs", ["ubuntu"], "staging:supportedOs is invalid"),
        ("listenAddress", "localhost", "staging:listenAddress is invalid"),
        ("smokeChecks", [{"path": "api/health"}], "staging:smokeChecks[0].path is invalid"),
        ("privatePorts", {"postgres": ["5432/tcp"]}, "staging:privatePorts.postgres[0] is invalid"),
        ("env", {"JWT_SECRET": "x"}, "staging:env is invalid"),
        ("purgeVolume", True, "did you mean staging:purgeVolumes?"),
        ("dnsResolver", "1.1.1.1", None),
        ("stateDir", "/opt/scoliologic-app/.deploy", "stateDir and appDir must not contain"),
        ("stateDir", "/opt", "stateDir and appDir must not contain"),
        ("images", {"traefik": "Traefik:latest"}, "staging:images.traefik is invalid"),
        ("productionHosts", ["https://app.example.com"], "staging:productionHosts[0] is invalid"),
        ("dockerVersion", "29", "staging:dockerVersion is invalid"),
    ],
)
def test_bad_values_name_the_key_and_the_expected_form(
    tmp_path: Path, key: str, value: Any, expected: str | None
) -> None:
    overrides: dict[str, Any] = {key: value}
    if key == "dnsResolver":  # valid alone; needs an address to compare the records with
        overrides["host"] = "staging.example.com"
        expected = "needs publicIp"
    with pytest.raises(ConfigError) as error:
        load(tmp_path, **overrides)
    assert expected in str(error.value)


def test_secret_values_never_appear_in_errors_or_repr(tmp_path: Path) -> None:
    s = load(tmp_path, gitToken="ghp_supersecret", sshPrivateKey="-----BEGIN KEY-----")
    assert "ghp_supersecret" not in repr(s)
    assert s.git_token is not None and s.git_token.get_secret_value() == "ghp_supersecret"
    with pytest.raises(ConfigError) as error:
        load(tmp_path, gitToken="ghp_supersecret", port="not-a-port")
    assert "ghp_supersecret" not in str(error.value)


def test_encrypted_entries_of_the_stack_file_are_left_to_the_engine(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.staging.yaml").write_text(
        "config:\n  staging:ref: release-1\n  staging:gitToken:\n    secure: AAABADQXFlU=\n"
    )
    s = load(tmp_path)
    assert s.ref == "release-1"
    assert s.git_token is None


def test_the_projects_own_stack_file_is_valid() -> None:
    repo = Path(__file__).resolve().parents[2]
    s = load_staging_settings(repo, {})
    assert s.domain and s.host_key
