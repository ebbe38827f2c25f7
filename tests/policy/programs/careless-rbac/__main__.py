"""RBAC the way it gets written when "it doesn't work, give it admin": cluster-wide roles and
bindings from a draft, and the built-in admin roles bound inside and outside its namespace."""

import pulumi_kubernetes as k8s

NAMESPACE = "draft-rbac"
RBAC = "rbac.authorization.k8s.io"
app = {"kind": "ServiceAccount", "name": "app", "namespace": NAMESPACE}

# "The operator needs to watch CRDs."
k8s.rbac.v1.ClusterRole(
    "operator",
    metadata={"name": "draft-rbac-operator"},
    rules=[{"api_groups": ["*"], "resources": ["*"], "verbs": ["*"]}],
)
k8s.rbac.v1.ClusterRoleBinding(
    "operator-binding",
    metadata={"name": "draft-rbac-operator"},
    role_ref={"api_group": RBAC, "kind": "ClusterRole", "name": "draft-rbac-operator"},
    subjects=[app],
)
# "Just make it admin for now."
k8s.rbac.v1.ClusterRoleBinding(
    "god-mode",
    metadata={"name": "draft-rbac-god-mode"},
    role_ref={"api_group": RBAC, "kind": "ClusterRole", "name": "cluster-admin"},
    subjects=[app],
)
# Namespace admin and edit read every Secret and run pods as any service account.
k8s.rbac.v1.RoleBinding(
    "edit",
    metadata={"namespace": NAMESPACE, "name": "edit"},
    role_ref={"api_group": RBAC, "kind": "ClusterRole", "name": "edit"},
    subjects=[{"kind": "ServiceAccount", "name": "app"}],
)
k8s.rbac.v1.RoleBinding(
    "admin-for-everyone",
    metadata={"namespace": NAMESPACE, "name": "admin"},
    role_ref={"api_group": RBAC, "kind": "ClusterRole", "name": "admin"},
    subjects=[{"kind": "Group", "name": "system:authenticated", "api_group": RBAC}],
)
# Reaching into another namespace from the draft.
k8s.rbac.v1.RoleBinding(
    "into-staging",
    metadata={"namespace": "staging", "name": "draft-rbac"},
    role_ref={"api_group": RBAC, "kind": "ClusterRole", "name": "edit"},
    subjects=[app],
)
