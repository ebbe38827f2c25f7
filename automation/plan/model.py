"""What an offline plan records: resources as the engine would see them, and stack outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SECRET_TEXT = "[secret]"
UNKNOWN_TEXT = "[unknown]"


@dataclass(frozen=True)
class Secret:
    """A value the program marked secret; shown as ``[secret]``, never in clear."""

    value: Any

    def __repr__(self) -> str:
        return "Secret([secret])"


class Unknown:
    """A value not known until the real update runs (computed by a provider)."""

    def __repr__(self) -> str:
        return "Unknown()"


UNKNOWN = Unknown()

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
"""The type of the root resource the engine registers for every program."""


@dataclass(frozen=True)
class PlannedResource:
    """One registered resource. ``inputs`` hold plain values, ``Secret`` and ``UNKNOWN``."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    depends_on: tuple[str, ...]
    property_dependencies: dict[str, tuple[str, ...]]
    inputs: dict[str, Any]
    provider: str | None = None
    protect: bool = False
    delete_before_replace: bool = False
    ignore_changes: tuple[str, ...] = ()
    additional_secret_outputs: tuple[str, ...] = ()
    custom_timeouts: dict[str, str] = field(default_factory=dict)


@dataclass
class Plan:
    """The outcome of running a program offline."""

    project: str
    stack: str
    resources: list[PlannedResource]
    outputs: dict[str, Any]
    config: dict[str, Any]
    secret_keys: frozenset[str]

    def by_urn(self) -> dict[str, PlannedResource]:
        return {r.urn: r for r in self.resources}

    def of_type(self, type_token: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_token]


def reveal(value: Any) -> Any:
    """``value`` with every ``Secret`` unwrapped (what policies see: the engine gives plaintext)."""
    if isinstance(value, Secret):
        return reveal(value.value)
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def redact(value: Any) -> Any:
    """``value`` with every ``Secret`` as ``[secret]`` and unknowns as ``[unknown]``."""
    if isinstance(value, Secret):
        return SECRET_TEXT
    if isinstance(value, Unknown):
        return UNKNOWN_TEXT
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def redact_leaves(value: Any) -> Any:
    """Like ``redact``, but a secret mapping or list keeps its shape: only leaves are ``[secret]``.

    What manifests need: a Secret's ``stringData`` stays a map of names to strings.
    """
    if isinstance(value, Secret):
        inner = value.value
        if isinstance(inner, dict | list):
            return redact_leaves(_secret_leaves(inner))
        return SECRET_TEXT
    if isinstance(value, Unknown):
        return UNKNOWN_TEXT
    if isinstance(value, dict):
        return {k: redact_leaves(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_leaves(v) for v in value]
    return value


def _secret_leaves(value: Any) -> Any:
    """``value`` with every leaf wrapped as a ``Secret`` (keys stay plain)."""
    if isinstance(value, Secret):
        return _secret_leaves(value.value)
    if isinstance(value, dict):
        return {k: _secret_leaves(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_secret_leaves(v) for v in value]
    return value if isinstance(value, Unknown) else Secret(value)


def contains_secret(value: Any) -> bool:
    """True when any part of ``value`` is a ``Secret``."""
    if isinstance(value, Secret):
        return True
    if isinstance(value, dict):
        return any(contains_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_secret(v) for v in value)
    return False
