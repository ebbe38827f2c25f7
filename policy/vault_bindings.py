"""A draft's Vault auth roles log in the draft's own service accounts, nobody else's.

Applies in draft stacks (Vault resources have no namespace; the stack makes them a draft's):

- Kubernetes auth roles (``vault:kubernetes/authBackendRole``): no ``*`` (or any glob) in
  ``boundServiceAccountNames`` / ``boundServiceAccountNamespaces``; every bound namespace is a
  draft namespace; no ``boundServiceAccountNamespaceSelector`` (namespace labels are chosen by
  whoever creates the namespace, so it reaches wherever someone puts the label);
- JWT/OIDC roles (``vault:jwt/authBackendRole``): bound to a draft namespace, by
  ``boundSubject`` ``system:serviceaccount:<draft namespace>:<name>`` or by a bound
  ``/kubernetes.io/namespace`` claim; no glob claim with ``*``. A role binding neither accepts
  every token its issuer signs: every service account of every namespace.

Messages name the property and index, never the bound value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pack_support import (
    PropPath,
    describe,
    draft_prefix,
    draft_stack,
    get_path,
    is_list,
    known_elements,
    known_items,
    prefix_schema,
    show_path,
)
from pulumi_policy import (
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

KUBERNETES_ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole"
JWT_ROLE = "vault:jwt/authBackendRole:AuthBackendRole"
NAMES = "boundServiceAccountNames"
NAMESPACES = "boundServiceAccountNamespaces"
NAMESPACE_SELECTOR = "boundServiceAccountNamespaceSelector"
# Claims of a Kubernetes service account token that carry its namespace.
NAMESPACE_CLAIMS = ("/kubernetes.io/namespace", "kubernetes.io/namespace")
SA_SUBJECT = "system:serviceaccount:"


def _texts(props: Mapping[str, Any], field: str) -> Iterator[tuple[PropPath, str]]:
    """(path, text) of each entry of a list of strings."""
    values = get_path(props, (field,))
    for index, value in known_elements(values) if is_list(values) else ():
        if isinstance(value, str):
            yield (field, index), value


def _claim_values(value: Any) -> list[str]:
    """A bound claim's accepted values: a list, or a comma-separated string (Vault splits it)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",")]
    if is_list(value):
        return [v for _, v in known_elements(value) if isinstance(v, str)]
    return []


def _namespace_problems(prefix: str, path: PropPath, namespace: str) -> Iterator[str]:
    if "*" in namespace:
        yield f"{show_path(path)} is a glob, which binds every namespace it matches"
    elif not namespace.startswith(prefix):
        yield f"{show_path(path)} is not a draft namespace (its name does not start with '{prefix}')"


def kubernetes_role_problems(props: Mapping[str, Any], prefix: str) -> Iterator[str]:
    for path, name in _texts(props, NAMES):
        if "*" in name:
            yield f"{show_path(path)} is a glob, which binds every service account it matches"
    for path, namespace in _texts(props, NAMESPACES):
        yield from _namespace_problems(prefix, path, namespace)
    if get_path(props, (NAMESPACE_SELECTOR,)) not in (None, ""):
        yield (
            f"{NAMESPACE_SELECTOR} is set: it binds every namespace that carries the labels, "
            f"draft or not; list the draft's namespace in {NAMESPACES}"
        )


def jwt_role_problems(props: Mapping[str, Any], prefix: str) -> Iterator[str]:
    bound = False
    subject = get_path(props, ("boundSubject",))
    if isinstance(subject, str) and subject.startswith(SA_SUBJECT):
        bound = True
        namespace = subject[len(SA_SUBJECT) :].split(":", 1)[0]
        yield from _namespace_problems(prefix, ("boundSubject",), namespace)
    claims = get_path(props, ("boundClaims",))
    glob = get_path(props, ("boundClaimsType",)) == "glob"
    for key, value in known_items(claims) if isinstance(claims, Mapping) else ():
        values = _claim_values(value)
        bound = bound or key in NAMESPACE_CLAIMS
        if glob and any("*" in v for v in values):
            yield f"boundClaims key '{key}' is a glob, which accepts every value it matches"
        elif key in NAMESPACE_CLAIMS:
            for v in values:
                yield from _namespace_problems(prefix, ("boundClaims", key), v)
    if not bound:
        yield (
            "neither boundSubject (system:serviceaccount:<namespace>:<name>) nor a bound "
            f"{NAMESPACE_CLAIMS[0]} claim names the draft's namespace, so every token the "
            "issuer signs logs in: every service account of every namespace"
        )


def validate_auth_binding(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == KUBERNETES_ROLE:
        check = kubernetes_role_problems
    elif args.resource_type == JWT_ROLE:
        check = jwt_role_problems
    else:
        return
    stack = draft_stack(args)
    if stack is None:
        return
    for problem in check(args.props, draft_prefix(args)):
        report(
            f"{describe(args)} in draft stack '{stack}': {problem}; a draft's role logs in "
            f"only the draft's own service account in its own namespace.",
            None,
        )


POLICIES = [
    ResourceValidationPolicy(
        name="vault-auth-binding",
        description="Vault auth roles of a draft bind only the draft's own service accounts "
        "in draft namespaces: no '*', no namespace selector, no unbound JWT role.",
        validate=validate_auth_binding,
        config_schema=PolicyConfigSchema(properties={"draftNamespacePrefix": prefix_schema()}),
    ),
]
