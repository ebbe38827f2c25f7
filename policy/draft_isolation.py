"""Drafts stay isolated: nothing exposed on nodes or load balancers, no host access, bounded
resources, pinned images, and namespaces that enforce pod security, quota and limits. The
draft's network (default deny, allow rules) is ``draft_network``'s, its RBAC ``draft_rbac``'s.

The resource policies apply to Kubernetes objects that land in a draft namespace (their
``metadata.namespace``, or their provider's default namespace). Objects a Helm Release
installs are invisible to CrossGuard (only the Release is seen): its ``values`` are checked
for the same settings where charts conventionally put them, and the namespace itself must
carry the cluster-side guardrails (``draft-namespace-guardrails``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pack_support import (
    HELM_RELEASE_TYPE,
    PropPath,
    config_flag,
    config_text,
    config_texts,
    container_label,
    containers,
    describe,
    draft_namespaces,
    draft_prefix,
    get_path,
    in_draft_namespace,
    is_list,
    namespace_or_none,
    pod_spec,
    prefix_schema,
    resource_type,
    secrecy,
    show_path,
    shown,
    texts_schema,
    walk_values,
)
from pulumi_policy import (
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

SERVICE_TYPES = frozenset({"kubernetes:core/v1:Service", "kubernetes:core/v1:ServicePatch"})
RESOURCE_QUOTA = "kubernetes:core/v1:ResourceQuota"
LIMIT_RANGE = "kubernetes:core/v1:LimitRange"
PSA_ENFORCE = "pod-security.kubernetes.io/enforce"

FORBIDDEN_SERVICE_TYPES = ("LoadBalancer", "NodePort")
REQUIRED_LIMITS = ("cpu", "memory")
FORBIDDEN_TAGS = ("latest",)
HOST_NAMESPACES = {"hostNetwork": "network", "hostPID": "process IDs", "hostIPC": "IPC"}
# Node paths that hold (or contain) a container runtime's socket: whoever can write to one
# starts any container as root on the node.
RUNTIME_SOCKETS = (
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run/containerd/containerd.sock",
    "/run/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
    "/run/crio/crio.sock",
)
RELEASE_HOST_FLAGS = frozenset(
    {"hostNetwork", "hostPID", "hostIPC", "privileged", "allowPrivilegeEscalation"}
)
# The one capability the restricted Pod Security Standard lets a container add.
ALLOWED_CAPABILITIES = ("NET_BIND_SERVICE",)

_PREFIX = {"draftNamespacePrefix": prefix_schema()}


def _release_values(args: ResourceValidationArgs) -> Iterator[tuple[PropPath, Any]]:
    """(path, value) of every known entry of a Helm Release's values in a draft namespace."""
    if resource_type(args) != HELM_RELEASE_TYPE:
        return iter(())
    values = get_path(args.props, ("values",))
    return walk_values(values, ("values",)) if isinstance(values, Mapping) else iter(())


# --- services --------------------------------------------------------------------------------


def validate_service_exposure(args: ResourceValidationArgs, report: ReportViolation) -> None:
    namespace = in_draft_namespace(args)
    if namespace is None:
        return
    forbidden = config_texts(args, "forbiddenServiceTypes", FORBIDDEN_SERVICE_TYPES)
    if resource_type(args) in SERVICE_TYPES:
        kind = get_path(args.props, ("spec", "type"))
        if kind in forbidden:
            report(
                f"{describe(args)} in draft namespace '{namespace}': spec.type = "
                f"{shown(args, ('spec', 'type'), kind)} exposes "
                f"the draft outside the cluster (forbidden in drafts: {', '.join(forbidden)}); "
                f"use ClusterIP behind the draft's ingress.",
                None,
            )
    for path, value in _release_values(args):
        if (
            path[-1:] == ("type",)
            and value in forbidden
            and any(isinstance(p, str) and "service" in p.lower() for p in path[:-1])
        ):
            report(
                f"{describe(args)} in draft namespace '{namespace}': values "
                f"{show_path(path[1:])} = {shown(args, path, value)} would expose the draft "
                f"outside the cluster.",
                None,
            )


# --- pod security ----------------------------------------------------------------------------


def _capability(name: Any) -> str:
    """``cap_sys_admin`` -> ``SYS_ADMIN``: Kubernetes takes capability names in any case."""
    return str(name).upper().removeprefix("CAP_")


def _container_escapes(
    args: ResourceValidationArgs, path: PropPath, container: Mapping[str, Any]
) -> Iterator[str]:
    """What one container does to reach beyond its pod: host ports, privilege, capabilities."""
    label = container_label(path, container)
    ports = container.get("ports")
    for index, port in enumerate(ports if is_list(ports) else ()):
        if isinstance(port, Mapping) and port.get("hostPort") not in (None, 0):
            where = (*path, "ports", index, "hostPort")
            yield f"{label} sets {show_path(where)}, which opens a port on the node."
    context = container.get("securityContext")
    if not isinstance(context, Mapping):
        return
    if context.get("privileged") is True:
        yield f"{label} sets {show_path((*path, 'securityContext', 'privileged'))} = true."
    if context.get("allowPrivilegeEscalation") is True:
        where = (*path, "securityContext", "allowPrivilegeEscalation")
        yield f"{label} sets {show_path(where)} = true (setuid binaries may gain root)."
    added = get_path(context, ("capabilities", "add"))
    allowed = {
        _capability(c) for c in config_texts(args, "allowedCapabilities", ALLOWED_CAPABILITIES)
    }
    for index, name in enumerate(added if is_list(added) else ()):
        if _capability(name) not in allowed:
            where = (*path, "securityContext", "capabilities", "add", index)
            yield (
                f"{label} adds capability {shown(args, where, _capability(name))} "
                f"({show_path(where)}); drafts may add only {', '.join(sorted(allowed))}."
            )


def exposes_runtime_socket(host_path: Any) -> bool:
    """True when mounting node path ``host_path`` reaches a container runtime socket."""
    if not isinstance(host_path, str) or not host_path.startswith("/"):
        return False
    path = "/" + "/".join(part for part in host_path.split("/") if part not in ("", "."))
    return any(
        socket == path or socket.startswith(path.rstrip("/") + "/") for socket in RUNTIME_SOCKETS
    )


def _host_path_volumes(spec_path: PropPath, spec: Mapping[str, Any]) -> Iterator[str]:
    """What the pod's hostPath volumes mount from the node (paths named, never values)."""
    volumes = spec.get("volumes")
    for index, volume in enumerate(volumes if is_list(volumes) else ()):
        if not isinstance(volume, Mapping) or volume.get("hostPath") is None:
            continue
        where = show_path((*spec_path, "volumes", index, "hostPath"))
        if exposes_runtime_socket(get_path(volume, ("hostPath", "path"))):
            yield (
                f"{where} mounts the container runtime's socket (or a directory holding it): "
                f"whoever holds it starts any container as root on the node."
            )
        else:
            yield f"{where} mounts a directory of the node into the pod."


def validate_pod_security(args: ResourceValidationArgs, report: ReportViolation) -> None:
    namespace = in_draft_namespace(args)
    if namespace is None:
        return
    where = f"{describe(args)} in draft namespace '{namespace}'"
    found = pod_spec(args)
    if found is not None:
        spec_path, spec = found
        for flag, shared in HOST_NAMESPACES.items():
            if spec.get(flag) is True:
                report(
                    f"{where}: {show_path((*spec_path, flag))} = true shares the node's {shared}.",
                    None,
                )
        for problem in _host_path_volumes(spec_path, spec):
            report(
                f"{where}: {problem} Use an emptyDir, a ConfigMap or a PersistentVolumeClaim.", None
            )
        for path, container in containers(spec_path, spec):
            for problem in _container_escapes(args, path, container):
                report(f"{where}: {problem}", None)
    for path, value in _release_values(args):
        key = path[-1] if path else None
        if key in RELEASE_HOST_FLAGS:
            if value is True:
                report(f"{where}: values {show_path(path[1:])} = true.", None)
        elif key == "hostPort" and isinstance(value, int | float) and value:
            report(f"{where}: values {show_path(path[1:])} opens a port on the node.", None)
        elif key == "hostPath" and value:
            node_path = value.get("path") if isinstance(value, Mapping) else value
            what = (
                "the container runtime's socket"
                if exposes_runtime_socket(node_path)
                else "a directory of the node"
            )
            report(f"{where}: values {show_path(path[1:])} mounts {what}.", None)


# --- resource limits -------------------------------------------------------------------------


def validate_resource_limits(args: ResourceValidationArgs, report: ReportViolation) -> None:
    namespace = in_draft_namespace(args)
    found = pod_spec(args) if namespace is not None else None
    if found is None:
        return
    required = config_texts(args, "requiredLimits", REQUIRED_LIMITS)
    spec_path, spec = found
    for path, container in containers(spec_path, spec):
        if path[len(spec_path)] == "ephemeralContainers":
            continue  # debug containers cannot declare resources
        limits = get_path(container, ("resources", "limits"))
        have = set(limits) if isinstance(limits, Mapping) else set()
        missing = [name for name in required if name not in have]
        if missing:
            report(
                f"{describe(args)} in draft namespace '{namespace}': "
                f"{container_label(path, container)} has no resources.limits."
                f"{' / '.join(missing)}; every draft container declares "
                f"{' and '.join(required)} limits.",
                None,
            )


# --- image tags ------------------------------------------------------------------------------


def image_tag(image: str) -> tuple[str | None, bool]:
    """(tag or None, pinned by digest) of an image reference."""
    if "@" in image:
        return None, True
    last = image.rsplit("/", 1)[-1]
    return (last.rsplit(":", 1)[1] if ":" in last else None), False


def validate_image_tags(args: ResourceValidationArgs, report: ReportViolation) -> None:
    namespace = in_draft_namespace(args)
    if namespace is None:
        return
    forbidden = config_texts(args, "forbiddenTags", FORBIDDEN_TAGS)
    where = f"{describe(args)} in draft namespace '{namespace}'"
    marks = secrecy(args.urn)
    found = pod_spec(args)
    if found is not None:
        spec_path, spec = found
        for path, container in containers(spec_path, spec):
            image = container.get("image")
            if not isinstance(image, str):
                continue
            tag, pinned = image_tag(image)
            hidden = marks is not None and marks.is_secret((*path, "image"))
            if pinned:
                continue
            if tag is None:
                report(
                    f"{where}: {container_label(path, container)} has an image without a "
                    f"tag, which means :latest; pin a tag or digest.",
                    None,
                )
            elif tag in forbidden:
                shown_tag = "[secret]" if hidden else tag
                report(
                    f"{where}: {container_label(path, container)} uses image tag "
                    f"'{shown_tag}'; pin the draft's own tag (draft-<slug>-<sha7>) or a "
                    f"digest.",
                    None,
                )
    for path, value in _release_values(args):
        if path[-1:] == ("tag",) and value in forbidden:
            report(
                f"{where}: values {show_path(path[1:])} = {shown(args, path, value)}; pin a tag "
                f"or digest.",
                None,
            )
        elif path[-1:] == ("image",) and isinstance(value, str):
            tag, _ = image_tag(value)
            if tag in forbidden:
                report(
                    f"{where}: values {show_path(path[1:])} uses tag '{shown(args, path, tag)}'; "
                    f"pin a tag or digest.",
                    None,
                )


# --- stack policies --------------------------------------------------------------------------


def validate_namespace_guardrails(args: StackValidationArgs, report: ReportViolation) -> None:
    prefix = draft_prefix(args)
    level = config_text(args, "podSecurityLevel", "restricted")
    namespaces = draft_namespaces(args.resources, prefix)
    present: dict[str, set[str]] = {name: set() for name in namespaces}
    for resource in args.resources:
        if resource_type(resource) in (RESOURCE_QUOTA, LIMIT_RANGE):
            namespace = namespace_or_none(resource)
            if namespace in present:
                present[namespace].add(resource_type(resource))
    for name, owner in sorted(namespaces.items(), key=lambda item: item[0]):
        urn = owner.urn if owner is not None else None
        if owner is not None:
            labels = get_path(owner.props, ("metadata", "labels"))
            actual = labels.get(PSA_ENFORCE) if isinstance(labels, Mapping) else None
            if actual != level:
                report(
                    f"Draft namespace '{name}': label {PSA_ENFORCE} is "
                    f"{'missing' if actual is None else repr(actual)}, expected '{level}' "
                    f"(objects a Helm release installs are invisible to this pack; the "
                    f"namespace must enforce pod security itself).",
                    urn,
                )
        wanted = []
        if config_flag(args, "requireResourceQuota", True):
            wanted.append(RESOURCE_QUOTA)
        if config_flag(args, "requireLimitRange", True):
            wanted.append(LIMIT_RANGE)
        for kind in wanted:
            if kind not in present[name]:
                report(
                    f"Draft namespace '{name}' has no {kind.rsplit(':', 1)[-1]}; drafts bound "
                    f"what the workloads inside them may use.",
                    urn,
                )


POLICIES = [
    ResourceValidationPolicy(
        name="draft-service-exposure",
        description="Drafts expose no LoadBalancer or NodePort services.",
        validate=validate_service_exposure,
        config_schema=PolicyConfigSchema(
            properties={
                **_PREFIX,
                "forbiddenServiceTypes": texts_schema(FORBIDDEN_SERVICE_TYPES),
            }
        ),
    ),
    ResourceValidationPolicy(
        name="draft-pod-security",
        description="Draft pods use no host network, PID, IPC namespace, host path (above all "
        "the container runtime's socket) or host port, no privileged containers, no privilege "
        "escalation and no capability beyond NET_BIND_SERVICE.",
        validate=validate_pod_security,
        config_schema=PolicyConfigSchema(
            properties={
                **_PREFIX,
                "allowedCapabilities": texts_schema(ALLOWED_CAPABILITIES),
            }
        ),
    ),
    ResourceValidationPolicy(
        name="draft-resource-limits",
        description="Every draft container declares resource limits.",
        validate=validate_resource_limits,
        config_schema=PolicyConfigSchema(
            properties={
                **_PREFIX,
                "requiredLimits": texts_schema(REQUIRED_LIMITS),
            }
        ),
    ),
    ResourceValidationPolicy(
        name="draft-image-tags",
        description="Draft images are pinned: no :latest and no untagged images.",
        validate=validate_image_tags,
        config_schema=PolicyConfigSchema(
            properties={
                **_PREFIX,
                "forbiddenTags": texts_schema(FORBIDDEN_TAGS),
            }
        ),
    ),
    StackValidationPolicy(
        name="draft-namespace-guardrails",
        description="Draft namespaces enforce the restricted Pod Security Standard and have a "
        "ResourceQuota and a LimitRange.",
        validate=validate_namespace_guardrails,
        config_schema=PolicyConfigSchema(
            properties={
                **_PREFIX,
                "podSecurityLevel": {
                    "type": "string",
                    "enum": ["privileged", "baseline", "restricted"],
                    "default": "restricted",
                },
                "requireResourceQuota": {"type": "boolean", "default": True},
                "requireLimitRange": {"type": "boolean", "default": True},
            }
        ),
    ),
]
