"""Every pod-bearing kind in a draft namespace, each sharing the node's network, PID and IPC
namespaces, mounting the Docker socket and a node directory, with one container that reaches
the node (hostPort, allowPrivilegeEscalation, SYS_ADMIN) and one that stays inside the
restricted profile (NET_BIND_SERVICE only, escalation off), plus a Helm release asking for
the same."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

APP_CHART = str(Path(__file__).resolve().parents[2] / "charts" / "values-only")

NAMESPACE = "draft-escaping"
expires = datetime.now(UTC) + timedelta(hours=24)
LIMITS = {"limits": {"cpu": "100m", "memory": "64Mi"}}

ns = k8s.core.v1.Namespace(
    "draft",
    metadata={
        "name": NAMESPACE,
        "labels": {
            "environments.dev/expires-at": expires.strftime("%Y%m%dT%H%M%SZ"),
            "pod-security.kubernetes.io/enforce": "restricted",
        },
    },
)
inside = pulumi.ResourceOptions(depends_on=[ns])
k8s.core.v1.ResourceQuota(
    "quota",
    metadata={"namespace": NAMESPACE, "name": "draft"},
    spec={"hard": {"limits.cpu": "2", "limits.memory": "2Gi"}},
    opts=inside,
)
k8s.core.v1.LimitRange(
    "limits",
    metadata={"namespace": NAMESPACE, "name": "draft"},
    spec={"limits": [{"type": "Container", "default": {"cpu": "100m", "memory": "64Mi"}}]},
    opts=inside,
)
k8s.networking.v1.NetworkPolicy(
    "default-deny",
    metadata={"namespace": NAMESPACE, "name": "default-deny"},
    spec={"pod_selector": {}, "policy_types": ["Ingress", "Egress"]},
    opts=inside,
)


def pod(name: str) -> dict[str, object]:
    escaping = {
        "name": "escape",
        "image": "registry.example.com/escape:1.0",
        "resources": LIMITS,
        "ports": [{"container_port": 8080}, {"container_port": 9090, "host_port": 9090}],
        "security_context": {
            "allow_privilege_escalation": True,
            "capabilities": {"add": ["NET_BIND_SERVICE", "SYS_ADMIN"], "drop": ["ALL"]},
        },
    }
    restricted = {
        "name": "web",
        "image": "registry.example.com/web:1.0",
        "resources": LIMITS,
        "ports": [{"container_port": 80}],
        "security_context": {
            "allow_privilege_escalation": False,
            "capabilities": {"add": ["net_bind_service"], "drop": ["ALL"]},
        },
    }
    init = {
        "name": "init",
        "image": "registry.example.com/init:1.0",
        "resources": LIMITS,
        "security_context": {"capabilities": {"add": ["CAP_NET_ADMIN"]}},
    }
    return {
        "containers": [escaping, restricted],
        "init_containers": [init],
        "host_network": True,
        "host_pid": True,
        "host_ipc": True,
        "volumes": [
            {"name": "cache", "empty_dir": {}},
            {"name": "docker", "host_path": {"path": "/var/run/docker.sock", "type": "Socket"}},
            {"name": "logs", "host_path": {"path": "/var/log/pods"}},
        ],
    }


def template(name: str) -> dict[str, object]:
    return {"metadata": {"labels": {"app": name}}, "spec": pod(name)}


def meta(name: str) -> dict[str, str]:
    return {"namespace": NAMESPACE, "name": name}


selector = {"match_labels": {"app": "x"}}
k8s.core.v1.Pod("pod", metadata=meta("pod"), spec=pod("pod"), opts=inside)
k8s.core.v1.PodTemplate("pod-template", metadata=meta("t"), template=template("t"), opts=inside)
k8s.core.v1.ReplicationController(
    "rc", metadata=meta("rc"), spec={"template": template("rc")}, opts=inside
)
for kind, cls in [
    ("deployment", k8s.apps.v1.Deployment),
    ("stateful-set", k8s.apps.v1.StatefulSet),
    ("daemon-set", k8s.apps.v1.DaemonSet),
    ("replica-set", k8s.apps.v1.ReplicaSet),
]:
    extra = {"service_name": kind} if kind == "stateful-set" else {}
    cls(
        kind,
        metadata=meta(kind),
        spec={"selector": selector, "template": template("x"), **extra},
        opts=inside,
    )
job_template = {
    "metadata": {"labels": {"app": "job"}},
    "spec": {**pod("job"), "restart_policy": "Never"},
}
k8s.batch.v1.Job("job", metadata=meta("job"), spec={"template": job_template}, opts=inside)
k8s.batch.v1.CronJob(
    "cron-job",
    metadata=meta("cron"),
    spec={"schedule": "@daily", "job_template": {"spec": {"template": job_template}}},
    opts=inside,
)

k8s.helm.v3.Release(
    "app",
    chart=APP_CHART,
    namespace=NAMESPACE,
    values={
        "image": {"tag": "1.0"},
        "containerSecurityContext": {"allowPrivilegeEscalation": True},
        "ports": {"metrics": {"hostPort": 9100}},
        "hostPID": True,
        "extraVolumes": [{"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}],
    },
    opts=inside,
)
