"""The draft's namespace and the bounds inside it: ResourceQuota and LimitRange."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta

from components.draft.blueprint import DraftBlueprint
from components.draft.workload import metadata

NAMESPACE_DELETE_TIMEOUT = "15m"


@dataclass(frozen=True)
class DraftNamespace:
    """The namespace, and the guardrails every workload in it waits for."""

    namespace: core.Namespace
    quota: core.ResourceQuota
    limit_range: core.LimitRange

    @property
    def name(self) -> pulumi.Output[str]:
        """The namespace's name, carrying the dependency on it."""
        return self.namespace.metadata.apply(lambda m: str(m.name))


def create_namespace(name: str, plan: DraftBlueprint, parent: pulumi.Resource) -> DraftNamespace:
    """Namespace (custom delete timeout: pulumi-kubernetes#1920), quota and limit range."""
    namespace = core.Namespace(
        f"{name}-namespace",
        metadata=meta.ObjectMetaArgs(
            name=plan.namespace, labels=plan.labels, annotations=plan.annotations
        ),
        opts=pulumi.ResourceOptions(
            parent=parent,
            custom_timeouts=pulumi.CustomTimeouts(delete=NAMESPACE_DELETE_TIMEOUT),
        ),
    )
    ns_name = namespace.metadata.apply(lambda m: str(m.name))
    inside = pulumi.ResourceOptions(parent=parent, depends_on=[namespace])
    quota = plan.settings.quota
    resource_quota = core.ResourceQuota(
        f"{name}-quota",
        metadata=metadata("draft-quota", ns_name, plan.object_labels("guardrails")),
        spec=core.ResourceQuotaSpecArgs(
            hard={
                "requests.cpu": quota.requests_cpu,
                "requests.memory": quota.requests_memory,
                "limits.cpu": quota.limits_cpu,
                "limits.memory": quota.limits_memory,
                "pods": str(quota.pods),
                "persistentvolumeclaims": str(quota.persistent_volume_claims),
                "requests.storage": quota.requests_storage,
                # Cluster-side twin of the draft-service-exposure policy.
                "services.loadbalancers": "0",
                "services.nodeports": "0",
            }
        ),
        opts=inside,
    )
    limits = plan.settings.limits
    limit_range = core.LimitRange(
        f"{name}-limits",
        metadata=metadata("draft-limits", ns_name, plan.object_labels("guardrails")),
        spec=core.LimitRangeSpecArgs(
            limits=[
                core.LimitRangeItemArgs(
                    type="Container",
                    default={"cpu": limits.default_cpu, "memory": limits.default_memory},
                    default_request={
                        "cpu": limits.default_request_cpu,
                        "memory": limits.default_request_memory,
                    },
                    max={"cpu": limits.max_cpu, "memory": limits.max_memory},
                )
            ]
        ),
        opts=inside,
    )
    return DraftNamespace(namespace, resource_quota, limit_range)
