"""Alerts for one draft: a PrometheusRule evaluated every ``draft:monitoring.interval`` (5m).

Metrics and alert routing are shared with Dev; every expression carries the shared draft
filter ``namespace=~"draft-.*"`` (what Dev's routes and silences match on) and the draft's
own namespace, so one draft's rule never fires for another. The 5xx ratio counts both
ingress controllers a cluster may run: ingress-nginx (``nginx_ingress_controller_requests``,
the draft's namespace in ``exported_namespace``) and Traefik
(``traefik_service_requests_total``, whose ``service`` label starts with the namespace);
a controller without series adds nothing. The rule carries ``draft:monitoring.ruleLabels``
(default ``release: kube-prometheus-stack``, what that chart's Prometheus selects).

``five_xx_ratio`` is the one place the 5xx expression is written: the alert uses it over
``draft:monitoring.errorWindow`` against ``errorRatioThreshold``, and ``envctl draft up
--watch`` (``automation/lifecycle/watch.py``) queries it over the time since the deploy.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes.apiextensions as apiextensions

from components.draft.blueprint import DraftBlueprint
from components.draft.workload import metadata

PROMETHEUS_API = "monitoring.coreos.com/v1"
DRAFT_NAMESPACES = 'namespace=~"draft-.*"'


def five_xx_ratio(ns: str, window: str) -> str:
    """Share of the draft's requests answered 5xx over ``window`` (a PromQL duration such as
    ``5m`` or ``90s``), ingress-nginx and Traefik; NaN when there were no requests."""
    nginx = f'nginx_ingress_controller_requests{{exported_namespace=~"draft-.*",exported_namespace="{ns}"'
    traefik = f'traefik_service_requests_total{{service=~"draft-.*",service=~"{ns}-.*"'
    nginx_5xx, traefik_5xx = nginx + ',status=~"5.."', traefik + ',code=~"5.."'

    def rate(selector: str) -> str:
        return f"(sum(rate({selector}}}[{window}])) or vector(0))"

    errors = f"{rate(nginx_5xx)} + {rate(traefik_5xx)}"
    total = f"{rate(nginx)} + {rate(traefik)}"
    return f"({errors}) / ({total})"


def alert_rules(plan: DraftBlueprint) -> list[dict[str, Any]]:
    """The draft's alerts; every selector is scoped to draft namespaces and to this one."""
    ns = plan.namespace
    monitoring = plan.settings.monitoring
    threshold = monitoring.error_ratio_threshold
    scope = f'{DRAFT_NAMESPACES},namespace="{ns}"'
    labels = {"severity": "warning", "environment": "draft", "namespace": ns}
    link = {
        "draft_url": plan.url,
        "logs": f"kubectl -n {ns} logs -l app.kubernetes.io/instance={plan.names.helm_release}",
    }
    return [
        {
            "alert": "DraftPodCrashLooping",
            "expr": f'max by (namespace, pod, container) (kube_pod_container_status_waiting_reason{{{scope},reason="CrashLoopBackOff"}}) > 0',
            "for": "5m",
            "labels": labels,
            "annotations": {"summary": f"A pod of draft {ns} is crash-looping", **link},
        },
        {
            "alert": "DraftPodNotReady",
            "expr": f'sum by (namespace, pod) (kube_pod_status_ready{{{scope},condition="false"}}) > 0',
            "for": "10m",
            "labels": labels,
            "annotations": {
                "summary": f"A pod of draft {ns} has not been ready for 10 minutes",
                **link,
            },
        },
        {
            "alert": "DraftHigh5xxRate",
            "expr": f"{five_xx_ratio(ns, monitoring.error_window)} > {threshold:g}",
            "for": "5m",
            "labels": labels,
            "annotations": {
                "summary": f"More than {threshold * 100:g}% of requests to draft {ns} fail with 5xx",
                **link,
            },
        },
    ]


def create_alerts(
    name: str,
    plan: DraftBlueprint,
    namespace: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> apiextensions.CustomResource:
    """The PrometheusRule (needs the Prometheus Operator's CRDs in the cluster)."""
    settings = plan.settings.monitoring
    return apiextensions.CustomResource(
        f"{name}-alerts",
        api_version=PROMETHEUS_API,
        kind="PrometheusRule",
        metadata=metadata(
            "draft-alerts", namespace, {**plan.object_labels("monitoring"), **settings.rule_labels}
        ),
        spec={
            "groups": [
                {
                    "name": f"{plan.namespace}.rules",
                    "interval": settings.interval,
                    "rules": alert_rules(plan),
                }
            ]
        },
        opts=opts,
    )
