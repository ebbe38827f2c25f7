"""Benchmark: `envctl plan draft-feature-x` beside merely importing the SDKs it uses.

Prints the median wall time of each (runs alternate, same machine) and their ratio. The plan
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


def seconds(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if done.returncode not in (0, 1):  # 1: the plan ran but the policy pack found violations
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr}")
    return time.perf_counter() - start


def medians(commands: list[list[str]], runs: int) -> list[float]:
    """Each command's median over ``runs``, run in turn so a busy machine slows all alike."""
    samples: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for sample, command in zip(samples, commands, strict=True):
            sample.append(seconds(command))
    return [statistics.median(sample) for sample in samples]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--stack", default="draft-feature-x")
    args = parser.parse_args()
    # One warm-up of each so both read their files from the page cache.
    imports = [sys.executable, "-c", SDK_IMPORTS]
    plan = [str(BIN / "envctl"), "plan", args.stack, "--json"]
    medians([imports, plan], 1)
    baseline, planned = medians([imports, plan], args.runs)
    print(f"import the SDKs           median {baseline * 1000:8.0f} ms  ({args.runs} runs)")
    print(f"envctl plan {args.stack:<13} median {planned * 1000:8.0f} ms  ({args.runs} runs)")
    print(f"ratio plan / imports      {planned / baseline:8.2f}x")


if __name__ == "__main__":
    main()
