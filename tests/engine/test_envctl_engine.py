"""envctl on the real Pulumi CLI: what it reads from a real backend, and what it leaves alone.

Draft stacks are made the way a pipeline leaves them — updated with a config snapshot
(`draft:branch`, `draft:expiresAt`), or created and never deployed — in a `file://` backend.
Their one resource is a stack output, so no cluster is needed: `draft list` and
`draft reap --dry-run` read only the backend (stack list and newest history entry).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pulumi
import pytest
from pulumi import automation as auto

from tests.conftest import REPO

pytestmark = pytest.mark.engine

ENVCTL = Path(sys.executable).parent / "envctl"
NOW = datetime.now(UTC).replace(microsecond=0)


def deployed_draft(engine: dict[str, str], tmp_path: Path, stack: str, branch: str,
                   expires: datetime) -> None:  # fmt: skip
    """A draft stack with one successful update whose config says branch and expiry."""
    work = tmp_path / "project"
    work.mkdir(exist_ok=True)
    (work / "Pulumi.yaml").write_text("name: environments\nruntime: python\n")

    def program() -> None:
        pulumi.export("url", f"https://{stack}.drafts.example.com")

    workspace = auto.LocalWorkspace(work_dir=str(work), program=program, env_vars=engine)
    created = auto.Stack.create(stack, workspace)
    created.set_all_config(
        {
            "draft:branch": auto.ConfigValue(branch),
            "draft:expiresAt": auto.ConfigValue(expires.isoformat()),
        }
    )
    created.up(color="never")


def envctl(engine: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ENVCTL), *args, "--cwd", str(REPO)],
        env={**engine, "CI": ""},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def drafts(engine: dict[str, str], tmp_path: Path) -> dict[str, str]:
    deployed_draft(engine, tmp_path, "draft-feature-old", "feature/old", NOW - timedelta(hours=1))
    deployed_draft(engine, tmp_path, "draft-feature-new", "feature/new", NOW + timedelta(hours=40))
    for stack in ("draft-bugfix-never", "draft-bugfix-starting"):
        auto.Stack.create(
            stack,
            auto.LocalWorkspace(work_dir=str(tmp_path / "project"), program=lambda: None,
                                env_vars=engine),
        )  # fmt: skip
    # A pipeline that died between `stack init` and `up` two hours ago: its empty checkpoint
    # is all that is left, and the checkpoint's time is what the CLI reports as last update.
    backend = Path(engine["PULUMI_BACKEND_URL"].removeprefix("file://"))
    stack_file = backend / ".pulumi/stacks/environments/draft-bugfix-never.json"
    checkpoint = json.loads(stack_file.read_text())
    two_hours_ago = (NOW - timedelta(hours=2)).isoformat().replace("+00:00", "Z")
    checkpoint["checkpoint"]["latest"]["manifest"]["time"] = two_hours_ago
    stack_file.write_text(json.dumps(checkpoint))
    return engine


def stack_names(engine: dict[str, str]) -> set[str]:
    done = subprocess.run(
        ["pulumi", "stack", "ls", "--all", "--json"],
        env=engine, capture_output=True, text=True, check=True, cwd=REPO,
    )  # fmt: skip
    return {entry["name"] for entry in json.loads(done.stdout)}


def test_draft_list_reads_branch_url_and_expiry_from_the_real_backend(drafts) -> None:
    done = envctl(drafts, "draft", "list", "--json")

    assert done.returncode == 0, done.stderr
    listed = {entry["stack"]: entry for entry in json.loads(done.stdout)}
    assert set(listed) == {
        "draft-feature-old",
        "draft-feature-new",
        "draft-bugfix-never",
        "draft-bugfix-starting",
    }
    old = listed["draft-feature-old"]
    assert old["branch"] == "feature/old"
    assert old["url"] == "https://draft-feature-old.drafts.example.com"
    assert old["lastResult"] == "update succeeded"
    assert datetime.fromisoformat(old["expiresAt"]) == NOW - timedelta(hours=1)
    assert listed["draft-bugfix-never"]["lastResult"] is None  # no update in its history


def test_reap_dry_run_names_the_expired_and_the_abandoned_and_touches_nothing(drafts) -> None:
    before = stack_names(drafts)

    done = envctl(drafts, "draft", "reap", "--dry-run", "--no-orphans")  # no cluster here

    assert done.returncode == 0, done.stderr
    assert "draft-feature-old" in done.stdout
    assert "draft-bugfix-never" in done.stdout
    assert "draft-feature-new" not in done.stdout
    assert "draft-bugfix-starting" not in done.stdout  # created a moment ago: its up may follow
    assert "(dry run)" in done.stdout
    assert stack_names(drafts) == before


def test_a_command_on_a_missing_stack_fails_with_the_clis_own_error(engine) -> None:
    """The real CLI fails when it should: a reaper that cannot fail proves nothing."""
    done = subprocess.run(
        ["pulumi", "stack", "select", "draft-nowhere", "--cwd", str(REPO)],
        env=engine, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "no stack named 'draft-nowhere' found" in done.stderr
