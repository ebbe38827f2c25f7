"""The config a stack's program would see: Pulumi.yaml defaults, Pulumi.<stack>.yaml, --set.

Mirrors what the Pulumi CLI hands a program: full ``namespace:key`` names, string values
(objects as JSON), and the set of secret keys. For this project's stacks the kind's
template (``Pulumi.draft.yaml``) lies under the stack's own file, laid by the program's own
``components.config.layered_config`` (which the program applies again, to the same
result), so ``--set`` paths reach into template values, as ``envctl draft up --set`` does.
Encrypted values cannot be decrypted offline: they become secrets with a placeholder
value, never an error.

A draft's program reads neither the clock nor git: ``envctl draft up`` sets ``draft:sha``
and ``draft:deployedAt``. For an offline preview that does not set them, ``envctl plan``
stamps ``PREVIEW_SHA`` and the time of the plan (``preview_defaults``); with both given,
two plans of the same config are identical.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from automation import PROJECT_NAME
from components.config import (
    ENCRYPTED_PLACEHOLDER,
    ConfigError,
    deep_merge,
    layered_config,
    read_stack_file,
    stack_kind,
    template_path,
)

PREVIEW_SHA = "0" * 40
"""The commit an offline preview of a draft shows when ``draft:sha`` is not set."""

_PATH_TOKEN = re.compile(r'\.([^.\[\]]+)|\[(\d+)\]|\["([^"]+)"\]')


@dataclass(frozen=True)
class StackConfig:
    """Config as the runtime receives it: full keys to strings, and which are secret."""

    project: str
    values: dict[str, str]
    secret_keys: frozenset[str]


def read_project(program_dir: Path) -> dict[str, Any]:
    """Pulumi.yaml of ``program_dir`` as a mapping; a clear error when absent or broken."""
    path = program_dir / "Pulumi.yaml"
    if not path.is_file():
        raise ConfigError(
            f"--cwd: {program_dir} has no Pulumi.yaml (expected a Pulumi project directory)"
        )
    try:
        project = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        raise ConfigError(f"{path}: not valid YAML") from None
    if not isinstance(project, dict) or not isinstance(project.get("name"), str):
        raise ConfigError(f"{path}: expected a mapping with a 'name' (the project name)")
    return project


def _full_key(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _hide_encrypted(value: Any) -> tuple[Any, bool]:
    """Replace ``{secure: ...}`` anywhere in ``value``; report whether any was found."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return ENCRYPTED_PLACEHOLDER, True
        found = False
        cleaned = {}
        for k, v in value.items():
            cleaned[k], hit = _hide_encrypted(v)
            found = found or hit
        return cleaned, found
    if isinstance(value, list):
        pairs = [_hide_encrypted(v) for v in value]
        return [p[0] for p in pairs], any(p[1] for p in pairs)
    return value, False


def _parse_path(spec: str) -> tuple[str, list[str | int]]:
    """``ns:key.a[0]["b.c"]`` -> (``ns:key``, ['a', 0, 'b.c']); ConfigError when malformed."""
    match = re.match(r"[^.\[\]]+", spec)
    if match is None:
        raise ConfigError(
            f"--set: {spec!r} is not a config key (expected e.g. draft:vault.tokenTtlSeconds)"
        )
    key, rest, path = match.group(0), spec[match.end() :], []
    while rest:
        token = _PATH_TOKEN.match(rest)
        if token is None:
            raise ConfigError(
                f'--set: cannot parse the path in {spec!r} (expected a.b[0].c or a["b.c"])'
            )
        name, index, quoted = token.groups()
        path.append(int(index) if index is not None else (name or quoted))
        rest = rest[token.end() :]
    return key, path


def _scalar(text: str) -> Any:
    """What ``pulumi config set --path`` stores: booleans and integers typed, else strings."""
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return text


def _assign(container: Any, path: list[str | int], value: Any, spec: str) -> Any:
    head, tail = path[0], path[1:]
    if isinstance(head, int):
        items = container if isinstance(container, list) else []
        while len(items) <= head:
            items.append(None)
        items[head] = _assign(items[head], tail, value, spec) if tail else value
        return items
    mapping = container if isinstance(container, dict) else {}
    mapping[head] = _assign(mapping.get(head), tail, value, spec) if tail else value
    return mapping


def _decode(value: str) -> Any:
    if value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def apply_override(
    values: dict[str, Any], override: str, project: str, namespace: str | None = None
) -> None:
    """Apply one ``KEY=VALUE`` with ``--path`` semantics to ``values`` (full keys, native).

    With ``namespace`` (this project's stacks) a key without one is refused, with a hint.
    """
    spec, sep, text = override.partition("=")
    if not sep or not spec.strip():
        raise ConfigError(f"--set: {override!r} must be KEY=VALUE, e.g. draft:ttlHours=24")
    key, path = _parse_path(spec.strip())
    if namespace is not None and ":" not in key:
        raise ConfigError(
            f"--set: {spec.strip()!r} has no config namespace; this project reads only draft: "
            f"and staging: keys (did you mean {namespace}:{spec.strip()}?)"
        )
    full = _full_key(key, project)
    if not path:
        values[full] = text
        return
    current = values.get(full)
    values[full] = _assign(
        _decode(current) if isinstance(current, str) else current, path, _scalar(text), spec
    )


def preview_defaults(values: dict[str, Any], now: datetime | None = None) -> None:
    """A draft's per-deploy keys an offline preview lacks: a placeholder commit, ``now``."""
    values.setdefault("draft:sha", PREVIEW_SHA)
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    values.setdefault("draft:deployedAt", moment.isoformat())


def load_stack_config(
    program_dir: Path, stack: str, overrides: list[str], now: datetime | None = None
) -> StackConfig:
    """Config of ``stack`` for the program in ``program_dir``, with ``--set`` overrides applied.

    A draft stack gets ``preview_defaults`` (at ``now``) for what neither sets.
    """
    project_doc = read_project(program_dir)
    project = project_doc["name"]
    values: dict[str, Any] = {}
    secret: set[str] = set()
    for key, spec in (project_doc.get("config") or {}).items():
        if isinstance(spec, dict) and ("value" in spec or "default" in spec):
            values[_full_key(key, project)] = spec.get("value", spec.get("default"))
        elif not isinstance(spec, dict):
            values[_full_key(key, project)] = spec
    stack_file = program_dir / f"Pulumi.{stack}.yaml"
    own: dict[str, Any] = {}
    for key, value in read_stack_file(stack_file).items():
        full = _full_key(str(key), project)
        own[full], encrypted = _hide_encrypted(value)
        if encrypted:
            secret.add(full)
    namespace = None
    if project == PROJECT_NAME:
        namespace = stack_kind(stack)  # refuses a stack name this project cannot deploy
        if template_path(program_dir, namespace) != stack_file:
            own = layered_config(program_dir, namespace, own)
    values = deep_merge(values, own)
    for override in overrides:
        apply_override(values, override, project, namespace)
    if project == PROJECT_NAME and namespace == "draft":
        preview_defaults(values, now)
    as_strings = {
        k: v if isinstance(v, str) else json.dumps(v) if isinstance(v, (dict, list)) else _plain(v)
        for k, v in values.items()
    }
    return StackConfig(project=project, values=as_strings, secret_keys=frozenset(secret))


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
