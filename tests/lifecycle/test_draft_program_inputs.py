"""The draft program reads neither the clock nor git: its inputs are its config.

Runs the real program offline (envctl plan's runner). Two plans of the same config must be
identical byte for byte, so ``pulumi preview --expect-no-changes`` can pass on a stack that
nobody redeployed; a stack whose stored expiry has long passed still plans (the reapers, not
the program, act on expiry).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from automation.plan.render import plan_document
from automation.plan.runner import run_program
from automation.plan.stack_config import PREVIEW_SHA, load_stack_config

REPO = Path(__file__).resolve().parents[2]
STACK = "draft-feature-x"
SHA = "0123456789abcdef0123456789abcdef01234567"


def _plan(overrides: list[str], now: datetime | None = None) -> str:
    config = load_stack_config(REPO, STACK, overrides, now=now)
    plan, _ = run_program(REPO, STACK, config)
    document = plan_document(plan, [])
    # The engine compares resources by URN; registration order is the event loop's.
    document["resources"].sort(key=lambda resource: resource["urn"])
    return json.dumps(document, sort_keys=True)


def test_two_plans_of_the_same_config_are_identical() -> None:
    config = [f"draft:sha={SHA}", "draft:deployedAt=2026-11-22T12:00:00+00:00"]
    first = _plan(config)
    time.sleep(1.1)  # a program that read the clock (seconds) would now differ
    second = _plan(config)
    assert first == second
    document = json.loads(first)
    assert document["outputs"]["expires_at"] == "2026-11-24T12:00:00+00:00"
    namespace = next(r for r in document["resources"] if r["type"].endswith(":Namespace"))
    assert namespace["inputs"]["metadata"]["labels"]["environments.dev/expires-at"] == (
        "20261124T120000Z"
    )
    assert document["outputs"]["image"].endswith(f"draft-feature-x-{SHA[:7]}")


def test_the_commit_comes_from_config_not_from_git() -> None:
    """The program in a git checkout at HEAD X deploys the configured commit, not X."""
    document = json.loads(_plan(["draft:deployedAt=2026-11-22T12:00:00Z", f"draft:sha={SHA}"]))
    assert document["outputs"]["image"].endswith(SHA[:7])
    # envctl plan without a commit previews a placeholder, never the checkout's HEAD
    preview = json.loads(_plan([], now=datetime(2026, 11, 22, 12, 0, tzinfo=UTC)))
    assert preview["outputs"]["image"].endswith(PREVIEW_SHA[:7])


def test_a_stack_whose_expiry_has_passed_still_plans() -> None:
    long_ago = datetime(2020, 1, 1, 8, 0, tzinfo=UTC)
    document = json.loads(
        _plan(
            [
                f"draft:sha={SHA}",
                f"draft:deployedAt={long_ago.isoformat()}",
                f"draft:expiresAt={(long_ago + timedelta(hours=2)).isoformat()}",
            ]
        )
    )
    assert document["outputs"]["expires_at"] == "2020-01-01T10:00:00+00:00"


def test_a_rollback_deploy_runs_no_migrations() -> None:
    """``draft:migrations.skip`` (a rollback): the old release comes back over a database
    that a newer commit migrated; the old code's migrations would fail on it."""
    base = [f"draft:sha={SHA}", "draft:deployedAt=2026-11-22T12:00:00Z"]
    normal = json.loads(_plan(base))
    rollback = json.loads(_plan([*base, "draft:migrations.skip=true"]))

    def migration_jobs(document: dict) -> list[str]:  # type: ignore[type-arg]
        return [
            r["name"]
            for r in document["resources"]
            if r["type"] == "kubernetes:batch/v1:Job" and "migrat" in r["name"]
        ]

    assert migration_jobs(normal) and not migration_jobs(rollback)
    release = next(r for r in rollback["resources"] if r["type"] == "kubernetes:helm.sh/v3:Release")
    assert release["inputs"]["values"]["image"]["tag"] == f"draft-feature-x-{SHA[:7]}"
