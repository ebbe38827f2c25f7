"""A draft that outlives its branch and escapes its namespace."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pulumi_kubernetes as k8s

APP_CHART = str(Path(__file__).resolve().parents[2] / "charts" / "values-only")

week = datetime.now(UTC) + timedelta(days=7)

# "Keep it for the demo next week."
k8s.core.v1.Namespace(
    "draft",
    metadata={
        "name": "draft-careless",
        "labels": {"environments.dev/expires-at": week.strftime("%Y%m%dT%H%M%SZ")},
        "annotations": {"environments.dev/expires-at": week.isoformat()},
    },
)
# No expiry at all.
k8s.core.v1.Namespace("scratch", metadata={"name": "draft-scratch"})

k8s.apps.v1.Deployment(
    "web",
    metadata={"namespace": "draft-careless", "name": "web"},
    spec={
        "selector": {"match_labels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "host_network": True,
                "init_containers": [{"name": "wait", "image": "busybox"}],
                "containers": [
                    {
                        "name": "web",
                        "image": "nginx:latest",
                        "security_context": {"privileged": True},
                    }
                ],
            },
        },
    },
)

k8s.core.v1.Service(
    "web-public",
    metadata={"namespace": "draft-careless", "name": "web-public"},
    spec={"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80}]},
)

k8s.helm.v3.Release(
    "app",
    chart=APP_CHART,
    namespace="draft-careless",
    values={"image": {"tag": "latest"}, "service": {"type": "LoadBalancer"}},
)
