"""The evil draft fixed: one-hour Vault tokens, a ClusterIP service, and the namespace's
cluster-side guardrails (restricted Pod Security, quota, limit range, default deny)."""

from datetime import UTC, datetime, timedelta

import pulumi
import pulumi_kubernetes as k8s
import pulumi_vault as vault

NAMESPACE = "draft-evil"
expires = datetime.now(UTC) + timedelta(hours=48)

vault.kubernetes.AuthBackendRole(
    "app",
    backend="kubernetes",
    role_name="draft-evil-app",
    bound_service_account_names=["app"],
    bound_service_account_namespaces=[NAMESPACE],
    token_policies=["draft-read"],
    token_ttl=3600,
    token_max_ttl=3600,
)

ns = k8s.core.v1.Namespace(
    "draft",
    metadata={
        "name": NAMESPACE,
        "labels": {
            "environments.dev/expires-at": expires.strftime("%Y%m%dT%H%M%SZ"),
            "pod-security.kubernetes.io/enforce": "restricted",
        },
    },
)
inside = pulumi.ResourceOptions(depends_on=[ns])

k8s.core.v1.ResourceQuota(
    "quota",
    metadata={"namespace": NAMESPACE, "name": "draft"},
    spec={"hard": {"limits.cpu": "2", "limits.memory": "2Gi", "pods": "10"}},
    opts=inside,
)

k8s.core.v1.LimitRange(
    "limits",
    metadata={"namespace": NAMESPACE, "name": "draft"},
    spec={"limits": [{"type": "Container", "default": {"cpu": "200m", "memory": "256Mi"}}]},
    opts=inside,
)

k8s.core.v1.Service(
    "web",
    metadata={"namespace": NAMESPACE, "name": "web"},
    spec={"type": "ClusterIP", "selector": {"app": "web"}, "ports": [{"port": 80}]},
    opts=inside,
)

k8s.networking.v1.NetworkPolicy(
    "default-deny",
    metadata={"namespace": NAMESPACE, "name": "default-deny"},
    spec={"pod_selector": {}, "policy_types": ["Ingress", "Egress"]},
    opts=inside,
)
