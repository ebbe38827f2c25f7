"""NetworkPolicies that open a default-deny draft back up: rules without peers, empty peers,
every namespace (with or without a pod label), and the whole internet both ways."""

import pulumi_kubernetes as k8s

NAMESPACE = "draft-network"


def policy(name: str, **spec: object) -> None:
    k8s.networking.v1.NetworkPolicy(
        name,
        metadata={"namespace": NAMESPACE, "name": name},
        spec={"pod_selector": {"match_labels": {"app": "web"}}, **spec},
    )


k8s.networking.v1.NetworkPolicy(
    "default-deny",
    metadata={"namespace": NAMESPACE, "name": "default-deny"},
    spec={"pod_selector": {}, "policy_types": ["Ingress", "Egress"]},
)
# "Only port 80" - from everywhere.
policy("port-80", policy_types=["Ingress"], ingress=[{"ports": [{"port": 80}]}])
# An empty peer matches everything.
policy("empty-peer", policy_types=["Ingress"], ingress=[{"from_": [{}]}])
# Every namespace, and every namespace's pods that call themselves prometheus.
policy(
    "all-namespaces",
    policy_types=["Ingress"],
    ingress=[
        {
            "from_": [
                {"namespace_selector": {}},
                {"namespace_selector": {}, "pod_selector": {"match_labels": {"app": "prometheus"}}},
            ]
        }
    ],
)
# The internet, in and out.
policy(
    "internet",
    policy_types=["Ingress", "Egress"],
    ingress=[{"from_": [{"ip_block": {"cidr": "0.0.0.0/0"}}]}],
    egress=[
        {"to": [{"ip_block": {"cidr": "0.0.0.0/0", "except_": ["10.0.0.0/8"]}}]},
        {"to": [{"ip_block": {"cidr": "::/0"}}]},
    ],
)
# DNS to any server is a way out too.
policy(
    "dns-anywhere", policy_types=["Egress"], egress=[{"ports": [{"port": 53, "protocol": "UDP"}]}]
)
