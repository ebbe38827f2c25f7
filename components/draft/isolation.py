"""NetworkPolicies: deny everything, then allow only what a draft needs.

Ingress: from the ingress controller's namespace (to the app's pods) and from inside the
namespace. Egress: cluster DNS, inside the namespace, and the configured targets (Vault,
the registry...). Namespaces are matched by ``kubernetes.io/metadata.name``, which the API
server sets and nobody can forge, so nothing reaches Dev, Stage or Prod namespaces.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes.meta.v1 as meta
import pulumi_kubernetes.networking.v1 as net

from components.draft.blueprint import DraftBlueprint
from components.draft.settings import EgressTarget

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
RELEASE_LABEL = "app.kubernetes.io/instance"
ALL_PODS = meta.LabelSelectorArgs()


def _in_namespace(name: str, pods: dict[str, str] | None = None) -> net.NetworkPolicyPeerArgs:
    return net.NetworkPolicyPeerArgs(
        namespace_selector=meta.LabelSelectorArgs(match_labels={NAMESPACE_NAME_LABEL: name}),
        pod_selector=meta.LabelSelectorArgs(match_labels=pods) if pods else None,
    )


def _egress_rule(target: EgressTarget) -> net.NetworkPolicyEgressRuleArgs:
    if target.namespace is not None:
        peers = [_in_namespace(target.namespace, target.pod_labels or None)]
    else:
        peers = [
            net.NetworkPolicyPeerArgs(ip_block=net.IPBlockArgs(cidr=cidr)) for cidr in target.cidrs
        ]
    ports = [net.NetworkPolicyPortArgs(port=p.port, protocol=p.protocol) for p in target.ports]
    return net.NetworkPolicyEgressRuleArgs(to=peers, ports=ports)


def _specs(plan: DraftBlueprint) -> dict[str, net.NetworkPolicySpecArgs]:
    settings = plan.settings
    network = settings.network
    specs = {
        # The policy pack's draft-default-deny: every pod, both directions, no rules.
        "default-deny": net.NetworkPolicySpecArgs(
            pod_selector=ALL_PODS, policy_types=["Ingress", "Egress"]
        ),
        "allow-same-namespace": net.NetworkPolicySpecArgs(
            pod_selector=ALL_PODS,
            policy_types=["Ingress", "Egress"],
            ingress=[
                net.NetworkPolicyIngressRuleArgs(
                    from_=[net.NetworkPolicyPeerArgs(pod_selector=ALL_PODS)]
                )
            ],
            egress=[
                net.NetworkPolicyEgressRuleArgs(
                    to=[net.NetworkPolicyPeerArgs(pod_selector=ALL_PODS)]
                )
            ],
        ),
        "allow-ingress-controller": net.NetworkPolicySpecArgs(
            pod_selector=meta.LabelSelectorArgs(
                match_labels={RELEASE_LABEL: plan.names.helm_release}
            ),
            policy_types=["Ingress"],
            ingress=[
                net.NetworkPolicyIngressRuleArgs(
                    from_=[_in_namespace(network.ingress_controller_namespace)]
                )
            ],
        ),
        "allow-dns": net.NetworkPolicySpecArgs(
            pod_selector=ALL_PODS,
            policy_types=["Egress"],
            egress=[
                net.NetworkPolicyEgressRuleArgs(
                    to=[_in_namespace(network.dns_namespace, {"k8s-app": "kube-dns"})],
                    ports=[
                        net.NetworkPolicyPortArgs(port=53, protocol="UDP"),
                        net.NetworkPolicyPortArgs(port=53, protocol="TCP"),
                    ],
                )
            ],
        ),
    }
    for target in network.egress:
        specs[f"allow-egress-{target.name}"] = net.NetworkPolicySpecArgs(
            pod_selector=ALL_PODS, policy_types=["Egress"], egress=[_egress_rule(target)]
        )
    if settings.monitoring.enabled and network.monitoring_namespace is not None:
        specs["allow-monitoring"] = net.NetworkPolicySpecArgs(
            pod_selector=ALL_PODS,
            policy_types=["Ingress"],
            ingress=[
                net.NetworkPolicyIngressRuleArgs(
                    from_=[_in_namespace(network.monitoring_namespace)]
                )
            ],
        )
    return specs


def create_network_policies(
    name: str,
    plan: DraftBlueprint,
    namespace: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> dict[str, net.NetworkPolicy]:
    """One NetworkPolicy per rule, by object name."""
    return {
        policy: net.NetworkPolicy(
            f"{name}-netpol-{policy}",
            metadata=meta.ObjectMetaArgs(
                name=policy, namespace=namespace, labels=plan.object_labels("isolation")
            ),
            spec=spec,
            opts=opts,
        )
        for policy, spec in _specs(plan).items()
    }
