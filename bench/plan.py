"""Benchmark: `envctl plan draft-feature-x` beside merely importing the SDKs it uses.

Prints the median wall time of each (same run, same machine) and their ratio. The plan
should cost little more than the imports: heavy work belongs out of import time.
Usage: .venv/bin/python bench/plan.py [--runs N] [--stack STACK]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SDK_IMPORTS = (
    "import pulumi, pulumi_kubernetes.core.v1, pulumi_kubernetes.apps.v1, "
    "pulumi_kubernetes.networking.v1, pulumi_kubernetes.batch.v1, pulumi_kubernetes.helm.v3, "
    "pulumi_docker, pulumi_vault, pulumi_random, pulumi_command"
)


def median_seconds(command: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
        if done.returncode not in (0, 1):  # 1: the plan ran but the policy pack found violations
            raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr}")
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--stack", default="draft-feature-x")
    args = parser.parse_args()
    # One warm-up of each so both read their files from the page cache.
    imports = [sys.executable, "-c", SDK_IMPORTS]
    plan = [str(BIN / "envctl"), "plan", args.stack, "--json"]
    median_seconds(imports, 1)
    median_seconds(plan, 1)
    baseline = median_seconds(imports, args.runs)
    planned = median_seconds(plan, args.runs)
    print(f"import the SDKs           median {baseline * 1000:8.0f} ms  ({args.runs} runs)")
    print(f"envctl plan {args.stack:<13} median {planned * 1000:8.0f} ms  ({args.runs} runs)")
    print(f"ratio plan / imports      {planned / baseline:8.2f}x")


if __name__ == "__main__":
    main()
