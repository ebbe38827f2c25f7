"""PulumiWorkspace, the Automation API implementation, on the real Pulumi CLI (marker `engine`).

The CLI that `make toolchain` built runs every command against a `file://` backend. A thin
pass-through named `pulumi` sits in front of it and records each call's arguments, standard
input and `VAULT_TOKEN`, then runs the real CLI with them, so a test can prove what the wrapper
is responsible for: secret config never on a command line, a lent token only in the process
environment, and the CLI's own errors mapped onto StackLocked / StackMissing / OperationFailed /
PulumiCliMissing.
"""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pulumi.automation import ConfigValue

from automation.lifecycle.errors import OperationFailed, PulumiCliMissing, StackLocked, StackMissing
from automation.lifecycle.pulumi_workspace import PulumiWorkspace
from tests.engine.harness import TOOLCHAIN, hold_lock, small_project

pytestmark = pytest.mark.engine

PASS_THROUGH = r"""#!/bin/sh
# records argv, VAULT_TOKEN and (for config set) stdin, then runs the real CLI with them
n=$(ls "$PULUMI_CALL_LOG" | wc -l)
printf '%s\n' "$@" > "$PULUMI_CALL_LOG/call-$n.args"
printf '%s' "${VAULT_TOKEN:-}" > "$PULUMI_CALL_LOG/call-$n.token"
case " $* " in *" config set "*)
  cat > "$PULUMI_CALL_LOG/call-$n.stdin"
  exec "$REAL_PULUMI" "$@" < "$PULUMI_CALL_LOG/call-$n.stdin" ;;
esac
exec "$REAL_PULUMI" "$@"
"""

PROGRAM = """\
import os
import pulumi

if os.environ.get("PROGRAM_FAILS"):
    raise RuntimeError("the program failed on purpose")
pulumi.export("url", "https://feature-x.drafts.example.com")
"""


@pytest.fixture
def calls_log(engine: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir, log = tmp_path / "bin", tmp_path / "log"
    bin_dir.mkdir()
    log.mkdir()
    script = bin_dir / "pulumi"
    script.write_text(PASS_THROUGH)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PULUMI_CALL_LOG", str(log))
    monkeypatch.setenv("REAL_PULUMI", str(TOOLCHAIN / "pulumi"))
    return log


@pytest.fixture
def project(engine: dict[str, str], tmp_path: Path) -> Path:
    return small_project(tmp_path, PROGRAM)


def command(args: list[str]) -> str:
    """The CLI command of a call (``up``, ``stack``...), past the global flags."""
    return next((a for a in args if not a.startswith("-")), "")


def calls(log: Path) -> list[tuple[list[str], str | None]]:
    found = []
    for args in sorted(log.glob("*.args"), key=lambda p: int(p.stem.split("-")[1])):
        stdin = args.with_suffix(".stdin")
        found.append((args.read_text().splitlines(), stdin.read_text() if stdin.exists() else None))
    return found


def test_secret_config_goes_through_stdin_never_the_command_line(
    calls_log: Path, project: Path
) -> None:
    ws = PulumiWorkspace(project)
    ws.create_stack("draft-feature-x")
    secret = json.dumps({"DB_PASSWORD": "pw-never-in-argv-93"})

    ws.set_config(
        "draft-feature-x",
        {
            "draft:branch": ConfigValue("feature/x"),
            "draft:secrets": ConfigValue(secret, secret=True),
        },
    )

    recorded = calls(calls_log)
    assert all("pw-never-in-argv-93" not in " ".join(args) for args, _ in recorded)
    secret_call = next((args, stdin) for args, stdin in recorded if "--secret" in args)
    assert "draft:secrets" in secret_call[0] and secret_call[1] == secret
    stored = (project / "Pulumi.draft-feature-x.yaml").read_text()
    assert "pw-never-in-argv-93" not in stored and "secure:" in stored
    config = ws.get_config("draft-feature-x")
    assert config["draft:secrets"].secret and config["draft:secrets"].value == secret
    assert config["draft:branch"].value == "feature/x"


def test_an_update_runs_the_project_and_its_history_and_outputs_are_read(
    calls_log: Path, project: Path
) -> None:
    ws = PulumiWorkspace(project)
    ws.create_stack("draft-feature-x")

    ws.up("draft-feature-x", message="envctl draft up abc1234")

    (up,) = [args for args, _ in calls(calls_log) if command(args) == "up"]
    assert "--refresh" in up  # a re-run restores what was deleted behind Pulumi's back
    assert ws.outputs("draft-feature-x")["url"].value == "https://feature-x.drafts.example.com"
    (record,) = ws.history("draft-feature-x", limit=1)
    assert record.kind == "update" and record.succeeded
    assert record.message == "envctl draft up abc1234"
    assert record.started.utcoffset() is not None
    (entry,) = ws.list_stacks()
    assert entry.name == "draft-feature-x" and entry.last_update is not None
    assert entry.last_update.utcoffset() is not None


def test_a_failing_program_is_an_operation_failed_with_the_clis_error(
    engine: dict[str, str], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROGRAM_FAILS", "1")  # the inline program runs in this process
    ws = PulumiWorkspace(project)
    ws.create_stack("draft-feature-x")

    with pytest.raises(OperationFailed, match="the program failed on purpose"):
        ws.up("draft-feature-x")


def test_a_missing_stack_is_stack_missing(engine: dict[str, str], project: Path) -> None:
    with pytest.raises(StackMissing):
        PulumiWorkspace(project).select_stack("draft-nowhere")


def test_a_held_lock_is_stack_locked(engine: dict[str, str], project: Path) -> None:
    """A lock left by a killed `pulumi up` (the file backend's lock file) blocks an update."""
    ws = PulumiWorkspace(project)
    ws.create_stack("draft-feature-x")
    hold_lock(engine, "draft-feature-x", datetime.now(UTC))

    with pytest.raises(StackLocked):
        ws.up("draft-feature-x")


def test_set_env_reaches_the_process_environment_never_its_arguments(
    calls_log: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    ws = PulumiWorkspace(project)
    ws.create_stack("draft-feature-x")

    ws.set_env({"VAULT_TOKEN": "hvs.lent-token-73", "VAULT_ADDR": "https://vault.test"})
    ws.up("draft-feature-x")
    ws.set_env({})
    ws.destroy("draft-feature-x")

    def token_of(name: str) -> str:
        for args in sorted(calls_log.glob("*.args"), key=lambda p: int(p.stem.split("-")[1])):
            if command(args.read_text().splitlines()) == name:
                return args.with_suffix(".token").read_text()
        raise AssertionError(f"no {name} call")

    assert token_of("up") == "hvs.lent-token-73"
    assert token_of("destroy") == ""
    assert all("hvs.lent-token-73" not in " ".join(args) for args, _ in calls(calls_log))


def test_no_cli_on_path_is_reported_as_missing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PulumiCliMissing, match=r"https://www\.pulumi\.com/docs/install/"):
        PulumiWorkspace(tmp_path)
