"""PulumiWorkspace, the Automation API implementation, against a stand-in `pulumi` binary.

No Pulumi CLI can be installed here, so a small script named `pulumi` on PATH records
every invocation (arguments and standard input) and answers like the CLI does. That is
enough to prove what the wrapper itself is responsible for: secret config never on a
command line, and the CLI's errors mapped onto StackLocked / StackMissing /
OperationFailed / PulumiCliMissing.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from pulumi.automation import ConfigValue

from automation.lifecycle.errors import OperationFailed, PulumiCliMissing, StackLocked, StackMissing
from automation.lifecycle.pulumi_workspace import PulumiWorkspace

STAND_IN = r"""#!/bin/sh
# records argv (one file per call) and stdin, then answers like the Pulumi CLI
n=$(ls "$FAKE_PULUMI_LOG" | wc -l)
printf '%s\n' "$@" > "$FAKE_PULUMI_LOG/call-$n.args"
printf '%s' "${VAULT_TOKEN:-}" > "$FAKE_PULUMI_LOG/call-$n.token"
case " $* " in
  *" version "*) echo "v3.272.0"; exit 0 ;;
esac
if [ -n "$FAKE_PULUMI_READS_STDIN" ]; then cat > "$FAKE_PULUMI_LOG/call-$n.stdin"; fi
if [ -n "$FAKE_PULUMI_STDERR" ]; then echo "$FAKE_PULUMI_STDERR" >&2; exit 255; fi
case " $* " in
  *" stack output "*) echo '{}' ;;
  *" stack history "*) echo '[{"kind":"update","startTime":"2026-11-22T10:00:00.000Z",'\
'"message":"","environment":{},"config":{},"result":"succeeded","version":1}]' ;;
  *" stack ls "*) echo '[{"name":"draft-feature-x","current":false,'\
'"lastUpdate":"2026-11-22T10:00:00.000Z","updateInProgress":false}]' ;;
esac
exit 0
"""


@pytest.fixture
def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir, log = tmp_path / "bin", tmp_path / "log"
    bin_dir.mkdir()
    log.mkdir()
    script = bin_dir / "pulumi"
    script.write_text(STAND_IN)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_PULUMI_LOG", str(log))
    monkeypatch.setenv("PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK", "true")
    return log


def calls(log: Path) -> list[tuple[list[str], str | None]]:
    found = []
    for args in sorted(log.glob("*.args"), key=lambda p: int(p.stem.split("-")[1])):
        stdin = args.with_suffix(".stdin")
        found.append((args.read_text().splitlines(), stdin.read_text() if stdin.exists() else None))
    return found


def test_secret_config_goes_through_stdin_never_the_command_line(
    stand_in: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_PULUMI_READS_STDIN", "1")
    ws = PulumiWorkspace(tmp_path)
    secret = json.dumps({"DB_PASSWORD": "pw-never-in-argv-93"})

    ws.set_config(
        "draft-feature-x",
        {
            "draft:branch": ConfigValue("feature/x"),
            "draft:secrets": ConfigValue(secret, secret=True),
        },
    )

    recorded = calls(stand_in)
    assert all("pw-never-in-argv-93" not in " ".join(args) for args, _ in recorded)
    plain = next(args for args, _ in recorded if "set-all" in args)
    assert "draft:branch=feature/x" in plain and "--path" in plain
    secret_call = next((args, stdin) for args, stdin in recorded if "--secret" in args)
    assert "draft:secrets" in secret_call[0]
    assert secret_call[1] == secret


def test_stacks_are_listed_with_aware_times(stand_in: Path, tmp_path: Path) -> None:
    (entry,) = PulumiWorkspace(tmp_path).list_stacks()
    assert entry.name == "draft-feature-x"
    assert entry.last_update is not None and entry.last_update.utcoffset() is not None


@pytest.mark.parametrize(
    ("stderr", "error"),
    [
        (
            "error: the stack is currently locked by 1 lock(s). Either wait for the other "
            "process(es) to end or delete the lock file with `pulumi cancel`.",
            StackLocked,
        ),
        ("error: [409] Conflict: Another update is currently in progress.", StackLocked),
        ("error: no stack named 'draft-feature-x' found", StackMissing),
        ("error: update failed: Job 'draft-smoke' failed", OperationFailed),
    ],
)
def test_cli_errors_are_translated(stand_in, tmp_path, monkeypatch, stderr, error) -> None:
    ws = PulumiWorkspace(tmp_path)
    monkeypatch.setenv("FAKE_PULUMI_STDERR", stderr)

    with pytest.raises(error) as raised:
        ws.up("draft-feature-x")

    if error is OperationFailed:
        assert str(raised.value) == "error: update failed: Job 'draft-smoke' failed"


def test_no_cli_on_path_is_reported_as_missing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PulumiCliMissing, match=r"https://www\.pulumi\.com/docs/install/"):
        PulumiWorkspace(tmp_path)


def test_up_refreshes_first_so_a_rerun_restores_deleted_resources(stand_in, tmp_path) -> None:
    PulumiWorkspace(tmp_path).up("draft-feature-x", message="envctl draft up abc1234")

    (up,) = [args for args, _ in calls(stand_in) if "up" in args]
    assert "--refresh" in up and "--yes" in up
    assert up[up.index("--stack") + 1] == "draft-feature-x"


def test_history_is_read_without_secrets_and_with_aware_times(stand_in, tmp_path) -> None:
    (record,) = PulumiWorkspace(tmp_path).history("draft-feature-x", limit=1)

    assert record.kind == "update" and record.succeeded
    assert record.started.utcoffset() is not None
    (history_call,) = [args for args, _ in calls(stand_in) if "history" in args]
    assert "--show-secrets" not in history_call


def test_set_env_reaches_the_process_environment_never_its_arguments(
    stand_in, tmp_path, monkeypatch
) -> None:
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    ws = PulumiWorkspace(tmp_path)

    ws.set_env({"VAULT_TOKEN": "hvs.lent-token-73", "VAULT_ADDR": "https://vault.test"})
    ws.destroy("draft-feature-x")
    ws.set_env({})
    ws.up("draft-feature-x")

    def token_of(command: str) -> str:
        for args in sorted(stand_in.glob("*.args"), key=lambda p: int(p.stem.split("-")[1])):
            if command in args.read_text().splitlines():
                return args.with_suffix(".token").read_text()
        raise AssertionError(f"no {command} call")

    assert token_of("destroy") == "hvs.lent-token-73"
    assert token_of("up") == ""
    assert all("hvs.lent-token-73" not in " ".join(args) for args, _ in calls(stand_in))
