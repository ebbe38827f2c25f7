"""The `cluster` tests' Kubernetes API: started once per session, stopped at its end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.cluster.cluster import Cluster, StandIns, missing_binaries, start_cluster, wait_for
from tests.conftest import unavailable
from tests.engine.harness import TOOLCHAIN

CRDS = TOOLCHAIN.parent / "crds"


def install_crds(cluster: Cluster) -> None:
    """The External Secrets and Prometheus Operator CRDs the draft uses (`make toolchain`)."""
    manifests = sorted(CRDS.glob("*.yaml"))
    if not manifests:
        unavailable("no CRD manifests in .toolchain/crds: run `make toolchain`")
    api = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    names = []
    for manifest in manifests:
        for crd in yaml.safe_load_all(manifest.read_text()):
            if crd:
                cluster.apply(api, crd)
                names.append(crd["metadata"]["name"])

    def established(name: str) -> bool:
        crd = cluster.get(f"{api}/{name}")
        assert isinstance(crd, dict)
        conditions = crd.get("status", {}).get("conditions") or []
        return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)

    for name in names:
        wait_for(lambda name=name: established(name), f"CRD {name}")


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    missing = missing_binaries()
    if missing:
        unavailable(f"cluster binaries missing: {', '.join(missing)} (run `make toolchain`)")
    root: Path = tmp_path_factory.mktemp("cluster")
    running = start_cluster(root)
    try:
        install_crds(running)
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def stand_ins(cluster: Cluster) -> Iterator[StandIns]:
    cluster.add_volumes(4)
    running = StandIns(cluster)
    running.start()
    yield running
    running.stop()
