"""Cluster side of a draft's secrets: External Secrets Operator syncs Vault into the namespace.

A namespaced ``SecretStore`` logs in to Vault as the draft's own service account (Vault
Kubernetes auth, the role of ``vault_access``); one ``ExternalSecret`` per service copies
``<team>/<service>`` into ``<service>-secrets``, and one more renders the image pull secret
from the same path. The values go from Vault to the cluster directly: they never pass
through Pulumi's state. Each object waits for its ``Ready`` condition (``pulumi.com/waitFor``)
so the workloads that use the secrets start after they exist.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes.apiextensions as apiextensions
import pulumi_kubernetes.core.v1 as core

from components.draft.blueprint import PULL_SECRET, SECRET_STORE, DraftBlueprint
from components.draft.workload import metadata

ESO_API = "external-secrets.io/v1"
SYNC_TIMEOUT_SECONDS = 300


def _await_ready() -> dict[str, str]:
    return {
        "pulumi.com/waitFor": "condition=Ready",
        "pulumi.com/timeoutSeconds": str(SYNC_TIMEOUT_SECONDS),
    }


def pull_secret_template(plan: DraftBlueprint) -> str:
    """The ``.dockerconfigjson`` template External Secrets renders (references, no values)."""
    keys = plan.settings.external_secrets
    user, password = f".{keys.username_key}", f".{keys.password_key}"
    entry = {
        "username": f"{{{{ {user} }}}}",
        "password": f"{{{{ {password} }}}}",
        "auth": f'{{{{ printf "%s:%s" {user} {password} | b64enc }}}}',
    }
    return json.dumps({"auths": {plan.settings.image.registry: entry}}, separators=(",", ":"))


@dataclass(frozen=True)
class SecretsSync:
    """The service account Vault trusts, the store, and the synced secrets by name."""

    service_account: core.ServiceAccount
    store: apiextensions.CustomResource
    app_secrets: dict[str, apiextensions.CustomResource]
    pull_secret: apiextensions.CustomResource

    @property
    def synced(self) -> list[pulumi.Resource]:
        """What workloads wait for: every synced secret and the identity that reads them."""
        return [self.service_account, self.pull_secret, *self.app_secrets.values()]


def _external_secret(
    name: str,
    object_name: str,
    plan: DraftBlueprint,
    namespace: pulumi.Input[str],
    vault_key: str,
    target: dict[str, object],
    opts: pulumi.ResourceOptions,
) -> apiextensions.CustomResource:
    """An ExternalSecret copying every key of ``vault_key`` (``<team>/<service>``)."""
    settings = plan.settings
    return apiextensions.CustomResource(
        name,
        api_version=ESO_API,
        kind="ExternalSecret",
        metadata=metadata(object_name, namespace, plan.object_labels("secrets"), _await_ready()),
        spec={
            "refreshInterval": settings.external_secrets.refresh_interval,
            "secretStoreRef": {"name": SECRET_STORE, "kind": "SecretStore"},
            "target": target,
            "dataFrom": [{"extract": {"key": vault_key}}],
        },
        opts=opts,
    )


def create_secrets_sync(
    name: str,
    plan: DraftBlueprint,
    namespace: pulumi.Input[str],
    role_name: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
    store_opts: pulumi.ResourceOptions,
) -> SecretsSync:
    """``opts``: parent and namespace; ``store_opts`` add the Vault role the store logs in with."""
    settings = plan.settings
    account = core.ServiceAccount(
        f"{name}-service-account",
        metadata=metadata(plan.service_account, namespace, plan.object_labels("identity")),
        automount_service_account_token=False,
        opts=opts,
    )
    store = apiextensions.CustomResource(
        f"{name}-secret-store",
        api_version=ESO_API,
        kind="SecretStore",
        metadata=metadata(SECRET_STORE, namespace, plan.object_labels("secrets"), _await_ready()),
        spec={
            "provider": {
                "vault": {
                    "server": settings.vault.address.rstrip("/"),
                    "path": settings.vault.kv_mount,
                    "version": "v2",
                    "auth": {
                        "kubernetes": {
                            "mountPath": settings.vault.auth_mount,
                            "role": role_name,
                            "serviceAccountRef": {"name": plan.service_account},
                        }
                    },
                }
            }
        },
        opts=pulumi.ResourceOptions.merge(store_opts, pulumi.ResourceOptions(depends_on=[account])),
    )
    after_store = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[store]))
    app_secrets = {
        service: _external_secret(
            f"{name}-external-secret-{service}",
            secret_name,
            plan,
            namespace,
            f"{settings.team}/{service}",
            {"name": secret_name, "creationPolicy": "Owner", "deletionPolicy": "Delete"},
            after_store,
        )
        for service, secret_name in plan.app_secrets.items()
    }
    pull_secret = _external_secret(
        f"{name}-pull-secret",
        PULL_SECRET,
        plan,
        namespace,
        f"{settings.team}/{settings.service}",
        {
            "name": PULL_SECRET,
            "creationPolicy": "Owner",
            "deletionPolicy": "Delete",
            "template": {
                "type": "kubernetes.io/dockerconfigjson",
                "engineVersion": "v2",
                "data": {".dockerconfigjson": pull_secret_template(plan)},
            },
        },
        after_store,
    )
    return SecretsSync(account, store, app_secrets, pull_secret)
