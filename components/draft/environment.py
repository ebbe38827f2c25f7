"""DraftEnvironment: one branch's isolated environment in its own Kubernetes namespace."""

from __future__ import annotations

from datetime import datetime

import pulumi
import pulumi_kubernetes as k8s

from components.draft.settings import DraftSettings
from components.naming import short_sha

LABEL_PREFIX = "environments.dev"
MANAGED_BY = "environments"


def expiry_label(moment: datetime) -> str:
    """ISO 8601 basic format (``20261124T050000Z``): a valid Kubernetes label value."""
    return moment.strftime("%Y%m%dT%H%M%SZ")


class DraftEnvironment(pulumi.ComponentResource):
    """A draft of one branch: its namespace and everything in it, gone with the stack."""

    namespace: k8s.core.v1.Namespace
    url: pulumi.Output[str]
    namespace_name: pulumi.Output[str]
    expires_at: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        settings: DraftSettings,
        now: datetime,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("environments:draft:DraftEnvironment", name, None, opts)
        names = settings.names()
        expires = settings.expiry(now)
        labels = {
            "app.kubernetes.io/managed-by": MANAGED_BY,
            f"{LABEL_PREFIX}/kind": "draft",
            f"{LABEL_PREFIX}/branch": names.slug,
            f"{LABEL_PREFIX}/team": settings.team,
            f"{LABEL_PREFIX}/service": settings.service,
            f"{LABEL_PREFIX}/sha": short_sha(settings.sha or ""),
            f"{LABEL_PREFIX}/expires-at": expiry_label(expires),
            # Objects a Helm release installs are invisible to the policy pack: the
            # namespace itself enforces the restricted Pod Security Standard.
            "pod-security.kubernetes.io/enforce": "restricted",
        }
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=names.namespace,
                labels=labels,
                annotations={
                    f"{LABEL_PREFIX}/branch": names.branch,
                    f"{LABEL_PREFIX}/expires-at": expires.isoformat(),
                },
            ),
            opts=pulumi.ResourceOptions(
                parent=self, custom_timeouts=pulumi.CustomTimeouts(delete="15m")
            ),
        )
        self.url = pulumi.Output.from_input(f"https://{names.slug}.{settings.base_domain}")
        self.namespace_name = self.namespace.metadata.apply(lambda m: m.name)
        self.expires_at = pulumi.Output.from_input(expires.isoformat())
        self.register_outputs(
            {"url": self.url, "namespace": self.namespace_name, "expires_at": self.expires_at}
        )
