"""Two services (or teams) drafting the same branch never collide.

In one cluster each gets its own namespace (``draft-<slug>-<owner>``); in one Pulumi
backend and project they would share the stack ``draft-<slug>``, so the second is refused
(exit 2) before anything is changed, and cannot destroy the first's draft either.
"""

from __future__ import annotations

import json
from pathlib import Path

from components.naming import names_for

GOOD = "1111111aaaa"


def deploy(envctl, *extra: str):
    return envctl("draft", "up", "--branch", "feature/login", "--sha", GOOD, *extra)


def as_service(project: Path, service: str) -> None:
    """The project's template now belongs to another service (its own repository)."""
    template = project / "Pulumi.draft.yaml"
    text = template.read_text()
    assert "draft:service: tasks" in text
    template.write_text(text.replace("draft:service: tasks", f"draft:service: {service}"))


def test_the_deployed_namespace_carries_team_and_service(envctl) -> None:
    assert deploy(envctl).exit_code == 0
    document = json.loads(Path("envctl-draft.json").read_text())
    expected = names_for("feature/login", team="platform", service="tasks").namespace
    assert document["namespace"] == expected and expected.startswith("draft-feature-login-")
    assert names_for("feature/login", team="platform", service="billing").namespace != expected


def test_another_service_on_the_same_backend_is_refused_before_any_change(envctl) -> None:
    assert deploy(envctl).exit_code == 0
    before = dict(envctl.fake.stacks["draft-feature-login"].config)
    updates = len(envctl.fake.calls_of("up"))
    as_service(envctl.project, "billing")

    result = deploy(envctl)

    assert result.exit_code == 2
    assert "stack draft-feature-login is the draft of service tasks, not billing" in result.output
    assert dict(envctl.fake.stacks["draft-feature-login"].config) == before
    assert len(envctl.fake.calls_of("up")) == updates


def test_another_team_on_the_same_stack_is_refused(envctl) -> None:
    assert deploy(envctl).exit_code == 0
    result = deploy(envctl, "--team", "payments")
    assert result.exit_code == 2
    assert "is the draft of team platform, not payments" in result.output


def test_another_service_cannot_destroy_the_draft(envctl) -> None:
    assert deploy(envctl).exit_code == 0
    as_service(envctl.project, "billing")

    result = envctl("draft", "destroy", "--branch", "feature/login", "--no-report")

    assert result.exit_code == 2
    assert "is the draft of service tasks, not billing" in result.output
    assert "draft-feature-login" in envctl.fake.stacks
    assert envctl.fake.calls_of("destroy") == []
