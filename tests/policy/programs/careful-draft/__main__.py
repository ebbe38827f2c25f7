"""A draft that expires within a day, stays inside its namespace and bounds what it uses:
pods without host access (emptyDir and ConfigMap volumes), allow rules that name their peers,
and permissions of its own namespace only (a Role, the built-in read-only `view`)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

APP_CHART = str(Path(__file__).resolve().parents[2] / "charts" / "values-only")

NAMESPACE = "draft-careful"
expires = datetime.now(UTC) + timedelta(hours=24)

ns = k8s.core.v1.Namespace(
    "draft",
    metadata={
        "name": NAMESPACE,
        "labels": {
            "environments.dev/expires-at": expires.strftime("%Y%m%dT%H%M%SZ"),
            "pod-security.kubernetes.io/enforce": "restricted",
        },
        "annotations": {"environments.dev/expires-at": expires.isoformat()},
    },
)
inside = pulumi.ResourceOptions(depends_on=[ns])

k8s.networking.v1.NetworkPolicy(
    "default-deny",
    metadata={"namespace": NAMESPACE, "name": "default-deny"},
    spec={"pod_selector": {}, "policy_types": ["Ingress", "Egress"]},
    opts=inside,
)
k8s.networking.v1.NetworkPolicy(
    "allow-ingress",
    metadata={"namespace": NAMESPACE, "name": "allow-ingress"},
    spec={
        "pod_selector": {"match_labels": {"app": "web"}},
        "policy_types": ["Ingress"],
        "ingress": [{"from_": [{"namespace_selector": {"match_labels": {"ingress": "true"}}}]}],
    },
    opts=inside,
)
k8s.networking.v1.NetworkPolicy(
    "allow-scrape",
    metadata={"namespace": NAMESPACE, "name": "allow-scrape"},
    spec={
        "pod_selector": {},
        "policy_types": ["Ingress", "Egress"],
        "ingress": [
            {
                "from_": [
                    {
                        "namespace_selector": {
                            "match_labels": {"kubernetes.io/metadata.name": "monitoring"}
                        },
                        "pod_selector": {"match_labels": {"app": "prometheus"}},
                    },
                    {"pod_selector": {"match_labels": {"app": "web"}}},
                ],
                "ports": [{"port": 9090}],
            }
        ],
        "egress": [{"to": [{"ip_block": {"cidr": "192.0.2.0/24", "except_": ["192.0.2.1/32"]}}]}],
    },
    opts=inside,
)
k8s.core.v1.ResourceQuota(
    "quota",
    metadata={"namespace": NAMESPACE, "name": "draft"},
    spec={"hard": {"limits.cpu": "2", "limits.memory": "2Gi"}},
    opts=inside,
)
k8s.core.v1.ServiceAccount("app", metadata={"namespace": NAMESPACE, "name": "app"}, opts=inside)
k8s.rbac.v1.Role(
    "read-config",
    metadata={"namespace": NAMESPACE, "name": "read-config"},
    rules=[{"api_groups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}],
    opts=inside,
)
k8s.rbac.v1.RoleBinding(
    "read-config",
    metadata={"namespace": NAMESPACE, "name": "read-config"},
    role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "Role", "name": "read-config"},
    subjects=[{"kind": "ServiceAccount", "name": "app", "namespace": NAMESPACE}],
    opts=inside,
)
k8s.rbac.v1.RoleBinding(
    "view",
    metadata={"namespace": NAMESPACE, "name": "view"},
    role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
    subjects=[{"kind": "ServiceAccount", "name": "app"}],
    opts=inside,
)
k8s.core.v1.LimitRange(
    "limits",
    metadata={"namespace": NAMESPACE, "name": "draft"},
    spec={"limits": [{"type": "Container", "default": {"cpu": "200m", "memory": "256Mi"}}]},
    opts=inside,
)

limits = {
    "limits": {"cpu": "500m", "memory": "256Mi"},
    "requests": {"cpu": "50m", "memory": "64Mi"},
}
k8s.apps.v1.Deployment(
    "web",
    metadata={"namespace": NAMESPACE, "name": "web"},
    spec={
        "selector": {"match_labels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "init_containers": [
                    {
                        "name": "wait",
                        "image": "busybox@sha256:" + "a" * 64,
                        "resources": limits,
                    }
                ],
                "host_network": False,
                "host_pid": False,
                "volumes": [
                    {"name": "cache", "empty_dir": {}},
                    {"name": "config", "config_map": {"name": "web"}},
                ],
                "containers": [
                    {
                        "name": "web",
                        "image": "registry.example.com:5000/tasks:draft-careful-0123abc",
                        "resources": limits,
                        "ports": [{"container_port": 80}],
                        "security_context": {
                            "privileged": False,
                            "allow_privilege_escalation": False,
                            "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
                        },
                    }
                ],
            },
        },
    },
    opts=inside,
)
k8s.core.v1.Service(
    "web",
    metadata={"namespace": NAMESPACE, "name": "web"},
    spec={"type": "ClusterIP", "selector": {"app": "web"}, "ports": [{"port": 80}]},
    opts=inside,
)
k8s.helm.v3.Release(
    "app",
    chart=APP_CHART,
    namespace=NAMESPACE,
    values={
        "image": {"tag": "draft-careful-0123abc"},
        "service": {"type": "ClusterIP"},
        "securityContext": {"allowPrivilegeEscalation": False},
    },
    opts=inside,
)

# Outside the drafts the isolation rules do not apply.
k8s.core.v1.Service(
    "ingress",
    metadata={"namespace": "ingress", "name": "ingress"},
    spec={"type": "LoadBalancer", "selector": {"app": "ingress"}, "ports": [{"port": 443}]},
)
