"""The real Pulumi engine for tests: the CLI and providers `make toolchain` built, a file backend.

Programs run as Automation API inline programs (the SDK's own language runtime, ``--client``),
because the Go module proxy does not serve the Python language-host plugin. Python policy
packs start as envctl starts them (``policy_pack_executable``): an executable beside a link to
their PulumiPolicy.yaml, which the CLI launches directly (it would run a pack directory through
that same language host).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pulumi import automation as auto

from automation.lifecycle.pulumi_workspace import project_program
from tests.conftest import REPO, unavailable

TOOLCHAIN = REPO / ".toolchain" / "bin"
PASSPHRASE = "engine-tests-only"


def require_toolchain(*binaries: str) -> Path:
    """``.toolchain/bin`` with ``binaries`` in it (fails in CI, skips elsewhere when missing)."""
    missing = [b for b in binaries if not os.access(TOOLCHAIN / b, os.X_OK)]
    if missing:
        unavailable(f"{', '.join(missing)} not built: run `make toolchain`")
    return TOOLCHAIN


def engine_env(state: Path) -> dict[str, str]:
    """Environment of the real CLI: toolchain first on PATH, a file backend under ``state``."""
    (state / "backend").mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.pathsep.join(
            [str(TOOLCHAIN), str(Path(sys.executable).parent), os.environ["PATH"]]
        ),
        "PULUMI_HOME": str(state / "home"),
        "PULUMI_BACKEND_URL": (state / "backend").as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_SKIP_CONFIRMATIONS": "true",
    }


@dataclass(frozen=True)
class Project:
    """A Pulumi project directory whose ``__main__.py`` runs inline under the real CLI."""

    directory: Path
    env: dict[str, str]

    def stack(self, name: str) -> auto.Stack:
        workspace = auto.LocalWorkspace(
            work_dir=str(self.directory),
            program=project_program(self.directory),
            env_vars=self.env,
        )
        try:
            return auto.Stack.create(name, workspace)
        except auto.StackAlreadyExistsError:
            return auto.Stack.select(name, workspace)


def copy_project(source: Path, into: Path) -> Path:
    """A copy of the program in ``source`` (tests may write stack config files beside it)."""
    target = into / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".venv", "__pycache__"))
    return target


def small_project(into: Path, program: str) -> Path:
    """A one-file project named like this one (``environments``) in ``into/project``."""
    work = into / "project"
    work.mkdir()
    (work / "Pulumi.yaml").write_text("name: environments\nruntime: python\n")
    (work / "__main__.py").write_text(program)
    return work


def hold_lock(engine: dict[str, str], stack: str, taken: datetime) -> Path:
    """A lock file of the file backend, as a `pulumi up` killed at ``taken`` leaves behind."""
    backend = Path(engine["PULUMI_BACKEND_URL"].removeprefix("file://"))
    locks = backend / f".pulumi/locks/organization/environments/{stack}"
    locks.mkdir(parents=True, exist_ok=True)
    lock = locks / f"{uuid.uuid4()}.json"
    lock.write_text(
        json.dumps({"pid": 999999, "username": "ci", "hostname": "runner-1",
                    "timestamp": taken.strftime("%Y-%m-%dT%H:%M:%SZ")})
    )  # fmt: skip
    return lock
