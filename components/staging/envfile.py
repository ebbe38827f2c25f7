"""The staging ``.env``: which variables it holds and how they are written.

Values are single-quoted, which Docker Compose's dotenv parser takes literally: a bcrypt
hash's ``$`` stays a ``$`` when compose interpolates ``${TRAEFIK_AUTH}`` into a label.
"""

from __future__ import annotations

from collections.abc import Mapping

from components.staging.settings import StagingSettings

GENERATED_KEYS = ("POSTGRES_PASSWORD", "JWT_SECRET", "SESSION_SECRET", "TRAEFIK_AUTH")
EXTERNAL_KEYS = ("ESIA_CLIENT_ID", "ESIA_CLIENT_SECRET", "MIS_API_KEY", "GIT_TOKEN")
PLAIN_KEYS = (
    "ACME_EMAIL",
    "ESIA_REDIRECT_URI",
    "GIT_REPO_URL",
    "GIT_BRANCH",
    "ROLLBACK_ON_FAILURE",
)
MANAGED_KEYS = frozenset(GENERATED_KEYS + EXTERNAL_KEYS + PLAIN_KEYS)


class EnvValueError(ValueError):
    """A value .env cannot hold literally; names the key, never the value."""


def plain_values(settings: StagingSettings) -> dict[str, str]:
    """The non-secret entries: from settings, then ``staging:env`` extras."""
    values = {
        "ACME_EMAIL": settings.acme_email,
        "ESIA_REDIRECT_URI": settings.redirect_uri,
        "GIT_REPO_URL": settings.repo_url,
        "GIT_BRANCH": settings.ref,
        "ROLLBACK_ON_FAILURE": "true",
    }
    values.update(settings.env)
    return values


def configured_secrets(settings: StagingSettings) -> dict[str, str]:
    """The external secrets set in config (``staging:gitToken`` ...), by ``.env`` key."""
    values = {
        "GIT_TOKEN": settings.git_token,
        "ESIA_CLIENT_ID": settings.esia_client_id,
        "ESIA_CLIENT_SECRET": settings.esia_client_secret,
        "MIS_API_KEY": settings.mis_api_key,
    }
    return {key: value.get_secret_value() for key, value in values.items() if value is not None}


def traefik_auth(settings: StagingSettings, bcrypt_hash: str) -> str:
    """The dashboard's basic-auth entry: ``user:bcrypt-hash``."""
    return f"{settings.dashboard_user}:{bcrypt_hash}"


def env_file(settings: StagingSettings, secrets: Mapping[str, str]) -> str:
    """The staged ``.env``: the plain entries, then every non-empty secret over them."""
    merged = plain_values(settings)
    merged.update({key: value for key, value in secrets.items() if value})
    return render_env(merged)


def render_env(values: Mapping[str, str]) -> str:
    """``KEY='value'`` lines, keys sorted; refuses values with a quote or a line break."""
    lines = ["# Written by environments (staging) through stdin; mode 0600. Do not edit.\n"]
    for key in sorted(values):
        value = values[key]
        if "'" in value or "\n" in value or "\r" in value:
            raise EnvValueError(
                f"{key}: a .env value cannot contain a single quote or a line break"
            )
        lines.append(f"{key}='{value}'\n")
    return "".join(lines)
