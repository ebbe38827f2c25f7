"""Show the Automation API's engine event stream: live on a terminal, plain lines in CI logs.

On a TTY a rich ``Progress`` keeps one line per resource step (spinner while it runs,
then done or failed) under an overall count. Elsewhere (CI logs, pipes) each finished
step is one plain line. Error and warning diagnostics are printed in both modes.
Everything printed goes through the ``Redactor``. Events arrive on the Automation API's
own threads, so the display serialises its work.
"""

from __future__ import annotations

import threading
from types import TracebackType

from pulumi.automation import EngineEvent, OpType
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from automation.lifecycle.redact import Redactor

_PAST = {
    "create": "created",
    "update": "updated",
    "delete": "deleted",
    "replace": "replaced",
    "create-replacement": "created replacement",
    "delete-replaced": "deleted replaced",
    "read": "read",
    "refresh": "refreshed",
    "import": "imported",
}


def _op(value: OpType | str) -> str:
    return value.value if isinstance(value, OpType) else str(value)


def _resource(urn: str, type_: str) -> str:
    """``kubernetes:core/v1:Namespace draft-namespace`` from an URN and a type token."""
    return f"{type_} {urn.rsplit('::', 1)[-1]}"


class EventDisplay:
    """A callable event sink for ``up``/``preview``/``destroy``; use it as a context manager."""

    def __init__(self, console: Console, redact: Redactor, title: str) -> None:
        self.console = console
        self.redact = redact
        self.title = title
        self.live = console.is_terminal
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.summary: dict[str, int] = {}
        self._tasks: dict[str, TaskID] = {}
        self._lock = threading.Lock()
        self._progress = Progress(
            SpinnerColumn(finished_text="[green]✓[/]"),
            TextColumn("{task.description}", markup=False),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._overall: TaskID | None = None

    def __enter__(self) -> EventDisplay:
        if self.live:
            self._progress.start()
            self._overall = self._progress.add_task(self.title, total=None)
        else:
            self._print(self.title)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.live:
            if self._overall is not None:
                self._progress.update(self._overall, total=1, completed=1)
            self._progress.stop()
        if self.summary:
            changes = ", ".join(f"{n} {op}" for op, n in sorted(self.summary.items()) if n)
            self._print(f"resources: {changes or 'no changes'}")

    def _print(self, text: str, style: str | None = None) -> None:
        self.console.print(self.redact(text), style=style, markup=False, highlight=False)

    def __call__(self, event: EngineEvent) -> None:
        with self._lock:
            self._handle(event)

    def _handle(self, event: EngineEvent) -> None:
        if event.resource_pre_event is not None:
            meta = event.resource_pre_event.metadata
            op = _op(meta.op)
            if op != "same" and self.live:
                label = self.redact(f"{op} {_resource(meta.urn, meta.type)}")
                self._tasks[meta.urn] = self._progress.add_task(label, total=1)
        elif event.res_outputs_event is not None:
            meta = event.res_outputs_event.metadata
            op = _op(meta.op)
            if op == "same":
                return
            task = self._tasks.pop(meta.urn, None)
            if task is not None:
                self._progress.update(task, completed=1)
            else:
                self._print(f"{_PAST.get(op, op)} {_resource(meta.urn, meta.type)}")
        elif event.res_op_failed_event is not None:
            meta = event.res_op_failed_event.metadata
            name = _resource(meta.urn, meta.type)
            self.failed.append(name)
            task = self._tasks.pop(meta.urn, None)
            if task is not None:
                self._progress.update(task, description=self.redact(f"FAILED {name}"))
                self._progress.stop_task(task)
            else:
                self._print(f"failed {_op(meta.op)} {name}", style="red")
        elif event.diagnostic_event is not None:
            diag = event.diagnostic_event
            if diag.severity in ("error", "warning") and not diag.ephemeral:
                text = diag.message.strip()
                if diag.severity == "error":
                    self.errors.append(self.redact(text))
                self._print(
                    f"{diag.severity}: {text}",
                    style="red" if diag.severity == "error" else "yellow",
                )
        elif event.summary_event is not None:
            self.summary = {_op(op): n for op, n in event.summary_event.resource_changes.items()}
