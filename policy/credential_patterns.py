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
    "sshkey",
    "privatekeypem",
    "secretkeybase",
)
# ...or whose last word is one of these (``DB_PASS``, ``smtpPass``, ``MYSQL_PWD``), so that
# ``bypass`` or ``compass`` are not.
_SENSITIVE_WORDS = frozenset({"pass", "pwd", "pw", "pswd", "passwd"})
# ``<vendor>_KEY`` (``STRIPE_KEY``) is an API key when its value looks random; these
# qualifiers name keys that are not secret (``PUBLIC_KEY``, ``CACHE_KEY``...).
_PLAIN_KEY_QUALIFIERS = frozenset(
    {
        "public", "publishable", "pub", "site", "primary", "foreign", "sort", "partition",
        "cache", "object", "s3", "routing", "idempotency", "lookup", "index", "shard", "group",
        "hash", "dedup", "dedupe", "map", "sequence", "row", "column", "feature", "flag",
        "license", "client", "kid", "fingerprint",
    }
)  # fmt: skip
# Random-looking: no spaces, and a run of 12+ letters and digits mixing both (not a slug).
_TOKEN_TEXT = re.compile(r"^[A-Za-z0-9_+/=.-]{16,}$")
_RANDOM_RUN = re.compile(r"(?=[A-Za-z0-9]*[A-Za-z])(?=[A-Za-z0-9]*[0-9])[A-Za-z0-9]{12,}")
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


def _words(key: str) -> list[str]:
    """``smtpPass`` / ``SMTP_PASS`` / ``smtp-pass`` -> ``['smtp', 'pass']``."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key)
    return [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]


def sensitive_key(key: str) -> bool:
    normalized = re.sub(r"[^a-z0-9]", "", key.lower())
    words = _words(key)
    return (
        bool(normalized)
        and (normalized.endswith(_SENSITIVE_ENDINGS) or words[-1] in _SENSITIVE_WORDS)
        and not _REFERENCE_KEYS.search(normalized)
    )


def _vendor_key(key: str, value: str) -> bool:
    """``STRIPE_KEY: sk_test_4eC39HqLyjWDarjtT1zdp7dc``: a random value under ``<name>_KEY``."""
    words = _words(key)
    return (
        len(words) >= 2
        and words[-1] == "key"
        and words[-2] not in _PLAIN_KEY_QUALIFIERS
        and bool(_TOKEN_TEXT.match(value.strip()))
        and any(_RANDOM_RUN.fullmatch(run) for run in re.findall(r"[A-Za-z0-9]+", value))
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


def _credential_value(key: str, value: str) -> bool:
    if _words(key)[-1:] == ["pwd"] and value.startswith("/"):
        return False  # PWD is also the shell's working directory
    return (sensitive_key(key) and _literal(value)) or _vendor_key(key, value)


def keyed_credential(key: str, value: object) -> Hit | None:
    """A literal string stored under a key that names a credential."""
    if isinstance(value, str) and _credential_value(key, value):
        return Hit(f"a literal value under the key '{key}'")
    return None


# Passwords on the command lines of tools that take one there; ``-p`` alone (mysql) prompts.
_ARG = r"""(?P<q>["']?)(?P<value>[^\s"'`;|&]+)"""
_UNTIL_ARG = r"[^\n;|&]*?\s"
_COMMAND_PASSWORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a password on a mysql command line (-p)", re.compile(rf"\bmysql\w*\b{_UNTIL_ARG}-p{_ARG}")),
    (
        "a password on a registry login command line (-p)",
        re.compile(
            rf"\b(?:docker|podman|nerdctl|buildah|helm\s+registry)\s+login\b{_UNTIL_ARG}-p\s*{_ARG}"
        ),
    ),
    (
        "a user:password on a curl command line (-u)",
        re.compile(
            rf"\bcurl\b{_UNTIL_ARG}(?:-u|--user(?![\w-]))(?:\s+|=)?"
            r"(?P<q>[\"']?)[^\s:\"']+:(?P<value>[^\s\"'`;|&]+)"
        ),
    ),
    (
        "a password on an sshpass command line (-p)",
        re.compile(rf"\bsshpass\b{_UNTIL_ARG}-p\s*{_ARG}"),
    ),
    (
        "a password on a redis-cli command line (-a)",
        re.compile(rf"\bredis-cli\b{_UNTIL_ARG}(?:-a|--pass)\s+{_ARG}"),
    ),
)


def text_credentials(text: str) -> list[Hit]:
    """Credential shapes inside a string: tokens, keys, URLs with passwords, assignments."""
    hits = [Hit(reason) for reason, pattern in _VALUE_PATTERNS if pattern.search(text)]
    for reason, pattern in _COMMAND_PASSWORDS:
        if any(_literal(m.group("value")) for m in pattern.finditer(text)):
            hits.append(Hit(reason))
    for pattern in (_TEXT_ASSIGNMENT, _TEXT_FLAG):
        for match in pattern.finditer(text):
            key, value = match.group("key"), match.group("value")
            if _credential_value(key, value):
                hits.append(Hit(f"a literal value assigned to '{key}'"))
    unique: dict[str, Hit] = {}
    for hit in hits:
        unique.setdefault(hit.reason, hit)
    return list(unique.values())
