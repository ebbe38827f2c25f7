"""Delete draft namespaces that have no stack: a crashed first deploy, a removed stack.

Only this project's drafts are ever looked at: namespaces the API server returns for the
labels of a draft of its team and service, whose name is ``draft-<slug>-<owner>`` with
the owner key of that team/service (``components.naming.owner_key``) and whose branch
label is ``<slug>``. Its stack is ``draft-<slug>``. Namespaces are listed before the
stacks (``draft up`` creates the stack before the namespace, so a listed namespace's
stack is listed too); one younger than the grace period (a first deploy in flight) or
already terminating is left alone. Each team/service keeps its drafts in one backend:
the stacks listed are all the stacks its namespaces can have.

Talks to the cluster with ``kubectl`` and the kubeconfig Pulumi uses (``KUBECONFIG`` or
``~/.kube/config``). No Vault object is swept: drafts create none (a team/service's roles
are provisioned once by an admin, ``envctl vault provision``).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from automation.lifecycle.drafts import service_of
from automation.lifecycle.durations import show_duration
from automation.lifecycle.errors import BadInput
from automation.lifecycle.inventory import parse_time
from automation.lifecycle.kubectl import TIMEOUT, Run, kubectl
from components.draft.blueprint import LABEL_PREFIX, MANAGED_BY
from components.naming import DRAFT_PREFIX, NamingError, owner_key

Action = Literal["deleted", "would delete", "left", "failed"]


@dataclass(frozen=True)
class Owner:
    """The team and service whose drafts a sweep may delete."""

    team: str
    service: str

    @classmethod
    def of_template(cls, template: Mapping[str, Any]) -> Owner:
        """``draft:team`` and ``draft:service`` of Pulumi.draft.yaml; BadInput without them."""
        team, service = template.get("draft:team"), service_of(template)
        where = "draft:team in Pulumi.draft.yaml"
        if not isinstance(team, str):
            raise BadInput(
                f"{where}: not set; the orphan sweep deletes only this team's draft "
                "namespaces (set it, e.g. 'platform', or pass --no-orphans)"
            )
        try:
            owner_key(team, service)
        except NamingError as exc:
            raise BadInput(f"{where}: {exc}") from None
        return cls(team, service)

    @property
    def key(self) -> str:
        return owner_key(self.team, self.service)

    @property
    def selector(self) -> str:
        """The label selector of this owner's draft namespaces."""
        return ",".join(
            [
                f"app.kubernetes.io/managed-by={MANAGED_BY}",
                f"{LABEL_PREFIX}/kind=draft",
                f"{LABEL_PREFIX}/team={self.team}",
                f"{LABEL_PREFIX}/service={self.service}",
            ]
        )

    def stack_of(self, namespace: Mapping[str, Any]) -> str | None:
        """``draft-<slug>`` of this owner's draft namespace; None for any other namespace."""
        meta = namespace.get("metadata") or {}
        name, labels = str(meta.get("name", "")), meta.get("labels") or {}
        suffix = f"-{self.key}"
        slug = name.removeprefix(DRAFT_PREFIX).removesuffix(suffix)
        ours = (
            name.startswith(DRAFT_PREFIX)
            and name.endswith(suffix)
            and bool(slug)
            and labels.get(f"{LABEL_PREFIX}/branch") == slug
            and labels.get(f"{LABEL_PREFIX}/team") == self.team
            and labels.get(f"{LABEL_PREFIX}/service") == self.service
            and labels.get(f"{LABEL_PREFIX}/kind") == "draft"
        )
        return f"{DRAFT_PREFIX}{slug}" if ours else None


@dataclass(frozen=True)
class SweepOutcome:
    """What the sweep did with one namespace without a stack, and why."""

    namespace: str
    action: Action
    reason: str


@dataclass(frozen=True)
class SweepSummary:
    """Every orphan's outcome; ``problem`` says why the sweep could not run at all."""

    outcomes: list[SweepOutcome] = field(default_factory=list)
    problem: str | None = None

    @property
    def failed(self) -> bool:
        return self.problem is not None or any(o.action == "failed" for o in self.outcomes)

    def line(self) -> str:
        if self.problem is not None:
            return f"orphan sweep failed: {self.problem}"
        counts = {a: sum(o.action == a for o in self.outcomes) for a in get_args(Action)}
        parts = [f"{n} {a}" for a, n in counts.items() if n]
        return f"{len(self.outcomes)} draft namespaces without a stack" + (
            ": " + ", ".join(parts) if parts else ""
        )


def judge(
    namespaces: Iterable[Mapping[str, Any]],
    owner: Owner,
    stacks: Collection[str],
    now: datetime,
    grace: timedelta,
) -> list[SweepOutcome]:
    """The owner's namespaces without a stack: to delete, or left within the grace period.

    Other owners' namespaces, namespaces with a stack and terminating ones are not listed.
    """
    found: list[SweepOutcome] = []
    for namespace in namespaces:
        stack = owner.stack_of(namespace)
        meta = namespace.get("metadata") or {}
        if stack is None or stack in stacks or meta.get("deletionTimestamp"):
            continue
        name = str(meta["name"])
        created = parse_time(meta.get("creationTimestamp"))
        if created is None:
            found.append(SweepOutcome(name, "left", f"no stack {stack}; no creation time"))
            continue
        age = show_duration(max(now - created, timedelta(0)))
        if now - created < grace:
            reason = f"no stack {stack}, but {age} old (grace {show_duration(grace)})"
            found.append(SweepOutcome(name, "left", reason))
        else:
            found.append(SweepOutcome(name, "would delete", f"no stack {stack}, {age} old"))
    return sorted(found, key=lambda o: o.namespace)


@dataclass(frozen=True)
class OrphanSweep:
    """One sweep of the owner's draft namespaces against the backend's stacks."""

    owner: Owner
    list_stacks: Callable[[], Collection[str]]
    now: datetime
    grace: timedelta
    run: Run = kubectl

    def namespaces(self) -> list[Mapping[str, Any]]:
        """The owner's draft namespaces (by label); RuntimeError says why they are unknown."""
        done = self._kubectl(
            ["get", "namespaces", "--selector", self.owner.selector, "--output", "json"]
        )
        if done.returncode != 0:
            raise RuntimeError(f"kubectl get namespaces failed: {_last_line(done.stderr)}")
        try:
            items = json.loads(done.stdout).get("items")
        except (json.JSONDecodeError, AttributeError):
            items = None
        if not isinstance(items, list):
            raise RuntimeError("kubectl get namespaces printed no namespace list")
        return items

    def delete(self, outcome: SweepOutcome) -> SweepOutcome:
        """Start deleting one namespace; a failure is that namespace's outcome."""
        try:
            done = self._kubectl(
                ["delete", "namespace", outcome.namespace, "--wait=false", "--ignore-not-found"]
            )
        except RuntimeError as exc:
            return SweepOutcome(outcome.namespace, "failed", f"{outcome.reason}; {exc}")
        if done.returncode != 0:
            reason = f"{outcome.reason}; kubectl delete failed: {_last_line(done.stderr)}"
            return SweepOutcome(outcome.namespace, "failed", reason)
        return SweepOutcome(outcome.namespace, "deleted", outcome.reason)

    def run_once(self, dry_run: bool, on_outcome: Callable[[SweepOutcome], None]) -> SweepSummary:
        """List, judge and (unless ``dry_run``) delete; nothing is deleted when in doubt."""
        try:
            namespaces = self.namespaces()
            stacks = set(self.list_stacks())  # after the namespaces: see the module's doc
        except Exception as exc:  # the sweep must never stop the caller's report
            return SweepSummary(problem=str(exc) or type(exc).__name__)
        outcomes = []
        for found in judge(namespaces, self.owner, stacks, self.now, self.grace):
            outcome = found if dry_run or found.action == "left" else self.delete(found)
            on_outcome(outcome)
            outcomes.append(outcome)
        return SweepSummary(outcomes)

    def _kubectl(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        try:
            return self.run(args)
        except FileNotFoundError:
            raise RuntimeError("kubectl is not on PATH") from None
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"kubectl {args[0]} timed out after {TIMEOUT} s") from None


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no error message"
