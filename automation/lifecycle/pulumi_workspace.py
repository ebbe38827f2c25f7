"""``StackWorkspace`` on the Pulumi Automation API (``pulumi.automation.LocalWorkspace``).

The backend is whatever the Pulumi CLI is logged in to or ``PULUMI_BACKEND_URL`` names
(Pulumi Cloud, ``s3://``, ``gs://``, ``azblob://``, ``file://``). Errors are translated:
no CLI -> ``PulumiCliMissing``, ``ConcurrentUpdateError`` -> ``StackLocked``,
``StackNotFoundError`` -> ``StackMissing``, any other failed command -> ``OperationFailed``
with the CLI's own error lines (never the whole output).

The project's ``__main__.py`` runs as an Automation API inline program: in this process,
served to the CLI by the SDK's own language runtime (``--client``), and each policy pack is
started as an executable beside a link to its ``PulumiPolicy.yaml``, in this Python too (the
CLI launches an executable pack directly). So CI needs no second virtualenv and no Python
language-host plugin beside the CLI.

Secret config values are sent to ``pulumi config set --secret`` on standard input, not
as arguments as ``LocalWorkspace.set_all_config`` would do, so they never show in a
process list.
"""

from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from pulumi import automation as auto
from pulumi.automation import errors as auto_errors

from automation.lifecycle.errors import (
    OperationFailed,
    PulumiCliMissing,
    StackLocked,
    StackMissing,
)
from automation.lifecycle.workspace import SECRET_MASK, EventSink, StackEntry, UpdateRecord

T = TypeVar("T")
_ERROR_LINES = 6


def _aware(moment: datetime | None) -> datetime | None:
    """The CLI reports UTC times without a zone; make them aware."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def error_summary(text: str) -> str:
    """The CLI's ``error:`` lines (or its last lines) from a failed command's output."""
    lines = []
    for raw in text.splitlines():
        line = raw.strip()
        for label in ("stdout:", "stderr:"):  # CommandError's own framing
            line = line.removeprefix(label).strip()
        if line and not re.fullmatch(r"code: -?\d+", line):
            lines.append(line)
    errors = [line for line in lines if line.lower().startswith(("error:", "error "))]
    chosen = errors or lines[-_ERROR_LINES:]
    return "; ".join(chosen[-_ERROR_LINES:]) or "the Pulumi CLI failed without a message"


@contextmanager
def _translated(stack: str | None) -> Iterator[None]:
    """Map Automation API exceptions onto the lifecycle's own."""
    try:
        yield
    except FileNotFoundError as exc:
        raise PulumiCliMissing(str(exc.filename or "")) from None
    except auto_errors.InvalidVersionError as exc:
        raise PulumiCliMissing(f"the installed one is too old: {exc}") from None
    except auto_errors.ConcurrentUpdateError:
        raise StackLocked(f"stack {stack} is locked by another update") from None
    except auto_errors.StackNotFoundError:
        raise StackMissing(f"stack {stack} does not exist") from None
    except auto_errors.CommandError as exc:
        # str(exc) is " code: N\n stdout: ...\n stderr: ..."; keep only the error lines.
        raise OperationFailed(error_summary(str(exc))) from None
    except ValueError as exc:  # JSON the Automation API could not read
        raise OperationFailed(f"unexpected output from the Pulumi CLI ({exc})") from None


def project_program(project_dir: Path) -> auto.PulumiFn:
    """The project's ``__main__.py`` as an inline program, importing from ``project_dir``."""
    main = project_dir / "__main__.py"

    def run() -> None:
        if str(project_dir) not in sys.path:
            sys.path.insert(0, str(project_dir))
        runpy.run_path(str(main), run_name="__main__")

    return run


def policy_pack_executable(pack: Path, into: Path) -> Path:
    """An executable in ``into`` that serves the Python policy pack ``pack`` to the CLI."""
    into.mkdir(parents=True, exist_ok=True)
    launcher = into / "analyzer"
    launcher.write_text(
        f'#!/bin/sh\ncd "{pack.resolve()}" && exec "{sys.executable}" -u __main__.py\n',
        encoding="utf-8",
    )
    launcher.chmod(0o755)
    link = into / "PulumiPolicy.yaml"
    link.unlink(missing_ok=True)
    link.symlink_to(pack.resolve() / "PulumiPolicy.yaml")
    return launcher


class PulumiWorkspace:
    """The Pulumi project in ``work_dir`` driven through the Automation API.

    ``policy_packs`` (Python pack directories) run on every preview and update.
    """

    def __init__(
        self,
        work_dir: Path,
        env: Mapping[str, str] | None = None,
        policy_packs: Sequence[Path] = (),
    ) -> None:
        self.work_dir = work_dir.resolve()
        self.env = dict(env or {})
        self._packs_dir = tempfile.TemporaryDirectory(prefix="envctl-policy-")
        self.policy_packs = [
            str(policy_pack_executable(pack, Path(self._packs_dir.name) / str(i)))
            for i, pack in enumerate(policy_packs)
        ]
        if shutil.which("pulumi") is None:
            raise PulumiCliMissing("'pulumi' is not on PATH")
        secrets_provider = os.environ.get("ENVCTL_SECRETS_PROVIDER") or None
        with _translated(None):
            self._workspace = auto.LocalWorkspace(
                work_dir=str(self.work_dir),
                program=project_program(self.work_dir),
                env_vars=self.env,
                secrets_provider=secrets_provider,
            )

    def _stack(self, name: str) -> auto.Stack:
        return auto.Stack.select(name, self._workspace)

    def _call(self, name: str | None, operation: Callable[[], T]) -> T:
        with _translated(name):
            return operation()

    def list_stacks(self) -> list[StackEntry]:
        summaries = self._call(None, self._workspace.list_stacks)
        return [
            StackEntry(
                name=s.name,
                last_update=_aware(s.last_update),
                update_in_progress=bool(s.update_in_progress),
            )
            for s in summaries
        ]

    def select_stack(self, name: str) -> None:
        self._call(name, lambda: self._workspace.select_stack(name))

    def create_stack(self, name: str) -> None:
        self._call(name, lambda: self._workspace.create_stack(name))

    def get_config(self, name: str) -> dict[str, auto.ConfigValue]:
        return dict(self._call(name, lambda: self._workspace.get_all_config(name)))

    def set_config(self, name: str, values: Mapping[str, auto.ConfigValue]) -> None:
        plain = {k: v for k, v in values.items() if not v.secret}
        if plain:
            self._call(name, lambda: self._workspace.set_all_config(name, plain, path=True))
        for key, value in values.items():
            if value.secret:
                self._set_secret(name, key, value.value)

    def _set_secret(self, name: str, key: str, value: str) -> None:
        """``pulumi config set --secret`` with the value on stdin (never on the command line)."""
        command = ["pulumi", "config", "set", "--secret", "--path", key, "--stack", name]
        try:
            done = subprocess.run(
                command,
                input=value,
                cwd=self.work_dir,
                env={**os.environ, **self.env, "PULUMI_AUTOMATION_API": "true"},
                capture_output=True,
                text=True,
                check=False,
            )
        except FileNotFoundError:
            raise PulumiCliMissing("'pulumi' is not on PATH") from None
        if done.returncode != 0:
            raise OperationFailed(
                f"setting secret config {key} on {name} failed: " + error_summary(done.stderr)
            )

    def set_env(self, values: Mapping[str, str]) -> None:
        self._workspace.env_vars = {**self.env, **values}

    def up(self, name: str, on_event: EventSink | None = None, message: str = "") -> None:
        def run() -> None:
            # refresh first: a re-run restores resources deleted behind Pulumi's back
            self._stack(name).up(
                on_event=on_event,
                color="never",
                message=message or None,
                refresh=True,
                policy_packs=self.policy_packs or None,
            )

        self._call(name, run)

    def preview(self, name: str, on_event: EventSink | None = None) -> dict[str, int]:
        def run() -> dict[str, int]:
            result = self._stack(name).preview(
                on_event=on_event, color="never", policy_packs=self.policy_packs or None
            )
            return {
                str(op.value if hasattr(op, "value") else op): n
                for op, n in result.change_summary.items()
            }

        return self._call(name, run)

    def destroy(self, name: str, on_event: EventSink | None = None) -> None:
        """``pulumi destroy --refresh``: what is already gone (a namespace the in-cluster
        reaper deleted, with the Helm release in it) leaves the state instead of failing."""
        self._call(
            name,
            lambda: self._stack(name).destroy(on_event=on_event, color="never", refresh=True),
        )

    def remove_stack(self, name: str) -> None:
        self._call(name, lambda: self._workspace.remove_stack(name))

    def outputs(self, name: str) -> dict[str, auto.OutputValue]:
        return dict(self._call(name, lambda: self._workspace.stack_outputs(name)))

    def history(self, name: str, limit: int | None = None) -> list[UpdateRecord]:
        def run() -> list[auto.UpdateSummary]:
            return self._stack(name).history(page_size=limit, show_secrets=False)

        return [
            UpdateRecord(
                kind=str(s.kind),
                result=str(s.result),
                started=_aware(s.start_time) or datetime.now(UTC),
                ended=_aware(s.end_time),
                message=s.message or "",
                config={k: SECRET_MASK if v.secret else str(v.value) for k, v in s.config.items()},
            )
            for s in self._call(name, run)
        ]
