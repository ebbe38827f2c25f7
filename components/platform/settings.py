"""PlatformSettings: the ``platform:`` config namespace of the ``platform`` stack, validated."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from components.config import SettingsModel, load_settings
from components.draft.settings import ImageRef, NamespaceName

NAMESPACE = "platform"
MAX_REAP_INTERVAL = 15
"""An expired draft must be gone within 15 minutes of its expiry, CI or no CI."""

UsernamePrefix = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9:.@_-]+$",
        min_length=1,
        description="a Kubernetes username prefix, e.g. system:serviceaccount:envctl-ci:ci-",
    ),
]


class ReaperSettings(SettingsModel):
    """The in-cluster reaper: a CronJob deleting draft namespaces whose expiry has passed."""

    interval_minutes: Annotated[
        int,
        Field(
            ge=1,
            le=MAX_REAP_INTERVAL,
            description=f"minutes between passes, 1-{MAX_REAP_INTERVAL} (an expired draft is "
            "gone within this interval plus the namespace's deletion)",
        ),
    ] = 5
    image: Annotated[
        ImageRef,
        Field(description="an image with kubectl, sh, awk and date"),
    ] = "docker.io/alpine/k8s:1.34.4"
    run_as_user: Annotated[int, Field(ge=1, description="a non-root numeric user id")] = 65534


class PipelineSettings(SettingsModel):
    """Which identities are draft pipelines, and so may write only in their own drafts."""

    enabled: bool = True
    username_prefix: UsernamePrefix = "system:serviceaccount:envctl-ci:ci-"


class VaultSettings(SettingsModel):
    """The service account Vault reviews the drafts' logins with (TokenReview)."""

    token_reviewer: Annotated[
        bool,
        Field(
            description="create service account vault-token-reviewer (system:auth-delegator) "
            "and its token Secret, for Vault's auth/kubernetes/config token_reviewer_jwt"
        ),
    ] = True


class PlatformSettings(SettingsModel):
    """Everything ``platform:`` configures."""

    namespace: NamespaceName = "environments-system"
    reaper: ReaperSettings = ReaperSettings()
    pipelines: PipelineSettings = PipelineSettings()
    vault: VaultSettings = VaultSettings()


def load_platform_settings(
    project_dir: Path, config: dict[str, Any] | None = None
) -> PlatformSettings:
    """Validated settings of the ``platform`` stack (Pulumi.platform.yaml under the runtime's)."""
    return load_settings(PlatformSettings, NAMESPACE, "platform", project_dir, config)
