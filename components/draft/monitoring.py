"""Alerts for one draft: a PrometheusRule evaluated every ``draft:monitoring.interval`` (5m).

Metrics and alert routing are shared with Dev; every expression carries the shared draft
filter ``namespace=~"draft-.*"`` (what Dev's routes and silences match on) and the draft's
own namespace, so one draft's rule never fires for another.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes.apiextensions as apiextensions

from components.draft.blueprint import DraftBlueprint
from components.draft.workload import metadata

PROMETHEUS_API = "monitoring.coreos.com/v1"
DRAFT_NAMESPACES = 'namespace=~"draft-.*"'


def alert_rules(plan: DraftBlueprint) -> list[dict[str, Any]]:
    """The draft's alerts; every selector is scoped to draft namespaces and to this one."""
    ns = plan.namespace
    scope = f'{DRAFT_NAMESPACES},namespace="{ns}"'
    ingress_scope = f'exported_namespace=~"draft-.*",exported_namespace="{ns}"'
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
            "expr": (
                f'sum(rate(nginx_ingress_controller_requests{{{ingress_scope},status=~"5.."}}[5m]))'
                f" / sum(rate(nginx_ingress_controller_requests{{{ingress_scope}}}[5m])) > 0.05"
            ),
            "for": "5m",
            "labels": labels,
            "annotations": {
                "summary": f"More than 5% of requests to draft {ns} fail with 5xx",
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
