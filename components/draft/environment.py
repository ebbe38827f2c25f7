"""DraftEnvironment: one branch's isolated environment in its own Kubernetes namespace.

Order of work (each arrow a dependency Pulumi honours on create, and in reverse on destroy):

    namespace -> quota, limit range, network policies  (the guardrails)
    guardrails -> database, mock services, service account -> secret store -> synced secrets
    image build                                  (independent of everything above)
    database + image + synced secrets -> migration Job -> Helm release -> smoke Job

Every namespaced object depends on the namespace, so a destroy deletes them before the
namespace itself (pulumi-kubernetes#1920) and leaves nothing behind.

Nothing here writes to Vault: the Kubernetes auth role the secret store logs in with
(``draft:vault.role``, ``draft.<team>.<service>`` by default) is provisioned once per
team/service by an admin (``envctl vault provision``), so a pipeline can never widen its
own access. The program needs only the Kubernetes provider.
"""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_kubernetes.apiextensions as apiextensions
import pulumi_kubernetes.batch.v1 as batch
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.helm.v3 as helm
import pulumi_kubernetes.networking.v1 as net

from components.draft.app_release import create_release
from components.draft.blueprint import DraftBlueprint, build_blueprint
from components.draft.database import DraftDatabase, create_database
from components.draft.image import AppImage, create_image
from components.draft.isolation import create_network_policies
from components.draft.jobs import (
    create_migration_job,
    create_smoke_job,
    smoke_result,
    smoke_script_config_map,
)
from components.draft.mocks import MockDeployment, create_mocks
from components.draft.monitoring import create_alerts
from components.draft.namespace import create_namespace
from components.draft.secrets_sync import SecretsSync, create_secrets_sync
from components.draft.settings import DraftSettings


class DraftEnvironment(pulumi.ComponentResource):
    """A draft of one branch: its namespace and everything in it, gone with the stack."""

    blueprint: DraftBlueprint
    namespace: core.Namespace
    quota: core.ResourceQuota
    limit_range: core.LimitRange
    network_policies: dict[str, net.NetworkPolicy]
    image: AppImage
    database: DraftDatabase
    secrets: SecretsSync
    mocks: dict[str, MockDeployment]
    migrations: batch.Job | None
    release: helm.Release
    smoke_script: core.ConfigMap | None
    smoke_job: batch.Job | None
    alerts: apiextensions.CustomResource | None
    url: pulumi.Output[str]
    namespace_name: pulumi.Output[str]
    image_ref: pulumi.Output[str]
    expires_at: pulumi.Output[str]
    smoke: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        settings: DraftSettings,
        project_dir: Path | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        # Every check runs before the first registration: bad input creates nothing.
        plan = build_blueprint(settings, project_dir or Path.cwd())
        super().__init__("environments:draft:DraftEnvironment", name, None, opts)
        self.blueprint = plan

        ns = create_namespace(name, plan, self)
        self.namespace, self.quota, self.limit_range = ns.namespace, ns.quota, ns.limit_range
        ns_name = ns.name
        inside = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        self.network_policies = create_network_policies(name, plan, ns_name, inside)
        guardrails: list[pulumi.Resource] = [
            self.namespace,
            self.quota,
            self.limit_range,
            *self.network_policies.values(),
        ]
        guarded = pulumi.ResourceOptions(parent=self, depends_on=guardrails)

        # Independent work: none of these waits for another.
        self.image = create_image(name, plan, self)
        self.database = create_database(name, plan, ns_name, guarded)
        self.mocks = create_mocks(name, plan, ns_name, guarded)
        self.secrets = create_secrets_sync(
            name,
            plan,
            ns_name,
            settings.vault_role,
            inside,
            inside,
        )

        ready_to_migrate = [
            *guardrails,
            *self.image.dependencies,
            *self.database.ready,
            *self.secrets.synced,
        ]
        self.migrations = None
        if settings.migrations.enabled and not settings.migrations.skip:
            self.migrations = create_migration_job(
                name,
                plan,
                plan.image,
                ns_name,
                pulumi.ResourceOptions(parent=self, depends_on=ready_to_migrate),
            )
        mock_resources = [r for m in self.mocks.values() for r in (m.deployment, m.service)]
        gate = [self.migrations] if self.migrations is not None else ready_to_migrate
        self.release = create_release(
            name,
            plan,
            ns_name,
            pulumi.ResourceOptions(
                parent=self, depends_on=[*guardrails, *gate, *self.secrets.synced, *mock_resources]
            ),
        )

        self.smoke_script = self.smoke_job = None
        self.smoke = pulumi.Output.from_input("skipped")
        if settings.smoke.enabled:
            self.smoke_script = smoke_script_config_map(name, plan, ns_name, inside)
            self.smoke_job = create_smoke_job(
                name,
                plan,
                self.smoke_script,
                ns_name,
                pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[*guardrails, self.release, self.smoke_script, *self.secrets.synced],
                ),
            )
            self.smoke = self.smoke_job.status.apply(smoke_result)

        self.alerts = None
        if settings.monitoring.enabled:
            self.alerts = create_alerts(name, plan, ns_name, inside)

        # The URL is live once the release (and its smoke test) succeeded.
        last = self.smoke_job or self.release
        self.url = pulumi.Output.all(last.urn, plan.url).apply(lambda parts: str(parts[1]))
        self.namespace_name = ns_name
        self.image_ref = pulumi.Output.from_input(plan.image)
        self.expires_at = pulumi.Output.from_input(plan.expires.isoformat())
        self.register_outputs(
            {
                "url": self.url,
                "namespace": self.namespace_name,
                "image": self.image_ref,
                "expires_at": self.expires_at,
                "smoke": self.smoke,
            }
        )
