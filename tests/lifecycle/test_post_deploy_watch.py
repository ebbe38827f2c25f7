"""``envctl draft up --watch``: a release whose 5xx ratio stays high is rolled back.

A real Prometheus (Debian ``prometheus``, its own config and data directory on loopback,
a 1 s scrape interval, stopped by pid) scrapes a small loopback server that exposes the
counters the two ingress controllers export, with their real names and labels: Traefik's
``traefik_service_requests_total{service="<namespace>-<service>-<port>@kubernetes",code}``
and ingress-nginx's ``nginx_ingress_controller_requests{namespace,status}``, whose
``namespace`` label Prometheus renames ``exported_namespace`` because the scrape target
carries its own (the controller's namespace), as in a kube-prometheus-stack cluster.

The deploys go through the fake workspace (its outputs are held to the real program by
the contract test; the cluster part of a rollback is proven by the engine and cluster
tests): whenever it deploys a commit, the test's traffic switches to what that commit's
release serves, so the watch after the deploy sees the new release's requests only.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from automation.lifecycle import cli as lifecycle_cli
from automation.lifecycle.drafts import plan_draft
from automation.lifecycle.redact import Redactor
from automation.lifecycle.report import DraftReport, render
from automation.lifecycle.watch import PrometheusReader, Reading, Unreadable, judge, prometheus_from
from tests.lifecycle.conftest import NOW, unavailable

GOOD, BAD, NEXT = "1111111aaaa", "2222222bbbb", "3333333cccc"
BRANCH, STACK = "feature/login", "draft-feature-login"
WATCH = "10s"
PASSWORD = "prom-pass-Zq81"

TRAEFIK_HELP = (
    "# HELP traefik_service_requests_total How many HTTP requests processed on a service, "
    "partitioned by status code, protocol, and method.\n"
    "# TYPE traefik_service_requests_total counter\n"
)
NGINX_HELP = (
    "# HELP nginx_ingress_controller_requests The total number of client requests\n"
    "# TYPE nginx_ingress_controller_requests counter\n"
)


# -- the ingress controllers' counters ---------------------------------------------------


@dataclass
class Traffic:
    """Requests per second per (controller, namespace): ``(ok, errors)``; counters grow
    every 100 ms from a thread, as a controller's would under steady traffic."""

    rates: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    counts: dict[tuple[str, str, str], float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def serve(self, namespace: str, ok: float, errors: float, controller: str = "traefik") -> None:
        with self.lock:
            self.rates[(controller, namespace)] = (ok, errors)

    def tick(self, seconds: float) -> None:
        with self.lock:
            for (controller, namespace), (ok, errors) in self.rates.items():
                for code, rate in (("200", ok), ("503", errors)):
                    key = (controller, namespace, code)
                    self.counts[key] = self.counts.get(key, 0.0) + rate * seconds

    def exposition(self, controller: str) -> str:
        with self.lock:
            items = sorted(self.counts.items())
        if controller == "traefik":
            lines = [
                f'traefik_service_requests_total{{code="{code}",method="GET",protocol="http",'
                f'service="{ns}-{release(ns)}-80@kubernetes"}} {value}'
                for (ctl, ns, code), value in items
                if ctl == controller
            ]
            return TRAEFIK_HELP + "".join(line + "\n" for line in lines)
        lines = [
            f'nginx_ingress_controller_requests{{canary="",controller_class="k8s.io/ingress-nginx",'
            f'controller_namespace="ingress-nginx",controller_pod="ingress-nginx-controller-7d4f",'
            f'host="login.drafts.example.com",ingress="{release(ns)}",method="GET",'
            f'namespace="{ns}",path="/",service="{release(ns)}",status="{code}"}} {value}'
            for (ctl, ns, code), value in items
            if ctl == controller
        ]
        return NGINX_HELP + "".join(line + "\n" for line in lines)


def release(namespace: str) -> str:
    return "app-" + namespace[-8:]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def traffic() -> Iterator[tuple[Traffic, int]]:
    """The counters on a loopback port: ``/traefik`` and ``/nginx``."""
    state = Traffic()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = state.exposition(self.path.strip("/")).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stop = threading.Event()

    def grow() -> None:
        while not stop.wait(0.1):
            state.tick(0.1)

    threads = [threading.Thread(target=server.serve_forever), threading.Thread(target=grow)]
    for thread in threads:
        thread.start()
    try:
        yield state, int(server.server_address[1])
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        for thread in threads:
            thread.join()


# -- a real Prometheus -------------------------------------------------------------------


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        unavailable(f"'{name}' is not installed (Debian prometheus; make system-deps)")
    assert found is not None
    return found


def _config(metrics_port: int, rules: Path | None) -> dict[str, Any]:
    target = [f"127.0.0.1:{metrics_port}"]
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)] if rules else [],
        "scrape_configs": [
            {
                "job_name": "traefik",
                "metrics_path": "/traefik",
                "static_configs": [{"targets": target}],
            },
            {
                # the target's own namespace label, as a ServiceMonitor adds it: the exposed
                # namespace becomes exported_namespace (honor_labels is false)
                "job_name": "ingress-nginx",
                "metrics_path": "/nginx",
                "static_configs": [{"targets": target, "labels": {"namespace": "ingress-nginx"}}],
            },
        ],
    }


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]

    def query(self, path: str, **params: str) -> Any:
        reply = httpx.get(f"{self.url}{path}", params=params, timeout=5)
        reply.raise_for_status()
        return reply.json()["data"]


def _start(directory: Path, config: dict[str, Any]) -> tuple[subprocess.Popen[bytes], str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = _free_port()
    log = directory / "prometheus.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                _binary("prometheus"),
                f"--config.file={directory / 'prometheus.yml'}",
                f"--storage.tsdb.path={directory / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    return process, f"http://127.0.0.1:{port}", log


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


def alert_rules_file(path: Path) -> Path:
    """The draft's PrometheusRule groups from the real program's offline plan, evaluated
    every second here (the rule's own interval is minutes)."""
    from tests.draft.conftest import draft

    rule = draft().one("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    groups = [{**group, "interval": "1s"} for group in rule.inputs["spec"]["groups"]]
    path.write_text(yaml.safe_dump({"groups": groups}))
    return path


@pytest.fixture(scope="module")
def prometheus(
    traffic: tuple[Traffic, int], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """Prometheus 2.x on loopback scraping ``traffic`` every second; stopped by pid."""
    directory = tmp_path_factory.mktemp("prometheus")
    rules = alert_rules_file(directory / "draft-alerts.yml")
    process, url, log = _start(directory, _config(traffic[1], rules))
    server = Server(url, process)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/-/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Prometheus did not start on {url}:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        while {t["health"] for t in server.query("/api/v1/targets")["activeTargets"]} != {"up"}:
            if time.monotonic() > deadline:
                pytest.fail(f"Prometheus did not scrape the counters:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield server
    finally:
        _stop(process)


# -- the deploys ---------------------------------------------------------------------------


@pytest.fixture
def namespace(project: Path) -> str:
    """The namespace ``draft up --branch feature/login`` deploys to."""
    return plan_draft(BRANCH, GOOD, None, project, NOW).names.namespace


@pytest.fixture
def serving(
    envctl: Any, traffic: tuple[Traffic, int], namespace: str
) -> dict[str, tuple[float, float]]:
    """What each commit's release serves (requests per second: ok, 5xx); the traffic
    switches whenever the fake workspace deploys one. No traffic until then."""
    traffic[0].rates.clear()
    releases: dict[str, tuple[float, float]] = {}
    original = envctl.fake.up

    def up(name: str, *args: Any, **kwargs: Any) -> None:
        original(name, *args, **kwargs)
        sha = envctl.fake.stacks[name].config["draft:sha"].value
        if sha in releases:
            traffic[0].serve(namespace, *releases[sha])

    envctl.fake.up = up
    return releases


@pytest.fixture
def kubectl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``kubectl`` that lists no pods: a release answering 5xx has no failed pods."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "kubectl"
    script.write_text("#!/bin/sh\necho '{\"items\": []}'\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def up(envctl: Any, sha: str, *extra: str) -> Any:
    return envctl("draft", "up", "--branch", BRANCH, "--sha", sha, "--no-report", *extra)


def watched_up(envctl: Any, sha: str, url: str) -> Any:
    return up(envctl, sha, "--watch", WATCH, "--prometheus-url", url)


def artefact() -> dict[str, Any]:
    return dict(json.loads(Path("envctl-draft.json").read_text()))


def updates(envctl: Any) -> list[str]:
    return [call for call, stack in envctl.fake.calls if call == "up" and stack == STACK]


# -- Prometheus itself ---------------------------------------------------------------------


@pytest.mark.prometheus
def test_prometheus_refuses_a_bad_config(tmp_path: Path) -> None:
    """Before trusting Prometheus's answers: it really checks what it is given."""
    bad = {"global": {"scrape_interval": "every second"}, "scrape_configs": []}
    process, _url, log = _start(tmp_path / "bad", bad)
    try:
        code = process.wait(timeout=30)
    finally:
        _stop(process)
    assert code != 0
    assert "every second" in log.read_text()
    checked = subprocess.run(
        [_binary("promtool"), "check", "config", str(tmp_path / "bad" / "prometheus.yml")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode != 0


@pytest.mark.prometheus
def test_the_alert_is_valid_promql_and_fires_on_either_controllers_5xx(
    prometheus: Server, traffic: tuple[Traffic, int], tmp_path: Path
) -> None:
    from tests.draft.conftest import NS

    rules = alert_rules_file(tmp_path / "rules.yml")
    checked = subprocess.run(
        [_binary("promtool"), "check", "rules", str(rules)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text(rules.read_text().replace("sum(rate(", "sum(rate((", 1))
    assert subprocess.run([_binary("promtool"), "check", "rules", str(broken)]).returncode != 0

    traffic[0].serve(NS, ok=5, errors=5, controller="nginx")  # exported_namespace, status
    deadline = time.monotonic() + 30
    firing: list[dict[str, Any]] = []
    while not firing and time.monotonic() < deadline:
        time.sleep(0.5)
        alerts = prometheus.query("/api/v1/alerts")["alerts"]
        firing = [a for a in alerts if a["labels"]["alertname"] == "DraftHigh5xxRate"]
    assert firing, "the 5xx alert never became pending"
    assert firing[0]["labels"]["namespace"] == NS
    assert firing[0]["state"] == "pending"  # for: 5m


# -- the watch -----------------------------------------------------------------------------


@pytest.mark.prometheus
def test_a_release_serving_5xx_is_rolled_back_after_the_watch(
    envctl: Any,
    prometheus: Server,
    serving: dict[str, tuple[float, float]],
    namespace: str,
    kubectl: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    serving.update({GOOD: (20, 0), BAD: (10, 10)})
    assert up(envctl, GOOD).exit_code == 0
    url = prometheus.url.replace("http://", f"http://watcher:{PASSWORD}@")
    reports: list[DraftReport] = []
    monkeypatch.setattr(
        lifecycle_cli, "_report", lambda _ci, _env, draft, _r: reports.append(draft)
    )

    started = time.monotonic()
    result = envctl(
        "draft", "up", "--branch", BRANCH, "--sha", BAD, "--watch", WATCH, "--prometheus-url", url
    )

    assert time.monotonic() - started >= 10  # the whole watch ran
    assert result.exit_code == 1, result.output
    assert "the 5xx ratio stayed above 5.00%" in result.output
    assert f"rolling back {STACK} to 1111111 (its image and values" in result.output
    config = envctl.fake.stacks[STACK].config
    assert config["draft:sha"].value == GOOD
    assert json.loads(config["draft:migrations"].value) == {"skip": True}
    assert len(updates(envctl)) == 3  # good, bad, rollback
    document = artefact()
    assert document["status"] == "rolled back"
    assert document["rolledBackTo"] == GOOD and document["live"]["sha"] == GOOD
    assert document["smoke"] == "passed"  # the smoke test passed; the watch did not
    assert document["watch"]["verdict"] == "unhealthy"
    assert "post-deploy watch" in document["error"]
    assert f"no failed pods in {namespace}" in result.output  # looked before the rollback
    (report,) = reports  # what the merge request comment says
    body = render(report)
    assert "⚠️ Draft update failed — rolled back" in body
    assert "| 5xx watch | the 5xx ratio stayed above 5.00%" in body
    assert "`1111111aaaa` (last good deployment)" in body
    assert not report.tested
    assert PASSWORD not in result.output + json.dumps(document) + body


@pytest.mark.prometheus
def test_a_healthy_release_stays_though_its_predecessor_and_another_draft_served_5xx(
    envctl: Any,
    prometheus: Server,
    serving: dict[str, tuple[float, float]],
    traffic: tuple[Traffic, int],
    namespace: str,
) -> None:
    traffic[0].serve(f"{namespace[:-3]}zzz", ok=0, errors=30)  # another draft, all 5xx
    traffic[0].serve(namespace, ok=0, errors=20, controller="nginx")  # the old release
    serving.update({NEXT: (20, 0.2)})  # 1% 5xx
    original = envctl.fake.up

    def deploy(name: str, *args: Any, **kwargs: Any) -> None:
        original(name, *args, **kwargs)
        traffic[0].serve(namespace, ok=20, errors=0, controller="nginx")

    envctl.fake.up = deploy
    time.sleep(3)  # the old release's 5xx are in Prometheus

    result = watched_up(envctl, NEXT, prometheus.url)

    assert result.exit_code == 0, result.output
    assert "5xx watch healthy" in result.output
    assert "healthy: the 5xx ratio did not stay above 5.00% during a 10s watch" in result.output
    assert len(updates(envctl)) == 1
    document = artefact()
    assert document["status"] == "deployed" and document["watch"]["verdict"] == "healthy"
    assert envctl.fake.stacks[STACK].config["draft:sha"].value == NEXT


@pytest.mark.prometheus
def test_no_traffic_is_not_a_failure(
    envctl: Any, prometheus: Server, serving: dict[str, tuple[float, float]]
) -> None:
    result = watched_up(envctl, GOOD, prometheus.url)

    assert result.exit_code == 0, result.output
    assert "no traffic during the 10s watch" in result.output
    assert "watch healthy" not in result.output and "healthy:" not in result.output
    document = artefact()
    assert document["status"] == "deployed"
    assert document["watch"]["verdict"] == "no traffic"


@pytest.mark.prometheus
def test_prometheus_down_keeps_the_release_and_never_says_healthy(
    envctl: Any, serving: dict[str, tuple[float, float]]
) -> None:
    """Monitoring down is no reason to roll back a release whose smoke test passed; the
    deploy succeeds (exit 0), with a warning and "unknown" in the artefact and report."""
    serving.update({GOOD: (20, 0), BAD: (0, 20)})
    assert up(envctl, GOOD).exit_code == 0
    url = f"http://127.0.0.1:{_free_port()}"  # nobody listening

    result = watched_up(envctl, BAD, url)

    assert result.exit_code == 0, result.output
    assert f"Prometheus at {url} is unreachable (ConnectError)" in result.output
    assert "warning: post-deploy watch unknown: the 5xx ratio could not be read" in result.output
    assert "5xx watch unknown" in result.output
    assert "watch healthy" not in result.output and "healthy:" not in result.output
    assert artefact()["watch"]["verdict"] == "unknown"
    assert envctl.fake.stacks[STACK].config["draft:sha"].value == BAD
    assert len(updates(envctl)) == 2


# -- bad input: exit 2, nothing created -----------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (
            ["--watch", "2h", "--prometheus-url", "http://127.0.0.1:9090"],
            "--watch: '2h' is longer than 30m",
        ),
        (
            ["--watch", "soon", "--prometheus-url", "http://127.0.0.1:9090"],
            "--watch: 'soon' is not a duration",
        ),
        (
            ["--watch", "5s", "--prometheus-url", "http://127.0.0.1:9090"],
            "--watch: '5s' is shorter than 10s",
        ),
        (["--watch", "5m"], "--prometheus-url: required with --watch"),
        (
            ["--watch", "5m", "--prometheus-url", "prometheus:9090"],
            "--prometheus-url: 'prometheus:9090' is not a URL",
        ),
        (
            ["--watch", "5m", "--prometheus-url", "ftp://prom.example.com"],
            "--prometheus-url: 'ftp://prom.example.com' is not a URL",
        ),
        (
            [
                "--watch",
                "5m",
                "--prometheus-url",
                "http://127.0.0.1:9090",
                "--set",
                "draft:monitoring.errorRatioThreshold=-0.1",
            ],
            "draft:monitoring.errorRatioThreshold",
        ),
        (
            ["--set", "draft:monitoring.errorRatioThreshold=1.5"],
            "draft:monitoring.errorRatioThreshold",
        ),
        (["--set", "draft:monitoring.errorWindow=five"], "draft:monitoring.errorWindow"),
    ],
)
def test_bad_watch_input_exits_2_naming_the_option(
    envctl: Any, extra: list[str], named: str
) -> None:
    result = up(envctl, GOOD, *extra)
    assert result.exit_code == 2, result.output
    assert named in " ".join(result.output.split())
    assert envctl.fake.stacks == {}


def test_the_prometheus_url_comes_from_the_environment_too(
    envctl: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVCTL_PROMETHEUS_URL", "not a url")
    result = up(envctl, GOOD, "--watch", "5m")
    assert result.exit_code == 2
    assert "--prometheus-url: 'not a url' is not a URL" in result.output


def test_a_password_in_a_bad_url_is_not_shown(envctl: Any) -> None:
    result = up(envctl, GOOD, "--watch", "5m", "--prometheus-url", f"ftp://u:{PASSWORD}@host")
    assert result.exit_code == 2
    assert PASSWORD not in result.output


@pytest.mark.prometheus
def test_the_reader_takes_prometheus_answers_as_they_are(prometheus: Server) -> None:
    """NaN (0/0: no requests) and no series are no traffic; a refused query and a path that
    is not the API say so, with what Prometheus answered."""
    reader = PrometheusReader(prometheus_from(prometheus.url, None, Redactor()))
    try:
        assert reader.value("vector(0.25)") == 0.25
        assert reader.value("vector(0) / vector(0)") is None
        assert reader.value('traefik_service_requests_total{service="nobody"}') is None
        with pytest.raises(Unreadable, match=r"refused the query \(HTTP 400\): .*parse error"):
            reader.value("sum(rate(")
    finally:
        reader.close()
    elsewhere = PrometheusReader(prometheus_from(f"{prometheus.url}/graph", None, Redactor()))
    try:
        with pytest.raises(Unreadable, match="answered HTTP 404, not a Prometheus API response"):
            elsewhere.value("vector(1)")
    finally:
        elsewhere.close()


SECOND_HALF = 6.0  # of a 10 s watch


@pytest.mark.parametrize(
    ("ratios", "verdict"),
    [
        ([0.5, 0.5, 0.5, 0.5], "unhealthy"),  # broken from the start
        ([None, 0.0, 0.3, 0.4], "unhealthy"),  # broke after a good start
        ([0.9, 0.9, 0.01, 0.02], "healthy"),  # a bad start that settled
        ([0.5, 0.5, 0.5, 0.04], "healthy"),  # recovered: not every reading above
        ([None, None, None, None], "no traffic"),
        ([0.9, 0.9, None, None], "no traffic"),  # nothing in the half that decides
    ],
)
def test_the_second_half_of_the_watch_decides(ratios: list[float | None], verdict: str) -> None:
    readings = tuple(
        Reading(at, ratio=ratio) for at, ratio in zip((2.0, 4.0, 6.0, 9.0), ratios, strict=True)
    )
    assert judge(readings, 0.05, timedelta(seconds=10)) == verdict


def test_failed_readings_make_the_verdict_unknown_only_without_other_evidence() -> None:
    down = Reading(SECOND_HALF, error="Prometheus at http://p:9090 is unreachable")
    assert judge((Reading(2.0, ratio=0.0), down), 0.05, timedelta(seconds=10)) == "unknown"
    assert judge((down, Reading(9.0, ratio=0.5)), 0.05, timedelta(seconds=10)) == "unhealthy"
    assert judge((down, Reading(9.0)), 0.05, timedelta(seconds=10)) == "unknown"
