"""The draft's PrometheusRule: selected by a usual kube-prometheus-stack, 5xx from either
ingress controller."""

from __future__ import annotations

import pytest

from tests.draft.conftest import NS, Draft, draft

RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"


@pytest.fixture(scope="module")
def plan() -> Draft:
    return draft()


def five_xx(plan: Draft) -> str:
    (group,) = plan.one(RULE).inputs["spec"]["groups"]
    (rule,) = [r for r in group["rules"] if r["alert"] == "DraftHigh5xxRate"]
    return str(rule["expr"])


def test_a_usual_kube_prometheus_stack_selects_the_rule_by_default(plan: Draft) -> None:
    labels = plan.one(RULE).inputs["metadata"]["labels"]
    assert labels["release"] == "kube-prometheus-stack"


def test_the_rule_labels_are_configurable() -> None:
    labels = (
        draft("draft:monitoring.ruleLabels.release=monitoring")
        .one(RULE)
        .inputs["metadata"]["labels"]
    )
    assert labels["release"] == "monitoring"


def test_the_5xx_ratio_counts_ingress_nginx_and_traefik_for_this_draft_only(
    plan: Draft,
) -> None:
    expr = five_xx(plan)
    assert expr.endswith(" > 0.05")
    nginx = f'exported_namespace=~"draft-.*",exported_namespace="{NS}"'
    traefik = f'service=~"draft-.*",service=~"{NS}-.*"'
    assert expr.count(f"nginx_ingress_controller_requests{{{nginx}") == 2  # 5xx and all
    assert expr.count(f"traefik_service_requests_total{{{traefik}") == 2
    assert f'{nginx},status=~"5.."' in expr and f'{traefik},code=~"5.."' in expr
    # a cluster with one controller only: the other adds zero instead of emptying the sum
    assert expr.count("or vector(0)") == 4
