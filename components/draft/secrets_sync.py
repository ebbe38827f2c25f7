"""Cluster side of a draft's secrets: External Secrets Operator syncs Vault into the namespace.

A namespaced ``SecretStore`` logs in to Vault as the draft's own service account (Vault
Kubernetes auth, with a token bound to the Vault audience). Every ``ExternalSecret`` names
its keys (``data:``, never ``dataFrom.extract`` of a whole path), so each pod gets only what
it reads:

- ``<service>-secrets``: the app's environment, the keys of ``draft:externalSecrets.env``
  from ``<team>/<service>`` (no ExternalSecret for a service without keys);
- ``smoke-credentials``: the smoke user, for the smoke Job only;
- ``registry-pull``: the image pull secret, from the read-only path
  ``draft:externalSecrets.registryPullPath`` (never the push credentials).

The values go from Vault to the cluster directly: they never pass through Pulumi's state.
The app's and the smoke test's secrets are required: each waits for its ``Ready`` condition
(``pulumi.com/waitFor``), so the workloads that read them start after they exist. The pull
secret is optional: ``pulumi.com/skipAwait``, because a ``waitFor`` condition cannot say
"Ready, or failed for a missing key", and a missing key would stall the update for the
whole await timeout. The kubelet pulls without a pull Secret that does not exist (with the
node's own credentials), and ESO creates it once the key is there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes.apiextensions as apiextensions
import pulumi_kubernetes.core.v1 as core

from components.draft.blueprint import PULL_SECRET, SECRET_STORE, SMOKE_SECRET, DraftBlueprint
from components.draft.workload import metadata

ESO_API = "external-secrets.io/v1"
SYNC_TIMEOUT_SECONDS = 300
SMOKE_USERNAME = "username"
SMOKE_PASSWORD = "password"
# An optional secret: pulumi-kubernetes neither waits for it nor fails on it.
SKIP_AWAIT = {"pulumi.com/skipAwait": "true"}


def await_ready() -> dict[str, str]:
    """Annotations that make pulumi-kubernetes wait for a custom resource's Ready condition."""
    return {
        "pulumi.com/waitFor": "condition=Ready",
        "pulumi.com/timeoutSeconds": str(SYNC_TIMEOUT_SECONDS),
    }


def pull_secret_template(plan: DraftBlueprint) -> str:
    """The ``.dockerconfigjson`` template External Secrets renders (references, no values)."""
    entry = {
        "username": "{{ .username }}",
        "password": "{{ .password }}",
        "auth": '{{ printf "%s:%s" .username .password | b64enc }}',
    }
    return json.dumps({"auths": {plan.settings.image.registry: entry}}, separators=(",", ":"))


@dataclass(frozen=True)
class SecretsSync:
    """The service account Vault trusts, the store, and the synced secrets by name."""

    service_account: core.ServiceAccount
    store: apiextensions.CustomResource
    app_secrets: dict[str, apiextensions.CustomResource]
    smoke_credentials: apiextensions.CustomResource | None
    pull_secret: apiextensions.CustomResource | None

    @property
    def synced(self) -> list[pulumi.Resource]:
        """What workloads wait for: every synced secret and the identity that reads them."""
        optional = [self.smoke_credentials, self.pull_secret]
        return [
            self.service_account,
            *self.app_secrets.values(),
            *(r for r in optional if r is not None),
        ]


def _external_secret(
    name: str,
    object_name: str,
    plan: DraftBlueprint,
    namespace: pulumi.Input[str],
    vault_key: str,
    keys: Mapping[str, str],
    annotations: dict[str, str],
    opts: pulumi.ResourceOptions,
    template: dict[str, object] | None = None,
) -> apiextensions.CustomResource:
    """An ExternalSecret copying ``keys`` (Secret key -> property of ``vault_key``), no more."""
    target: dict[str, object] = {
        "name": object_name,
        "creationPolicy": "Owner",
        "deletionPolicy": "Delete",
    }
    if template is not None:
        target["template"] = template
    return apiextensions.CustomResource(
        name,
        api_version=ESO_API,
        kind="ExternalSecret",
        metadata=metadata(object_name, namespace, plan.object_labels("secrets"), annotations),
        spec={
            "refreshInterval": plan.settings.external_secrets.refresh_interval,
            "secretStoreRef": {"name": SECRET_STORE, "kind": "SecretStore"},
            "target": target,
            "data": [
                {"secretKey": key, "remoteRef": {"key": vault_key, "property": prop}}
                for key, prop in keys.items()
            ],
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
    """``opts``: parent and namespace; ``store_opts`` add what the store's role needs first."""
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
        metadata=metadata(SECRET_STORE, namespace, plan.object_labels("secrets"), await_ready()),
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
                            "serviceAccountRef": {
                                "name": plan.service_account,
                                "audiences": [settings.vault.audience],
                            },
                        }
                    },
                }
            }
        },
        opts=pulumi.ResourceOptions.merge(store_opts, pulumi.ResourceOptions(depends_on=[account])),
    )
    after_store = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[store]))
    env = settings.external_secrets.env
    app_secrets = {
        service: _external_secret(
            f"{name}-external-secret-{service}",
            secret_name,
            plan,
            namespace,
            f"{settings.team}/{service}",
            env[service],
            await_ready(),
            after_store,
        )
        for service, secret_name in plan.app_secrets.items()
    }
    smoke = None
    if settings.smoke.enabled:
        smoke = _external_secret(
            f"{name}-smoke-credentials",
            SMOKE_SECRET,
            plan,
            namespace,
            f"{settings.team}/{settings.service}",
            {
                SMOKE_USERNAME: settings.smoke.username_key,
                SMOKE_PASSWORD: settings.smoke.password_key,
            },
            await_ready(),
            after_store,
        )
    pull = None
    pull_path = settings.external_secrets.registry_pull_path
    if pull_path is not None:
        pull = _external_secret(
            f"{name}-pull-secret",
            PULL_SECRET,
            plan,
            namespace,
            pull_path,
            {
                "username": settings.external_secrets.username_key,
                "password": settings.external_secrets.password_key,
            },
            SKIP_AWAIT,
            after_store,
            template={
                "type": "kubernetes.io/dockerconfigjson",
                "engineVersion": "v2",
                "data": {".dockerconfigjson": pull_secret_template(plan)},
            },
        )
    return SecretsSync(account, store, app_secrets, smoke, pull)
