"""Typed settings from Pulumi config, layered: template file < stack config.

Each component has one pydantic model (a ``SettingsModel``). ``load_settings`` builds it
from the stack's Pulumi config namespace (``draft:`` or ``staging:``) laid over the
stack-kind template (``Pulumi.draft.yaml`` for every ``draft-*`` stack), the way Pulumi
Review Stacks start from ``Pulumi.pr.yaml``. Anything wrong stops the program before a
resource is registered with one ``ConfigError`` that names each key and its expected form,
and never echoes a value (it might be a secret).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

import pulumi
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from components.naming import is_draft_stack

StackKind = Literal["draft", "staging"]
STAGING_STACK = "staging"

M = TypeVar("M", bound="SettingsModel")


class ConfigError(pulumi.RunError):
    """Bad configuration: Pulumi prints the message without a traceback; envctl exits 2."""


class SettingsModel(BaseModel):
    """Base for settings models: camelCase config keys, unknown keys refused, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        # Python's re: patterns may use look-ahead (pydantic's default Rust engine cannot).
        regex_engine="python-re",
    )


def stack_kind(stack: str) -> StackKind:
    """``draft`` for ``draft-*`` stacks, ``staging`` for ``staging``; anything else is refused."""
    if is_draft_stack(stack):
        return "draft"
    if stack == STAGING_STACK:
        return "staging"
    raise ConfigError(
        f"stack: {stack!r} is not a stack this project deploys; "
        "expected 'draft-<branch slug>' (e.g. draft-feature-x) or 'staging'"
    )


def template_path(project_dir: Path, kind: StackKind) -> Path:
    """The config template every stack of ``kind`` starts from."""
    return project_dir / f"Pulumi.{kind}.yaml"


def read_stack_file(path: Path) -> dict[str, Any]:
    """The ``config:`` map of a ``Pulumi.<stack>.yaml`` file ({} when absent)."""
    if not path.is_file():
        return {}
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path.name}: not valid YAML ({exc.__class__.__name__})") from None
    config = document.get("config") if isinstance(document, dict) else None
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise ConfigError(f"{path.name}: 'config' must be a mapping of 'namespace:key' to values")
    return config


def namespace_values(config: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    """The values under ``namespace:`` with the prefix removed; JSON objects parsed."""
    prefix = namespace + ":"
    values: dict[str, Any] = {}
    for key, raw in config.items():
        if not key.startswith(prefix):
            continue
        value = raw
        if isinstance(raw, str) and raw[:1] in "{[":
            try:
                value = json.loads(raw)
            except json.JSONDecodeError:
                value = raw
        values[key[len(prefix) :]] = value
    return values


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` laid over ``base``; nested mappings merge key by key."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def runtime_config() -> dict[str, Any]:
    """Every config value the Pulumi runtime holds for this program, by full key."""
    from pulumi.runtime import config as runtime

    values = dict(runtime.get_config_env())
    values.update(runtime.CONFIG.get())
    return values


def _describe(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    """The field description found at ``loc`` in ``model`` (the expected form), if any."""
    current: Any = model
    description = ""
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            break
        field = next(
            (f for name, f in current.model_fields.items() if part in (name, f.alias)), None
        )
        if field is None:
            break
        description = field.description or ""
        current = field.annotation
    return description


def _message(model: type[BaseModel], namespace: str, error: Any) -> str:
    loc: tuple[int | str, ...] = tuple(error["loc"])
    key = f"{namespace}:" + ".".join(str(p) for p in loc)
    kind = error["type"]
    if kind == "missing":
        problem = "is required but not set"
    elif kind == "extra_forbidden":
        known = [f.alias or n for n, f in model.model_fields.items()]
        guess = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"; did you mean {namespace}:{guess[0]}?" if guess and len(loc) == 1 else ""
        return f"{key} is not a known setting{hint}"
    else:
        problem = "is invalid: " + error["msg"][0].lower() + error["msg"][1:]
    expected = _describe(model, loc)
    return f"{key} {problem}" + (f" (expected: {expected})" if expected else "")


def validate_settings(
    model: type[M], namespace: str, values: Mapping[str, Any], context: dict[str, Any] | None = None
) -> M:
    """``model`` from ``values`` or a ConfigError naming every bad key (never their values)."""
    try:
        return model.model_validate(values, context=context)
    except ValidationError as exc:
        lines = [_message(model, namespace, e) for e in exc.errors(include_input=False)]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from None


def load_settings(
    model: type[M],
    namespace: str,
    kind: StackKind,
    project_dir: Path,
    config: Mapping[str, Any] | None = None,
    context: dict[str, Any] | None = None,
) -> M:
    """``model`` from the kind's template file overlaid with the stack's config namespace."""
    path = template_path(project_dir, kind)
    template = namespace_values(read_stack_file(path), namespace)
    for key, value in template.items():
        if isinstance(value, Mapping) and "secure" in value:
            raise ConfigError(
                f"{path.name}: {namespace}:{key} is encrypted, but a template cannot hold "
                "secrets; set it per stack with 'pulumi config set --secret'"
            )
    stack = namespace_values(runtime_config() if config is None else config, namespace)
    return validate_settings(model, namespace, deep_merge(template, stack), context)
