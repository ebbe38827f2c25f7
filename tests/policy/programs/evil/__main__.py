"""A draft written without the guardrails: a 2-hour Vault token and a public load balancer."""

import pulumi_kubernetes as k8s
import pulumi_vault as vault

vault.kubernetes.AuthBackendRole(
    "app",
    backend="kubernetes",
    role_name="draft-evil-app",
    bound_service_account_names=["app"],
    bound_service_account_namespaces=["draft-evil"],
    token_policies=["draft-read"],
    token_ttl=7200,
    token_max_ttl=7200,
)

k8s.core.v1.Service(
    "web",
    metadata={"namespace": "draft-evil", "name": "web"},
    spec={"type": "LoadBalancer", "selector": {"app": "web"}, "ports": [{"port": 80}]},
)
