"""The evil draft fixed: one-hour Vault tokens, a ClusterIP service, a default-deny policy."""

import pulumi_kubernetes as k8s
import pulumi_vault as vault

vault.kubernetes.AuthBackendRole(
    "app",
    backend="kubernetes",
    role_name="draft-evil-app",
    bound_service_account_names=["app"],
    bound_service_account_namespaces=["draft-evil"],
    token_policies=["draft-read"],
    token_ttl=3600,
    token_max_ttl=3600,
)

k8s.core.v1.Service(
    "web",
    metadata={"namespace": "draft-evil", "name": "web"},
    spec={"type": "ClusterIP", "selector": {"app": "web"}, "ports": [{"port": 80}]},
)

k8s.networking.v1.NetworkPolicy(
    "default-deny",
    metadata={"namespace": "draft-evil", "name": "default-deny"},
    spec={"pod_selector": {}, "policy_types": ["Ingress", "Egress"]},
)
