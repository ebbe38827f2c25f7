"""DraftPlatform: what every draft of a cluster relies on, deployed once by an admin."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta

from components.draft.blueprint import LABEL_PREFIX, MANAGED_BY
from components.platform.pipelines import PipelineBoundary
from components.platform.reaper import DraftReaper
from components.platform.settings import PlatformSettings
from components.platform.token_review import TokenReviewer

LABELS = {"app.kubernetes.io/managed-by": MANAGED_BY, f"{LABEL_PREFIX}/kind": "platform"}


class DraftPlatform(pulumi.ComponentResource):
    """Its namespace (restricted Pod Security), the in-cluster reaper, the pipeline boundary,
    Vault's token reviewer."""

    namespace: core.Namespace
    reaper: DraftReaper

    def __init__(
        self, name: str, settings: PlatformSettings, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("environments:platform:DraftPlatform", name, None, opts)
        self.namespace = core.Namespace(
            f"{name}-namespace",
            metadata=meta.ObjectMetaArgs(
                name=settings.namespace,
                labels=LABELS | {"pod-security.kubernetes.io/enforce": "restricted"},
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.reaper = DraftReaper(
            f"{name}-reaper",
            settings,
            self.namespace.metadata.apply(lambda m: str(m.name)),
            LABELS,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespace]),
        )
        if settings.pipelines.enabled:
            PipelineBoundary(
                f"{name}-pipelines",
                settings.pipelines.username_prefix,
                LABELS,
                opts=pulumi.ResourceOptions(parent=self),
            )
        if settings.vault.token_reviewer:
            TokenReviewer(
                f"{name}-vault-reviewer",
                self.namespace.metadata.apply(lambda m: str(m.name)),
                LABELS,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespace]),
            )
        self.register_outputs({"namespace": settings.namespace})
