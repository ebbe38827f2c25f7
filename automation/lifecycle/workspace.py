"""The small interface envctl needs from Pulumi, and the records it passes around.

``StackWorkspace`` is what the lifecycle code calls. ``PulumiWorkspace`` (module
``pulumi_workspace``) implements it on the Automation API; ``FakeWorkspace`` (module
``fake_workspace``) implements it in memory for tests and benchmarks. Every method may
raise ``PulumiCliMissing``; stack operations raise ``StackMissing``, ``StackLocked`` or
``OperationFailed`` as documented on each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from pulumi.automation import ConfigValue, EngineEvent, OutputValue

EventSink = Callable[[EngineEvent], None]
"""Receives the engine's event stream of an update, preview or destroy."""

SECRET_MASK = "[secret]"


@dataclass(frozen=True)
class StackEntry:
    """One stack as ``pulumi stack ls`` reports it."""

    name: str
    last_update: datetime | None = None
    update_in_progress: bool = False


@dataclass(frozen=True)
class UpdateRecord:
    """One entry of a stack's history; secret config values read as ``[secret]``."""

    kind: str
    result: str
    started: datetime
    ended: datetime | None = None
    message: str = ""
    config: Mapping[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.result == "succeeded"


class StackWorkspace(Protocol):
    """The stack operations envctl uses; one project, many stacks, any backend."""

    def list_stacks(self) -> list[StackEntry]:
        """Every stack of the project in the backend."""
        ...

    def select_stack(self, name: str) -> None:
        """Make sure ``name`` exists; raises StackMissing when it does not."""
        ...

    def create_stack(self, name: str) -> None:
        """Create ``name`` (empty config, no resources)."""
        ...

    def get_config(self, name: str) -> dict[str, ConfigValue]:
        """The stack's config by full key (``draft:branch``); secrets decrypted."""
        ...

    def set_config(self, name: str, values: Mapping[str, ConfigValue]) -> None:
        """Set config values; keys with dots are paths (``draft:vault.address``)."""
        ...

    def set_env(self, values: Mapping[str, str]) -> None:
        """Extra environment of the Pulumi processes that follow; ``{}`` clears it.

        Passed as the processes' environment, never as arguments, never stored.
        """
        ...

    def up(self, name: str, on_event: EventSink | None = None, message: str = "") -> None:
        """Run an update; raises StackLocked, or OperationFailed when it fails."""
        ...

    def preview(self, name: str, on_event: EventSink | None = None) -> dict[str, int]:
        """Preview an update; returns the count of steps by operation (create, update, ...)."""
        ...

    def destroy(self, name: str, on_event: EventSink | None = None) -> None:
        """Delete every resource of the stack; raises StackLocked or OperationFailed."""
        ...

    def remove_stack(self, name: str) -> None:
        """Remove the (empty) stack, its history and config."""
        ...

    def outputs(self, name: str) -> dict[str, OutputValue]:
        """The stack's outputs after its last update."""
        ...

    def history(self, name: str, limit: int | None = None) -> list[UpdateRecord]:
        """The stack's updates, newest first; at most ``limit`` of them."""
        ...


@contextmanager
def operation_env(ws: StackWorkspace, values: Mapping[str, str]) -> Iterator[None]:
    """``values`` in the Pulumi processes' environment for the block only."""
    if not values:
        yield
        return
    ws.set_env(values)
    try:
        yield
    finally:
        ws.set_env({})
