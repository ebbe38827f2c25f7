"""The app: one Helm release of the configured chart with the draft's merged values.

``atomic``: a release whose pods never become ready is rolled back (and a first install
purged), and the update fails. The values were validated against the chart's
``values.schema.json`` before anything was registered (``blueprint``).
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes.helm.v3 as helm

from components.draft.blueprint import DraftBlueprint

MAX_HISTORY = 5


def create_release(
    name: str,
    plan: DraftBlueprint,
    namespace: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> helm.Release:
    """The release ``draft-<slug>`` in the draft's namespace."""
    chart = plan.chart
    settings = plan.settings.chart
    return helm.Release(
        f"{name}-release",
        name=plan.names.helm_release,
        namespace=namespace,
        chart=chart.chart,
        version=chart.version,
        repository_opts=helm.RepositoryOptsArgs(repo=chart.repository)
        if chart.repository is not None
        else None,
        # Secret when draft:chart was set with --secret (Pulumi marks the whole key).
        values=plan.settings.keep_secret("chart", plan.values),
        atomic=True,
        cleanup_on_fail=True,
        wait_for_jobs=True,
        timeout=settings.timeout_seconds,
        max_history=MAX_HISTORY,
        create_namespace=False,
        description=f"draft of {plan.names.branch} at {plan.image_tag}",
        opts=pulumi.ResourceOptions.merge(
            opts,
            pulumi.ResourceOptions(
                custom_timeouts=pulumi.CustomTimeouts(
                    create=f"{settings.timeout_seconds + 120}s",
                    update=f"{settings.timeout_seconds + 120}s",
                )
            ),
        ),
    )
