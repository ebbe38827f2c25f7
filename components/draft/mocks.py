"""Mock services: stand-ins for external integrations, each a Deployment and a ClusterIP Service.

The app finds them through the ``mocks`` Helm value (name -> in-namespace URL); the values
file switches the app's integrations to mock mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes.apps.v1 as apps
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta

from components.draft.blueprint import DraftBlueprint
from components.draft.settings import MockService
from components.draft.workload import container_security, metadata, pod_security, resources


@dataclass(frozen=True)
class MockDeployment:
    """One mock service: its pods and its Service."""

    deployment: apps.Deployment
    service: core.Service


def _mock(
    name: str,
    mock: MockService,
    plan: DraftBlueprint,
    namespace: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> MockDeployment:
    labels = plan.object_labels("mock")
    selector = {
        "app.kubernetes.io/name": mock.name,
        "app.kubernetes.io/part-of": plan.names.helm_release,
    }
    deployment = apps.Deployment(
        f"{name}-mock-{mock.name}",
        metadata=metadata(mock.name, namespace, labels),
        spec=apps.DeploymentSpecArgs(
            replicas=1,
            selector=meta.LabelSelectorArgs(match_labels=selector),
            template=core.PodTemplateSpecArgs(
                metadata=meta.ObjectMetaArgs(labels={**labels, **selector}),
                spec=core.PodSpecArgs(
                    automount_service_account_token=False,
                    security_context=pod_security(mock.run_as_user),
                    containers=[
                        core.ContainerArgs(
                            name=mock.name,
                            image=mock.image,
                            ports=[core.ContainerPortArgs(name="http", container_port=mock.port)],
                            env=[
                                core.EnvVarArgs(name=k, value=v)
                                for k, v in sorted(mock.env.items())
                            ]
                            or None,
                            readiness_probe=core.ProbeArgs(
                                tcp_socket=core.TCPSocketActionArgs(port="http"),
                                period_seconds=5,
                            ),
                            resources=resources(mock.resources),
                            security_context=container_security(read_only_root=False),
                        )
                    ],
                ),
            ),
        ),
        opts=opts,
    )
    service = core.Service(
        f"{name}-mock-{mock.name}-service",
        metadata=metadata(mock.name, namespace, labels),
        spec=core.ServiceSpecArgs(
            type="ClusterIP",
            selector=selector,
            ports=[core.ServicePortArgs(name="http", port=mock.port, target_port="http")],
        ),
        opts=opts,
    )
    return MockDeployment(deployment, service)


def create_mocks(
    name: str,
    plan: DraftBlueprint,
    namespace: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> dict[str, MockDeployment]:
    """Every configured mock service, by name."""
    return {mock.name: _mock(name, mock, plan, namespace, opts) for mock in plan.settings.mocks}
