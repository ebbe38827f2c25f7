"""Evaluate a CrossGuard policy pack on an offline Plan exactly as the Pulumi engine would.

Nothing here re-implements a policy's view of a resource. The pack's own ``__main__.py`` runs
the way ``pulumi-analyzer-policy-python`` runs it (``runpy`` of the pack directory, with the
stack's ``PULUMI_*`` environment); its ``PolicyPack`` is captured instead of served, and the
pulumi-policy servicer it built is called with the requests the engine would send:

- ``GetAnalyzerInfo``, then the pack config reconciled the engine's way (schema defaults,
  the pack's initial config, the user's config incl. ``all``; validated against each
  policy's schema), sent with ``ConfigureStack`` and ``Configure``;
- per resource, ``Remediate`` then ``Analyze`` with the resource's type, name, URN, inputs
  (a protobuf Struct: numbers as doubles, secrets in the secret signature, unknowns as the
  unknown sentinel), options (parent, protect, ignoreChanges, custom timeouts in seconds...)
  and provider resource (explicit, or the default provider with the package's config);
- ``AnalyzeStack`` with every resource, parents and dependencies included.

Diagnostics become ``PolicyFinding``s; disabled policies never run (the servicer skips them).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import re
import runpy
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2  # type: ignore[import-untyped]

from automation.plan.model import ROOT_STACK_TYPE, Plan, PlannedResource, Secret, Unknown, reveal

LEVELS = ("advisory", "mandatory", "remediate", "disabled")
ORGANIZATION = "organization"  # what the engine sends for DIY backends

_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's unknown-string sentinel


@dataclass(frozen=True)
class PolicyFinding:
    """One policy diagnostic: which policy, how bad, which resource (or the stack), what."""

    policy: str
    level: str
    urn: str | None
    message: str


class PolicyPackError(Exception):
    """The pack could not be loaded, configured or run; the message says which and why."""


class PolicyConfigError(PolicyPackError):
    """The policy pack config is invalid (bad input: names the policy, key and expected form)."""


class _Captured(BaseException):
    """Raised instead of starting the gRPC server: carries the servicer the pack built."""

    def __init__(self, servicer: Any) -> None:
        super().__init__("policy pack captured")
        self.servicer = servicer


def load_pack_config(path: Path) -> dict[str, Any]:
    """A ``--policy-pack-config`` file: policy name (or ``all``) -> level or object."""
    try:
        text = path.read_text(encoding="utf-8")
        document = json.loads(text) if text.strip() else {}
    except (OSError, json.JSONDecodeError) as exc:
        raise PolicyConfigError(f"{path}: not a readable JSON policy pack config ({exc})") from None
    if not isinstance(document, dict):
        raise PolicyConfigError(f"{path}: expected a JSON object of policy name -> config")
    return document


def evaluate_pack(
    pack_dir: Path, plan: Plan, config: Mapping[str, Any] | None = None
) -> list[PolicyFinding]:
    """Run the policy pack in ``pack_dir`` on ``plan``; its findings in the engine's order.

    ``config`` is what ``pulumi up --policy-pack-config FILE`` would read from FILE.
    Raises PolicyPackError when the pack cannot be loaded, its config is invalid, or a policy
    fails (the engine would fail the update).
    """
    pack_dir = pack_dir.resolve()
    _check_pack_project(pack_dir)
    context = contextvars.copy_context()  # the pack configures the Pulumi runtime: keep it apart
    return context.run(_evaluate, pack_dir, plan, dict(config or {}))


def _evaluate(pack_dir: Path, plan: Plan, user_config: dict[str, Any]) -> list[PolicyFinding]:
    from pulumi.runtime.config import _SECRET_KEYS, CONFIG
    from pulumi.runtime.proto import analyzer_pb2 as proto

    CONFIG.set({})
    _SECRET_KEYS.set(set())
    with _engine_environment(plan), _pack_modules(pack_dir):
        servicer = _load_servicer(pack_dir)
        try:
            info = servicer.GetAnalyzerInfo(empty_pb2.Empty(), None)
            policy_config = reconcile_config(info, user_config)
            servicer.ConfigureStack(
                proto.AnalyzerStackConfigureRequest(
                    stack=plan.stack,
                    project=plan.project,
                    organization=ORGANIZATION,
                    dry_run=True,
                    config={k: _config_text(v) for k, v in plan.config.items()},
                    config_secret_keys=sorted(plan.secret_keys),
                ),
                None,
            )
            servicer.Configure(_configure_request(policy_config), None)
            return _analyze(servicer, plan)
        except PolicyPackError:
            raise
        except Exception as exc:
            raise PolicyPackError(f"the policy pack failed: {type(exc).__name__}: {exc}") from exc


# --- loading ---------------------------------------------------------------------------------


def _check_pack_project(pack_dir: Path) -> None:
    project = pack_dir / "PulumiPolicy.yaml"
    try:
        document = yaml.safe_load(project.read_text(encoding="utf-8"))
    except OSError:
        raise PolicyPackError(
            f"{pack_dir}: no PulumiPolicy.yaml (expected a policy pack)"
        ) from None
    except yaml.YAMLError:
        raise PolicyPackError(f"{project}: not valid YAML") from None
    runtime = document.get("runtime") if isinstance(document, dict) else None
    name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if name != "python":
        raise PolicyPackError(
            f"{project}: runtime {name!r} cannot run offline (expected a python policy pack)"
        )
    if not (pack_dir / "__main__.py").is_file():
        raise PolicyPackError(f"{pack_dir}: no __main__.py (the pack's entry point)")


@contextlib.contextmanager
def _engine_environment(plan: Plan) -> Iterator[None]:
    """The environment the engine gives a policy pack: stack config and identity."""
    values = {
        "PULUMI_CONFIG": json.dumps({k: _config_text(v) for k, v in plan.config.items()}),
        "PULUMI_PROJECT": plan.project,
        "PULUMI_STACK": plan.stack,
        "PULUMI_ORGANIZATION": ORGANIZATION,
        "PULUMI_DRY_RUN": "true",
    }
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def _pack_modules(pack_dir: Path) -> Iterator[None]:
    """Run with the pack's cwd; forget the pack's modules afterwards (another pack may reuse
    the names), and any same-named module imported from elsewhere before."""
    own = {p.stem for p in pack_dir.glob("*.py")} | {
        p.parent.name for p in pack_dir.glob("*/__init__.py")
    }
    own.discard("__main__")

    def forget(keep_pack: bool) -> None:
        for name, module in list(sys.modules.items()):
            if name.partition(".")[0] not in own:
                continue
            origin = Path(getattr(module, "__file__", None) or "/").resolve()
            if not (keep_pack and origin.is_relative_to(pack_dir)):
                del sys.modules[name]

    previous = Path.cwd()
    forget(keep_pack=True)
    os.chdir(pack_dir)
    try:
        yield
    finally:
        os.chdir(previous)
        forget(keep_pack=False)


def _load_servicer(pack_dir: Path) -> Any:
    """Run the pack's __main__.py; return the servicer its PolicyPack built (not served)."""
    from pulumi.runtime.proto import analyzer_pb2_grpc

    def capture(servicer: Any, _server: Any) -> None:
        raise _Captured(servicer)

    original = analyzer_pb2_grpc.add_AnalyzerServicer_to_server
    analyzer_pb2_grpc.add_AnalyzerServicer_to_server = capture  # type: ignore[assignment]
    try:
        runpy.run_path(str(pack_dir), run_name="__main__")
    except _Captured as captured:
        return captured.servicer
    except SystemExit as exc:
        raise PolicyPackError(f"{pack_dir}: the policy pack exited ({exc.code})") from None
    except Exception as exc:
        raise PolicyPackError(
            f"{pack_dir}: the policy pack failed to load: {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        analyzer_pb2_grpc.add_AnalyzerServicer_to_server = original
    raise PolicyPackError(f"{pack_dir}: __main__.py ran but created no PolicyPack")


# --- config ----------------------------------------------------------------------------------


def reconcile_config(info: Any, user_config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Policy name -> {enforcementLevel, properties}: the engine's ReconcilePolicyPackConfig.

    Schema defaults first, then the pack's initial config, then the user's (``all`` sets every
    policy's level); the result is validated against each policy's config schema.
    """
    from pulumi.runtime.proto import analyzer_pb2 as proto

    result: dict[str, dict[str, Any]] = {}
    schemas: dict[str, dict[str, Any]] = {}
    for policy in info.policies:
        schema = json_format.MessageToDict(policy.configSchema)
        properties = dict(schema.get("properties") or {})
        schemas[policy.name] = {
            "type": "object",
            "properties": {
                **properties,
                "enforcementLevel": {"type": "string", "enum": list(LEVELS)},
            },
            **({"required": list(schema["required"])} if schema.get("required") else {}),
        }
        defaults = {
            k: v["default"] for k, v in properties.items() if isinstance(v, dict) and "default" in v
        }
        result[policy.name] = {
            "enforcementLevel": proto.EnforcementLevel.Name(policy.enforcementLevel).lower(),
            "properties": defaults,
        }
    # The engine reads every initial config entry's level from the protobuf, where an unset
    # level is ADVISORY (the enum's zero); mirror that.
    initial = {
        name: {
            "enforcementLevel": proto.EnforcementLevel.Name(c.enforcementLevel).lower(),
            **json_format.MessageToDict(c.properties),
        }
        for name, c in info.initialConfig.items()
    }
    _apply_config(result, initial)
    _apply_config(result, _parse_user_config(user_config))
    errors = _validate_config(result, schemas)
    if errors:
        raise PolicyConfigError("invalid policy pack config: " + "; ".join(errors))
    return result


def _parse_user_config(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    parsed: dict[str, dict[str, Any]] = {}
    for name, value in config.items():
        if isinstance(value, str):
            entry: dict[str, Any] = {"enforcementLevel": value}
        elif isinstance(value, dict):
            entry = dict(value)
        else:
            raise PolicyConfigError(
                f"policy pack config {name!r}: expected an enforcement level or an object"
            )
        level = entry.get("enforcementLevel")
        if level is not None and level not in LEVELS:
            raise PolicyConfigError(
                f"policy pack config {name!r}: enforcementLevel {level!r} is not one of "
                f"{', '.join(LEVELS)}"
            )
        parsed[name] = entry
    return parsed


def _apply_config(result: dict[str, dict[str, Any]], given: Mapping[str, dict[str, Any]]) -> None:
    everyone = given.get("all", {}).get("enforcementLevel")
    if everyone in LEVELS:
        for entry in result.values():
            entry["enforcementLevel"] = everyone
    for name, config in given.items():
        if name == "all":
            continue
        entry = result.setdefault(name, {"enforcementLevel": "advisory", "properties": {}})
        for key, value in config.items():
            if key == "enforcementLevel":
                if value in LEVELS:
                    entry["enforcementLevel"] = value
            else:
                entry["properties"][key] = value


def _validate_config(
    result: Mapping[str, dict[str, Any]], schemas: Mapping[str, dict[str, Any]]
) -> list[str]:
    import jsonschema  # type: ignore[import-untyped]

    errors: list[str] = []
    for name, entry in result.items():
        schema = schemas.get(name)
        if schema is None:
            continue  # config for a policy the pack does not have: the engine ignores it too
        validator = jsonschema.Draft7Validator(schema)
        for error in validator.iter_errors(entry["properties"]):
            where = ".".join(str(p) for p in error.absolute_path) or "(root)"
            errors.append(f"{name}: {where}: {error.message}")
    return errors


def _configure_request(policy_config: Mapping[str, dict[str, Any]]) -> Any:
    from pulumi.runtime.proto import analyzer_pb2 as proto

    request = proto.ConfigureAnalyzerRequest()
    for name, entry in policy_config.items():
        config = request.policyConfig[name]
        config.enforcementLevel = proto.EnforcementLevel.Value(entry["enforcementLevel"].upper())
        if entry["properties"]:
            config.properties.update(entry["properties"])
    return request


def _config_text(value: Any) -> str:
    value = reveal(value)
    return value if isinstance(value, str) else json.dumps(value)


# --- requests --------------------------------------------------------------------------------


def _wire(value: Any) -> Any:
    """A plan value as the engine marshals it: secrets signed, unknowns as the sentinel."""
    if isinstance(value, Secret):
        return {_SIG_KEY: _SECRET_SIG, "value": _wire(value.value)}
    if isinstance(value, Unknown):
        return _UNKNOWN
    if isinstance(value, dict):
        if set(value) == {"asset"} and isinstance(value["asset"], str):
            return {_SIG_KEY: _ASSET_SIG, "text": value["asset"]}
        return {str(k): _wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _struct(values: Mapping[str, Any]) -> Any:

    struct = struct_pb2.Struct()
    struct.update({k: _wire(v) for k, v in values.items()})
    return struct


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def _timeout_seconds(text: str) -> float:
    """Seconds of a Go duration string such as ``15m`` or ``1h30m`` (0 when unparseable)."""
    parts = _DURATION_PART.findall(text.strip())
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        return 0.0
    return sum(float(n) * _UNIT[u] for n, u in parts)


def _options(resource: PlannedResource) -> Any:
    from pulumi.runtime.proto import analyzer_pb2 as proto

    timeouts = resource.custom_timeouts
    return proto.AnalyzerResourceOptions(
        protect=resource.protect,
        ignoreChanges=list(resource.ignore_changes),
        deleteBeforeReplace=resource.delete_before_replace,
        deleteBeforeReplaceDefined=resource.delete_before_replace,
        additionalSecretOutputs=list(resource.additional_secret_outputs),
        aliases=[],
        customTimeouts=proto.AnalyzerResourceOptions.CustomTimeouts(
            create=_timeout_seconds(timeouts.get("create", "")),
            update=_timeout_seconds(timeouts.get("update", "")),
            delete=_timeout_seconds(timeouts.get("delete", "")),
        ),
        parent=resource.parent or "",
    )


def _urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _provider(resource: PlannedResource, plan: Plan, by_urn: Mapping[str, PlannedResource]) -> Any:
    """The resource's provider as the engine describes it (explicit or default), or None."""
    from pulumi.runtime.proto import analyzer_pb2 as proto

    if not resource.custom or resource.type.startswith("pulumi:providers:"):
        return None
    if resource.provider:
        urn = (
            resource.provider.rsplit("::", 1)[0]
            if resource.provider.count("::") > 3
            else resource.provider
        )
        explicit = by_urn.get(urn)
        return proto.AnalyzerProviderResource(
            urn=urn,
            type=explicit.type if explicit else _urn_type(urn),
            name=_urn_name(urn),
            properties=_struct(explicit.inputs if explicit else {}),
        )
    package = resource.type.split(":", 1)[0]
    prefix = f"{package}:"
    inputs = {
        key[len(prefix) :]: _config_value(value)
        for key, value in plan.config.items()
        if key.startswith(prefix)
    }
    provider_type = f"pulumi:providers:{package}"
    urn = f"urn:pulumi:{plan.stack}::{plan.project}::{provider_type}::default"
    return proto.AnalyzerProviderResource(
        urn=urn, type=provider_type, name="default", properties=_struct(inputs)
    )


def _urn_type(urn: str) -> str:
    qualified = urn.split("::")[2] if urn.count("::") >= 3 else ""
    return qualified.rsplit("$", 1)[-1]


def _config_value(value: Any) -> Any:
    """A config value as a provider input: JSON objects decoded, everything else as text."""
    text = _config_text(value)
    if text[:1] in "{[":
        with contextlib.suppress(json.JSONDecodeError):
            return json.loads(text)
    return text


def _root_stack(plan: Plan) -> PlannedResource:
    """The root ``pulumi:pulumi:Stack`` resource the engine registers (and analyzes) first."""
    urn = next(
        (r.parent for r in plan.resources if r.parent and f"::{ROOT_STACK_TYPE}::" in r.parent),
        f"urn:pulumi:{plan.stack}::{plan.project}::{ROOT_STACK_TYPE}::{plan.project}-{plan.stack}",
    )
    return PlannedResource(
        urn=urn,
        type=ROOT_STACK_TYPE,
        name=_urn_name(urn),
        custom=False,
        parent=None,
        depends_on=(),
        property_dependencies={},
        inputs={},
    )


def _analyze(servicer: Any, plan: Plan) -> list[PolicyFinding]:
    from pulumi.runtime.proto import analyzer_pb2 as proto

    by_urn = plan.by_urn()
    findings: list[PolicyFinding] = []
    stack_resources = []
    root = _root_stack(plan)
    for resource in [root, *plan.resources] if root.urn not in by_urn else plan.resources:
        options = _options(resource)
        provider = _provider(resource, plan, by_urn)
        request = proto.AnalyzeRequest(
            type=resource.type,
            urn=resource.urn,
            name=_urn_name(resource.urn),
            properties=_struct(resource.inputs),
            options=options,
            provider=provider,
        )
        remediated = servicer.Remediate(request, None)
        for remediation in remediated.remediations:
            if remediation.HasField("properties") and not remediation.diagnostic:
                request.properties.CopyFrom(remediation.properties)
        response = servicer.Analyze(request, None)
        findings.extend(_findings(response, default_urn=resource.urn))
        stack_resources.append(
            proto.AnalyzerResource(
                type=resource.type,
                urn=resource.urn,
                name=request.name,
                # The stack policies see state; the root stack's state is its outputs.
                properties=_struct(plan.outputs) if resource is root else request.properties,
                options=options,
                provider=provider,
                parent=resource.parent or "",
                dependencies=list(resource.depends_on),
                propertyDependencies={
                    key: proto.AnalyzerPropertyDependencies(urns=list(urns))
                    for key, urns in resource.property_dependencies.items()
                    if urns
                },
            )
        )
    response = servicer.AnalyzeStack(proto.AnalyzeStackRequest(resources=stack_resources), None)
    # As the engine does, a stack policy's violation without a resource names the stack.
    findings.extend(_findings(response, default_urn=root.urn))
    return findings


def _findings(response: Any, default_urn: str | None) -> list[PolicyFinding]:
    from pulumi.runtime.proto import analyzer_pb2 as proto

    found = []
    for diagnostic in response.diagnostics:
        level = proto.EnforcementLevel.Name(diagnostic.enforcementLevel).lower()
        if level == "disabled":
            continue
        if level == "remediate":
            level = "mandatory"  # as the engine reports a violation left after remediation
        message = diagnostic.message
        description = diagnostic.description
        if description and message.startswith(description + "\n"):
            message = message[len(description) + 1 :]
        found.append(
            PolicyFinding(
                policy=diagnostic.policyName,
                level=level,
                urn=diagnostic.urn or default_urn,
                message=message or description,
            )
        )
    return found
