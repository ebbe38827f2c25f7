"""The fake workspace exports only what the real program exports (its offline plan's outputs)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pulumi.automation import ConfigValue

from automation.lifecycle.fake_workspace import FakeWorkspace
from tests.conftest import REPO

ENVCTL = Path(sys.executable).parent / "envctl"


def test_the_fakes_outputs_are_the_real_programs() -> None:
    done = subprocess.run(
        [str(ENVCTL), "plan", "draft-feature-x", "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    real = json.loads(done.stdout)["outputs"]
    fake = FakeWorkspace()
    fake.create_stack("draft-feature-x")
    fake.set_config(
        "draft-feature-x",
        {
            "draft:sha": ConfigValue("0123abc"),
            "draft:expiresAt": ConfigValue("2026-12-03T00:00:00+00:00"),
        },
    )

    fake.up("draft-feature-x")

    outputs = fake.outputs("draft-feature-x")
    assert set(outputs) <= set(real)
    assert outputs["url"].value == real["url"]
    assert outputs["smoke"].value == "passed"
