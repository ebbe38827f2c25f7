"""Benchmark: `envctl draft reap --dry-run` over 1,000 fake draft stacks.

Prints the command's wall time, the part spent inside the fake backend, envctl's own
time (the difference), and the ratio of the whole run to a baseline measured in the same
run: the bare reads the reaper cannot avoid (one `stack ls`, one history entry per stack
that is not already stale). Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from typer.testing import CliRunner

from automation.cli import app
from automation.lifecycle import cli as lifecycle_cli
from automation.lifecycle.fake_workspace import FakeWorkspace

STACKS = 1000
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def populated() -> FakeWorkspace:
    fake = FakeWorkspace(clock=lambda: NOW)
    for index in range(STACKS):
        deployed = NOW - timedelta(hours=index % 60)  # a sixth are past the 48 h max age
        expires = deployed + timedelta(hours=24 if index % 4 == 0 else 48)
        fake.seed(
            f"draft-feature-bench-{index:04d}",
            config={
                "draft:branch": f"feature/bench-{index:04d}",
                "draft:expiresAt": expires.isoformat(),
            },
            last_update=deployed,
        )
    return fake


def timed_backend(fake: FakeWorkspace) -> list[float]:
    """Wrap the fake's reads so their time can be told apart from envctl's own."""
    spent = [0.0]
    for name in ("list_stacks", "history", "outputs"):
        original: Callable[..., Any] = getattr(fake, name)

        def wrapper(*args: Any, _original: Callable[..., Any] = original, **kw: Any) -> Any:
            start = time.perf_counter()
            try:
                return _original(*args, **kw)
            finally:
                spent[0] += time.perf_counter() - start

        setattr(fake, name, wrapper)
    return spent


def baseline(fake: FakeWorkspace) -> float:
    start = time.perf_counter()
    for entry in fake.list_stacks():
        if NOW - (entry.last_update or NOW) <= timedelta(hours=48):
            fake.history(entry.name, limit=1)
    return time.perf_counter() - start


def main() -> None:
    fake = populated()
    base = min(baseline(fake) for _ in range(5))
    spent = timed_backend(fake)
    lifecycle_cli.make_workspace = lambda _dir: fake  # type: ignore[assignment]
    lifecycle_cli.clock = lambda: NOW  # type: ignore[assignment]
    runner = CliRunner()
    start = time.perf_counter()
    result = runner.invoke(app, ["draft", "reap", "--dry-run", "--concurrency", "8"])
    total = time.perf_counter() - start
    if result.exit_code != 0:
        raise SystemExit(f"reap failed ({result.exit_code}):\n{result.output}")
    summary = result.output.strip().splitlines()[-1]
    print(f"draft reap --dry-run, {STACKS} fake stacks: {summary}")
    print(f"  wall time       {total * 1000:8.1f} ms")
    print(f"  in the backend  {spent[0] * 1000:8.1f} ms (fake reads, summed over threads)")
    print(f"  envctl's own    {max(total - spent[0], 0) * 1000:8.1f} ms (approximate)")
    print(f"  baseline        {base * 1000:8.1f} ms (bare sequential reads)")
    print(f"  ratio           {total / base:8.1f}x the baseline")


if __name__ == "__main__":
    main()
