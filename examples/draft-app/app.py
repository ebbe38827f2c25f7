"""The sample tasks API a draft deploys by default (and the smoke test's reference server).

Standard library only. Endpoints (JSON):
  GET  /healthz                   200 {"status": "ok"}
  POST /api/auth/login            {"username", "password"} -> 200 {"token"}
  GET  /api/tasks                 -> 200 {"tasks": [...]}            (Bearer token)
  POST /api/tasks                 {"title"} -> 201 {"id", "title", "done"}
  POST /api/sync                  {"clientId", "changes": [{"op": "create"|"update", ...}]}
                                  -> 200 {"applied": N, "created": {clientRef: id}}
Users come from SMOKE_USERNAME / SMOKE_PASSWORD (synced from Vault in a draft).
`python app.py migrate` is the sample's stand-in for `alembic upgrade head`: it checks that
DATABASE_URL names a reachable database server.
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import secrets
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


class Store:
    """Tasks and sessions in memory, safe to share between request threads."""

    def __init__(self, users: dict[str, str]) -> None:
        self.users = users
        self.tokens: set[str] = set()
        self.tasks: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.next_id = 1

    def login(self, username: str, password: str) -> str | None:
        expected = self.users.get(username)
        if expected is None or not hmac.compare_digest(expected, password):
            return None
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens.add(token)
        return token

    def create(self, title: str, done: bool = False) -> dict[str, Any]:
        with self.lock:
            task = {"id": str(self.next_id), "title": title, "done": done}
            self.tasks[task["id"]] = task
            self.next_id += 1
            return dict(task)

    def update(self, task_id: str, fields: dict[str, Any]) -> bool:
        with self.lock:
            task = self.tasks.get(task_id)
            if task is None:
                return False
            task.update({k: v for k, v in fields.items() if k in ("title", "done")})
            return True


class Handler(BaseHTTPRequestHandler):
    """The API; ``store`` is set on a subclass per server."""

    store: Store
    server_version = "draft-app/0.1"

    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write(f"{self.command} {self.path}\n")

    def reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self) -> dict[str, Any] | None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            parsed = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            return None
        return parsed if isinstance(parsed, dict) else None

    def authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip()
        return bool(token) and token in self.store.tokens

    def do_GET(self) -> None:
        if self.path == "/healthz":
            return self.reply(200, {"status": "ok"})
        if not self.authorized():
            return self.reply(401, {"error": "unauthorized"})
        if self.path == "/api/tasks":
            with self.store.lock:
                tasks = [dict(t) for t in self.store.tasks.values()]
            return self.reply(200, {"tasks": tasks})
        return self.reply(404, {"error": "not found"})

    def do_POST(self) -> None:
        body = self.body()
        if body is None:
            return self.reply(400, {"error": "expected a JSON object"})
        if self.path == "/api/auth/login":
            token = self.store.login(str(body.get("username", "")), str(body.get("password", "")))
            if token is None:
                return self.reply(401, {"error": "invalid credentials"})
            return self.reply(200, {"token": token})
        if not self.authorized():
            return self.reply(401, {"error": "unauthorized"})
        if self.path == "/api/tasks":
            title = body.get("title")
            if not isinstance(title, str) or not title:
                return self.reply(422, {"error": "title is required"})
            return self.reply(201, self.store.create(title))
        if self.path == "/api/sync":
            return self.sync(body)
        return self.reply(404, {"error": "not found"})

    def sync(self, body: dict[str, Any]) -> None:
        changes = body.get("changes")
        if not isinstance(changes, list):
            return self.reply(422, {"error": "changes must be a list"})
        created: dict[str, str] = {}
        applied = 0
        for change in changes:
            if not isinstance(change, dict):
                continue
            task = change.get("task") if isinstance(change.get("task"), dict) else {}
            if change.get("op") == "create" and isinstance(task.get("title"), str):
                created[str(change.get("clientRef"))] = self.store.create(
                    task["title"], bool(task.get("done"))
                )["id"]
                applied += 1
            elif change.get("op") == "update" and self.store.update(str(change.get("id")), task):
                applied += 1
        return self.reply(200, {"applied": applied, "created": created})


def serve(host: str, port: int, users: dict[str, str]) -> ThreadingHTTPServer:
    """A server on ``host:port`` (port 0: any free port); call serve_forever() on it."""
    handler = type("BoundHandler", (Handler,), {"store": Store(users)})
    return ThreadingHTTPServer((host, port), handler)


def migrate(url: str) -> int:
    """Stand-in for a real migration tool: the database server must answer."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "", parts.port or 5432), timeout=10):
            pass
    except OSError as exc:
        print(f"migrate: cannot reach the database: {exc.__class__.__name__}", file=sys.stderr)
        return 1
    print("migrate: database reachable; the sample app keeps its tasks in memory")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="sample tasks API")
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate"])
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    args = parser.parse_args()
    if args.command == "migrate":
        return migrate(os.environ.get("DATABASE_URL", ""))
    users = {}
    if os.environ.get("SMOKE_USERNAME") and os.environ.get("SMOKE_PASSWORD"):
        users[os.environ["SMOKE_USERNAME"]] = os.environ["SMOKE_PASSWORD"]
    server = serve(args.host, args.port, users)
    print(f"listening on {args.host}:{server.server_address[1]}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
