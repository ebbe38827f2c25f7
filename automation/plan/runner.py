"""Run a Pulumi program offline under Pulumi's own mock runtime and return its Plan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import runpy
import sys
from collections.abc import Iterator
from pathlib import Path

from automation.plan.model import Plan
from automation.plan.stack_config import StackConfig, read_project


class ProgramError(Exception):
    """The program itself failed (not a config error): the message says where."""


# Config errors of programs that do not share this checkout's classes, matched by name.
CONFIG_ERROR_NAMES = frozenset({"ConfigError", "ConfigMissingError", "ConfigTypeError"})


def is_config_error(exc: BaseException) -> bool:
    """True for a bad-configuration error: ``pulumi.RunError`` or a class named ConfigError."""
    import pulumi

    return isinstance(exc, pulumi.RunError) or any(
        cls.__name__ in CONFIG_ERROR_NAMES for cls in type(exc).__mro__
    )


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.levelname.lower()}: {record.getMessage()}")


def _forget_shadowed_modules(program_dir: Path) -> None:
    """Drop imported modules that the program's own top-level modules of the same name shadow.

    Two programs may both have a ``components`` package: the one run now must get its own.
    Modules already imported from ``program_dir`` itself stay, so class identity holds.
    """
    own = {p.stem for p in program_dir.glob("*.py") if p.stem != "__main__"} | {
        p.parent.name for p in program_dir.glob("*/__init__.py")
    }
    for name, module in list(sys.modules.items()):
        top = name.partition(".")[0]
        origin = getattr(module, "__file__", None) or ""
        if top in own and not Path(origin).resolve().is_relative_to(program_dir):
            del sys.modules[name]


@contextlib.contextmanager
def _program_context(program_dir: Path) -> Iterator[None]:
    """cwd and sys.path of the program, restored afterwards."""
    previous_cwd = Path.cwd()
    _forget_shadowed_modules(program_dir)
    sys.path.insert(0, str(program_dir))
    os.chdir(program_dir)
    try:
        yield
    finally:
        os.chdir(previous_cwd)
        with contextlib.suppress(ValueError):
            sys.path.remove(str(program_dir))


def run_program(program_dir: Path, stack: str, config: StackConfig) -> tuple[Plan, list[str]]:
    """Execute ``program_dir``'s program for ``stack``; return the Plan and engine warnings.

    Raises the program's config errors (``pulumi.RunError`` such as ``ConfigError``, or any
    class named ConfigError) unchanged, and wraps any other exception in ProgramError.
    """
    from pulumi.runtime import settings as runtime_settings
    from pulumi.runtime.config import set_all_config
    from pulumi.runtime.mocks import set_mocks
    from pulumi.runtime.stack import run_in_stack

    from automation.plan.monitor import PlanMocks, RecordingMonitor

    program_dir = program_dir.resolve()
    project = read_project(program_dir)
    main = program_dir / str(project.get("main", "."))
    entry = main / "__main__.py" if main.is_dir() else main
    if not entry.is_file():
        raise ProgramError(f"{entry}: no __main__.py to run (Pulumi.yaml 'main' points here)")

    # One loop for everything: set_mocks already schedules the root stack's registration.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    runtime_settings.reset_options()
    runtime_settings.set_root_resource(None)  # type: ignore[arg-type]
    set_all_config(dict(config.values), sorted(config.secret_keys))
    collector = _Collector()
    logger = logging.getLogger("envctl.plan.engine")
    logger.propagate = False
    logger.handlers = [collector]
    mocks = PlanMocks()
    monitor = RecordingMonitor(mocks)
    set_mocks(
        mocks,
        project=config.project,
        stack=stack,
        preview=False,
        logger=logger,
        monitor=monitor,
    )
    runtime_settings.set_root_resource(None)  # type: ignore[arg-type]  # run_in_stack makes the real one

    def program() -> None:
        runpy.run_path(str(entry), run_name="__main__")

    try:
        # The program's prints go to stderr so that stdout stays the plan (or its JSON).
        with _program_context(entry.parent), contextlib.redirect_stdout(sys.stderr):
            loop.run_until_complete(run_in_stack(program))
    except Exception as exc:  # the program's own failure, reported with its location
        if is_config_error(exc):
            raise
        raise ProgramError(_describe_failure(exc, entry.parent)) from exc
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    plan = Plan(
        project=config.project,
        stack=stack,
        resources=list(monitor.recorded),
        outputs=dict(monitor.stack_outputs),
        config=dict(config.values),
        secret_keys=config.secret_keys,
    )
    return plan, collector.messages


def _describe_failure(exc: Exception, program_dir: Path) -> str:
    """``Type: message`` plus the innermost frame inside the program's own files."""
    import traceback

    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if f.filename.startswith(str(program_dir))
    ]
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"
