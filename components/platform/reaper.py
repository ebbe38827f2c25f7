"""DraftReaper: the in-cluster reaper, which deletes expired draft namespaces without CI.

A CronJob runs ``scripts/reap-expired.sh`` every ``platform:reaper.intervalMinutes`` with a
service account that may list and delete namespaces, nothing else (a ClusterRole cannot
narrow a delete to some namespaces, so a ValidatingAdmissionPolicy refuses the reaper's
deletion of any namespace that is not a draft). The CI reaper (``envctl draft reap``) then
finds the stack of a namespace deleted here and destroys what is left of it.
"""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_kubernetes.admissionregistration.v1 as admission
import pulumi_kubernetes.batch.v1 as batch
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta
import pulumi_kubernetes.rbac.v1 as rbac

from components.draft.blueprint import LABEL_PREFIX
from components.draft.workload import container_security, pod_security
from components.platform.admission import denying_policy
from components.platform.settings import PlatformSettings

NAME = "draft-reaper"
SCRIPT = Path(__file__).with_name("scripts") / "reap-expired.sh"
KIND_LABEL = f"{LABEL_PREFIX}/kind"
EXPIRES_LABEL = f"{LABEL_PREFIX}/expires-at"


def service_account_username(namespace: str, name: str) -> str:
    """The username the API server gives a service account's requests."""
    return f"system:serviceaccount:{namespace}:{name}"


def deletes_only_drafts(username: str) -> admission.ValidatingAdmissionPolicySpecArgs:
    """Namespace deletions by ``username`` are allowed only for draft namespaces."""
    return admission.ValidatingAdmissionPolicySpecArgs(
        failure_policy="Fail",
        match_constraints=admission.MatchResourcesArgs(
            resource_rules=[
                admission.NamedRuleWithOperationsArgs(
                    api_groups=[""],
                    api_versions=["v1"],
                    operations=["DELETE"],
                    resources=["namespaces"],
                )
            ]
        ),
        match_conditions=[
            admission.MatchConditionArgs(
                name="the-draft-reaper", expression=f"request.userInfo.username == '{username}'"
            )
        ],
        validations=[
            admission.ValidationArgs(
                expression=f"has(oldObject.metadata.labels) && "
                f"'{KIND_LABEL}' in oldObject.metadata.labels && "
                f"oldObject.metadata.labels['{KIND_LABEL}'] == 'draft'",
                message="the draft reaper deletes draft namespaces only",
            )
        ],
    )


class DraftReaper(pulumi.ComponentResource):
    """Service account, least RBAC, the script, the CronJob and the admission policy."""

    cron_job: batch.CronJob

    def __init__(
        self,
        name: str,
        settings: PlatformSettings,
        namespace: pulumi.Input[str],
        labels: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("environments:platform:DraftReaper", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        username = service_account_username(settings.namespace, NAME)
        reaper = settings.reaper

        in_namespace = meta.ObjectMetaArgs(name=NAME, namespace=namespace, labels=labels)
        account = core.ServiceAccount(
            f"{name}-account",
            metadata=in_namespace,
            automount_service_account_token=False,
            opts=child,
        )
        role = rbac.ClusterRole(
            f"{name}-role",
            metadata=meta.ObjectMetaArgs(name=NAME, labels=labels),
            rules=[
                rbac.PolicyRuleArgs(
                    api_groups=[""], resources=["namespaces"], verbs=["get", "list", "delete"]
                )
            ],
            opts=child,
        )
        binding = rbac.ClusterRoleBinding(
            f"{name}-binding",
            metadata=meta.ObjectMetaArgs(name=NAME, labels=labels),
            role_ref=rbac.RoleRefArgs(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=NAME
            ),
            subjects=[rbac.SubjectArgs(kind="ServiceAccount", name=NAME, namespace=namespace)],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role, account]),
        )
        policy_binding = denying_policy(
            name, f"{NAME}-deletes-only-drafts", deletes_only_drafts(username), labels, self
        )
        script = core.ConfigMap(
            f"{name}-script",
            metadata=in_namespace,
            data={"reap-expired.sh": SCRIPT.read_text(encoding="utf-8")},
            opts=child,
        )
        container = core.ContainerArgs(
            name="reaper",
            image=reaper.image,
            command=["/bin/sh", "/scripts/reap-expired.sh"],
            env=[
                core.EnvVarArgs(name="KIND_LABEL", value=KIND_LABEL),
                core.EnvVarArgs(name="EXPIRES_LABEL", value=EXPIRES_LABEL),
                # kubectl's discovery cache: the root filesystem is read-only
                core.EnvVarArgs(name="HOME", value="/tmp"),
            ],
            volume_mounts=[
                core.VolumeMountArgs(name="script", mount_path="/scripts", read_only=True),
                core.VolumeMountArgs(name="tmp", mount_path="/tmp"),
            ],
            resources=core.ResourceRequirementsArgs(
                requests={"cpu": "10m", "memory": "32Mi"},
                limits={"cpu": "200m", "memory": "128Mi"},
            ),
            security_context=container_security(),
        )
        pod = core.PodSpecArgs(
            service_account_name=NAME,
            automount_service_account_token=True,
            restart_policy="Never",
            security_context=pod_security(reaper.run_as_user),
            containers=[container],
            volumes=[
                core.VolumeArgs(
                    name="script",
                    config_map=core.ConfigMapVolumeSourceArgs(
                        name=script.metadata.apply(lambda m: str(m.name))
                    ),
                ),
                core.VolumeArgs(
                    name="tmp", empty_dir=core.EmptyDirVolumeSourceArgs(size_limit="16Mi")
                ),
            ],
        )
        self.cron_job = batch.CronJob(
            f"{name}-cronjob",
            metadata=in_namespace,
            spec=batch.CronJobSpecArgs(
                schedule=f"*/{reaper.interval_minutes} * * * *",
                time_zone="Etc/UTC",
                concurrency_policy="Forbid",
                starting_deadline_seconds=reaper.interval_minutes * 60,
                successful_jobs_history_limit=3,
                failed_jobs_history_limit=3,
                job_template=batch.JobTemplateSpecArgs(
                    metadata=meta.ObjectMetaArgs(labels=labels),
                    spec=batch.JobSpecArgs(
                        backoff_limit=1,
                        active_deadline_seconds=reaper.interval_minutes * 60,
                        template=core.PodTemplateSpecArgs(
                            metadata=meta.ObjectMetaArgs(labels=labels), spec=pod
                        ),
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[binding, policy_binding]),
        )
        self.register_outputs({"schedule": self.cron_job.spec.apply(lambda s: s.schedule)})
