"""What looks like a credential: by the key it is stored under, or by the shape of the value.

Findings carry a description of *why* a value looks like a credential and where it is, never
the value itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A key names a credential when, lower-cased and without separators, it ends in one of these.
_SENSITIVE_ENDINGS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "accesskey",
    "secretkey",
    "privatekey",
    "credential",
    "credentials",
    "dsn",
    "connectionstring",
    "htpasswd",
    "authorization",
    "basicauth",
    "jwt",
    "sessionkey",
    "signingkey",
    "encryptionkey",
    "masterkey",
)
# ...unless the value is obviously not one: a reference or a template.
_REFERENCE = re.compile(r"^\$|\$\{|\{\{|^ref\+|^vault:|^secretref\b|^env:", re.IGNORECASE)

_VALUE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")),
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    (
        "a GitHub token",
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{20,})"),
    ),
    ("a GitLab token", re.compile(r"\bgl(?:pat|dt|rt|ptt)-[A-Za-z0-9_-]{20,}")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a Vault token", re.compile(r"\bhv[sbr]\.[A-Za-z0-9_-]{20,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("a Stripe secret key", re.compile(r"\b[sr]k_live_[0-9A-Za-z]{16,}")),
    (
        "a JSON Web Token",
        re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    ),
    (
        "a URL with an embedded password",
        re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:(?!\$|\{\{)[^/\s@'\"]{3,}@", re.IGNORECASE),
    ),
    (
        "an Authorization header",
        re.compile(
            r"authorization:\s*(?:bearer|basic|token)\s+(?!\$)[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE
        ),
    ),
)

# key=value / key: value / --key value inside text (scripts, properties files, YAML strings).
_TEXT_ASSIGNMENT = re.compile(
    r"(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)[\"']?[ \t]*(?:=|:[ \t])[ \t]*"
    r"(?P<q>[\"']?)(?P<value>[^\s\"'`]{4,})"
)
_TEXT_FLAG = re.compile(
    r"""--(?P<key>[A-Za-z][A-Za-z0-9-]*)(?:=|[ \t]+)(?P<q>["']?)(?P<value>[^\s"'`-][^\s"'`]{3,})"""
)
# Placeholder values people leave in examples and defaults are not credentials.
_PLACEHOLDERS = frozenset({"none", "null", "true", "false", "required", "optional", "redacted"})


@dataclass(frozen=True)
class Hit:
    """Why a value looks like a credential (never the value)."""

    reason: str


# Keys that end like a credential but, by convention, hold the *name* of a Kubernetes Secret.
_REFERENCE_KEYS = re.compile(r"^existing|(?:pull|tls|cert|certificate)secrets?$")


def sensitive_key(key: str) -> bool:
    normalized = re.sub(r"[^a-z0-9]", "", key.lower())
    return (
        bool(normalized)
        and normalized.endswith(_SENSITIVE_ENDINGS)
        and not _REFERENCE_KEYS.search(normalized)
    )


# An upper-case identifier is the name of a variable or key (``secretKey: DB_PASSWORD`` in an
# ExternalSecret), not a password.
_IDENTIFIER = re.compile(r"^[A-Z][A-Z0-9_]*$")


def _literal(value: str) -> bool:
    text = value.strip()
    return (
        len(text) >= 4
        and not _REFERENCE.search(text)
        and not _IDENTIFIER.match(text)
        and text.lower() not in _PLACEHOLDERS
    )


def keyed_credential(key: str, value: object) -> Hit | None:
    """A literal string stored under a key that names a credential."""
    if isinstance(value, str) and sensitive_key(key) and _literal(value):
        return Hit(f"a literal value under the key '{key}'")
    return None


def text_credentials(text: str) -> list[Hit]:
    """Credential shapes inside a string: tokens, keys, URLs with passwords, assignments."""
    hits = [Hit(reason) for reason, pattern in _VALUE_PATTERNS if pattern.search(text)]
    for pattern in (_TEXT_ASSIGNMENT, _TEXT_FLAG):
        for match in pattern.finditer(text):
            key, value = match.group("key"), match.group("value")
            if sensitive_key(key) and _literal(value):
                hits.append(Hit(f"a literal value assigned to '{key}'"))
    unique: dict[str, Hit] = {}
    for hit in hits:
        unique.setdefault(hit.reason, hit)
    return list(unique.values())
