"""Drafts get no cluster-wide power: no ClusterRoles or ClusterRoleBindings of their own, and
no binding to the roles that administer a namespace or the cluster.

A Kubernetes RBAC object is a draft's when the stack is a draft stack, when it lands in a
draft namespace, or when one of its subjects lives in one (a service account of a draft
namespace, their ``system:serviceaccounts:draft-...`` group, or the matching user name). Then:

- a ClusterRole or ClusterRoleBinding is refused: a draft's permissions end at its namespace
  (a Role and a RoleBinding there);
- a RoleBinding to one of ``forbiddenClusterRoles`` (``cluster-admin``, ``admin``, ``edit``)
  is refused, whoever the subjects: ``admin`` and ``edit`` read every Secret of the namespace
  and create pods under any of its service accounts, ``cluster-admin`` is everything.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pack_support import (
    config_texts,
    describe,
    draft_prefix,
    draft_stack,
    get_path,
    in_draft_namespace,
    is_list,
    known_elements,
    prefix_schema,
    resource_type,
    show_path,
    shown,
    texts_schema,
)
from pulumi_policy import (
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

RBAC_GROUP = "kubernetes:rbac.authorization.k8s.io/"
CLUSTER_WIDE = frozenset({"ClusterRole", "ClusterRoleBinding"})
BINDINGS = frozenset({"RoleBinding", "ClusterRoleBinding"})
FORBIDDEN_CLUSTER_ROLES = ("cluster-admin", "admin", "edit")
SA_GROUP = "system:serviceaccounts:"
SA_USER = "system:serviceaccount:"


def rbac_kind(args: ResourceValidationArgs) -> str | None:
    """``ClusterRoleBinding`` for ``kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding``
    (and its Patch); None for anything else."""
    kind = resource_type(args)
    if not kind.startswith(RBAC_GROUP):
        return None
    return kind.rsplit(":", 1)[-1].removesuffix("Patch")


def _subject_namespace(subject: Mapping[str, Any], binding_namespace: str | None) -> str | None:
    """The namespace a subject's identity lives in (service accounts and their groups)."""
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "ServiceAccount":
        namespace = subject.get("namespace")
        return namespace if isinstance(namespace, str) and namespace else binding_namespace
    if not isinstance(name, str):
        return None
    if kind == "Group" and name.startswith(SA_GROUP):
        return name[len(SA_GROUP) :]
    if kind == "User" and name.startswith(SA_USER):
        return name[len(SA_USER) :].split(":", 1)[0]
    return None


def draft_subjects(args: ResourceValidationArgs) -> Iterator[str]:
    """Paths of the binding's subjects that are identities of a draft namespace."""
    subjects = get_path(args.props, ("subjects",))
    namespace = get_path(args.props, ("metadata", "namespace"))
    namespace = namespace if isinstance(namespace, str) else None
    prefix = draft_prefix(args)
    for index, subject in known_elements(subjects) if is_list(subjects) else ():
        if isinstance(subject, Mapping):
            home = _subject_namespace(subject, namespace)
            if home is not None and home.startswith(prefix):
                yield show_path(("subjects", index))


def draft_owner(args: ResourceValidationArgs) -> str | None:
    """Why this RBAC object is a draft's, for the message; None when it is not."""
    namespace = in_draft_namespace(args)
    if namespace is not None:
        return f"in draft namespace '{namespace}'"
    stack = draft_stack(args)
    if stack is not None:
        return f"created by draft stack '{stack}'"
    subjects = list(draft_subjects(args))
    if subjects:
        return f"binding draft service accounts ({', '.join(subjects)})"
    return None


def validate_cluster_access(args: ResourceValidationArgs, report: ReportViolation) -> None:
    kind = rbac_kind(args)
    if kind not in CLUSTER_WIDE | BINDINGS:
        return
    owner = draft_owner(args)
    if owner is None:
        return
    where = f"{describe(args)} {owner}"
    if kind in CLUSTER_WIDE:
        report(
            f"{where}: a draft gets no cluster-wide permissions; grant what it needs with a "
            f"Role and a RoleBinding in its own namespace.",
            None,
        )
    if kind not in BINDINGS:
        return
    forbidden = config_texts(args, "forbiddenClusterRoles", FORBIDDEN_CLUSTER_ROLES)
    ref_kind = get_path(args.props, ("roleRef", "kind"))
    ref_name = get_path(args.props, ("roleRef", "name"))
    if ref_kind == "ClusterRole" and ref_name in forbidden:
        report(
            f"{where}: roleRef binds the ClusterRole "
            f"'{shown(args, ('roleRef', 'name'), ref_name)}' (forbidden in drafts: "
            f"{', '.join(forbidden)}); bind a Role listing only the verbs and resources the "
            f"draft needs.",
            None,
        )


POLICIES = [
    ResourceValidationPolicy(
        name="draft-cluster-access",
        description="Drafts create no ClusterRoles or ClusterRoleBindings and bind no one to "
        "cluster-admin, admin or edit.",
        validate=validate_cluster_access,
        config_schema=PolicyConfigSchema(
            properties={
                "draftNamespacePrefix": prefix_schema(),
                "forbiddenClusterRoles": texts_schema(
                    FORBIDDEN_CLUSTER_ROLES, "ClusterRoles no binding of a draft may refer to"
                ),
            }
        ),
    ),
]
