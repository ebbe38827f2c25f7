"""scripts/smoke_draft.sh against a real HTTP server on 127.0.0.1 (the sample app's API).

The script runs under sh with the machine's curl, as the smoke Job runs it; broken servers
show that each failing step is named and the exit status is non-zero.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import unavailable
from tests.draft.conftest import REPO

SCRIPT = REPO / "scripts" / "smoke_draft.sh"
USER, PASSWORD = "smoke-user", 'p@ss "word" \\ with-SENTINEL'

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="the script needs curl")


def _sample_app() -> ModuleType:
    spec = importlib.util.spec_from_file_location("draft_app", REPO / "examples/draft-app/app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


APP = _sample_app()


@contextmanager
def server(patch: Callable[[type], None] | None = None) -> Iterator[str]:
    """The sample API on a free loopback port, with an optional fault patched in."""
    httpd: ThreadingHTTPServer = APP.serve("127.0.0.1", 0, {USER: PASSWORD})
    if patch is not None:
        patch(httpd.RequestHandlerClass)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def smoke(base_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        "PATH": os.environ["PATH"],
        "BASE_URL": base_url,
        "SMOKE_USERNAME": USER,
        "SMOKE_PASSWORD": PASSWORD,
        "SMOKE_READY_ATTEMPTS": "2",
        "SMOKE_TIMEOUT_SECONDS": "5",
        **env,
    }
    return subprocess.run(
        ["sh", str(SCRIPT)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_healthy_draft_passes_every_step() -> None:
    with server() as url:
        done = smoke(url)
    assert done.returncode == 0, done.stderr
    steps = [line.split()[2] for line in done.stdout.splitlines() if line.startswith("smoke: ok")]
    assert steps == ["reachability", "login", "create-task", "offline-sync", "online-view"]
    assert done.stdout.rstrip().endswith(f"PASSED against {url}")


def test_the_password_is_never_printed() -> None:
    with server() as url:
        good = smoke(url)
        bad = smoke(url, SMOKE_PASSWORD="SENTINEL-wrong")
    for done in (good, bad):
        assert "SENTINEL" not in done.stdout + done.stderr


def _break(method: str, status: int, body: dict[str, Any] | None = None) -> Callable[[type], None]:
    def patch(handler: type) -> None:
        def broken(self: Any) -> None:
            self.body()
            self.reply(status, body or {"error": "broken on purpose"})

        setattr(handler, method, broken)

    return patch


def _sync_drops_changes(handler: type) -> None:
    original = handler.sync

    def sync(self: Any, body: dict[str, Any]) -> None:
        original(self, {**body, "changes": body["changes"][:1]})  # loses the update

    handler.sync = sync


def _sync_claims_but_forgets(handler: type) -> None:
    def sync(self: Any, body: dict[str, Any]) -> None:
        self.reply(200, {"applied": len(body["changes"]), "created": {}})

    handler.sync = sync


@pytest.mark.parametrize(
    ("fault", "env", "step", "detail"),
    [
        (None, {"SMOKE_PASSWORD": "wrong"}, "login", "HTTP 401 from POST /api/auth/login"),
        (None, {"SMOKE_TASKS_PATH": "/api/nope"}, "create-task", "HTTP 404 from POST /api/nope"),
        (_break("do_POST", 500), {}, "login", "HTTP 500"),
        (_sync_drops_changes, {}, "offline-sync", "applied 1 change(s) of 2"),
        (_sync_claims_but_forgets, {}, "online-view", "does not list the task created offline"),
        (_break("do_GET", 503), {}, "reachability", "never answered 200"),
    ],
    ids=[
        "bad-password",
        "wrong-path",
        "server-error",
        "lost-change",
        "forgotten-sync",
        "not-ready",
    ],
)
def test_a_failing_step_is_named_and_exits_1(
    fault: Callable[[type], None] | None, env: dict[str, str], step: str, detail: str
) -> None:
    with server(fault) as url:
        done = smoke(url, **env)
    assert done.returncode == 1
    assert f"smoke: FAILED at step '{step}'" in done.stderr
    assert detail in done.stderr


def test_an_unreachable_draft_fails_at_reachability() -> None:
    with server() as url:
        pass  # stopped: nothing listens on the port any more
    done = smoke(url, SMOKE_READY_ATTEMPTS="1")
    assert done.returncode == 1
    assert "smoke: FAILED at step 'reachability'" in done.stderr


@pytest.mark.parametrize("missing", ["BASE_URL", "SMOKE_USERNAME", "SMOKE_PASSWORD"])
def test_missing_settings_are_usage_errors(missing: str) -> None:
    done = smoke("http://127.0.0.1:9", **{missing: ""})
    assert done.returncode == 2
    assert f"smoke: {missing} is required" in done.stderr


def test_the_script_is_shellcheck_clean_posix_sh() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        unavailable("shellcheck is not installed (bash tools/install-system-deps.sh)")
    done = subprocess.run(
        [shellcheck, "--shell=sh", "--severity=style", str(SCRIPT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout
