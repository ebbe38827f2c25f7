"""Every object a draft needs is registered, parented to the DraftEnvironment, and right.

The real program runs offline under Pulumi's mocks (automation.plan) with the repository's
own Pulumi.draft.yaml; the assertions are on what it registered.
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_kubernetes.batch.v1.outputs import JobStatus

from components.draft.jobs import smoke_result
from tests.draft.conftest import COMPONENT, NS, STACK, Draft, draft, namespaced

PRISMA = ["npx", "prisma", "migrate", "deploy"]
POD_SPECS = {
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
}


@pytest.fixture(scope="module")
def plan() -> Draft:
    return draft()


def _get(node: Any, *path: str) -> Any:
    for part in path:
        node = node[part]
    return node


def test_the_plan_passes_the_policy_pack(plan: Draft) -> None:
    assert [f for f in plan.findings if f.level == "mandatory"] == []
    assert plan.findings == ()  # not even an advisory finding


def test_every_resource_is_a_child_of_the_draft_environment(plan: Draft) -> None:
    component = plan.component
    assert component.parent is not None and component.parent.endswith(f"::environments-{STACK}")
    for resource in plan.plan.resources:
        if resource is not component:
            assert resource.parent == component.urn, resource.name


def test_namespace_carries_psa_expiry_and_what_collectors_select_on(plan: Draft) -> None:
    namespace = plan.namespace
    metadata = namespace.inputs["metadata"]
    labels = metadata["labels"]
    assert metadata["name"] == NS
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["environments.dev/logs"] == "collect"
    assert labels["environments.dev/alerts"] == "draft"
    assert labels["environments.dev/expires-at"].endswith("Z")
    assert metadata["annotations"]["environments.dev/branch"] == "feature/x"
    assert namespace.custom_timeouts.get("delete")  # pulumi-kubernetes#1920


def test_quota_and_limit_range_come_from_config() -> None:
    plan = draft("draft:quota.pods=77", "draft:limits.maxMemory=3Gi")
    hard = plan.one("kubernetes:core/v1:ResourceQuota").inputs["spec"]["hard"]
    assert hard["pods"] == "77"
    assert hard["services.nodeports"] == "0" and hard["services.loadbalancers"] == "0"
    (item,) = plan.one("kubernetes:core/v1:LimitRange").inputs["spec"]["limits"]
    assert item["type"] == "Container" and item["max"]["memory"] == "3Gi"
    assert {"cpu", "memory"} <= set(item["default"]) and {"cpu", "memory"} <= set(
        item["defaultRequest"]
    )


def test_image_is_built_with_buildkit_and_tagged_draft_slug_sha7(plan: Draft) -> None:
    image = plan.one("docker:index/image:Image")
    tag = image.inputs["imageName"].rsplit(":", 1)[1]
    assert image.inputs["imageName"].startswith("registry.example.com/platform/tasks:")
    assert tag.startswith("draft-feature-x-") and len(tag.rsplit("-", 1)[1]) == 7
    assert image.inputs["build"]["builderVersion"] == "BuilderBuildKit"
    assert image.inputs["build"]["platform"] == "linux/amd64"
    assert image.inputs["build"]["context"] == "examples/draft-app"
    assert plan.plan.outputs["image"] == image.inputs["imageName"]


def test_a_prebuilt_image_is_referenced_without_a_build() -> None:
    plan = draft("draft:image.prebuilt=true")
    assert plan.of_type("docker:index/image:Image") == []
    job = plan.named("draft-migrations")
    image = _get(job.inputs, "spec", "template", "spec", "containers")[0]["image"]
    assert image == plan.plan.outputs["image"]
    assert "draft-image" not in plan.depends(job)


def test_the_database_is_a_statefulset_with_its_volume_service_probe_and_secret(
    plan: Draft,
) -> None:
    stateful_set = plan.named("draft-db")
    pod = _get(stateful_set.inputs, "spec", "template", "spec")
    (container,) = pod["containers"]
    assert container["readinessProbe"]["exec"]["command"][0] == "pg_isready"
    assert container["image"] == "postgres:16.4-alpine"
    claim = plan.named("draft-db-data").inputs
    assert pod["volumes"][0]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "1Gi"
    service = plan.named("draft-db-service").inputs["spec"]
    assert service["type"] == "ClusterIP" and service["ports"][0]["port"] == 5432
    assert set(service["selector"].items()) <= set(pod_labels(stateful_set).items())
    # The password is made in the cluster (test_draft_database.py), never by Pulumi.
    assert [r for r in plan.plan.resources if r.type.startswith("random:")] == []


def pod_labels(resource: Any) -> dict[str, str]:
    return dict(_get(resource.inputs, "spec", "template", "metadata", "labels"))


def test_an_external_database_registers_no_postgres() -> None:
    plan = draft(
        "draft:database.mode=external",
        'draft:secrets={"databaseUrl": "postgresql://u:pw@db.example.com/app"}',
    )
    assert plan.of_type("kubernetes:apps/v1:StatefulSet") == []
    assert plan.of_type("kubernetes:generators.external-secrets.io/v1alpha1:Password") == []
    secret = plan.named("draft-db-secret")
    assert secret.inputs["metadata"]["name"] == "db"


def test_the_draft_writes_nothing_to_vault(plan: Draft) -> None:
    """Roles and policies are an admin's (envctl vault provision): a pipeline cannot widen them."""
    assert [
        r.type
        for r in plan.plan.resources
        if r.type.startswith(("vault:", "pulumi:providers:vault"))
    ] == []


def test_the_store_logs_in_with_another_configured_role_and_audience() -> None:
    store = draft("draft:vault.role=drafts-tasks", "draft:vault.audience=https://vault.test").one(
        "kubernetes:external-secrets.io/v1:SecretStore"
    )
    auth = store.inputs["spec"]["provider"]["vault"]["auth"]["kubernetes"]
    assert auth["role"] == "drafts-tasks"
    assert auth["serviceAccountRef"]["audiences"] == ["https://vault.test"]


def test_mock_services_from_config_run_in_the_namespace(plan: Draft) -> None:
    deployment = plan.named("draft-mock-payments-mock")
    service = plan.named("draft-mock-payments-mock-service")
    (container,) = _get(deployment.inputs, "spec", "template", "spec", "containers")
    assert container["image"] == "wiremock/wiremock:3.9.1"
    assert service.inputs["spec"]["ports"][0]["port"] == 8080
    assert service.inputs["spec"]["type"] == "ClusterIP"
    values = plan.named("draft-release").inputs["values"]
    assert values["mocks"] == {"payments-mock": "http://payments-mock:8080"}
    assert values["integrations"]["payments"]["mode"] == "mock"  # from values/draft.yaml


def test_the_release_is_atomic_with_merged_values(plan: Draft) -> None:
    release = plan.one("kubernetes:helm.sh/v3:Release").inputs
    assert release["atomic"] is True and release.get("skipAwait") in (None, False)
    assert release["name"] == STACK and release["namespace"] == NS
    assert release["chart"] == "charts/app"
    values = release["values"]
    image_output = plan.plan.outputs["image"]
    assert f"{values['image']['repository']}:{values['image']['tag']}" == image_output
    assert values["ingress"]["host"] == f"{NS.removeprefix('draft-')}.drafts.example.com"
    assert values["ingress"]["tls"] == {"enabled": True}  # the controller's wildcard cert
    assert values["imagePullSecrets"] == [{"name": "registry-pull"}]
    assert values["database"] == {"existingSecret": "db", "urlKey": "url"}
    assert values["serviceAccount"] == {"create": False, "name": "tasks"}
    assert values["replicaCount"] == 1  # values/draft.yaml


def test_chart_values_from_config_are_merged_but_computed_values_win() -> None:
    plan = draft("draft:chart.values.replicaCount=2", "draft:chart.values.image.tag=v9")
    values = plan.named("draft-release").inputs["values"]
    assert values["replicaCount"] == 2
    assert values["image"]["tag"] == plan.plan.outputs["image"].rsplit(":", 1)[1]


def test_the_release_can_come_from_an_oci_registry() -> None:
    plan = draft("draft:chart.oci=oci://charts.example.com/apps/tasks", "draft:chart.version=1.2.3")
    release = plan.named("draft-release").inputs
    assert release["chart"] == "oci://charts.example.com/apps/tasks"
    assert release["version"] == "1.2.3"


def test_the_migration_job_runs_the_configured_command_with_the_database_url(plan: Draft) -> None:
    job = plan.named("draft-migrations").inputs
    (container,) = _get(job, "spec", "template", "spec", "containers")
    assert container["command"] == ["python", "/app/app.py", "migrate"]  # Pulumi.draft.yaml
    assert container["image"] == plan.plan.outputs["image"]
    (env,) = container["env"]
    assert env["name"] == "DATABASE_URL"
    assert env["valueFrom"]["secretKeyRef"] == {"name": "db", "key": "url"}
    metadata = job["metadata"]
    name = metadata["name"]
    assert name.startswith("migrate-")
    assert metadata["annotations"]["environments.dev/logs"] == f"kubectl -n {NS} logs job/{name}"
    assert "pulumi.com/skipAwait" not in metadata["annotations"]
    deadline = job["spec"]["activeDeadlineSeconds"]
    assert int(metadata["annotations"]["pulumi.com/timeoutSeconds"]) > deadline
    assert plan.named("draft-migrations").delete_before_replace


def test_migrations_command_comes_from_config() -> None:
    plan = draft(*(f"draft:migrations.command[{i}]={w}" for i, w in enumerate(PRISMA)))
    job = plan.named("draft-migrations").inputs
    assert _get(job, "spec", "template", "spec", "containers")[0]["command"] == PRISMA


def test_the_smoke_job_runs_the_repositorys_script_with_vault_credentials(plan: Draft) -> None:
    from tests.draft.conftest import REPO

    script = plan.named("draft-smoke-script").inputs["data"]["smoke_draft.sh"]
    assert script == (REPO / "scripts" / "smoke_draft.sh").read_text()
    job = plan.named("draft-smoke").inputs
    (container,) = _get(job, "spec", "template", "spec", "containers")
    env = {e["name"]: e for e in container["env"]}
    assert env["BASE_URL"]["value"] == f"http://{STACK}.{NS}.svc.cluster.local:80"
    for name, key in (("SMOKE_USERNAME", "username"), ("SMOKE_PASSWORD", "password")):
        assert env[name]["valueFrom"]["secretKeyRef"] == {"name": "smoke-credentials", "key": key}
    assert job["spec"]["backoffLimit"] == 0


def test_outputs_are_url_namespace_image_expiry_and_smoke(plan: Draft) -> None:
    outputs = plan.plan.outputs
    assert outputs["url"] == f"https://{NS.removeprefix('draft-')}.drafts.example.com"
    assert outputs["namespace"] == NS
    # Offline nothing ran: the mock Job has no status, so the plan must not claim a pass.
    assert outputs["smoke"] == "pending"
    assert (
        outputs["expires_at"]
        == plan.namespace.inputs["metadata"]["annotations"]["environments.dev/expires-at"]
    )


@pytest.mark.parametrize(
    ("status", "result"),
    [
        (JobStatus(succeeded=1), "passed"),
        (JobStatus(failed=1), "failed"),
        (JobStatus(active=1), "pending"),
        (JobStatus(), "pending"),
        (None, "pending"),
    ],
)
def test_only_a_succeeded_smoke_job_reports_passed(status: JobStatus | None, result: str) -> None:
    """What the live Job's status (pulumi-kubernetes' output type) makes of ``smoke``."""
    assert smoke_result(status) == result


def test_a_disabled_smoke_test_reports_skipped_and_registers_no_job() -> None:
    plan = draft("draft:smoke.enabled=false")
    assert plan.plan.outputs["smoke"] == "skipped"
    assert [j.name for j in plan.of_type("kubernetes:batch/v1:Job")] == ["draft-migrations"]


def test_alerts_are_scoped_to_draft_namespaces_and_evaluated_every_5_minutes(plan: Draft) -> None:
    rule = plan.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule").inputs
    (group,) = rule["spec"]["groups"]
    assert group["interval"] == "5m"
    for alert in group["rules"]:
        expr = alert["expr"]
        assert 'namespace=~"draft-.*"' in expr and f'namespace="{NS}"' in expr, alert["alert"]


def test_monitoring_is_optional() -> None:
    plan = draft("draft:monitoring.enabled=false")
    assert plan.of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule") == []
    policies = plan.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    assert "allow-monitoring" not in {p.inputs["metadata"]["name"] for p in policies}


def _containers(plan: Draft) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    found = []
    for kind, path in POD_SPECS.items():
        for resource in plan.of_type(kind):
            pod = _get(resource.inputs, *path)
            for container in pod["containers"]:
                found.append((resource.name, pod, container))
    return found


def test_every_container_is_restricted_bounded_and_pinned(plan: Draft) -> None:
    containers = _containers(plan)
    assert {name for name, _, _ in containers} >= {
        "draft-db",
        "draft-migrations",
        "draft-smoke",
        "draft-mock-payments-mock",
    }
    for name, pod, container in containers:
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        context = container["securityContext"]
        assert context["capabilities"] == {"drop": ["ALL"]}, name
        assert context["allowPrivilegeEscalation"] is False and context["privileged"] is False
        limits = container["resources"]["limits"]
        assert {"cpu", "memory"} <= set(limits) and {"cpu", "memory"} <= set(
            container["resources"]["requests"]
        ), name
        image = container["image"]
        assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), name


def test_every_namespaced_object_lands_in_the_drafts_namespace(plan: Draft) -> None:
    objects = list(namespaced(plan.plan))
    assert len(objects) >= 20
    for resource in objects:
        namespace = (
            resource.inputs["namespace"]
            if resource.type.endswith(":Release")
            else resource.inputs["metadata"]["namespace"]
        )
        assert namespace == NS, resource.name


def test_the_component_type_is_stable(plan: Draft) -> None:
    assert plan.component.type == COMPONENT
