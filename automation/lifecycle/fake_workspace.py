"""An in-memory ``StackWorkspace`` for tests and benchmarks (no Pulumi CLI needed).

It behaves like a Pulumi backend as far as envctl can tell: stacks with config, outputs
and newest-first history (secret config masked), the engine's event stream built from
the real event JSON shapes, per-stack locks, and failures on demand:

* ``failing_shas``: an update deploying one of these commits fails (readiness or smoke
  test), as an awaited smoke Job makes a real update fail;
* ``locks[stack] = n``: the next ``n`` operations on the stack raise ``StackLocked``;
* an update, preview or destroy holds the stack's lock while it runs (``hold_seconds``
  makes it run that long), so a concurrent one raises ``StackLocked`` as Pulumi's would;
* ``held_locks[stack] = since``: a lock a killed process left behind at ``since``: every
  locking operation raises ``StackLocked`` until ``cancel`` releases it (``locked_since``
  reports it, ``list_stacks`` shows the stack as updating);
* ``failing_destroys``: destroying these stacks fails;
* ``cli_missing``: every call raises ``PulumiCliMissing``.

``env_seen`` records the environment (``set_env``) each update, preview and destroy
ran with, as ``(operation, stack, env)``.

Thread-safe: the reaper calls it from several threads.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pulumi.automation import ConfigValue, EngineEvent, OutputValue

from automation import PROJECT_NAME
from automation.lifecycle.errors import (
    OperationFailed,
    PulumiCliMissing,
    StackLocked,
    StackMissing,
)
from automation.lifecycle.workspace import SECRET_MASK, EventSink, StackEntry, UpdateRecord
from components.naming import owner_key


@dataclass
class FakeStack:
    """One stack's state in the fake backend."""

    name: str
    config: dict[str, ConfigValue] = field(default_factory=dict)
    outputs: dict[str, OutputValue] = field(default_factory=dict)
    history: list[UpdateRecord] = field(default_factory=list)
    resources: list[tuple[str, str]] = field(default_factory=list)
    last_update: datetime | None = None

    def snapshot(self) -> dict[str, str]:
        """The config as ``pulumi stack history`` shows it without --show-secrets."""
        return {k: SECRET_MASK if v.secret else v.value for k, v in self.config.items()}


_PATH_PART = re.compile(r'\.?([^.\[\]"]+)|\[(\d+)\]|\["([^"]+)"\]')


def _typed(text: str) -> Any:
    """What ``pulumi config set --path`` stores: booleans and integers typed, else text."""
    if text in ("true", "false"):
        return text == "true"
    return int(text) if re.fullmatch(r"-?\d+", text) else text


def _set_path(config: dict[str, ConfigValue], key: str, value: ConfigValue) -> None:
    """Store ``draft:vault.address`` or ``draft:mocks[0].name`` as Pulumi does with --path."""
    namespace, _, path = key.partition(":")
    parts: list[str | int] = [
        int(index) if index else name or quoted for name, index, quoted in _PATH_PART.findall(path)
    ]
    top, rest = parts[0], parts[1:]
    if not rest:
        config[key] = value
        return
    full = f"{namespace}:{top}"
    current = config.get(full)
    tree: Any = json.loads(current.value) if current else None

    def put(node: Any, steps: list[str | int]) -> Any:
        step, more = steps[0], steps[1:]
        if isinstance(step, int):
            items = node if isinstance(node, list) else []
            items.extend([None] * (step + 1 - len(items)))
            items[step] = put(items[step], more) if more else _typed(value.value)
            return items
        mapping = node if isinstance(node, dict) else {}
        mapping[step] = put(mapping.get(step), more) if more else _typed(value.value)
        return mapping

    secret = value.secret or bool(current and current.secret)
    config[full] = ConfigValue(json.dumps(put(tree, rest)), secret=secret)


class FakeWorkspace:
    """In-memory stacks behind the ``StackWorkspace`` protocol."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        self.stacks: dict[str, FakeStack] = {}
        self.failing_shas: set[str] = set()
        self.failing_destroys: set[str] = set()
        self.locks: dict[str, int] = {}
        self.held_locks: dict[str, datetime] = {}
        self.cli_missing = False
        self.hold_seconds = 0.0
        self._running: set[str] = set()
        self.calls: list[tuple[str, str]] = []
        self.env: dict[str, str] = {}
        self.env_seen: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._sequence = 0

    # -- helpers for tests -------------------------------------------------------------

    def seed(
        self,
        name: str,
        *,
        config: Mapping[str, str] | None = None,
        last_update: datetime | None = None,
        result: str = "succeeded",
        outputs: Mapping[str, Any] | None = None,
    ) -> FakeStack:
        """Put a stack that was deployed earlier into the backend."""
        moment = last_update or self.clock()
        stack = FakeStack(
            name=name,
            config={k: ConfigValue(v) for k, v in (config or {}).items()},
            outputs={k: OutputValue(v, secret=False) for k, v in (outputs or {}).items()},
            resources=[("kubernetes:core/v1:Namespace", "draft-namespace")],
            last_update=moment,
        )
        stack.history.insert(
            0, UpdateRecord("update", result, moment, moment, "", stack.snapshot())
        )
        self.stacks[name] = stack
        return stack

    def calls_of(self, operation: str) -> list[str]:
        """Stack names an operation was called for, in order."""
        return [stack for op, stack in self.calls if op == operation]

    # -- internals ---------------------------------------------------------------------

    def _enter(self, operation: str, name: str, *, locking: bool = False) -> FakeStack | None:
        with self._lock:
            self.calls.append((operation, name))
            if self.cli_missing:
                raise PulumiCliMissing("'pulumi' is not on PATH")
            if locking and self.locks.get(name, 0) > 0:
                self.locks[name] -= 1
                raise StackLocked(f"stack {name} is locked by another update")
            if locking and (name in self._running or name in self.held_locks):
                raise StackLocked(f"stack {name} is locked by another update")
            stack = self.stacks.get(name)
            if locking and stack is not None:
                self._running.add(name)
            if locking:
                self.env_seen.append((operation, name, dict(self.env)))
            return stack

    def _release(self, name: str) -> None:
        if self.hold_seconds:
            time.sleep(self.hold_seconds)
        with self._lock:
            self._running.discard(name)

    def _require(self, operation: str, name: str, *, locking: bool = False) -> FakeStack:
        stack = self._enter(operation, name, locking=locking)
        if stack is None:
            raise StackMissing(f"no stack named '{name}' found")
        return stack

    def _emit(self, sink: EventSink | None, payload: dict[str, Any]) -> None:
        if sink is None:
            return
        with self._lock:
            self._sequence += 1
            sequence = self._sequence
        event = {"sequence": sequence, "timestamp": int(self.clock().timestamp()), **payload}
        sink(EngineEvent.from_json(event))

    def _step(
        self, sink: EventSink | None, kind: str, op: str, type_: str, name: str, stack: str
    ) -> None:
        urn = f"urn:pulumi:{stack}::{PROJECT_NAME}::{type_}::{name}"
        metadata = {"op": op, "urn": urn, "type": type_, "provider": ""}
        self._emit(sink, {kind: {"metadata": metadata}})

    def _record(
        self, stack: FakeStack, kind: str, result: str, started: datetime, message: str = ""
    ) -> None:
        ended = self.clock()
        stack.history.insert(
            0, UpdateRecord(kind, result, started, ended, message, stack.snapshot())
        )
        stack.last_update = ended

    # -- StackWorkspace ----------------------------------------------------------------

    def list_stacks(self) -> list[StackEntry]:
        self._enter("list_stacks", "")
        with self._lock:
            return [
                StackEntry(
                    s.name, s.last_update, s.name in self.held_locks or s.name in self._running
                )
                for s in self.stacks.values()
            ]

    def select_stack(self, name: str) -> None:
        self._require("select_stack", name)

    def create_stack(self, name: str) -> None:
        with self._lock:
            self.calls.append(("create_stack", name))
            if self.cli_missing:
                raise PulumiCliMissing("'pulumi' is not on PATH")
            if name in self.stacks:
                raise OperationFailed(f"stack '{name}' already exists")
            self.stacks[name] = FakeStack(name=name)

    def get_config(self, name: str) -> dict[str, ConfigValue]:
        return dict(self._require("get_config", name).config)

    def set_config(self, name: str, values: Mapping[str, ConfigValue]) -> None:
        stack = self._require("set_config", name)
        with self._lock:
            for key, value in values.items():
                _set_path(stack.config, key, value)

    def set_env(self, values: Mapping[str, str]) -> None:
        with self._lock:
            self.env = dict(values)

    def up(self, name: str, on_event: EventSink | None = None, message: str = "") -> None:
        stack = self._require("up", name, locking=True)
        try:
            self._up(stack, on_event, message)
        finally:
            self._release(name)

    def _up(self, stack: FakeStack, on_event: EventSink | None, message: str) -> None:
        name = stack.name
        started = self.clock()
        sha = stack.config.get("draft:sha", ConfigValue("")).value
        self._emit(on_event, {"preludeEvent": {"config": stack.snapshot()}})
        planned = [
            ("kubernetes:core/v1:Namespace", "draft-namespace"),
            ("kubernetes:helm.sh/v3:Release", "draft-app"),
            ("kubernetes:batch/v1:Job", "draft-smoke"),
        ]
        done: list[tuple[str, str]] = []
        for type_, res in planned:
            op = "same" if (type_, res) in stack.resources else "create"
            self._step(on_event, "resourcePreEvent", op, type_, res, name)
            if sha in self.failing_shas and type_.endswith("Job"):
                self._step(on_event, "resOpFailedEvent", op, type_, res, name)
                self._emit(
                    on_event,
                    {
                        "diagnosticEvent": {
                            "message": "smoke test failed: job draft-smoke has 1 failed pod\n",
                            "color": "never",
                            "severity": "error",
                            "urn": f"urn:pulumi:{name}::{PROJECT_NAME}::{type_}::{res}",
                        }
                    },
                )
                self._emit(
                    on_event,
                    {
                        "summaryEvent": {
                            "maybeCorrupt": False,
                            "durationSeconds": 1,
                            "resourceChanges": {"create": len(done)},
                            "PolicyPacks": {},
                        }
                    },
                )
                with self._lock:
                    stack.resources = sorted(set(stack.resources) | set(done))
                    self._record(stack, "update", "failed", started, message)
                raise OperationFailed(
                    "error: update failed: 1 error occurred: Job 'draft-smoke' failed"
                )
            self._step(on_event, "resOutputsEvent", op, type_, res, name)
            done.append((type_, res))
        self._emit(
            on_event,
            {
                "summaryEvent": {
                    "maybeCorrupt": False,
                    "durationSeconds": 1,
                    "resourceChanges": {
                        "create": 3 - len(stack.resources),
                        "same": len(stack.resources),
                    },
                    "PolicyPacks": {},
                }
            },
        )
        with self._lock:
            stack.resources = done
            stack.outputs = self._program_outputs(stack, sha)
            self._record(stack, "update", "succeeded", started, message)

    def _program_outputs(self, stack: FakeStack, sha: str) -> dict[str, OutputValue]:
        """What the draft program exports, computed from the stack's config."""
        team, service = (
            str(stack.config[key].value) if key in stack.config else default
            for key, default in (("draft:team", "platform"), ("draft:service", "tasks"))
        )  # Pulumi.draft.yaml's owner unless the stack's config says otherwise
        namespace = f"{stack.name}-{owner_key(team, service)}"
        outputs = {
            "url": OutputValue(
                f"https://{namespace.removeprefix('draft-')}.drafts.example.com", secret=False
            ),
            "namespace": OutputValue(namespace, secret=False),
            # A failed smoke Job fails the update itself (``failing_shas``), as the provider
            # awaits it: a successful update never exports anything but "passed" here.
            "smoke": OutputValue("passed", secret=False),
        }
        expires = stack.config.get("draft:expiresAt")
        if expires is not None:
            outputs["expires_at"] = OutputValue(expires.value, secret=False)
        return outputs

    def preview(self, name: str, on_event: EventSink | None = None) -> dict[str, int]:
        stack = self._require("preview", name, locking=True)
        try:
            return self._preview(stack, on_event)
        finally:
            self._release(name)

    def _preview(self, stack: FakeStack, on_event: EventSink | None) -> dict[str, int]:
        self._emit(on_event, {"preludeEvent": {"config": stack.snapshot()}})
        changes = {"same": len(stack.resources)} if stack.resources else {"create": 3}
        self._emit(
            on_event,
            {
                "summaryEvent": {
                    "maybeCorrupt": False,
                    "durationSeconds": 0,
                    "resourceChanges": changes,
                    "PolicyPacks": {},
                }
            },
        )
        return changes

    def destroy(self, name: str, on_event: EventSink | None = None) -> None:
        stack = self._require("destroy", name, locking=True)
        try:
            self._destroy(stack, on_event)
        finally:
            self._release(name)

    def _destroy(self, stack: FakeStack, on_event: EventSink | None) -> None:
        name = stack.name
        started = self.clock()
        for type_, res in reversed(stack.resources):
            self._step(on_event, "resourcePreEvent", "delete", type_, res, name)
            if name in self.failing_destroys:
                self._step(on_event, "resOpFailedEvent", "delete", type_, res, name)
                with self._lock:
                    self._record(stack, "destroy", "failed", started)
                raise OperationFailed(
                    f"error: deleting {type_} {res}: namespace is stuck in Terminating"
                )
            self._step(on_event, "resOutputsEvent", "delete", type_, res, name)
        with self._lock:
            stack.resources = []
            stack.outputs = {}
            self._record(stack, "destroy", "succeeded", started)

    def locked_since(self, name: str) -> datetime | None:
        self._require("locked_since", name)
        with self._lock:
            return self.held_locks.get(name)

    def cancel(self, name: str) -> None:
        self._require("cancel", name)
        with self._lock:
            if self.held_locks.pop(name, None) is None:
                raise OperationFailed(f"error: stack '{name}' has no update in progress")

    def refresh(self, name: str) -> None:
        stack = self._require("refresh", name, locking=True)
        try:
            with self._lock:
                self._record(stack, "refresh", "succeeded", self.clock())
        finally:
            self._release(name)

    def remove_stack(self, name: str) -> None:
        stack = self._require("remove_stack", name)
        with self._lock:
            if stack.resources:
                raise OperationFailed(f"error: '{name}' still has resources; removal rejected")
            del self.stacks[name]

    def outputs(self, name: str) -> dict[str, OutputValue]:
        return dict(self._require("outputs", name).outputs)

    def history(self, name: str, limit: int | None = None) -> list[UpdateRecord]:
        stack = self._require("history", name)
        return list(stack.history[:limit] if limit else stack.history)
