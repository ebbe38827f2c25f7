"""The dependencies Pulumi orders creates by, and deletes by in reverse.

What matters: the release waits for migrations (which wait for the database, the image and
the synced secrets); the smoke test waits for the release; independent work (image build,
database, Vault role) waits on nothing of each other; and every namespaced object depends on
the namespace, so a destroy removes it before the namespace (pulumi-kubernetes#1920).
"""

from __future__ import annotations

import pytest

from tests.draft.conftest import Draft, draft, namespaced


@pytest.fixture(scope="module")
def plan() -> Draft:
    return draft()


def test_every_namespaced_object_depends_on_the_namespace(plan: Draft) -> None:
    for resource in namespaced(plan.plan):
        assert "draft-namespace" in plan.depends(resource), resource.name


def test_a_destroy_deletes_the_namespace_after_everything_in_it(plan: Draft) -> None:
    # Pulumi deletes a resource only after everything that depends on it.
    for resource in namespaced(plan.plan):
        assert "draft-namespace" in plan.ancestors(resource), resource.name
    assert plan.depends(plan.namespace) == set()


def test_the_release_waits_for_the_migration_job(plan: Draft) -> None:
    assert "draft-migrations" in plan.depends(plan.named("draft-release"))


def test_migrations_wait_for_database_image_and_secrets(plan: Draft) -> None:
    waits_for = plan.depends(plan.named("draft-migrations"))
    assert {
        "draft-db",
        "draft-db-service",
        "draft-db-secret",
        "draft-image",
        "draft-pull-secret",
        "draft-external-secret-tasks",
    } <= waits_for


def test_the_smoke_test_waits_for_the_release_its_script_and_its_login(plan: Draft) -> None:
    waits_for = plan.depends(plan.named("draft-smoke"))
    assert {"draft-release", "draft-smoke-script", "draft-smoke-credentials"} <= waits_for


def test_the_database_secret_is_rendered_from_its_generator(plan: Draft) -> None:
    assert "draft-db-password" in plan.depends(plan.named("draft-db-secret"))
    assert "draft-db-secret" in plan.depends(plan.named("draft-db"))


def test_workloads_wait_for_quota_limits_and_network_policies(plan: Draft) -> None:
    guardrails = {"draft-quota", "draft-limits", "draft-netpol-default-deny"}
    guardrails |= {"draft-netpol-allow-namespace-egress", "draft-netpol-allow-dns"}
    guardrails |= {"draft-netpol-allow-app", "draft-netpol-allow-database"}
    for name in ("draft-db", "draft-migrations", "draft-release", "draft-smoke"):
        assert guardrails <= plan.ancestors(plan.named(name)), name


def test_the_secret_store_logs_in_as_the_service_account(plan: Draft) -> None:
    store = plan.one("kubernetes:external-secrets.io/v1:SecretStore")
    assert {"draft-namespace", "draft-service-account"} <= plan.depends(store)


def test_independent_work_does_not_wait_on_each_other(plan: Draft) -> None:
    image = plan.named("draft-image")
    database = plan.named("draft-db")
    assert plan.ancestors(image) == set()
    assert "draft-image" not in plan.ancestors(database)
    assert "draft-db" not in plan.ancestors(image)


def test_without_migrations_the_release_waits_for_the_database_itself() -> None:
    plan = draft("draft:migrations.enabled=false")
    assert plan.of_type("kubernetes:batch/v1:Job") == [plan.named("draft-smoke")]
    assert {"draft-db", "draft-image"} <= plan.depends(plan.named("draft-release"))
