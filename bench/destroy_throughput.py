"""Benchmark: reaper destroy throughput by `--concurrency`, against the fake backend.

Each fake destroy holds its stack for a simulated latency (a real `pulumi destroy` of a
draft takes tens of seconds; here 20 ms), so the figures show how well the reaper's
bounded concurrency overlaps them. The baseline is concurrency 1, measured in the same
run; the ratio is the speed-up over it. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from automation.lifecycle.fake_workspace import FakeWorkspace
from automation.lifecycle.reaper import Reaper
from components.naming import DEFAULT_PREFIXES

STACKS = 120
LATENCY = 0.02
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def expired_stacks() -> FakeWorkspace:
    fake = FakeWorkspace(clock=lambda: NOW)
    for index in range(STACKS):
        fake.seed(f"draft-feature-old-{index:04d}", last_update=NOW - timedelta(hours=50))
    fake.hold_seconds = LATENCY
    return fake


def throughput(concurrency: int) -> float:
    fake = expired_stacks()
    reaper = Reaper(fake, NOW, timedelta(hours=48), DEFAULT_PREFIXES, concurrency=concurrency)
    start = time.perf_counter()
    summary = reaper.run(False, lambda _outcome: None)
    elapsed = time.perf_counter() - start
    if summary.count()["destroyed"] != STACKS or fake.stacks:
        raise SystemExit(f"concurrency {concurrency}: {summary.line()}")
    return STACKS / elapsed


def main() -> None:
    print(
        f"reaper destroy throughput, {STACKS} expired stacks, {LATENCY * 1000:.0f} ms per destroy"
    )
    base = throughput(1)
    print(f"  concurrency  1: {base:7.1f} stacks/s (baseline)")
    for concurrency in (4, 8, 16, 32):
        rate = throughput(concurrency)
        print(f"  concurrency {concurrency:2d}: {rate:7.1f} stacks/s ({rate / base:4.1f}x)")


if __name__ == "__main__":
    main()
