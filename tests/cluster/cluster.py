"""A real Kubernetes API for tests: etcd, kube-apiserver, kube-controller-manager, kube-scheduler
and kwok, built by `make toolchain`, started on loopback, stopped by pid.

Real: the API server (validation, admission incl. Pod Security, RBAC, CRDs, namespace
finalization) and the controllers (Jobs, ReplicaSets, StatefulSets, garbage collection,
namespace deletion, service accounts). Simulated by kwok: the node and the kubelet, so pods
become Running and Ready and Job pods complete (kwok's own stages, ``stages.yaml``); the pods
of Jobs a test names fail instead (``Cluster.fail_jobs``), as a migration that cannot reach
its database would. No container ever runs.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.conftest import REPO
from tests.engine.harness import TOOLCHAIN

PROGRAM_FILES = ("__main__.py", "Pulumi.yaml", "Pulumi.draft.yaml", "Pulumi.platform.yaml",
                 "components", "charts", "values", "scripts", "policy")  # fmt: skip
BRANCH_LABEL = "environments.dev/branch"
BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
STAGES = Path(__file__).with_name("stages.yaml")
NODE = "kwok-node-0"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


JOB_NAME = '.metadata.labels["batch.kubernetes.io/job-name"]'


def write_stages(path: Path, failing_jobs: tuple[str, ...]) -> None:
    """kwok's stages; pods of ``failing_jobs`` end Failed (exit 1) instead of Succeeded."""
    stages = [s for s in yaml.safe_load_all(STAGES.read_text()) if s]
    if failing_jobs:
        complete = next(s for s in stages if s["metadata"]["name"] == "pod-complete")
        fail = copy.deepcopy(complete)
        fail["metadata"]["name"] = "pod-fail-named-jobs"
        fail["spec"]["selector"]["matchExpressions"].append(
            {"key": JOB_NAME, "operator": "In", "values": list(failing_jobs)}
        )
        template = fail["spec"]["next"]["statusTemplate"]
        fail["spec"]["next"]["statusTemplate"] = (
            template.replace("exitCode: 0", "exitCode: 1")
            .replace("reason: Completed", "reason: Error")
            .replace("phase: Succeeded", "phase: Failed")
        )
        complete["spec"]["selector"]["matchExpressions"].append(
            {"key": JOB_NAME, "operator": "NotIn", "values": list(failing_jobs)}
        )
        stages.append(fail)
    path.write_text(yaml.safe_dump_all(stages))


def make_pki(pki: Path) -> None:
    """A CA, the API server's serving certificate, an admin client certificate, SA keys."""
    pki.mkdir(parents=True, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
             "/CN=test-cluster-ca", "-keyout", "ca.key", "-out", "ca.crt", cwd=pki)  # fmt: skip
    (pki / "san.cnf").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n"
        "extendedKeyUsage=serverAuth\n"
    )
    (pki / "client.cnf").write_text("extendedKeyUsage=clientAuth\n")
    for name, subject, ext in (
        ("apiserver", "/CN=kube-apiserver", "san.cnf"),
        ("admin", "/O=system:masters/CN=test-admin", "client.cnf"),
    ):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", subject,
                 "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=pki)  # fmt: skip
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", f"{name}.crt",
                 cwd=pki)  # fmt: skip
    _openssl("genrsa", "-out", "sa.key", "2048", cwd=pki)
    _openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=pki)


def kubeconfig(pki: Path, server: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "test", "cluster": {
            "server": server, "certificate-authority": str(pki / "ca.crt")}}],
        "users": [{"name": "admin", "user": {
            "client-certificate": str(pki / "admin.crt"), "client-key": str(pki / "admin.key")}}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "admin"}}],
        "current-context": "test",
    }  # fmt: skip


def _decoded(body: bytes) -> object:
    try:
        return json.loads(body or b"null")
    except json.JSONDecodeError:
        return body.decode(errors="replace")  # /readyz and friends answer in text


@dataclass
class Cluster:
    """A running test cluster; ``kubeconfig`` is an admin kubeconfig file."""

    root: Path
    server: str
    kubeconfig: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def _context(self) -> ssl.SSLContext:
        pki = self.root / "pki"
        context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        context.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
        return context

    def request(
        self, method: str, path: str, body: object | None = None, patch: bool = False
    ) -> tuple[int, object]:
        """One API request as the admin; returns (status, decoded JSON body)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.server + path, data=data, method=method)
        kind = "application/merge-patch+json" if patch else "application/json"
        request.add_header("Content-Type", kind)
        try:
            with urllib.request.urlopen(request, context=self._context(), timeout=30) as response:
                return response.status, _decoded(response.read())
        except urllib.error.HTTPError as error:
            return error.code, _decoded(error.read())

    def get(self, path: str) -> object:
        status, body = self.request("GET", path)
        if status != 200:
            raise LookupError(f"GET {path}: {status} {body}")
        return body

    def exists(self, path: str) -> bool:
        return self.request("GET", path)[0] == 200

    def apply(self, path: str, body: dict[str, object]) -> None:
        status, answer = self.request("POST", path, body)
        if status not in (200, 201, 409):
            raise RuntimeError(f"POST {path}: {status} {answer}")

    def items(self, path: str) -> list[dict[str, object]]:
        body = self.get(path)
        assert isinstance(body, dict)
        return list(body.get("items") or [])

    def patch_status(self, path: str, status: dict[str, object]) -> None:
        self.request("PATCH", f"{path}/status", {"status": status}, patch=True)

    def add_volumes(self, count: int, size: str = "10Gi") -> None:
        """``count`` PersistentVolumes without a class, for claims to bind (no provisioner runs)."""
        for _ in range(count):
            self.apply("/api/v1/persistentvolumes", {
                "apiVersion": "v1", "kind": "PersistentVolume",
                "metadata": {"generateName": "test-pv-"},
                "spec": {"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"],
                         "storageClassName": "", "hostPath": {"path": "/tmp/unused"},
                         "persistentVolumeReclaimPolicy": "Retain"},
            })  # fmt: skip

    def fail_jobs(self, *names: str) -> None:
        """From now on, pods of the Jobs ``names`` fail; no names: every Job succeeds again."""
        process = self.processes.pop("kwok", None)
        if process is not None:
            process.terminate()
            process.wait(timeout=20)
        _start_kwok(self, names)

    def stop(self) -> None:
        for name in reversed(list(self.processes)):
            process = self.processes.pop(name)
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _start(cluster: Cluster, name: str, *args: str) -> None:
    log = open(cluster.root / f"{name}.log", "wb")  # noqa: SIM115 (kept open for the process)
    cluster.processes[name] = subprocess.Popen(
        [str(TOOLCHAIN / name), *args], stdout=log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, cwd=cluster.root,
    )  # fmt: skip


def _healthy(cluster: Cluster) -> bool:
    for name, process in cluster.processes.items():
        if process.poll() is not None:
            tail = (cluster.root / f"{name}.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{tail}")
    try:
        return cluster.request("GET", "/readyz")[0] == 200
    except OSError:
        return False


def _start_kwok(cluster: Cluster, failing_jobs: tuple[str, ...]) -> None:
    stages = cluster.root / "stages.yaml"
    write_stages(stages, failing_jobs)
    _start(cluster, "kwok", f"--kubeconfig={cluster.kubeconfig}",
           "--manage-all-nodes=false",
           "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
           "--disregard-status-with-annotation-selector=kwok.x-k8s.io/status=custom",
           "--cidr=10.0.0.1/24", "--node-ip=10.0.0.1", "--node-lease-duration-seconds=40",
           f"--node-port={free_port()}", f"--server-address=127.0.0.1:{free_port()}",
           f"--config={stages}")  # fmt: skip


def start_cluster(root: Path) -> Cluster:
    """Start every component under ``root`` and wait until a node is Ready."""
    pki = root / "pki"
    make_pki(pki)
    etcd_port, api_port = free_port(), free_port()
    server = f"https://127.0.0.1:{api_port}"
    config = root / "kubeconfig"
    config.write_text(json.dumps(kubeconfig(pki, server)))
    cluster = Cluster(root, server, config)
    try:
        _start(cluster, "etcd", "--data-dir", str(root / "etcd"),
               "--listen-client-urls", f"http://127.0.0.1:{etcd_port}",
               "--advertise-client-urls", f"http://127.0.0.1:{etcd_port}",
               "--listen-peer-urls", f"http://127.0.0.1:{free_port()}",
               "--unsafe-no-fsync")  # fmt: skip
        _start(cluster, "kube-apiserver",
               f"--etcd-servers=http://127.0.0.1:{etcd_port}",
               "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
               f"--secure-port={api_port}",
               f"--tls-cert-file={pki / 'apiserver.crt'}",
               f"--tls-private-key-file={pki / 'apiserver.key'}",
               f"--client-ca-file={pki / 'ca.crt'}",
               f"--service-account-key-file={pki / 'sa.pub'}",
               f"--service-account-signing-key-file={pki / 'sa.key'}",
               "--service-account-issuer=https://kubernetes.default.svc",
               "--service-cluster-ip-range=10.96.0.0/16",
               "--authorization-mode=Node,RBAC", "--allow-privileged=true",
               "--profiling=false", "--endpoint-reconciler-type=none")  # fmt: skip
        wait_for(lambda: _healthy(cluster), "kube-apiserver /readyz")
        common = [f"--kubeconfig={config}", "--leader-elect=false", "--bind-address=127.0.0.1"]
        _start(cluster, "kube-controller-manager", *common,
               f"--secure-port={free_port()}",
               f"--service-account-private-key-file={pki / 'sa.key'}",
               f"--root-ca-file={pki / 'ca.crt'}",
               "--controllers=*,-nodeipam,-cloud-node-lifecycle",
               "--use-service-account-credentials=false")  # fmt: skip
        _start(cluster, "kube-scheduler", *common, f"--secure-port={free_port()}")
        _start_kwok(cluster, ())
        cluster.apply("/api/v1/nodes", {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": NODE, "annotations": {"kwok.x-k8s.io/node": "fake"},
                         "labels": {"kubernetes.io/hostname": NODE, "type": "kwok"}},
            "status": {"allocatable": {"cpu": "32", "memory": "256Gi", "pods": "200"},
                       "capacity": {"cpu": "32", "memory": "256Gi", "pods": "200"}},
        })  # fmt: skip

        def node_ready() -> bool:
            _healthy(cluster)
            node = cluster.get(f"/api/v1/nodes/{NODE}")
            assert isinstance(node, dict)
            conditions = node.get("status", {}).get("conditions") or []
            return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

        wait_for(node_ready, "the kwok node to be Ready")
        wait_for(
            lambda: cluster.exists("/api/v1/namespaces/default/serviceaccounts/default"),
            "the default service account",
        )
    except BaseException:
        cluster.stop()
        raise
    return cluster


def kubectl_env(cluster: Cluster) -> dict[str, str]:
    """Environment for the kubernetes provider and helm: this cluster's kubeconfig."""
    return {"KUBECONFIG": str(cluster.kubeconfig)}


ENVCTL = Path(sys.executable).parent / "envctl"


def pipeline_env(engine: dict[str, str], cluster: Cluster, home: Path) -> dict[str, str]:
    """What a pipeline job gives envctl here: the real CLI's environment, this cluster's
    kubeconfig, a HOME of its own (kubectl's cache), no CI (no merge-request report) and a
    Vault that does not answer (a prebuilt draft, destroy and reap need none)."""
    return {**engine, **kubectl_env(cluster), "HOME": str(home), "CI": "",
            "VAULT_ADDR": "http://127.0.0.1:9"}  # fmt: skip


def envctl(env: dict[str, str], work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``envctl ARGS --cwd WORK`` as a pipeline runs it: a command, in ``env`` only."""
    return subprocess.run(
        [str(ENVCTL), *args, "--cwd", str(work)],
        env=env, cwd=work, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def service_account_token(
    cluster: Cluster, namespace: str, account: str, audiences: tuple[str, ...] = ()
) -> str:
    """A token the API server issues for ``namespace/account`` (TokenRequest, 10 minutes),
    for ``audiences`` or, without any, for the API server itself."""
    spec: dict[str, object] = {"expirationSeconds": 600}
    if audiences:
        spec["audiences"] = list(audiences)
    status, body = cluster.request(
        "POST",
        f"/api/v1/namespaces/{namespace}/serviceaccounts/{account}/token",
        {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec},
    )
    assert status == 201 and isinstance(body, dict), body
    return str(body["status"]["token"])


def missing_binaries() -> list[str]:
    """What the cluster needs and this machine lacks (`make toolchain`, openssl)."""
    return [b for b in BINARIES if not os.access(TOOLCHAIN / b, os.X_OK)] + (
        [] if shutil.which("openssl") else ["openssl"]
    )


READY = {"type": "Ready", "status": "True", "reason": "StandIn", "message": "tests/cluster",
         "lastTransitionTime": "2026-01-01T00:00:00Z"}  # fmt: skip


def _ready(item: dict[str, object]) -> bool:
    status = item.get("status") or {}
    assert isinstance(status, dict)
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in status.get("conditions") or [])  # fmt: skip


class StandIns(threading.Thread):
    """What a real cluster's add-ons would do, as far as the draft's awaits can tell.

    - an ingress controller: gives every Ingress a load-balancer address;
    - the External Secrets operator: marks each SecretStore Ready, writes each ExternalSecret's
      target Secret (its named keys and template keys, with placeholder values) and marks it
      Ready.
    Nothing else: no secret is read from anywhere, no traffic is routed.
    """

    INGRESS_IP = "10.0.0.100"

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(daemon=True, name="cluster-stand-ins")
        self.cluster = cluster
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(0.5):
            try:
                self._ingresses()
                self._external_secrets()
            except (OSError, LookupError, RuntimeError):
                continue  # the API server is restarting or stopping

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=10)

    def _ingresses(self) -> None:
        for ingress in self.cluster.items("/apis/networking.k8s.io/v1/ingresses"):
            meta, status = ingress["metadata"], ingress.get("status") or {}
            assert isinstance(meta, dict) and isinstance(status, dict)
            if not (status.get("loadBalancer") or {}).get("ingress"):
                path = f"/apis/networking.k8s.io/v1/namespaces/{meta['namespace']}/ingresses/{meta['name']}"
                self.cluster.patch_status(
                    path, {"loadBalancer": {"ingress": [{"ip": self.INGRESS_IP}]}}
                )

    def _external_secrets(self) -> None:
        api = "/apis/external-secrets.io/v1"
        if not self.cluster.exists(f"{api}/externalsecrets"):
            return
        for store in self.cluster.items(f"{api}/secretstores"):
            meta = store["metadata"]
            assert isinstance(meta, dict)
            if not _ready(store):
                self.cluster.patch_status(
                    f"{api}/namespaces/{meta['namespace']}/secretstores/{meta['name']}",
                    {"conditions": [READY]},
                )
        for es in self.cluster.items(f"{api}/externalsecrets"):
            meta, spec = es["metadata"], es.get("spec") or {}
            assert isinstance(meta, dict) and isinstance(spec, dict)
            if _ready(es):
                continue
            target = spec.get("target") or {}
            keys = {d["secretKey"] for d in spec.get("data") or []}
            keys |= set((target.get("template") or {}).get("data") or {})
            namespace = meta["namespace"]
            self.cluster.apply(f"/api/v1/namespaces/{namespace}/secrets", {
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": target.get("name") or meta["name"], "namespace": namespace},
                "stringData": {key: "placeholder" for key in sorted(keys)},
            })  # fmt: skip
            self.cluster.patch_status(
                f"{api}/namespaces/{namespace}/externalsecrets/{meta['name']}",
                {"conditions": [READY]},
            )


def program_copy(tmp_path: Path) -> Path:
    """This project's program (no tests, no state) in ``tmp_path``: stack files land there."""
    work = tmp_path / "project"
    work.mkdir()
    for name in PROGRAM_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, work / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, work / name)
    return work


def labelled_anywhere(cluster: Cluster, slug: str) -> list[str]:
    """Every object in the cluster that carries the draft's branch label."""
    found = []
    for path in (
        "/api/v1/namespaces", "/api/v1/pods", "/api/v1/services", "/api/v1/configmaps",
        "/api/v1/secrets", "/api/v1/persistentvolumeclaims", "/api/v1/serviceaccounts",
        "/apis/apps/v1/deployments", "/apis/apps/v1/statefulsets", "/apis/batch/v1/jobs",
        "/apis/networking.k8s.io/v1/networkpolicies", "/apis/networking.k8s.io/v1/ingresses",
        "/apis/external-secrets.io/v1/externalsecrets", "/apis/external-secrets.io/v1/secretstores",
        "/apis/monitoring.coreos.com/v1/prometheusrules",
    ):  # fmt: skip
        for item in cluster.items(f"{path}?labelSelector={BRANCH_LABEL}%3D{slug}"):
            meta = item["metadata"]
            assert isinstance(meta, dict)
            found.append(f"{path.rsplit('/', 1)[-1]}/{meta.get('namespace', '')}/{meta['name']}")
    return found
