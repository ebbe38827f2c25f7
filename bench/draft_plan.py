"""Benchmark: draft plan time by number of mock services, and the draft's dependency depth.

Runs the real program offline (automation.plan, in one process after a warm-up) for drafts
with 1, 10 and 50 mock services and prints the median time of each, the ratios against the
1-mock draft and the cost per added mock service: growth should be linear (the per-mock cost
roughly constant). Then prints the longest dependency chain from the namespace to the
draft's URL (the smoke Job gates it) and what starts with no dependency at all: independent
work (image build, database, Vault role) must not wait on each other.
Figures only, no pass/fail. Usage: .venv/bin/python bench/draft_plan.py [--runs N]
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from automation.plan.model import Plan  # noqa: E402
from automation.plan.runner import run_program  # noqa: E402
from automation.plan.stack_config import load_stack_config  # noqa: E402

STACK = "draft-feature-x"
SIZES = (1, 10, 50)


def mocks_override(count: int) -> list[str]:
    mocks = [
        {"name": f"mock-{i:02d}", "image": "wiremock/wiremock:3.9.1", "port": 8080}
        for i in range(count)
    ]
    return [f"draft:mocks={json.dumps(mocks)}", f"draft:quota.pods={count + 20}"]


def plan_once(overrides: list[str]) -> tuple[float, Plan]:
    config = load_stack_config(REPO, STACK, overrides)
    start = time.perf_counter()
    plan, _ = run_program(REPO, STACK, config)
    return time.perf_counter() - start, plan


def depth_report(plan: Plan) -> None:
    by_urn = plan.by_urn()
    names = {r.urn: r.name for r in plan.resources}

    def deps(urn: str) -> set[str]:
        resource = by_urn[urn]
        found = set(resource.depends_on)
        for urns in resource.property_dependencies.values():
            found |= set(urns)
        return {u for u in found if u in by_urn}

    @functools.cache
    def chain(urn: str) -> tuple[str, ...]:
        longest: tuple[str, ...] = ()
        for dep in deps(urn):
            candidate = chain(dep)
            if len(candidate) > len(longest):
                longest = candidate
        return (*longest, urn)

    gate = next(r for r in plan.resources if r.name == "draft-smoke")
    path = chain(gate.urn)
    print(f"\nlongest chain to the URL: {len(path) - 1} steps")
    print("  " + " -> ".join(names[u] for u in path))
    roots = sorted(names[r.urn] for r in plan.resources if r.custom and not deps(r.urn))
    print(f"start at once (no dependency): {', '.join(roots)}")
    for name in ("draft-image", "draft-db"):
        resource = next(r for r in plan.resources if r.name == name)
        print(f"  depth of {name:<17} {len(chain(resource.urn)) - 1}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    plan_once(mocks_override(1))  # warm-up: imports, the chart schema, the page cache
    medians: dict[int, float] = {}
    counts: dict[int, int] = {}
    for size in SIZES:
        samples = []
        for _ in range(args.runs):
            seconds, plan = plan_once(mocks_override(size))
            samples.append(seconds)
        medians[size] = statistics.median(samples)
        counts[size] = len(plan.resources)
    base = medians[SIZES[0]]
    print(f"draft plan time by mock services (median of {args.runs} in-process runs)")
    for size in SIZES:
        print(
            f"  {size:>3} mocks  {counts[size]:>4} resources  {medians[size] * 1000:8.1f} ms"
            f"  ratio {medians[size] / base:5.2f}x"
        )
    per_mock = (medians[SIZES[-1]] - base) / (SIZES[-1] - SIZES[0])
    first_step = (medians[SIZES[1]] - base) / (SIZES[1] - SIZES[0])
    print(
        f"  per added mock: {first_step * 1000:.1f} ms (1->10), {per_mock * 1000:.1f} ms (1->50);"
        f" linear growth keeps these close"
    )
    depth_report(plan_once([])[1])


if __name__ == "__main__":
    main()
