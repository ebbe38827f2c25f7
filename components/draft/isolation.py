"""NetworkPolicies: deny everything, then allow only the flows a draft has.

Every allow names its peer, by namespace (``kubernetes.io/metadata.name``, which the API
server sets and nobody can forge, so nothing reaches Dev, Stage or Prod) and pod labels, and
its port:

- ``allow-app``: the app's pods, on ``draft:network.appPort``, from the ingress controller's
  pods (and, for a controller on the host network, from the nodes' CIDRs) and from the smoke
  test;
- ``allow-database``: PostgreSQL, on 5432, from the app and the migrations only;
- ``allow-mock-<name>``: each mock service, on its port, from the app;
- ``allow-monitoring`` (monitoring on): the app's pods, on ``draft:network.metricsPort``, from
  Prometheus's pods;
- ``allow-dns``: egress to the cluster DNS pods (and NodeLocal DNSCache's address) on 53;
- ``allow-namespace-egress``: egress to exactly the flows above that stay in the namespace;
- ``allow-egress-<name>``: the targets of ``draft:network.egress``.

No egress to Vault or the registry: External Secrets' controller reads Vault, and the nodes
pull images; no draft pod does either.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes.meta.v1 as meta
import pulumi_kubernetes.networking.v1 as net

from components.draft.blueprint import DB_NAME, DraftBlueprint
from components.draft.database import PORT as DB_PORT
from components.draft.settings import EgressTarget

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
RELEASE_LABEL = "app.kubernetes.io/instance"
COMPONENT_LABEL = "app.kubernetes.io/component"
PART_OF_LABEL = "app.kubernetes.io/part-of"
ALL_PODS = meta.LabelSelectorArgs()
DNS_PORT = 53

Port = int | str
Flow = tuple[str, dict[str, str], list[dict[str, str]], Port]
"""(policy, target pod labels, source pod labels of this namespace, target port)."""


def _pods(labels: dict[str, str]) -> meta.LabelSelectorArgs:
    return meta.LabelSelectorArgs(match_labels=labels)


def _peer(namespace: str, pods: dict[str, str]) -> net.NetworkPolicyPeerArgs:
    """Pods with ``pods`` labels in ``namespace``: both named, as every allow does."""
    return net.NetworkPolicyPeerArgs(
        namespace_selector=_pods({NAMESPACE_NAME_LABEL: namespace}), pod_selector=_pods(pods)
    )


def _block(cidr: str) -> net.NetworkPolicyPeerArgs:
    return net.NetworkPolicyPeerArgs(ip_block=net.IPBlockArgs(cidr=cidr))


def _tcp(port: Port) -> list[net.NetworkPolicyPortArgs]:
    return [net.NetworkPolicyPortArgs(port=port, protocol="TCP")]


def _dns_ports() -> list[net.NetworkPolicyPortArgs]:
    return [
        net.NetworkPolicyPortArgs(port=DNS_PORT, protocol="UDP"),
        net.NetworkPolicyPortArgs(port=DNS_PORT, protocol="TCP"),
    ]


def _egress_rule(target: EgressTarget) -> net.NetworkPolicyEgressRuleArgs:
    if target.namespace is not None:
        peers = [_peer(target.namespace, target.pod_labels)]
    else:
        peers = [_block(cidr) for cidr in target.cidrs]
    ports = [net.NetworkPolicyPortArgs(port=p.port, protocol=p.protocol) for p in target.ports]
    return net.NetworkPolicyEgressRuleArgs(to=peers, ports=ports)


def _flows(plan: DraftBlueprint) -> list[Flow]:
    """The draft's own traffic inside its namespace: who talks to whom, on which port."""
    settings = plan.settings
    release = plan.names.helm_release
    app = {RELEASE_LABEL: release}

    def component(name: str) -> dict[str, str]:
        return {COMPONENT_LABEL: name, PART_OF_LABEL: release}

    flows: list[Flow] = []
    if settings.smoke.enabled:
        flows.append(("allow-app", app, [component("smoke")], settings.network.app_port))
    if settings.database.mode == "statefulset":
        clients = [app, component("migrations")] if settings.migrations.enabled else [app]
        flows.append(("allow-database", plan.selector(DB_NAME), clients, DB_PORT))
    for mock in settings.mocks:
        flows.append((f"allow-mock-{mock.name}", plan.selector(mock.name), [app], mock.port))
    return flows


def _specs(plan: DraftBlueprint) -> dict[str, net.NetworkPolicySpecArgs]:
    settings = plan.settings
    network = settings.network
    namespace = plan.namespace
    app = _pods({RELEASE_LABEL: plan.names.helm_release})

    def inside(pods: dict[str, str]) -> net.NetworkPolicyPeerArgs:
        return _peer(namespace, pods)

    ingress: dict[str, tuple[meta.LabelSelectorArgs, list[net.NetworkPolicyIngressRuleArgs]]] = {}

    def allow_in(
        policy: str, target: meta.LabelSelectorArgs, rule: net.NetworkPolicyIngressRuleArgs
    ) -> None:
        ingress.setdefault(policy, (target, []))[1].append(rule)

    controller = [
        _peer(network.ingress_controller_namespace, network.ingress_controller_pod_labels)
    ]
    controller += [_block(cidr) for cidr in network.ingress_controller_node_cidrs]
    allow_in(
        "allow-app",
        app,
        net.NetworkPolicyIngressRuleArgs(from_=controller, ports=_tcp(network.app_port)),
    )
    egress_in_namespace = []
    for policy, target, sources, port in _flows(plan):
        allow_in(
            policy,
            _pods(target),
            net.NetworkPolicyIngressRuleArgs(from_=[inside(s) for s in sources], ports=_tcp(port)),
        )
        egress_in_namespace.append(
            net.NetworkPolicyEgressRuleArgs(to=[inside(target)], ports=_tcp(port))
        )
    if settings.monitoring.enabled and network.monitoring_namespace is not None:
        scraper = _peer(network.monitoring_namespace, network.monitoring_pod_labels)
        allow_in(
            "allow-monitoring",
            app,
            net.NetworkPolicyIngressRuleArgs(from_=[scraper], ports=_tcp(network.metrics_port)),
        )

    dns = [_peer(network.dns_namespace, network.dns_pod_labels)]
    if network.node_local_dns.enabled:
        dns.append(_block(f"{network.node_local_dns.address}/32"))
    specs = {
        # The policy pack's draft-default-deny: every pod, both directions, no rules.
        "default-deny": net.NetworkPolicySpecArgs(
            pod_selector=ALL_PODS, policy_types=["Ingress", "Egress"]
        ),
        "allow-dns": net.NetworkPolicySpecArgs(
            pod_selector=ALL_PODS,
            policy_types=["Egress"],
            egress=[net.NetworkPolicyEgressRuleArgs(to=dns, ports=_dns_ports())],
        ),
    }
    for policy, (selected, rules) in ingress.items():
        specs[policy] = net.NetworkPolicySpecArgs(
            pod_selector=selected, policy_types=["Ingress"], ingress=rules
        )
    if egress_in_namespace:
        specs["allow-namespace-egress"] = net.NetworkPolicySpecArgs(
            pod_selector=ALL_PODS, policy_types=["Egress"], egress=egress_in_namespace
        )
    for extra in network.egress:
        specs[f"allow-egress-{extra.name}"] = net.NetworkPolicySpecArgs(
            pod_selector=ALL_PODS, policy_types=["Egress"], egress=[_egress_rule(extra)]
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
