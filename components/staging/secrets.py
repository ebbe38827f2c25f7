"""Where the staging secrets come from: generated (pulumi-random) or read (Vault / config).

Every value stays a Pulumi secret from its source to the host's ``.env``: generated ones
are random resources (secret outputs), read ones are wrapped at once. They reach the host
only on a remote command's stdin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_random as random

from components.staging.envfile import (
    EXTERNAL_KEYS,
    configured_secrets,
    env_file,
    traefik_auth,
)
from components.staging.settings import StagingSettings


@dataclass(frozen=True)
class StagingSecrets:
    """The secret inputs of the staging commands, each a secret Output."""

    passwords: dict[str, random.RandomPassword]
    env_file: pulumi.Output[str]
    dashboard_password: pulumi.Output[str]
    git_token: pulumi.Output[str]


def external_values(
    settings: StagingSettings, parent: pulumi.Resource
) -> dict[str, pulumi.Output[str]]:
    """ESIA, MIS and git credentials: Vault ``staging/<team>/<service>`` and/or secret config.

    Secret config wins over Vault; keys found in neither are left out of ``.env``.
    """
    values = {
        key: pulumi.Output.secret(value) for key, value in configured_secrets(settings).items()
    }
    if settings.secrets_source == "vault":
        import pulumi_vault as vault

        read: pulumi.Output[dict[str, str]] = vault.kv.get_secret_v2_output(
            mount=settings.vault_mount,
            name=settings.vault_path,
            opts=pulumi.InvokeOutputOptions(parent=parent),
        ).apply(lambda result: dict(result.data or {}))
        data: pulumi.Output[dict[str, str]] = pulumi.Output.secret(read)
        for key in EXTERNAL_KEYS:
            if key not in values:
                values[key] = data.apply(_pick(key))
    return values


def _pick(key: str) -> Callable[[dict[str, str]], str]:
    return lambda data: data.get(key, "")


def _password(name: str, length: int, parent: pulumi.Resource) -> random.RandomPassword:
    # Letters and digits only: safe in a database URL, a .env line and curl's config.
    return random.RandomPassword(
        name, length=length, special=False, opts=pulumi.ResourceOptions(parent=parent)
    )


def staging_secrets(
    name: str, settings: StagingSettings, parent: pulumi.Resource
) -> StagingSecrets:
    """Generate the strong secrets, gather the others and render ``.env`` from them all."""
    passwords = {
        "POSTGRES_PASSWORD": _password(f"{name}-postgres-password", 40, parent),
        "JWT_SECRET": _password(f"{name}-jwt-secret", 64, parent),
        "SESSION_SECRET": _password(f"{name}-session-secret", 64, parent),
        "DASHBOARD": _password(f"{name}-dashboard-password", 32, parent),
    }
    generated: dict[str, pulumi.Output[str]] = {
        key: passwords[key].result for key in ("POSTGRES_PASSWORD", "JWT_SECRET", "SESSION_SECRET")
    }
    bcrypt = passwords["DASHBOARD"].bcrypt_hash
    generated["TRAEFIK_AUTH"] = bcrypt.apply(lambda h: traefik_auth(settings, h))
    external = external_values(settings, parent)
    rendered: pulumi.Output[str] = pulumi.Output.all(**generated, **external).apply(
        lambda values: env_file(settings, values)
    )
    secret_env: pulumi.Output[str] = pulumi.Output.secret(rendered)
    token = external.get("GIT_TOKEN", pulumi.Output.secret(""))
    return StagingSecrets(
        passwords=passwords,
        env_file=secret_env,
        dashboard_password=pulumi.Output.secret(passwords["DASHBOARD"].result),
        git_token=pulumi.Output.secret(token),
    )
