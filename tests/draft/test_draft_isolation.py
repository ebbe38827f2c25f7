"""The draft's NetworkPolicies admit exactly the flows a draft has, and nothing else.

The policies the program registers are evaluated as the NetworkPolicy API defines them (a
pod selected by no policy of a direction is open in it; otherwise a flow needs one rule
whose peer and port match, on both the sender's egress and the receiver's ingress side;
named ports resolve on the receiving pod) against pods whose labels and ports come from the
plan itself (the StatefulSet, the Jobs, the mock Deployments) and from the chart's labels.
The test cluster's simulated pods (kwok) do not enforce NetworkPolicies, so this is where
the rules are checked.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml

from tests.draft.conftest import NS, REPO, STACK, Draft, draft, envctl

NAME = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class Pod:
    """A sender or receiver: a pod (namespace, labels, named ports) or a bare address."""

    namespace: str | None
    labels: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    ip: str | None = None  # host-network pods and nodes: only ipBlock peers match them


def _policies(plan: Draft) -> list[dict[str, Any]]:
    found = [p.inputs for p in plan.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")]
    assert all(p["metadata"]["namespace"] == NS for p in found)
    return [p["spec"] for p in found]


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, selector  # the draft uses matchLabels only
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def _peer(peer: dict[str, Any], pod: Pod) -> bool:
    if "ipBlock" in peer:
        block = ipaddress.ip_network(peer["ipBlock"]["cidr"])
        return pod.ip is not None and ipaddress.ip_address(pod.ip) in block
    if pod.namespace is None:
        return False
    namespaces = peer.get("namespaceSelector")
    in_namespace = (
        _selects(namespaces, {NAME: pod.namespace})
        if namespaces is not None
        else pod.namespace == NS
    )
    return in_namespace and _selects(peer.get("podSelector", {}), pod.labels)


def _port(ports: list[dict[str, Any]] | None, receiver: Pod, port: int, protocol: str) -> bool:
    if not ports:
        return True
    return any(
        p.get("protocol", "TCP") == protocol and port in (p["port"], receiver.ports.get(p["port"]))
        for p in ports
    )


def _side(
    specs: list[dict[str, Any]],
    kind: str,
    own: Pod,
    other: Pod,
    receiver: Pod,
    port: int,
    proto: str,
) -> bool:
    """Whether the policies of ``own``'s namespace let ``own`` talk with ``other``."""
    if own.namespace != NS:
        return True  # another namespace's policies are not the draft's
    rules_key, peers_key = ("ingress", "from") if kind == "Ingress" else ("egress", "to")
    selecting = [
        s for s in specs if kind in s["policyTypes"] and _selects(s["podSelector"], own.labels)
    ]
    if not selecting:
        return True
    return any(
        any(_peer(peer, other) for peer in rule.get(peers_key) or [])
        and _port(rule.get("ports"), receiver, port, proto)
        for spec in selecting
        for rule in spec.get(rules_key, [])
    )


def allowed(plan: Draft, sender: Pod, receiver: Pod, port: int, proto: str = "TCP") -> bool:
    specs = _policies(plan)
    return _side(specs, "Egress", sender, receiver, receiver, port, proto) and _side(
        specs, "Ingress", receiver, sender, receiver, port, proto
    )


def _template(plan: Draft, name: str) -> Pod:
    """A pod of a workload the program registers, with its labels and named ports."""
    spec = plan.named(name).inputs["spec"]["template"]
    ports = {
        p["name"]: p["containerPort"]
        for c in spec["spec"]["containers"]
        for p in c.get("ports", [])
        if "name" in p
    }
    return Pod(NS, dict(spec["metadata"]["labels"]), ports)


def _app() -> Pod:
    """A pod of the chart's Deployment: its selector labels (_helpers.tpl) and port http."""
    chart = yaml.safe_load((REPO / "charts/app/Chart.yaml").read_text())
    labels = {"app.kubernetes.io/name": chart["name"], "app.kubernetes.io/instance": STACK}
    return Pod(NS, labels, {"http": 8080})


CONTROLLER = Pod("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"})
PROMETHEUS = Pod("monitoring", {"app.kubernetes.io/name": "prometheus"})
DNS = Pod("kube-system", {"k8s-app": "kube-dns"})


@pytest.fixture(scope="module")
def plan() -> Draft:
    return draft()


def test_every_pod_is_denied_both_ways_by_default(plan: Draft) -> None:
    deny = next(
        s
        for s in _policies(plan)
        if s["podSelector"] == {} and "ingress" not in s and "egress" not in s
    )
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"}
    stranger = Pod(NS, {"app.kubernetes.io/name": "debug"}, {"http": 8080})
    assert not allowed(plan, stranger, _template(plan, "draft-db"), 5432)
    assert not allowed(plan, _app(), stranger, 8080)


def test_the_app_is_reached_by_the_ingress_controller_and_the_smoke_test_on_its_port_only(
    plan: Draft,
) -> None:
    app, smoke = _app(), _template(plan, "draft-smoke")
    assert allowed(plan, CONTROLLER, app, 8080)
    assert allowed(plan, smoke, app, 8080)
    assert not allowed(plan, CONTROLLER, app, 9090)
    # Another pod of the controller's namespace (e.g. its admission webhook job) is not it.
    assert not allowed(plan, Pod("ingress-nginx", {"app": "something-else"}), app, 8080)
    assert not allowed(plan, CONTROLLER, _template(plan, "draft-db"), 5432)


def test_the_database_admits_the_app_and_migrations_and_nobody_else(plan: Draft) -> None:
    db = _template(plan, "draft-db")
    assert allowed(plan, _app(), db, 5432)
    assert allowed(plan, _template(plan, "draft-migrations"), db, 5432)
    for intruder in (
        _template(plan, "draft-smoke"),
        _template(plan, "draft-mock-payments-mock"),
        PROMETHEUS,
        CONTROLLER,
    ):
        assert not allowed(plan, intruder, db, 5432), intruder


def test_monitoring_scrapes_only_the_app_from_prometheus_pods(plan: Draft) -> None:
    assert allowed(plan, PROMETHEUS, _app(), 8080)
    assert not allowed(plan, Pod("monitoring", {"app": "grafana"}), _app(), 8080)
    assert not allowed(plan, PROMETHEUS, _template(plan, "draft-db"), 5432)
    assert not allowed(plan, PROMETHEUS, _template(plan, "draft-mock-payments-mock"), 8080)
    assert not allowed(draft("draft:monitoring.enabled=false"), PROMETHEUS, _app(), 8080)


def test_mocks_are_reached_by_the_app_on_their_port(plan: Draft) -> None:
    mock = _template(plan, "draft-mock-payments-mock")
    assert allowed(plan, _app(), mock, 8080)
    assert not allowed(plan, _template(plan, "draft-smoke"), mock, 8080)
    assert not allowed(plan, _app(), mock, 9999)


def test_dns_goes_to_the_dns_pods_on_53_only(plan: Draft) -> None:
    for pod in (_app(), _template(plan, "draft-migrations"), _template(plan, "draft-smoke")):
        assert allowed(plan, pod, DNS, 53, "UDP") and allowed(plan, pod, DNS, 53, "TCP")
        assert not allowed(plan, pod, DNS, 443)
        assert not allowed(
            plan, pod, Pod("kube-system", {"component": "kube-apiserver"}), 53, "UDP"
        )
    assert not allowed(plan, _app(), Pod(None, ip="169.254.20.10"), 53, "UDP")


def test_node_local_dns_is_reached_when_enabled() -> None:
    plan = draft("draft:network.nodeLocalDns.enabled=true")
    cache = Pod(None, ip="169.254.20.10")
    assert allowed(plan, _app(), cache, 53, "UDP") and allowed(plan, _app(), cache, 53, "TCP")
    assert not allowed(plan, _app(), cache, 80)
    other = draft(
        "draft:network.nodeLocalDns.enabled=true", "draft:network.nodeLocalDns.address=169.254.0.53"
    )
    assert allowed(other, _app(), Pod(None, ip="169.254.0.53"), 53, "UDP")


def test_a_host_network_ingress_controller_is_admitted_from_the_node_cidrs_only() -> None:
    node = Pod(None, ip="10.0.0.5")
    assert not allowed(draft(), node, _app(), 8080)
    plan = draft("draft:network.ingressControllerNodeCidrs[0]=10.0.0.0/24")
    assert allowed(plan, node, _app(), 8080)
    assert not allowed(plan, node, _app(), 22)
    assert not allowed(plan, node, _template(plan, "draft-db"), 5432)
    assert not allowed(plan, Pod(None, ip="10.0.1.5"), _app(), 8080)


def test_no_draft_pod_reaches_vault_the_registry_or_another_namespace(plan: Draft) -> None:
    pods = [_app(), _template(plan, "draft-migrations"), _template(plan, "draft-smoke")]
    pods += [_template(plan, "draft-db"), _template(plan, "draft-mock-payments-mock")]
    vault = Pod("vault", {"app.kubernetes.io/name": "vault"})
    for pod in pods:
        assert not allowed(plan, pod, vault, 8200)
        assert not allowed(plan, pod, Pod(None, ip="192.0.2.10"), 443)
        assert not allowed(
            plan, pod, Pod("prod", {"app.kubernetes.io/name": "app"}, {"http": 8080}), 8080
        )
        assert not allowed(plan, Pod("prod", {}), pod, 8080)


def test_a_configured_egress_target_is_reached_on_its_ports() -> None:
    rule = "draft:network.egress[0]"
    plan = draft(
        f"{rule}.name=sandbox",
        f"{rule}.namespace=sandbox-api",
        f"{rule}.podLabels.app=api",
        f"{rule}.ports[0].port=443",
    )
    api = Pod("sandbox-api", {"app": "api"})
    assert allowed(plan, _app(), api, 443)
    assert not allowed(plan, _app(), api, 80)
    assert not allowed(plan, _app(), Pod("sandbox-api", {"app": "other"}), 443)


def test_every_allow_names_namespace_pods_and_ports(plan: Draft) -> None:
    for spec in _policies(plan):
        for rule in [*spec.get("ingress", []), *spec.get("egress", [])]:
            assert rule.get("ports"), spec
            for peer in rule.get("from", rule.get("to", [])):
                assert "ipBlock" in peer or (
                    NAME in peer["namespaceSelector"]["matchLabels"]
                    and peer["podSelector"]["matchLabels"]
                ), peer


@pytest.mark.parametrize("namespace", ["prod", "staging", "dev"])
def test_egress_to_dev_stage_or_prod_is_refused(namespace: str) -> None:
    rule = "draft:network.egress[0]"
    run = envctl(
        "plan",
        STACK,
        *("--set", f"{rule}.name=sneaky"),
        *("--set", f"{rule}.namespace={namespace}"),
        *("--set", f"{rule}.podLabels.app=db"),
        *("--set", f"{rule}.ports[0].port=5432"),
    )
    assert run.code == 2, run.stderr
    assert "draft:network" in run.stderr and "forbidden namespace" in run.stderr


def test_a_namespace_target_without_pod_labels_is_refused() -> None:
    rule = "draft:network.egress[0]"
    run = envctl(
        "plan",
        STACK,
        *("--set", f"{rule}.name=api"),
        *("--set", f"{rule}.namespace=sandbox-api"),
        *("--set", f"{rule}.ports[0].port=443"),
    )
    assert run.code == 2, run.stderr
    assert "draft:network.egress[0]" in run.stderr and "podLabels" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("setting", "key"),
    [
        ("draft:network.ingressControllerNodeCidrs[0]=0.0.0.0/0", "ingressControllerNodeCidrs"),
        ("draft:network.ingressControllerNodeCidrs[0]=10.0.0.300/24", "ingressControllerNodeCidrs"),
        ("draft:network.nodeLocalDns.address=local-dns", "draft:network.nodeLocalDns.address"),
        ("draft:network.appPort=0", "draft:network.appPort"),
        ("draft:network.metricsPort=Metrics_Port", "draft:network.metricsPort"),
        ("draft:network.monitoringNamespace=prod", "monitoringNamespace"),
    ],
)
def test_bad_network_settings_exit_2_naming_the_key(setting: str, key: str) -> None:
    run = envctl("plan", STACK, "--set", setting)
    assert run.code == 2, run.stderr
    assert key in run.stderr and "Traceback" not in run.stderr
