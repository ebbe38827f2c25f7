"""Typed settings from Pulumi config, layered: template file < stack config (``layered_config``).

Each component has one pydantic model (a ``SettingsModel``). ``load_settings`` builds it
from the stack's Pulumi config namespace (``draft:``, ``staging:`` or ``platform:``) laid over the
stack-kind template (``Pulumi.draft.yaml`` for every ``draft-*`` stack), the way Pulumi
Review Stacks start from ``Pulumi.pr.yaml``. Anything wrong stops the program before a
resource is registered with one ``ConfigError``: one line per bad key, in
``pulumi config set --path`` form, with what is wrong and the expected form, never the value
(it might be a secret). An encrypted value an offline run cannot decrypt
(``ENCRYPTED_PLACEHOLDER``) is a secret, never an error: see ``validate_settings``.

Pulumi marks secrets per top-level key (``draft:chart`` is secret when any value under it
was set with ``--secret``) and hands the program plain text. ``load_settings`` records those
keys on the model (``secret_config``) so that a component passes what it reads from them on
as a Pulumi secret (``keep_secret``); a model's ``secret_carriers`` name the keys it can keep
secret, and any other secret key is refused before validation (``refuse_secret_config``).
"""

from __future__ import annotations

import difflib
import json
import re
import types
import typing
from collections.abc import Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeVar, Union, cast, get_args, get_origin

import pulumi
import yaml
from pydantic import BaseModel, ConfigDict, PrivateAttr, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo

from components.naming import DRAFT_PREFIX, is_dns_label, is_draft_stack

StackKind = Literal["draft", "staging", "platform"]
STAGING_STACK = "staging"
PLATFORM_STACK = "platform"
# What an offline run (envctl plan) gets for a ``secure:`` value it cannot decrypt.
ENCRYPTED_PLACEHOLDER = "[encrypted]"
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")

M = TypeVar("M", bound="SettingsModel")
T = TypeVar("T")


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
    # Top-level config names whose values the component keeps secret when they are secret
    # config (``keep_secret``); ``load_settings`` refuses any other secret name. None: no check.
    secret_carriers: ClassVar[frozenset[str] | None] = None
    _secret_config: frozenset[str] = PrivateAttr(default=frozenset())

    @property
    def secret_config(self) -> frozenset[str]:
        """Top-level config names of this model (``chart``, ``image``) Pulumi holds as secrets."""
        return self._secret_config

    def keep_secret(self, name: str, value: T) -> pulumi.Input[T]:
        """``value``, read from config name ``name``, as a Pulumi secret when ``name`` is one."""
        return pulumi.Output.secret(value) if name in self._secret_config else value


def stack_kind(stack: str) -> StackKind:
    """``draft`` for ``draft-*`` stacks, ``staging`` and ``platform`` for themselves; anything
    else is refused."""
    if is_draft_stack(stack):
        if not is_dns_label(stack):
            raise ConfigError(
                f"stack: {stack!r} cannot be a draft stack name (expected '{DRAFT_PREFIX}<slug>', "
                "a lowercase DNS-1123 label of at most 63 characters: lowercase letters, digits "
                "and inner dashes); 'envctl name BRANCH' prints the stack name of a branch"
            )
        return "draft"
    if stack == STAGING_STACK:
        return "staging"
    if stack == PLATFORM_STACK:
        return "platform"
    raise ConfigError(
        f"stack: {stack!r} is not a stack this project deploys; expected "
        "'draft-<branch slug>' (e.g. draft-feature-x), 'staging' or 'platform'"
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
        values[key[len(prefix) :]] = _json_or_text(raw)
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


def template_config(project_dir: Path, kind: StackKind) -> dict[str, Any]:
    """The ``config:`` of the kind's template (full keys); a ConfigError for a secret in it."""
    path = template_path(project_dir, kind)
    template = read_stack_file(path)
    for key, value in template.items():
        if isinstance(value, Mapping) and "secure" in value:
            raise ConfigError(
                f"{path.name}: {key} is encrypted, but a template cannot hold "
                "secrets; set it per stack with 'pulumi config set --secret'"
            )
    return template


def layered_config(project_dir: Path, kind: StackKind, config: Mapping[str, Any]) -> dict[str, Any]:
    """A stack's ``config`` (full keys) laid over the kind's template, read now.

    The one place the template meets a stack: mappings merge key by key, anything else (a
    list included) replaces. The program does it on every run, so a template edit reaches
    every stack on its next update; ``envctl draft up`` never copies template keys.
    """
    return deep_merge(decoded_config(template_config(project_dir, kind)), decoded_config(config))


def decoded_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Config values with JSON objects and lists (as Pulumi hands them over) parsed."""
    return {key: _json_or_text(value) for key, value in config.items()}


def _json_or_text(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def runtime_config() -> dict[str, Any]:
    """Every config value the Pulumi runtime holds for this program, by full key."""
    from pulumi.runtime import config as runtime

    values = dict(runtime.get_config_env())
    values.update(runtime.CONFIG.get())
    return values


def runtime_secret_keys(keys: Iterable[str]) -> frozenset[str]:
    """Which of ``keys`` (full keys) the Pulumi runtime holds as secrets."""
    from pulumi.runtime import config as runtime

    listed = set(runtime.get_config_secret_keys_env())
    return frozenset(key for key in keys if key in listed or runtime.is_config_secret(key))


def secret_names(namespace: str, secret_keys: Iterable[str]) -> frozenset[str]:
    """Top-level names under ``namespace:`` among the full ``secret_keys``."""
    prefix = namespace + ":"
    return frozenset(k[len(prefix) :] for k in secret_keys if k.startswith(prefix))


def refuse_secret_config(namespace: str, names: Collection[str], carriers: Collection[str]) -> None:
    """A ConfigError for the secret top-level ``names`` outside ``carriers`` (the keys whose
    values the component keeps secret): the others would reach resources in plain text."""
    refused = sorted(set(names) - set(carriers))
    if refused:
        keys = ", ".join(f"{namespace}:{name}" for name in refused)
        allowed = ", ".join(f"{namespace}:{name}" for name in sorted(carriers))
        raise ConfigError(
            f"{keys}: set as secret config, but used in plain text (names, labels, commands, "
            f"paths); expected: plain config (pulumi config set without --secret); secrets "
            f"belong under {allowed} or in Vault"
        )


def _unwrap(annotation: Any) -> tuple[Any, list[str]]:
    """The bare type under ``Annotated`` and ``X | None``, and the descriptions met, inner first."""
    descriptions: list[str] = []
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            args = get_args(annotation)
            descriptions += [
                m.description for m in args[1:] if isinstance(m, FieldInfo) and m.description
            ]
            annotation = args[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation, descriptions
            annotation = members[0]
        else:
            return annotation, descriptions


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _field(model: type[BaseModel], part: str) -> tuple[str, Any] | None:
    """(config name, raw annotation with its ``Annotated`` metadata) of ``part`` in ``model``."""
    for name, field in model.model_fields.items():
        if part in (name, field.alias):
            try:
                hints = typing.get_type_hints(model, include_extras=True)
            except (NameError, TypeError):  # unresolvable forward reference: no metadata
                hints = {}
            return field.alias or name, hints.get(name, field.annotation)
    return None


def _key_part(part: int | str, first: bool) -> str:
    """One step of a ``pulumi config set --path`` key: ``[0]``, ``.name`` or ``["a.b"]``."""
    if isinstance(part, int):
        return f"[{part}]"
    if _PLAIN_KEY.fullmatch(part):
        return part if first else f".{part}"
    return f'["{part}"]'


def _locate(
    model: type[BaseModel], namespace: str, loc: tuple[int | str, ...]
) -> tuple[str, list[str], Any]:
    """The ``--path`` key of ``loc``, the descriptions there (form first, purpose last), its type."""
    key, descriptions, current = "", list[str](), cast(Any, model)
    for index, part in enumerate(loc):
        if part == "[key]":
            continue  # the key itself failed: handled with the step before
        bare, _ = _unwrap(current)
        origin, args = get_origin(bare), get_args(bare)
        if _is_model(bare) and isinstance(part, str) and (found := _field(bare, part)):
            name, current = found
            descriptions = _unwrap(current)[1]
            key += _key_part(name, not key)
            continue
        if origin in (Union, types.UnionType):
            continue  # pydantic's name of the union member that failed, not a config key
        if origin is dict and len(args) == 2:
            current = args[0] if loc[index + 1 : index + 2] == ("[key]",) else args[1]
        elif origin in (tuple, list) and args and isinstance(part, int):
            current = args[0]
        else:
            current = Any
        key += _key_part(part, not key)
        descriptions = _unwrap(current)[1] + descriptions
    return f"{namespace}:{key}", descriptions, current


def _expected(descriptions: list[str]) -> str:
    """``(expected: form; purpose)`` from the descriptions of a key, or nothing."""
    unique = list(dict.fromkeys(descriptions))
    shown = [unique[0], unique[-1]] if len(unique) > 1 else unique
    return f" (expected: {'; '.join(shown)})" if shown else ""


def _message(model: type[BaseModel], namespace: str, error: Any) -> tuple[str, str]:
    """(key, message) for one pydantic error; the message never holds the value."""
    loc: tuple[int | str, ...] = tuple(error["loc"])
    key, descriptions, _ = _locate(model, namespace, loc)
    if not loc:  # a check across keys of the whole namespace
        return (
            key,
            f"{namespace}: settings are invalid: {error['msg'][0].lower()}{error['msg'][1:]}",
        )
    kind = error["type"]
    if kind == "extra_forbidden":
        parent_key, _, parent = _locate(model, namespace, loc[:-1])
        bare, _ = _unwrap(parent)
        hint = ""
        if _is_model(bare):
            known = [f.alias or n for n, f in bare.model_fields.items()]
            guess = difflib.get_close_matches(str(loc[-1]), known, n=1)
            if guess:
                hint = f"; did you mean {parent_key}{_key_part(guess[0], not loc[:-1])}?"
        return key, f"{key} is not a known setting{hint}"
    if kind == "missing":
        problem = "is required but not set"
    elif loc and loc[-1] == "[key]":
        problem = "is invalid: its name does not have the expected form"
    elif kind == "string_pattern_mismatch":
        problem = "is invalid: it does not have the expected form"
    else:
        problem = "is invalid: " + error["msg"][0].lower() + error["msg"][1:]
    return key, f"{key} {problem}{_expected(descriptions)}"


def validate_settings(
    model: type[M], namespace: str, values: Mapping[str, Any], context: dict[str, Any] | None = None
) -> M:
    """``model`` from ``values`` or a ConfigError naming every bad key once (never its value)."""
    values, opaque = _without_encrypted(model, values)
    try:
        settings = model.model_validate(values, context=context)
    except ValidationError as exc:
        messages: dict[str, str] = {}
        for e in exc.errors(include_input=False):
            key, message = _message(model, namespace, e)
            messages.setdefault(key, message)
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(messages.values())) from None
    for path, value_type in opaque:
        settings = _with_encrypted_mapping(settings, path, value_type)
    return settings


class EncryptedMapping(Mapping[str, Any]):
    """An encrypted mapping an offline run cannot read: it has every key, none listed.

    Each key's value is the placeholder (as the mapping's value type, e.g. ``SecretStr``),
    so checks such as ``"databaseUrl" in settings.secrets`` hold as they would after decryption.
    """

    def __init__(self, placeholder: Any) -> None:
        self._placeholder = placeholder

    def __getitem__(self, key: str) -> Any:
        return self._placeholder

    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _without_encrypted(
    model: type[BaseModel], values: Mapping[str, Any]
) -> tuple[dict[str, Any], list[tuple[tuple[str, ...], Any]]]:
    """``values`` with placeholders of encrypted values made valid for their fields' types.

    A string field keeps the placeholder; a mapping becomes ``{}`` (and, on a path through
    models only, an EncryptedMapping after validation); a list ``[]``; anything else its default.
    """
    opaque: list[tuple[tuple[str, ...], Any]] = []

    def clean(annotation: Any, value: Any, path: tuple[str, ...] | None) -> Any:
        bare, _ = _unwrap(annotation)
        origin, args = get_origin(bare), get_args(bare)
        if value == ENCRYPTED_PLACEHOLDER:
            if origin is dict:
                if path is not None and len(args) == 2:
                    opaque.append((path, args[1]))
                return {}
            if origin in (tuple, list):
                return []
            return value if _accepts(annotation, value) else _DROP
        if _is_model(bare) and isinstance(value, Mapping):
            cleaned = {}
            for key, item in value.items():
                found = _field(bare, str(key))
                new = (
                    clean(found[1], item, None if path is None else (*path, str(key)))
                    if found
                    else item
                )
                if new is not _DROP:
                    cleaned[key] = new
            return cleaned
        if origin in (tuple, list) and args and isinstance(value, list):
            return [clean(args[0], item, None) for item in value]
        return value

    return clean(model, values, ()), opaque


_DROP = object()


def _accepts(annotation: Any, value: Any) -> bool:
    """True when ``value`` is valid for ``annotation`` on its own."""
    try:
        TypeAdapter(annotation).validate_python(value)
    except (ValidationError, TypeError, ValueError):
        return False
    return True


def _with_encrypted_mapping(settings: M, path: tuple[str, ...], value_type: Any) -> M:
    """``settings`` with the mapping at ``path`` (field names or aliases) an EncryptedMapping."""
    head, rest = path[0], path[1:]
    name = next(n for n, f in type(settings).model_fields.items() if head in (n, f.alias))
    if rest:
        value = _with_encrypted_mapping(getattr(settings, name), rest, value_type)
    else:
        try:
            placeholder = TypeAdapter(value_type).validate_python(ENCRYPTED_PLACEHOLDER)
        except ValidationError:
            placeholder = ENCRYPTED_PLACEHOLDER
        value = EncryptedMapping(placeholder)
    return settings.model_copy(update={name: value})


def load_settings(
    model: type[M],
    namespace: str,
    kind: StackKind,
    project_dir: Path,
    config: Mapping[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    secret_keys: Iterable[str] = (),
) -> M:
    """``model`` from the kind's template file overlaid with the stack's config namespace.

    The runtime's config and secret keys by default; or ``config`` with its ``secret_keys``
    (full keys). The model's ``secret_config`` names the stack's secret top-level keys.
    """
    if config is None:
        config = runtime_config()
        secret_keys = runtime_secret_keys(config)
    secret = secret_names(namespace, secret_keys)
    if model.secret_carriers is not None:
        refuse_secret_config(namespace, secret, model.secret_carriers)
    values = namespace_values(layered_config(project_dir, kind, config), namespace)
    settings = validate_settings(model, namespace, values, context)
    settings._secret_config = secret
    return settings
