"""Pod and container settings every workload of a draft shares.

The namespace enforces the restricted Pod Security Standard, so every pod runs as a
numeric non-root user with the runtime's default seccomp profile, and every container
drops all capabilities, cannot escalate, and declares requests and limits.
"""

from __future__ import annotations

from typing import cast

import pulumi
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta

from components.draft.settings import Resources


def pod_security(run_as_user: int) -> core.PodSecurityContextArgs:
    """Restricted pod security: non-root, RuntimeDefault seccomp, volumes owned by the user."""
    return core.PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=run_as_user,
        run_as_group=run_as_user,
        fs_group=run_as_user,
        seccomp_profile=core.SeccompProfileArgs(type="RuntimeDefault"),
    )


def container_security(read_only_root: bool = True) -> core.SecurityContextArgs:
    """Restricted container security: no privileges, no capabilities, no escalation."""
    return core.SecurityContextArgs(
        privileged=False,
        allow_privilege_escalation=False,
        run_as_non_root=True,
        read_only_root_filesystem=read_only_root,
        capabilities=core.CapabilitiesArgs(drop=["ALL"]),
        seccomp_profile=core.SeccompProfileArgs(type="RuntimeDefault"),
    )


def resources(spec: Resources) -> core.ResourceRequirementsArgs:
    """Requests and limits of one container."""
    return core.ResourceRequirementsArgs(
        requests={"cpu": spec.requests_cpu, "memory": spec.requests_memory},
        limits={"cpu": spec.limits_cpu, "memory": spec.limits_memory},
    )


def metadata(
    name: str,
    namespace: pulumi.Input[str],
    labels: dict[str, str],
    annotations: dict[str, str] | None = None,
) -> meta.ObjectMetaArgs:
    """Metadata of a namespaced object with a fixed name."""
    return meta.ObjectMetaArgs(
        name=name, namespace=namespace, labels=labels, annotations=annotations
    )


def scratch_volume(name: str) -> core.VolumeArgs:
    """A small memory-backed emptyDir for a read-only container's writable paths."""
    return core.VolumeArgs(name=name, empty_dir=core.EmptyDirVolumeSourceArgs(size_limit="64Mi"))


def secret(value: pulumi.Input[str]) -> pulumi.Output[str]:
    """``value`` as a Pulumi secret: shown as ``[secret]``, encrypted in state."""
    return cast("pulumi.Output[str]", pulumi.Output.secret(value))
