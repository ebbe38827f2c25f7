"""A small stand-in for the Pulumi engine and the command/random providers, for real tests.

No Pulumi CLI can run here, so the tests run the project's program under Pulumi's mock
runtime and do in the mock monitor what the engine and pulumi-command do: a
``command:remote:Command`` whose inputs differ from the recorded state is executed for
real over SSH (``create``, or ``update`` when it exists), with its ``stdin``; one whose
inputs are unchanged runs nothing; ones no longer registered, or all on ``destroy``, run
their ``delete`` in reverse order. Random passwords are generated once and kept in the
state, as the random provider does. Dependencies order execution exactly as in the
engine: a resource registers only after the URNs of what it depends on resolved, which
here means after their commands finished. A command that fails fails the run, and its
dependents never run.

Everything sent and received is recorded, so tests can look for secrets in it.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import runpy
import secrets as pysecrets
import string
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks

REPO = Path(__file__).resolve().parents[2]
COMMAND = "command:remote:Command"
PASSWORD = "random:index/randomPassword:RandomPassword"
_SIG, _SECRET = rpc._special_sig_key, rpc._special_secret_sig


def reveal(value: Any) -> Any:
    """``value`` with Pulumi's secret wrappers removed."""
    if isinstance(value, dict):
        if value.get(_SIG) == _SECRET:
            return reveal(value.get("value"))
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(_SIG) == _SECRET


@dataclass
class Recorded:
    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]


@dataclass
class Execution:
    """One command run over SSH: which resource, which operation, what went in and out."""

    name: str
    op: str
    script: str
    stdin: str
    exit_code: int
    stdout: str
    stderr: str


@dataclass
class Result:
    ok: bool
    error: str
    executions: list[Execution]
    outputs: dict[str, Any]
    registered: list[Recorded]

    def ran(self) -> list[tuple[str, str]]:
        return [(e.name, e.op) for e in self.executions]


class CommandFailed(Exception):
    pass


def run_ssh(
    connection: dict[str, Any], script: str, stdin: str, timeout: float = 1200
) -> tuple[int, str, str]:
    """Run ``script`` on the connection's host exactly as pulumi-command does: one SSH exec
    request with the text as command, ``stdin`` piped, host key pinned."""
    with tempfile.TemporaryDirectory(prefix="ssh-") as tmp:
        key = Path(tmp, "key")
        key.write_text(connection["privateKey"])
        key.chmod(0o600)
        port = int(connection.get("port") or 22)
        host = connection["host"]
        known = Path(tmp, "known_hosts")
        known.write_text(f"[{host}]:{port} {connection['hostKey']}\n")
        argv = [
            "ssh",
            "-F",
            "/dev/null",
            "-i",
            str(key),
            "-p",
            str(port),
            "-o",
            f"UserKnownHostsFile={known}",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "LogLevel=ERROR",
            f"{connection.get('user') or 'root'}@{host}",
            script,
        ]
        done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout)
        return done.returncode, done.stdout, done.stderr


class Engine:
    """State of one stack plus the ability to run ``up`` and ``destroy`` against it."""

    def __init__(self, program_dir: Path = REPO, stack: str = "staging") -> None:
        self.program_dir = program_dir
        self.stack = stack
        self.state: dict[str, Recorded] = {}
        self.order: list[str] = []  # URNs in creation order
        self.history: list[Execution] = []

    # --- provider behaviour
    def _password(self, inputs: dict[str, Any]) -> dict[str, Any]:
        length = int(inputs.get("length", 16))
        alphabet = string.ascii_letters + string.digits
        value = "".join(pysecrets.choice(alphabet) for _ in range(length))
        done = subprocess.run(
            ["htpasswd", "-niB", "-C", "10", "user"],
            input=value,
            capture_output=True,
            text=True,
            check=True,
        )
        # terraform-provider-random hashes with Go's bcrypt, whose prefix is $2a$.
        bcrypt = done.stdout.strip().split(":", 1)[1].replace("$2y$", "$2a$", 1)
        return {**inputs, "result": value, "bcryptHash": bcrypt}

    def _run(self, name: str, op: str, inputs: dict[str, Any], script: str) -> dict[str, Any]:
        plain = reveal(inputs)
        stdin = plain.get("stdin") or ""
        code, out, err = run_ssh(plain["connection"], script, stdin)
        execution = Execution(name, op, script, stdin, code, out, err)
        with self._lock:
            self._executions.append(execution)
            self.history.append(execution)
        if code != 0:
            raise CommandFailed(f"{name} ({op}) exited {code}:\n{err[-4000:]}")
        return {**inputs, "stdout": out.rstrip("\n"), "stderr": err.rstrip("\n")}

    def register(self, urn: str, args: MockResourceArgs) -> dict[str, Any]:
        with self._lock:
            self._seen.append(urn)
        inputs = dict(args.inputs)
        old = self.state.get(urn)
        if old is not None and old.inputs == inputs:
            outputs = old.outputs
        elif args.typ == PASSWORD:
            outputs = self._password(inputs)
        elif args.typ == COMMAND:
            if old is None:
                outputs = self._run(args.name, "create", inputs, inputs["create"])
            else:
                script = inputs.get("update") or inputs["create"]
                outputs = self._run(args.name, "update", inputs, script)
        else:
            outputs = inputs
        with self._lock:
            self.state[urn] = Recorded(urn, args.typ, args.name, inputs, outputs)
            if urn not in self.order:
                self.order.append(urn)
        return outputs

    def _delete(self, urn: str) -> None:
        record = self.state[urn]
        script = record.inputs.get("delete") if record.type == COMMAND else None
        if script:
            self._run(record.name, "delete", record.inputs, script)
        del self.state[urn]
        self.order.remove(urn)

    # --- operations
    def up(self, config: dict[str, Any], secret_keys: tuple[str, ...] = ()) -> Result:
        """``pulumi up`` of the program with ``config`` (full ``namespace:key`` names)."""
        import pulumi
        from pulumi.runtime import settings
        from pulumi.runtime.config import set_all_config
        from pulumi.runtime.mocks import set_mocks
        from pulumi.runtime.stack import wait_for_rpcs

        self._lock = threading.Lock()
        self._executions: list[Execution] = []
        self._seen: list[str] = []
        values = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
        loop = asyncio.new_event_loop()
        # A failed command leaves futures whose exception nobody reads: the default handler
        # would log them whenever the garbage collector gets to them, and formatting that
        # traceback calls ast.parse (CPython 3.11), which corrupts the state of an ast.parse
        # it interrupts ("AST constructor recursion depth mismatch"). The failure is in the
        # Result already.
        loop.set_exception_handler(lambda _loop, _context: None)
        asyncio.set_event_loop(loop)
        settings.reset_options()
        settings.set_root_resource(None)  # type: ignore[arg-type]
        set_all_config(values, list(secret_keys))
        monitor = _Monitor(self)
        set_mocks(
            _Mocks(), project="environments", stack=self.stack, preview=False, monitor=monitor
        )
        error = ""
        previous = Path.cwd()
        try:
            os.chdir(self.program_dir)
            runpy.run_path(str(self.program_dir / "__main__.py"), run_name="__main__")
            loop.run_until_complete(wait_for_rpcs())
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        finally:
            os.chdir(previous)
        outputs: dict[str, Any] = {}
        if not error:
            root = pulumi.runtime.get_root_resource()
            raw = getattr(root, "outputs", {}) or {}
            for key, value in raw.items():
                outputs[key] = _resolve(loop, value)
            # resources the program no longer declares are deleted, dependents first
            for urn in [u for u in reversed(self.order) if u not in self._seen]:
                try:
                    self._delete(urn)
                except CommandFailed as exc:
                    error = str(exc)
                    break
        loop.close()
        asyncio.set_event_loop(None)
        gc.collect()  # finalize this run's futures now, not inside someone's ast.parse
        registered = [self.state[u] for u in self._seen if u in self.state]
        return Result(not error, error, list(self._executions), outputs, registered)

    def destroy(self) -> Result:
        """``pulumi destroy``: every delete command, in reverse creation order."""
        self._lock = threading.Lock()
        self._executions = []
        error = ""
        for urn in list(reversed(self.order)):
            try:
                self._delete(urn)
            except CommandFailed as exc:
                error = str(exc)
                break
        return Result(not error, error, list(self._executions), {}, [])

    def command(self, name: str) -> Recorded:
        """The recorded state of the command resource named ``name`` (e.g. 'staging-deploy')."""
        for record in self.state.values():
            if record.type == COMMAND and record.name == name:
                return record
        raise KeyError(name)


def _resolve(loop: asyncio.AbstractEventLoop, value: Any) -> Any:
    import pulumi

    if isinstance(value, pulumi.Output):
        return loop.run_until_complete(value.future())
    return value


class _Mocks(Mocks):
    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        raise AssertionError("the engine's monitor handles registrations")

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class _Monitor(MockMonitor):
    def __init__(self, engine: Engine) -> None:
        super().__init__(_Mocks())
        self.engine = engine

    def RegisterResource(self, request: Any) -> Any:
        from pulumi.runtime.proto import resource_pb2
        from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        _ensure_event_loop()
        args = MockResourceArgs(
            typ=request.type,
            name=request.name,
            inputs=rpc.deserialize_properties(request.object),
            provider=request.provider,
            resource_id=request.importId,
            custom=request.custom or False,
        )
        outputs = self.engine.register(urn, args)
        obj = _sync_await(rpc.serialize_properties(outputs, {}))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=f"{request.name}-id", object=obj)
