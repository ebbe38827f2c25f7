"""TokenReviewer: the identity Vault reviews the drafts' service account tokens with.

A draft's SecretStore logs in to Vault with a token bound to Vault's audience only, so the
token is worth nothing against the API server. Vault therefore cannot review it with the
token itself (the API server refuses it as a credential: 401); it reviews with its own
``token_reviewer_jwt``: the token of this service account, which may create TokenReviews and
SubjectAccessReviews (``system:auth-delegator``) and nothing else. The token lives in a
``kubernetes.io/service-account-token`` Secret that the cluster fills and invalidates with the
service account; an admin hands it to Vault once (docs/platform.md).
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta
import pulumi_kubernetes.rbac.v1 as rbac

NAME = "vault-token-reviewer"


class TokenReviewer(pulumi.ComponentResource):
    """Service account, its token Secret, and its system:auth-delegator binding."""

    secret_name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        namespace: pulumi.Input[str],
        labels: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("environments:platform:TokenReviewer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account = core.ServiceAccount(
            f"{name}-account",
            metadata=meta.ObjectMetaArgs(name=NAME, namespace=namespace, labels=labels),
            automount_service_account_token=False,
            opts=child,
        )
        token = core.Secret(
            f"{name}-token",
            metadata=meta.ObjectMetaArgs(
                name=NAME,
                namespace=namespace,
                labels=labels,
                annotations={"kubernetes.io/service-account.name": NAME},
            ),
            type="kubernetes.io/service-account-token",
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[account],
                # The cluster writes the token into the Secret: that is no drift to undo, and
                # what a refresh reads back stays a Pulumi secret (encrypted in the state).
                ignore_changes=["data", "stringData"],
                additional_secret_outputs=["data"],
            ),
        )
        rbac.ClusterRoleBinding(
            f"{name}-binding",
            metadata=meta.ObjectMetaArgs(name=NAME, labels=labels),
            role_ref=rbac.RoleRefArgs(
                api_group="rbac.authorization.k8s.io",
                kind="ClusterRole",
                name="system:auth-delegator",
            ),
            subjects=[rbac.SubjectArgs(kind="ServiceAccount", name=NAME, namespace=namespace)],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[account]),
        )
        self.secret_name = token.metadata.apply(lambda m: str(m.name))
        self.register_outputs({"secretName": self.secret_name})
