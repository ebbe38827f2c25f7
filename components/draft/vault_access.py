"""Vault side of a draft's secrets: a read-only policy and a short-lived Kubernetes auth role.

The policy grants ``read`` on ``<kv mount>/data/<team>/<service>`` and nothing else; the
role lets only the draft's own service account, in the draft's own namespace, log in, for
tokens that live ``draft:vault.tokenTtlSeconds`` (at most an hour) and can never be renewed
beyond it. No periodic tokens (``token_period``): those live forever while renewed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_vault as vault
import pulumi_vault.kubernetes as vault_kubernetes

from components.draft.blueprint import DraftBlueprint


def policy_document(plan: DraftBlueprint) -> str:
    """The HCL of the draft's Vault policy: read on its own secret paths only."""
    settings = plan.settings
    mount = settings.vault.kv_mount
    blocks = [
        f'path "{mount}/data/{settings.team}/{service}" {{\n  capabilities = ["read"]\n}}\n'
        for service in settings.vault_services
    ]
    return f"# {plan.namespace}: read its own draft secrets, nothing else\n" + "".join(blocks)


@dataclass(frozen=True)
class VaultAccess:
    """The Vault provider, policy and role of one draft."""

    provider: vault.Provider
    policy: vault.Policy
    role: vault_kubernetes.AuthBackendRole

    @property
    def role_name(self) -> pulumi.Output[str]:
        return self.role.role_name


def create_vault_access(name: str, plan: DraftBlueprint, parent: pulumi.Resource) -> VaultAccess:
    """Policy and role in Vault; they wait for nothing in the cluster."""
    settings = plan.settings.vault
    ttl = settings.token_ttl_seconds
    provider = vault.Provider(
        f"{name}-vault",
        address=settings.address,
        # The provider's own child token lives no longer than the draft's credentials.
        max_lease_ttl_seconds=ttl,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    in_vault = pulumi.ResourceOptions(parent=parent, provider=provider)
    policy = vault.Policy(
        f"{name}-vault-policy",
        name=plan.namespace,
        policy=policy_document(plan),
        opts=in_vault,
    )
    role = vault_kubernetes.AuthBackendRole(
        f"{name}-vault-role",
        backend=settings.auth_mount,
        role_name=plan.namespace,
        bound_service_account_names=[plan.service_account],
        bound_service_account_namespaces=[plan.namespace],
        token_policies=[policy.name],
        token_ttl=ttl,
        token_max_ttl=ttl,
        # The only hard cap on renewals, whatever the mount's or the system's max TTL.
        token_explicit_max_ttl=ttl,
        token_type="default",
        opts=in_vault,
    )
    return VaultAccess(provider, policy, role)
