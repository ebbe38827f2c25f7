"""The orphan sweep's decisions, with a recorded kubectl (tests/lifecycle/fake_kubectl.py).

Which namespaces are this owner's, which have no stack, the grace period, and how
failures end (the real cluster: tests/cluster/test_orphan_sweep.py).
"""

from __future__ import annotations

import subprocess
from datetime import timedelta
from typing import Any

import pytest

from automation.lifecycle import cli as lifecycle_cli
from automation.lifecycle.orphans import Owner, judge
from components.naming import owner_key
from tests.lifecycle.conftest import NOW
from tests.lifecycle.fake_kubectl import FakeKubectl, draft_namespace

HOUR = timedelta(hours=1)
OURS = Owner("platform", "tasks")  # the project's Pulumi.draft.yaml
KEY = owner_key("platform", "tasks")


def ours(slug: str, age: timedelta = 3 * HOUR, **labels: str) -> dict[str, Any]:
    return draft_namespace(slug, KEY, "platform", "tasks", NOW - age, **labels)


@pytest.fixture
def kube(monkeypatch: pytest.MonkeyPatch, envctl: Any) -> FakeKubectl:
    fake = FakeKubectl()
    monkeypatch.setattr(lifecycle_cli, "kubectl", fake)
    return fake


def test_only_this_owners_old_namespaces_without_a_stack_are_judged_orphans() -> None:
    terminating = ours("feature-going")
    terminating["metadata"]["deletionTimestamp"] = NOW.isoformat()
    namespaces = [
        ours("feature-crashed"),
        ours("feature-live"),  # its stack exists
        ours("feature-starting", age=timedelta(minutes=5)),
        terminating,
        draft_namespace("feature-crashed", owner_key("other", "tasks"), "other", "tasks", NOW),
        # this owner's name, another team's labels; this owner's labels, another's name
        draft_namespace("feature-x", KEY, "other", "tasks", NOW - 3 * HOUR),
        draft_namespace("feature-y", "0123abcd", "platform", "tasks", NOW - 3 * HOUR),
        ours("feature-z", **{"environments.dev/branch": "feature-other"}),
    ]

    found = judge(namespaces, OURS, {"draft-feature-live"}, NOW, HOUR)

    assert [(o.namespace, o.action) for o in found] == [
        (f"draft-feature-crashed-{KEY}", "would delete"),
        (f"draft-feature-starting-{KEY}", "left"),
    ]
    assert found[0].reason == "no stack draft-feature-crashed, 3h old"
    assert found[1].reason == "no stack draft-feature-starting, but 5m old (grace 1h)"


def test_reap_deletes_orphans_and_keeps_namespaces_with_a_stack(envctl, kube) -> None:
    envctl.fake.seed("draft-feature-live", config={"draft:branch": "feature/live"},
                     last_update=NOW - HOUR)  # fmt: skip
    kube.namespaces += [ours("feature-crashed"), ours("feature-live")]

    dry = envctl("draft", "reap", "--dry-run")

    assert dry.exit_code == 0, dry.output
    assert f"would delete  draft-feature-crashed-{KEY} (no stack" in dry.output
    assert "1 draft namespaces without a stack: 1 would delete (dry run)" in dry.output
    assert kube.deleted() == []

    done = envctl("draft", "reap")

    assert done.exit_code == 0, done.output
    assert kube.deleted() == [f"draft-feature-crashed-{KEY}"]
    assert "1 draft namespaces without a stack: 1 deleted" in done.output
    selector = kube.calls[0][kube.calls[0].index("--selector") + 1]
    assert "environments.dev/team=platform" in selector
    assert "environments.dev/service=tasks" in selector


def test_a_namespace_whose_stack_the_reaper_destroys_is_not_swept_twice(envctl, kube) -> None:
    envctl.fake.seed("draft-feature-old", config={"draft:branch": "feature/old"},
                     last_update=NOW - 50 * HOUR)  # fmt: skip
    kube.namespaces.append(ours("feature-old", age=50 * HOUR))
    original = envctl.fake.destroy

    def destroy(name: str, on_event: Any = None) -> None:  # the namespace was in its state
        original(name, on_event)
        kube.namespaces[0]["metadata"]["deletionTimestamp"] = NOW.isoformat()

    envctl.fake.destroy = destroy

    done = envctl("draft", "reap")

    assert done.exit_code == 0, done.output
    assert "1 destroyed" in done.output
    assert kube.deleted() == []
    assert "0 draft namespaces without a stack" in done.output


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        ("unreachable", "kubectl get namespaces failed: The connection to the server"),
        ("no kubectl", "kubectl is not on PATH"),
        ("no stacks", "backend unreadable"),
    ],
)
def test_a_sweep_that_cannot_judge_deletes_nothing_fails_and_the_stacks_are_reaped(
    envctl, kube, monkeypatch, breakage: str, message: str
) -> None:
    envctl.fake.seed("draft-feature-old", config={"draft:branch": "feature/old"},
                     last_update=NOW - 50 * HOUR)  # fmt: skip
    kube.namespaces.append(ours("feature-crashed"))
    if breakage == "unreachable":
        kube.get_error = (
            "E1202 memcache.go:265] couldn't get current server API group list\n"
            "The connection to the server 127.0.0.1:6443 was refused\n"
        )
    elif breakage == "no kubectl":

        def missing(args: list[str]) -> subprocess.CompletedProcess[str]:
            raise FileNotFoundError("kubectl")

        monkeypatch.setattr(lifecycle_cli, "kubectl", missing)
    else:
        listed = iter([envctl.fake.list_stacks()])

        def list_stacks() -> Any:  # the reaper's listing works, the sweep's does not
            try:
                return next(listed)
            except StopIteration:
                raise RuntimeError("backend unreadable") from None

        monkeypatch.setattr(envctl.fake, "list_stacks", list_stacks)

    done = envctl("draft", "reap")

    assert done.exit_code == 1
    assert "1 destroyed" in done.output, "the stacks were reaped"
    assert f"orphan sweep failed: {message}" in done.output
    assert kube.deleted() == []


def test_a_failing_delete_is_reported_and_the_other_orphans_go(envctl, kube) -> None:
    kube.namespaces += [ours("feature-a"), ours("feature-b")]
    kube.failing_deletes.add(f"draft-feature-a-{KEY}")

    done = envctl("draft", "reap")

    assert done.exit_code == 1
    assert f"failed        draft-feature-a-{KEY}" in done.output
    assert "forbidden" in done.output
    assert kube.deleted() == [f"draft-feature-a-{KEY}", f"draft-feature-b-{KEY}"]
    assert "2 draft namespaces without a stack: 1 deleted, 1 failed" in done.output


def test_no_orphans_never_calls_kubectl(envctl, kube) -> None:
    kube.namespaces.append(ours("feature-crashed"))

    done = envctl("draft", "reap", "--no-orphans")

    assert done.exit_code == 0, done.output
    assert kube.calls == []


def test_the_sweep_needs_the_team_of_the_template(envctl, kube) -> None:
    template = envctl.project / "Pulumi.draft.yaml"
    template.write_text(template.read_text().replace("  draft:team: platform\n", ""))

    refused = envctl("draft", "reap")
    without = envctl("draft", "reap", "--no-orphans")

    assert refused.exit_code == 2
    assert "draft:team in Pulumi.draft.yaml: not set" in refused.output
    assert "--no-orphans" in refused.output
    assert without.exit_code == 0, without.output
    assert kube.calls == []


@pytest.mark.parametrize("grace", ["0m", "soon", "49h"])
def test_a_bad_grace_is_refused_before_anything_is_touched(envctl, kube, grace: str) -> None:
    envctl.fake.seed("draft-feature-old", config={"draft:branch": "feature/old"},
                     last_update=NOW - 50 * HOUR)  # fmt: skip

    done = envctl("draft", "reap", "--orphan-grace", grace)

    assert done.exit_code == 2
    assert "--orphan-grace" in done.output
    assert "draft-feature-old" in envctl.fake.stacks and kube.calls == []
