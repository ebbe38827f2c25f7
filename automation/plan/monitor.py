"""A mock resource monitor that records every registration the way the engine sees it."""

from __future__ import annotations

import hashlib
from typing import Any

from pulumi import get_project, get_stack
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks

from automation.plan.model import ROOT_STACK_TYPE, UNKNOWN, PlannedResource, Secret

_SIG = rpc._special_sig_key
_SECRET = rpc._special_secret_sig

# Outputs providers compute that programs commonly read; values are obviously fake.
_COMPUTED: dict[str, dict[str, Any]] = {
    "random:index/randomPassword:RandomPassword": {
        "result": "mock-password-0123456789abcdef0123456789abcdef",
        "bcryptHash": "$2a$10$mockmockmockmockmockmuR0c1Kq5lRlD1u9H1nY6l7dXrQ1pVdW",
    },
    "random:index/randomId:RandomId": {"hex": "0123456789abcdef", "b64Std": "ASNFZ4mrze8="},
    "random:index/randomString:RandomString": {"result": "mockstring"},
    "docker:index/image:Image": {"repoDigest": "registry.example/mock@sha256:" + "0" * 64},
}


def to_plan_value(value: Any) -> Any:
    """A deserialized wire value with secrets as ``Secret`` and unknowns as ``UNKNOWN``."""
    if isinstance(value, dict):
        if value.get(_SIG) == _SECRET:
            return Secret(to_plan_value(value.get("value")))
        return {k: to_plan_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plan_value(v) for v in value]
    if value == rpc.UNKNOWN:
        return UNKNOWN
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the wire has only doubles; 3600.0 was written 3600
    text = (
        getattr(value, "text", None) or getattr(value, "path", None) or getattr(value, "uri", None)
    )
    if text is not None and type(value).__name__.endswith(("Asset", "Archive")):
        return {"asset": str(text)}
    return value


class PlanMocks(Mocks):
    """Resources echo their inputs as state, plus a few computed outputs; calls return {}."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        state.update(_COMPUTED.get(args.typ, {}))
        digest = hashlib.sha256(f"{args.typ}::{args.name}".encode()).hexdigest()[:12]
        return f"{args.name}-{digest}", state

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class RecordingMonitor(MockMonitor):
    """MockMonitor that keeps parents, dependencies, options and the stack's outputs."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.recorded: list[PlannedResource] = []
        self.stack_urn: str | None = None
        self.stack_outputs: dict[str, Any] = {}

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The URN the engine gives: the parent's whole type chain, never the root stack's."""
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != ROOT_STACK_TYPE:
                type_ = f"{parent_type}${type_}"
        return "urn:pulumi:" + "::".join([get_stack(), get_project(), type_, name])

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type == ROOT_STACK_TYPE:
            self.stack_urn = response.urn
            return response
        timeouts = request.customTimeouts
        self.recorded.append(
            PlannedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=request.parent or None,
                depends_on=tuple(request.dependencies),
                property_dependencies={
                    k: tuple(v.urns) for k, v in request.propertyDependencies.items()
                },
                inputs=to_plan_value(rpc.deserialize_properties(request.object)),
                provider=request.provider or None,
                protect=bool(request.protect),
                delete_before_replace=bool(request.deleteBeforeReplace),
                ignore_changes=tuple(request.ignoreChanges),
                additional_secret_outputs=tuple(request.additionalSecretOutputs),
                custom_timeouts={
                    k: getattr(timeouts, k)
                    for k in ("create", "update", "delete")
                    if getattr(timeouts, k)
                },
            )
        )
        if request.additionalSecretOutputs:
            return self._with_secret_outputs(response, set(request.additionalSecretOutputs))
        return response

    def _with_secret_outputs(self, response: Any, names: set[str]) -> Any:
        """Mark ``additionalSecretOutputs`` secret, as the engine does."""
        from pulumi.runtime.proto import resource_pb2
        from pulumi.runtime.sync_await import _sync_await

        state = rpc.deserialize_properties(response.object)
        for key in names & set(state):
            state[key] = {_SIG: _SECRET, "value": state[key]}
        obj = _sync_await(rpc.serialize_properties(state, {}))
        return resource_pb2.RegisterResourceResponse(urn=response.urn, id=response.id, object=obj)

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn == self.stack_urn:
            self.stack_outputs = to_plan_value(rpc.deserialize_properties(request.outputs))
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]
