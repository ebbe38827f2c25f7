"""StagingSettings: the ``staging:`` config namespace, validated.

Plain settings are typed fields; secret settings (SSH key, git token, ESIA and MIS
credentials) are ``SecretStr`` fields whose values the component wraps as Pulumi secrets
at once. Encrypted entries of ``Pulumi.staging.yaml`` are not read from the file: the
Pulumi engine hands them to the program decrypted, with the rest of the stack's config.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from components.config import (
    SettingsModel,
    deep_merge,
    namespace_values,
    read_stack_file,
    runtime_config,
    template_path,
    validate_settings,
)

NAMESPACE = "staging"
SECRET_ENV_KEYS = ("GIT_TOKEN", "ESIA_CLIENT_ID", "ESIA_CLIENT_SECRET", "MIS_API_KEY")

DnsName = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$",
        description="a lowercase DNS name such as staging.example.com",
    ),
]
Name = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$",
        description="lowercase letters, digits, '-' and '_', starting with a letter or digit",
    ),
]
EnvName = Annotated[
    str, Field(pattern=r"^[A-Z_][A-Z0-9_]*$", description="an environment variable name")
]
ImageRef = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9][a-z0-9._/:-]*(@sha256:[0-9a-f]{64})?$",
        description="an image reference such as traefik:v3.6.1 or registry/name:tag",
    ),
]
PortSpec = Annotated[
    str,
    Field(
        pattern=r"^(\d{1,5}:)?\d{1,5}$",
        description="'CONTAINER' or 'HOST:CONTAINER' port, bound to 127.0.0.1 on the host",
    ),
]


class SmokeCheck(SettingsModel):
    """One HTTPS request against ``app.<domain>`` that must answer as expected."""

    path: Annotated[
        str,
        Field(pattern=r"^/[^\s\t]*$", description="URL path starting with '/', e.g. /api/health"),
    ]
    status: Annotated[int, Field(ge=100, le=599, description="expected HTTP status code")] = 200
    contains: Annotated[
        str | None,
        Field(pattern=r"^[^\t\n]+$", description="text the response body must contain (one line)"),
    ] = None


class StagingSettings(SettingsModel):
    """Settings of the staging host (config namespace ``staging:``)."""

    # --- where and how to connect
    host: Annotated[
        str,
        Field(
            pattern=r"^[A-Za-z0-9.:\[\]-]+$",
            description="SSH address of the staging server: a DNS name or an IP address",
        ),
    ]
    domain: Annotated[
        str,
        Field(
            pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$",
            description="base domain; the app is served at app.<domain>, Traefik at traefik.<domain>",
        ),
    ]
    port: Annotated[int, Field(ge=1, le=65535, description="SSH port, 1-65535")] = 22
    user: Annotated[
        str,
        Field(
            pattern=r"^[a-z_][a-z0-9_-]{0,31}$",
            description="SSH user that may run docker (root or a member of the docker group)",
        ),
    ] = "root"
    host_key: Annotated[
        str,
        Field(
            pattern=r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+=*( \S.*)?$",
            description="the server's public SSH host key, as in known_hosts: 'ssh-ed25519 AAAA...'",
        ),
    ]
    ssh_private_key: Annotated[
        SecretStr | None,
        Field(
            description="private key of the SSH user (secret: cat key | pulumi config set "
            "--secret staging:sshPrivateKey); unset: the SSH agent at SSH_AUTH_SOCK",
        ),
    ] = None

    # --- what to deploy
    repo_url: Annotated[
        str,
        Field(
            pattern=r"^(https?://|ssh://|file://|/|git@)\S+$",
            description="git URL of the app repository, e.g. https://github.com/org/app.git",
        ),
    ]
    ref: Annotated[
        str,
        Field(
            pattern=r"^(?!-)[A-Za-z0-9._/-]{1,200}$",
            description="branch, tag or commit of the app repository to deploy, e.g. main",
        ),
    ] = "main"
    app_dir: Annotated[
        str | None,
        Field(
            pattern=r"^/[A-Za-z0-9._/-]+$",
            description="absolute directory of the checkout on the host; default /opt/<repo name>",
        ),
    ] = None
    project_name: Annotated[
        Name | None, Field(description="Docker Compose project name; default: the name of appDir")
    ] = None
    compose_files: Annotated[
        tuple[str, ...],
        Field(
            min_length=1,
            description="the app's compose files, relative to appDir, e.g. ['docker-compose.yml']",
        ),
    ] = ("docker-compose.yml",)
    profiles: Annotated[
        tuple[Name, ...], Field(description="compose profiles to enable, e.g. ['traefik']")
    ] = ("traefik",)
    build: Annotated[bool, Field(description="true to build images of services with 'build:'")] = (
        True
    )
    state_dir: Annotated[
        str | None,
        Field(
            pattern=r"^/[A-Za-z0-9._/-]+$",
            description="absolute directory on the host for the deploy lock, the env file and "
            "the kept releases, outside appDir (the build context); default "
            "/var/lib/environments/<project>",
        ),
    ] = None
    keep_releases: Annotated[
        int, Field(ge=1, le=20, description="validated releases kept on the host for rollback")
    ] = 3
    images: Annotated[
        dict[Name, ImageRef],
        Field(
            description="per service, an image replacing the app's, e.g. "
            "{traefik: 'traefik:v3.6.1'} (infrastructure images)"
        ),
    ] = {}
    production_hosts: Annotated[
        tuple[DnsName, ...],
        Field(
            description="production host names; a compose variable resolving to one of them "
            "stops the deploy, e.g. ['app.example.com', 'auth.example.com']"
        ),
    ] = ()
    allow_production_values: Annotated[
        tuple[EnvName, ...],
        Field(description="variables allowed to name a production host, e.g. ['OAUTH_ISSUER']"),
    ] = ()

    # --- the services the override touches
    app_service: Annotated[Name, Field(description="compose service of the web app")] = "app"
    app_port: Annotated[
        int, Field(ge=1, le=65535, description="port the app listens on inside its container")
    ] = 3000
    traefik_service: Annotated[Name, Field(description="compose service of Traefik")] = "traefik"
    pull_agent_service: Annotated[
        Name, Field(description="the app's own pull-agent service, kept off on staging")
    ] = "pull-agent"
    pull_agent: Annotated[
        bool,
        Field(
            description="true to run the host's pull-agent once a deploy is validated: it "
            "redeploys ref when it moves, as pulumi up deploys"
        ),
    ] = True
    agent_interval_seconds: Annotated[
        int, Field(ge=5, le=86400, description="seconds between the pull-agent's fetches of ref")
    ] = 60
    cert_resolver: Annotated[
        str,
        Field(
            pattern=r"^[A-Za-z0-9_-]*$",
            description="name of the app's Traefik ACME certificate resolver; '' for none",
        ),
    ] = "letsencrypt"
    https_entrypoint: Annotated[
        Name, Field(description="the app's Traefik entry point for HTTPS (container port 443)")
    ] = "websecure"
    listen_address: Annotated[
        str, Field(description="host address Traefik publishes 80/443 on, e.g. 0.0.0.0")
    ] = "0.0.0.0"
    http_port: Annotated[int, Field(ge=1, le=65535, description="host port for HTTP")] = 80
    https_port: Annotated[int, Field(ge=1, le=65535, description="host port for HTTPS")] = 443
    private_ports: Annotated[
        dict[Name, tuple[PortSpec, ...]],
        Field(
            description="per service, ports published on 127.0.0.1 only, e.g. "
            "{postgres: ['5432']}; [] publishes none"
        ),
    ] = {"app": ("3000",), "postgres": ("5432",), "ollama": ("11434",)}

    # --- .env
    acme_email: Annotated[
        str,
        Field(
            pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", description="e-mail for Let's Encrypt notices"
        ),
    ]
    dashboard_user: Annotated[
        str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Traefik dashboard user name")
    ] = "admin"
    esia_redirect_uri: Annotated[
        str | None,
        Field(
            pattern=r"^https://\S+$",
            description="ESIA callback URL; default https://app.<domain>/api/auth/esia/callback",
        ),
    ] = None
    env: Annotated[
        dict[EnvName, str],
        Field(description="extra plain .env entries, e.g. {ESIA_ENVIRONMENT: test}"),
    ] = {}
    secrets_source: Annotated[
        Literal["config", "vault"],
        Field(
            description="'config' (Pulumi secret config) or 'vault' (KV v2 staging/<team>/<service>)"
        ),
    ] = "config"
    team: Annotated[Name, Field(description="owning team, used in staging/<team>/<service>")] = (
        "platform"
    )
    service: Annotated[
        Name | None,
        Field(description="service name for staging/<team>/<service>; default: project"),
    ] = None
    vault_mount: Annotated[Name, Field(description="Vault KV v2 mount holding staging/...")] = (
        "secret"
    )
    git_token: Annotated[
        SecretStr | None, Field(description="token for cloning repoUrl over HTTPS (secret)")
    ] = None
    esia_client_id: Annotated[SecretStr | None, Field(description="ESIA client id (secret)")] = None
    esia_client_secret: Annotated[
        SecretStr | None, Field(description="ESIA client secret (secret)")
    ] = None
    mis_api_key: Annotated[SecretStr | None, Field(description="MIS API key (secret)")] = None

    # --- validation
    smoke_checks: Annotated[
        tuple[SmokeCheck, ...],
        Field(description="list of {path, status, contains} checked over HTTPS on app.<domain>"),
    ] = (SmokeCheck(path="/api/health"),)
    probe_address: Annotated[
        str, Field(description="address the host reaches its own Traefik at, e.g. 127.0.0.1")
    ] = "127.0.0.1"
    ca_file: Annotated[
        str | None,
        Field(
            pattern=r"^/\S+$",
            description="CA bundle on the host to verify certificates with (e.g. for an ACME "
            "staging CA); default: the host's trust store",
        ),
    ] = None
    validate_timeout_seconds: Annotated[
        int, Field(ge=5, le=3600, description="seconds to wait for a valid HTTPS answer, 5-3600")
    ] = 300
    wait_timeout_seconds: Annotated[
        int, Field(ge=10, le=7200, description="seconds 'docker compose up --wait' may take")
    ] = 900
    lock_timeout_seconds: Annotated[
        int, Field(ge=1, le=7200, description="seconds to wait for the host's deploy lock")
    ] = 1800

    # --- preflight and teardown
    min_cpus: Annotated[int, Field(ge=1, description="fewest CPUs the host may have")] = 4
    min_memory_gb: Annotated[int, Field(ge=1, description="least memory in GB (90% tolerated)")] = 8
    min_disk_gb: Annotated[
        int, Field(ge=1, description="least size in GB of appDir's file system (90% tolerated)")
    ] = 100
    supported_os: Annotated[
        tuple[str, ...],
        Field(
            min_length=1,
            description="'<os-release ID>:<lowest VERSION_ID>' entries, e.g. ['ubuntu:22.04', 'debian:12']",
        ),
    ] = ("ubuntu:22.04", "debian:12")
    docker_version: Annotated[
        str,
        Field(
            pattern=r"^\d+\.\d+\.\d+$",
            description="Docker Engine version preflight installs where Docker is missing, "
            "e.g. 28.5.1 (Docker 29 needs Traefik >= 2.11.31 / 3.6.1)",
        ),
    ] = "28.5.1"
    install_missing: Annotated[
        bool,
        Field(description="true to install Docker, the Compose plugin, git and curl if missing"),
    ] = True
    open_firewall: Annotated[
        bool, Field(description="true to open 80/443 in an active firewall")
    ] = True
    public_ip: Annotated[
        str | None, Field(description="the host's public IPv4 address, the target of the A records")
    ] = None
    dns_resolver: Annotated[
        str | None,
        Field(description="DNS server ('IP' or 'IP:PORT') preflight checks the A records with"),
    ] = None
    extra_dns_names: Annotated[
        tuple[Name, ...], Field(description="more A records under domain, e.g. ['grafana']")
    ] = ()
    purge_volumes: Annotated[
        bool, Field(description="true to remove volumes (the database!) and appDir on destroy")
    ] = False

    @field_validator("supported_os")
    @classmethod
    def _os_entries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            if not re.fullmatch(r"[a-z0-9._-]+:\d+(\.\d+)*", entry):
                raise ValueError(f"'{entry}' is not '<id>:<version>'")
        return value

    @field_validator("compose_files")
    @classmethod
    def _relative_files(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            if not re.fullmatch(r"[A-Za-z0-9._-][A-Za-z0-9._/-]*", entry) or ".." in entry.split(
                "/"
            ):
                raise ValueError(f"'{entry}' is not a relative path inside appDir")
        return value

    @field_validator("env")
    @classmethod
    def _unmanaged(cls, value: dict[str, str]) -> dict[str, str]:
        from components.staging.envfile import MANAGED_KEYS

        taken = sorted(set(value) & MANAGED_KEYS)
        if taken:
            raise ValueError(f"{', '.join(taken)} set by the component; not allowed in env")
        for key, item in value.items():
            if "'" in item or "\n" in item:
                raise ValueError(f"{key}: no single quotes or line breaks")
        return value

    @field_validator("public_ip", "probe_address", "listen_address")
    @classmethod
    def _ipv4(cls, value: str | None) -> str | None:
        if value is not None:
            ipaddress.IPv4Address(value)
        return value

    @field_validator("dns_resolver")
    @classmethod
    def _resolver(cls, value: str | None) -> str | None:
        if value is not None:
            address, _, port = value.partition(":")
            ipaddress.IPv4Address(address)
            if port and not (port.isdigit() and 0 < int(port) < 65536):
                raise ValueError("port must be 1-65535")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> StagingSettings:
        if self.dns_resolver and not self.resolved_public_ip:
            raise ValueError(
                "dnsResolver needs publicIp (or host as an IPv4 address) to compare with"
            )
        app_dir, state = self.resolved_app_dir, self.resolved_state_dir
        if posixpath.commonpath([app_dir, state]) in (app_dir, state):
            raise ValueError(
                "stateDir and appDir must not contain each other (secrets stay out of the "
                "build context)"
            )
        return self

    # --- derived values
    @property
    def app_name(self) -> str:
        """The repository's name: the last path element of repoUrl without ``.git``."""
        tail = self.repo_url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        return tail.removesuffix(".git") or "app"

    @property
    def resolved_app_dir(self) -> str:
        return posixpath.normpath(self.app_dir or f"/opt/{self.app_name}")

    @property
    def resolved_project(self) -> str:
        if self.project_name:
            return self.project_name
        name = re.sub(r"[^a-z0-9_-]", "", posixpath.basename(self.resolved_app_dir).lower())
        return name or "app"

    @property
    def resolved_state_dir(self) -> str:
        return posixpath.normpath(
            self.state_dir or f"/var/lib/environments/{self.resolved_project}"
        )

    @property
    def resolved_service(self) -> str:
        return self.service or self.resolved_project

    @property
    def resolved_public_ip(self) -> str | None:
        if self.public_ip:
            return self.public_ip
        try:
            return str(ipaddress.IPv4Address(self.host))
        except ValueError:
            return None

    @property
    def app_host(self) -> str:
        return f"app.{self.domain}"

    @property
    def dashboard_host(self) -> str:
        return f"traefik.{self.domain}"

    @property
    def dns_names(self) -> tuple[str, ...]:
        extra = tuple(f"{name}.{self.domain}" for name in self.extra_dns_names)
        return (self.app_host, self.dashboard_host, *extra)

    @property
    def redirect_uri(self) -> str:
        return self.esia_redirect_uri or f"https://{self.app_host}/api/auth/esia/callback"

    @property
    def vault_path(self) -> str:
        return f"staging/{self.team}/{self.resolved_service}"


def load_staging_settings(
    project_dir: Path, config: dict[str, Any] | None = None
) -> StagingSettings:
    """Validated settings of the ``staging`` stack: Pulumi.staging.yaml under the runtime config.

    Encrypted (``secure:``) entries of the file are skipped: the engine passes their
    decrypted values in the runtime config.
    """
    path = template_path(project_dir, "staging")
    from_file = {
        key: value
        for key, value in namespace_values(read_stack_file(path), NAMESPACE).items()
        if not (isinstance(value, dict) and "secure" in value)
    }
    stack = namespace_values(runtime_config() if config is None else config, NAMESPACE)
    return validate_settings(StagingSettings, NAMESPACE, deep_merge(from_file, stack))
