"""Registrations with every feature the policy engine passes on to policies."""

import pulumi
import pulumi_kubernetes as k8s
import pulumi_vault as vault


class Bundle(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__("probe:index:Bundle", name)
        self.register_outputs({})


bundle = Bundle("bundle")
provider = k8s.Provider(
    "cluster", namespace="from-provider", opts=pulumi.ResourceOptions(parent=bundle)
)
role = vault.kubernetes.AuthBackendRole(
    "role",
    backend="kubernetes",
    role_name="probe",
    bound_service_account_names=["probe"],
    bound_service_account_namespaces=["probe"],
    token_ttl=1800,
    token_max_ttl=3600,
    opts=pulumi.ResourceOptions(parent=bundle, protect=True),
)
k8s.core.v1.ConfigMap(
    "settings",
    metadata={"name": role.role_name},
    data={"password": pulumi.Output.secret("plain-text-to-policies")},
    opts=pulumi.ResourceOptions(
        parent=bundle,
        provider=provider,
        depends_on=[role],
        custom_timeouts=pulumi.CustomTimeouts(delete="15m"),
    ),
)
k8s.core.v1.ConfigMap("defaults", data={"mode": "default-provider"})
