"""Draft networks: every draft namespace starts closed, and no allow rule re-opens it.

``draft-default-deny`` (a stack policy) requires NetworkPolicies that deny all ingress and
egress to every pod of each draft namespace the stack creates or deploys into. Each further
NetworkPolicy opens a door; ``draft-network-allow-rules`` refuses the doors that open onto
everything, in either direction:

- a rule without peers (no ``from`` / ``to``, or an empty list): every source or destination,
  inside the cluster and out;
- an empty peer (``{}``): matches everything as well;
- a peer whose ``namespaceSelector`` selects every namespace (``{}``), with or without a
  ``podSelector``: pod labels are chosen by whoever creates the pod, and every branch has a
  draft namespace in which to create one, so "pods labelled app=prometheus in any namespace"
  is any pod of any team. Select the namespace by ``kubernetes.io/metadata.name``, which the
  API server sets and nobody can forge;
- an ``ipBlock`` whose CIDR covers every address (``0.0.0.0/0``, ``::/0``; ``except`` or not).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any

from pack_support import (
    PropPath,
    describe,
    draft_namespaces,
    draft_prefix,
    get_path,
    in_draft_namespace,
    is_list,
    namespace_or_none,
    prefix_schema,
    resource_type,
    selects_everything,
    show_path,
)
from pulumi_policy import (
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
NETWORK_POLICY_TYPES = frozenset({NETWORK_POLICY, NETWORK_POLICY + "Patch"})
# direction -> (rules key, peers key, what the peers are)
DIRECTIONS = {"ingress": ("from", "source"), "egress": ("to", "destination")}
FIX = "name the peers: pods of this namespace, or a namespace by kubernetes.io/metadata.name"


# --- default deny (stack policy) -------------------------------------------------------------


def _empty(value: Any) -> bool:
    return value is None or (is_list(value) and len(value) == 0)


def _denied_directions(policy: Any) -> set[str]:
    """Directions a NetworkPolicy denies for every pod of its namespace."""
    spec = get_path(policy.props, ("spec",))
    if not isinstance(spec, Mapping):
        return set()
    try:
        if not selects_everything(spec.get("podSelector")):
            return set()
    except UnknownValueError:
        return set()  # a selector computed later is no default deny
    types = spec.get("policyTypes")
    types = list(types) if is_list(types) else []
    denied = set()
    if "Ingress" in types and _empty(spec.get("ingress")):
        denied.add("Ingress")
    if "Egress" in types and _empty(spec.get("egress")):
        denied.add("Egress")
    return denied


def validate_default_deny(args: StackValidationArgs, report: ReportViolation) -> None:
    prefix = draft_prefix(args)
    namespaces = draft_namespaces(args.resources, prefix)
    denied: dict[str, set[str]] = {name: set() for name in namespaces}
    for resource in args.resources:
        if resource_type(resource) != NETWORK_POLICY:
            continue
        namespace = namespace_or_none(resource)
        if namespace in denied:
            denied[namespace] |= _denied_directions(resource)
    for name, directions in sorted(denied.items()):
        missing = [d for d in ("Ingress", "Egress") if d not in directions]
        if missing:
            owner = namespaces[name]
            report(
                f"Draft namespace '{name}' has no default-deny NetworkPolicy for "
                f"{' and '.join(missing)}: add one with podSelector {{}}, policyTypes "
                f"[Ingress, Egress] and no rules, then allow only what the draft needs.",
                owner.urn if owner is not None else None,
            )


# --- allow rules -----------------------------------------------------------------------------


def covers_every_address(cidr: Any) -> bool:
    """True for ``0.0.0.0/0``, ``::/0`` and any other spelling of a zero-length prefix."""
    if not isinstance(cidr, str):
        return False
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False).prefixlen == 0
    except ValueError:
        return False  # the API server refuses it


def _peer_openings(path: PropPath, peer: Any, what: str) -> Iterator[str]:
    where = show_path(path)
    if not isinstance(peer, Mapping):
        return
    selectors = [peer.get(key) for key in ("podSelector", "namespaceSelector", "ipBlock")]
    if all(value is None for value in selectors):
        yield f"{where} is an empty peer, which matches every {what}"
        return
    if "namespaceSelector" in peer and selects_everything(peer["namespaceSelector"]):
        yield (
            f"{where}.namespaceSelector selects every namespace (pod labels do not narrow it: "
            f"any namespace can label a pod alike)"
        )
    if covers_every_address(get_path(peer, ("ipBlock", "cidr"))):
        yield f"{where}.ipBlock.cidr covers every address"


def network_openings(spec_path: PropPath, spec: Mapping[str, Any]) -> Iterator[str]:
    """How a NetworkPolicy spec opens a draft to everything, one problem per rule or peer."""
    for direction, (peers_key, what) in DIRECTIONS.items():
        rules = spec.get(direction)
        for index, rule in enumerate(rules if is_list(rules) else ()):
            rule_path = (*spec_path, direction, index)
            peers = rule.get(peers_key) if isinstance(rule, Mapping) else None
            if not is_list(peers) or len(peers) == 0:
                yield (
                    f"{show_path(rule_path)} has no {peers_key}, which allows every {what}, "
                    f"inside the cluster and out"
                )
                continue
            for peer_index, peer in enumerate(peers):
                yield from _peer_openings((*rule_path, peers_key, peer_index), peer, what)


def validate_network_allow_rules(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if resource_type(args) not in NETWORK_POLICY_TYPES:
        return
    namespace = in_draft_namespace(args)
    spec = get_path(args.props, ("spec",))
    if namespace is None or not isinstance(spec, Mapping):
        return
    for problem in network_openings(("spec",), spec):
        report(
            f"{describe(args)} in draft namespace '{namespace}': {problem}; this re-opens what "
            f"the draft's default-deny closed: {FIX}.",
            None,
        )


_PREFIX = {"draftNamespacePrefix": prefix_schema()}

POLICIES = [
    StackValidationPolicy(
        name="draft-default-deny",
        description="Every draft namespace has a default-deny NetworkPolicy (ingress and egress).",
        validate=validate_default_deny,
        config_schema=PolicyConfigSchema(properties=dict(_PREFIX)),
    ),
    ResourceValidationPolicy(
        name="draft-network-allow-rules",
        description="Draft NetworkPolicies allow named peers only: no rule without peers, no "
        "empty peer, no every-namespace selector, no 0.0.0.0/0 or ::/0.",
        validate=validate_network_allow_rules,
        config_schema=PolicyConfigSchema(properties=dict(_PREFIX)),
    ),
]
