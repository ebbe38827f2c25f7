"""The app image ``draft-<slug>-<sha7>``: built with BuildKit and pushed, or referenced."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from components.draft.blueprint import DraftBlueprint
from components.draft.workload import secret


@dataclass(frozen=True)
class AppImage:
    """The image reference the Jobs and the release use, and the build when there is one."""

    ref: str
    build: docker.Image | None

    @property
    def dependencies(self) -> list[pulumi.Resource]:
        """What must finish before the image can be pulled (nothing when CI pushed it)."""
        return [self.build] if self.build is not None else []


def create_image(name: str, plan: DraftBlueprint, parent: pulumi.Resource) -> AppImage:
    """Build and push the image unless ``draft:image.prebuilt``; it waits for nothing else."""
    settings = plan.settings
    if settings.image.prebuilt:
        return AppImage(plan.image, None)
    user = settings.secret(settings.external_secrets.username_key)
    password = settings.secret(settings.external_secrets.password_key)
    registry = None
    if user is not None and password is not None:
        # From draft:secrets; without them the push uses the CI's own docker login.
        registry = docker.RegistryArgs(
            server=settings.image.registry,
            username=secret(user),
            password=secret(password),
        )
    context = settings.image.context
    build = docker.Image(
        f"{name}-image",
        image_name=plan.image,
        build=docker.DockerBuildArgs(
            context=context,
            dockerfile=f"{context.rstrip('/')}/{settings.image.dockerfile}",
            platform=settings.image.platform,
            builder_version=docker.BuilderVersion.BUILDER_BUILD_KIT,
            # Secret when draft:image was set with --secret (Pulumi marks the whole key).
            args=settings.keep_secret("image", dict(settings.image.build_args)) or None,
        ),
        registry=registry,
        skip_push=False,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return AppImage(plan.image, build)
