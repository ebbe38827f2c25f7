"""Helpers shared by the guardrail policies: config, durations, Kubernetes shapes, secrecy.

Policies receive what the engine's Analyze step gives them: props as a protobuf Struct turned
into Python (every number a float), secret values in plain text, and unknown values that raise
``UnknownValueError`` when read (the SDK turns that into an advisory "can't run during
preview"). Nothing here echoes a property value unless the caller says it is safe to show.
"""

from __future__ import annotations

import contextvars
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeGuard

# The SDK's unknown-value marker: its proxy raises it when an unknown value is read.
from pulumi_policy.proxy import UnknownValueError

PathPart = str | int
PropPath = tuple[PathPart, ...]

DRAFT_PREFIX = "draft-"
SECRET_SHOWN = "[secret]"

# ---------------------------------------------------------------------------------------------
# Policy config: the engine fills in schema defaults, but a policy must not depend on that
# (an older CLI, or a unit test calling the function directly, may not).


def config_number(args: Any, key: str, default: float) -> float:
    value = args.get_config().get(key, default)
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default
    )


def config_text(args: Any, key: str, default: str) -> str:
    value = args.get_config().get(key, default)
    return value if isinstance(value, str) and value else default


def config_texts(args: Any, key: str, default: Sequence[str]) -> tuple[str, ...]:
    value = args.get_config().get(key, default)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return tuple(default)


def texts_schema(default: Sequence[str], description: str | None = None) -> dict[str, Any]:
    """Config schema of a list of strings, the setting ``config_texts`` reads."""
    schema: dict[str, Any] = {
        "type": "array",
        "items": {"type": "string"},
        "default": list(default),
    }
    return schema if description is None else {**schema, "description": description}


def config_flag(args: Any, key: str, default: bool) -> bool:
    value = args.get_config().get(key, default)
    return value if isinstance(value, bool) else default


def draft_prefix(args: Any) -> str:
    return config_text(args, "draftNamespacePrefix", DRAFT_PREFIX)


def draft_stack(args: Any) -> str | None:
    """The stack's name when it is a draft stack (its name starts with the draft prefix).

    Cluster-wide objects and Vault resources have no namespace: what makes them a draft's is
    the stack that creates them (``envctl draft up`` names it ``draft-<slug>``). The stack is
    read from the resource's URN (``urn:pulumi:<stack>::<project>::...``): the engine does not
    tell a policy pack its stack any other way.
    """
    urn = getattr(args, "urn", "") or ""
    stack = (
        urn.split("::", 1)[0].removeprefix("urn:pulumi:") if urn.startswith("urn:pulumi:") else ""
    )
    return stack if stack.startswith(draft_prefix(args)) else None


def prefix_schema() -> dict[str, Any]:
    return {
        "type": "string",
        "minLength": 1,
        "default": DRAFT_PREFIX,
        "description": "namespaces whose names start with this are drafts",
    }


# ---------------------------------------------------------------------------------------------
# Durations. Vault roles take seconds (numbers), tokens take duration strings ("24h"); Vault
# also accepts plain-number strings as seconds and a "d" suffix for days.

_GO_DURATION = re.compile(r"^(?:(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d))+$")
_GO_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d)")
_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
}


def duration_seconds(value: Any) -> float | None:
    """Seconds of a Vault TTL value (number or duration string); None when not a duration."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text == "":
        return 0.0
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return float(text)
    if not _GO_DURATION.match(text):
        return None
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in _GO_PART.findall(text))


def show_seconds(seconds: float) -> str:
    """``7200 s (2 h)``: a TTL as a reader wants to see it."""
    whole = f"{seconds:.0f}" if float(seconds).is_integer() else f"{seconds:g}"
    if seconds >= 86400 and seconds % 3600 == 0:
        return f"{whole} s ({seconds / 3600:g} h = {seconds / 86400:g} d)"
    if seconds >= 3600:
        return f"{whole} s ({seconds / 3600:g} h)"
    if seconds >= 60:
        return f"{whole} s ({seconds / 60:g} min)"
    return f"{whole} s"


# ---------------------------------------------------------------------------------------------
# Reading props through the SDK's unknown-checking proxy.


def get_path(props: Mapping[str, Any], path: PropPath) -> Any:
    """The value at ``path`` or None; raises UnknownValueError if a step is unknown."""
    node: Any = props
    for part in path:
        if isinstance(part, int):
            if not isinstance(node, Sequence) or isinstance(node, str) or part >= len(node):
                return None
            node = node[part]
        else:
            if not isinstance(node, Mapping) or part not in node:
                return None
            node = node[part]
    return node


def known_items(node: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """``node.items()`` without the unknown ones (an unknown value is no literal)."""
    for key in list(node):
        try:
            yield key, node[key]
        except UnknownValueError:
            continue


def known_elements(node: Sequence[Any]) -> Iterator[tuple[int, Any]]:
    for index in range(len(node)):
        try:
            yield index, node[index]
        except UnknownValueError:
            continue


def is_mapping(value: Any) -> bool:
    return isinstance(value, Mapping)


def is_list(value: Any) -> TypeGuard[Sequence[Any]]:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def show_path(path: PropPath) -> str:
    """``spec.template.spec.containers[0].image``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def describe(args: Any) -> str:
    """``Service 'web' (kubernetes:core/v1:Service)``: how messages name a resource."""
    kind = args.resource_type.rsplit(":", 1)[-1]
    return f"{kind} '{args.name}' ({args.resource_type})"


# ---------------------------------------------------------------------------------------------
# Secrecy. The engine sends secret values wrapped in the secret signature (it marshals with
# KeepSecrets), but the Python SDK unwraps them before a policy sees props, so a policy cannot
# tell a secret from a plain value (pulumi/pulumi-policy#241). The hook below keeps the raw
# request for the duration of one Analyze/AnalyzeStack call so that the secret policies can ask
# which paths were secret. It reads only what the engine sent; offline evaluation calls the
# same servicer methods, so the answer is the same in both places.

_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
# Raw props by URN for the Analyze/AnalyzeStack call in progress. The variable lives on the
# servicer class, so a pack loaded again in the same process (offline evaluation) shares it.
_RAW_PROPS: contextvars.ContextVar[dict[str, Any] | None] | None = None
_HOOK_ATTR = "_environments_guardrails_raw_props"


def install_secret_hook() -> bool:
    """Wrap the SDK servicer's Analyze/AnalyzeStack so policies can see secret markers."""
    global _RAW_PROPS
    try:
        from google.protobuf import json_format
        from pulumi_policy import policy as sdk
    except ImportError:  # pragma: no cover
        return False
    servicer = getattr(sdk, "_PolicyAnalyzerServicer", None)
    if servicer is None or not all(hasattr(servicer, m) for m in ("Analyze", "AnalyzeStack")):
        return False
    existing = getattr(servicer, _HOOK_ATTR, None)
    if isinstance(existing, contextvars.ContextVar):
        _RAW_PROPS = existing
        return True
    raw_props: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
        _HOOK_ATTR, default=None
    )
    analyze, analyze_stack = servicer.Analyze, servicer.AnalyzeStack

    def hooked_analyze(self: Any, request: Any, context: Any) -> Any:
        token = raw_props.set({request.urn: json_format.MessageToDict(request.properties)})
        try:
            return analyze(self, request, context)
        finally:
            raw_props.reset(token)

    def hooked_analyze_stack(self: Any, request: Any, context: Any) -> Any:
        raw = {r.urn: json_format.MessageToDict(r.properties) for r in request.resources}
        token = raw_props.set(raw)
        try:
            return analyze_stack(self, request, context)
        finally:
            raw_props.reset(token)

    servicer.Analyze = hooked_analyze
    servicer.AnalyzeStack = hooked_analyze_stack
    setattr(servicer, _HOOK_ATTR, raw_props)
    _RAW_PROPS = raw_props
    return True


def _is_secret_envelope(node: Any) -> bool:
    return isinstance(node, dict) and node.get(_SIG_KEY) == _SECRET_SIG


class Secrecy:
    """Which property paths of one resource the program marked secret."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self._raw = raw

    def _walk(self, path: PropPath) -> tuple[Any, bool]:
        """(raw node at ``path`` or None, whether a secret wraps it on the way)."""
        node: Any = self._raw
        for part in path:
            if _is_secret_envelope(node):
                return None, True
            if isinstance(part, int):
                node = node[part] if isinstance(node, list) and part < len(node) else None
            else:
                node = node.get(part) if isinstance(node, dict) else None
            if node is None:
                return None, False
        return node, False

    def is_secret(self, path: PropPath) -> bool:
        """True when the value at ``path`` or any value containing it is a secret."""
        node, wrapped = self._walk(path)
        return wrapped or _is_secret_envelope(node)

    def holds_secret(self, path: PropPath) -> bool:
        """True when the value at ``path`` is, is inside, or contains a secret."""
        node, wrapped = self._walk(path)
        return wrapped or _holds_secret(node)


def _holds_secret(node: Any) -> bool:
    if _is_secret_envelope(node):
        return True
    if isinstance(node, dict):
        return any(_holds_secret(v) for v in node.values())
    if isinstance(node, list):
        return any(_holds_secret(v) for v in node)
    return False


def secrecy(urn: str) -> Secrecy | None:
    """Secret markers of resource ``urn`` as the engine sent them; None when unavailable."""
    raw = _RAW_PROPS.get() if _RAW_PROPS is not None else None
    if raw is None or urn not in raw:
        return None
    return Secrecy(raw[urn])


def shown(args: Any, path: PropPath, value: Any) -> str:
    """``value`` for a message, or ``[secret]`` when the program marked it secret."""
    marks = secrecy(args.urn)
    if marks is not None and marks.is_secret(path):
        return SECRET_SHOWN
    return str(value)


# ---------------------------------------------------------------------------------------------
# Kubernetes shapes.

K8S_PROVIDER = "pulumi:providers:kubernetes"


def resource_type(args_or_resource: Any) -> str:
    """The type token, with the core group spelled out: ``kubernetes:v1:Secret`` (what
    ``apiextensions.CustomResource(api_version="v1", ...)`` registers) is
    ``kubernetes:core/v1:Secret`` to the cluster, and to these policies."""
    kind = str(args_or_resource.resource_type)
    if kind.startswith("kubernetes:v1:"):
        return "kubernetes:core/v1:" + kind[len("kubernetes:v1:") :]
    return kind


NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"
HELM_RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"

# type token -> path of the pod spec inside props
POD_SPEC_PATHS: dict[str, PropPath] = {
    "kubernetes:core/v1:Pod": ("spec",),
    "kubernetes:core/v1:ReplicationController": ("spec", "template", "spec"),
    "kubernetes:core/v1:PodTemplate": ("template", "spec"),
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def kubernetes_namespace(args: Any) -> str | None:
    """The namespace a Kubernetes object lands in: its own, else its provider's default."""
    if not args.resource_type.startswith("kubernetes:"):
        return None
    if resource_type(args) == HELM_RELEASE_TYPE:
        namespace = get_path(args.props, ("namespace",))
    else:
        namespace = get_path(args.props, ("metadata", "namespace"))
    if isinstance(namespace, str) and namespace:
        return namespace
    provider = args.provider
    if provider is not None and provider.resource_type == K8S_PROVIDER:
        default = get_path(provider.props, ("namespace",))
        if isinstance(default, str) and default:
            return default
    return None


def object_name(args_or_resource: Any) -> str:
    """``metadata.name`` of a Kubernetes object, else its Pulumi name (the auto-name's prefix)."""
    name = get_path(args_or_resource.props, ("metadata", "name"))
    return name if isinstance(name, str) and name else str(args_or_resource.name)


def namespace_or_none(resource: Any) -> str | None:
    """The namespace of a stack policy's resource; None when not known yet."""
    try:
        return kubernetes_namespace(resource)
    except UnknownValueError:
        return None


def draft_namespaces(resources: Sequence[Any], prefix: str) -> dict[str, Any]:
    """Draft namespace name -> its Namespace resource (None when the stack does not own it)."""
    found: dict[str, Any] = {}
    for resource in resources:
        if resource_type(resource) == NAMESPACE_TYPE:
            name = object_name(resource)
            if name.startswith(prefix):
                found[name] = resource
    for resource in resources:
        if resource_type(resource) == NAMESPACE_TYPE:
            continue
        namespace = namespace_or_none(resource)
        if namespace is not None and namespace.startswith(prefix):
            found.setdefault(namespace, None)
    return found


def in_draft_namespace(args: Any) -> str | None:
    """The draft namespace ``args`` lands in, or None when it is not in a draft."""
    namespace = kubernetes_namespace(args)
    if namespace is not None and namespace.startswith(draft_prefix(args)):
        return namespace
    return None


def pod_spec(args: Any) -> tuple[PropPath, Mapping[str, Any]] | None:
    path = POD_SPEC_PATHS.get(resource_type(args))
    if path is None:
        return None
    spec = get_path(args.props, path)
    return (path, spec) if isinstance(spec, Mapping) else None


def containers(
    spec_path: PropPath, spec: Mapping[str, Any]
) -> Iterator[tuple[PropPath, Mapping[str, Any]]]:
    """Every container of a pod spec with its path (init, regular and ephemeral)."""
    for kind in CONTAINER_LISTS:
        items = spec.get(kind)
        if not is_list(items):
            continue
        for index, container in enumerate(items):
            if isinstance(container, Mapping):
                yield (*spec_path, kind, index), container


def container_label(path: PropPath, container: Mapping[str, Any]) -> str:
    name = container.get("name")
    return f"container '{name}'" if isinstance(name, str) else f"container at {show_path(path)}"


def selects_everything(selector: Any) -> bool:
    """True for an absent or empty label selector (no matchLabels, no matchExpressions).

    An unknown entry raises UnknownValueError (it may narrow the selector: no verdict)."""
    if selector is None:
        return True
    if not isinstance(selector, Mapping):
        return False
    for key in list(selector):
        value = selector[key]
        if value is not None and not ((isinstance(value, Mapping) or is_list(value)) and not value):
            return False
    return True


def walk_values(node: Any, path: PropPath = ()) -> Iterator[tuple[PropPath, Any]]:
    """Every (path, value) of a nested structure, unknown values skipped."""
    yield path, node
    if isinstance(node, Mapping):
        for key, value in known_items(node):
            yield from walk_values(value, (*path, key))
    elif is_list(node):
        for index, value in known_elements(node):
            yield from walk_values(value, (*path, index))
