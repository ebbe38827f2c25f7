"""The event-stream display: plain lines in logs, a live progress on a terminal, no secrets."""

from __future__ import annotations

import contextlib
import io

from pulumi.automation import ConfigValue, EngineEvent
from rich.console import Console

from automation.lifecycle.errors import OperationFailed
from automation.lifecycle.fake_workspace import FakeWorkspace
from automation.lifecycle.progress import EventDisplay
from automation.lifecycle.redact import Redactor


def run_update(console: Console, redact: Redactor, fake: FakeWorkspace, sha: str) -> EventDisplay:
    fake.create_stack("draft-feature-x")
    fake.set_config("draft-feature-x", {"draft:sha": ConfigValue(sha)})
    with (
        EventDisplay(console, redact, "deploying draft-feature-x") as display,
        contextlib.suppress(OperationFailed),
    ):
        fake.up("draft-feature-x", display)
    return display


def test_plain_lines_when_not_a_terminal(fake) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False, width=200)

    display = run_update(console, Redactor(), fake, "abc1234")

    lines = buffer.getvalue().splitlines()
    assert lines[0] == "deploying draft-feature-x"
    assert "created kubernetes:core/v1:Namespace draft-namespace" in lines
    assert "created kubernetes:batch/v1:Job draft-smoke" in lines
    assert lines[-1] == "resources: 3 create"
    assert display.failed == []
    assert "\x1b[" not in buffer.getvalue()


def test_failures_and_error_diagnostics_are_shown(fake) -> None:
    fake.failing_shas.add("bad1234")
    buffer = io.StringIO()

    display = run_update(
        Console(file=buffer, force_terminal=False, width=200), Redactor(), fake, "bad1234"
    )

    text = buffer.getvalue()
    assert "failed create kubernetes:batch/v1:Job draft-smoke" in text
    assert "error: smoke test failed: job draft-smoke has 1 failed pod" in text
    assert display.failed == ["kubernetes:batch/v1:Job draft-smoke"]


def test_live_progress_on_a_terminal(fake) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120)

    display = run_update(console, Redactor(), fake, "abc1234")

    assert display.live
    text = buffer.getvalue()
    assert "\x1b[" in text  # drawn with terminal control codes
    assert "create kubernetes:helm.sh/v3:Release draft-app" in text
    assert "resources: 3 create" in text


def test_diagnostics_never_show_registered_secrets() -> None:
    buffer = io.StringIO()
    redact = Redactor()
    redact.add("hunter2-very-secret")
    display = EventDisplay(Console(file=buffer, force_terminal=False), redact, "deploying")
    event = EngineEvent.from_json(
        {
            "sequence": 1,
            "timestamp": 0,
            "diagnosticEvent": {
                "message": "connection to postgres://app:hunter2-very-secret@db failed",
                "color": "never",
                "severity": "error",
            },
        }
    )

    with display:
        display(event)

    assert "hunter2-very-secret" not in buffer.getvalue()
    assert "postgres://app:[secret]@db" in buffer.getvalue()
