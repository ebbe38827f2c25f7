"""Cleanup never depends on Vault: destroy and reap with Vault unreachable.

``VAULT_ADDR`` and AppRole credentials point at a loopback port nothing listens on; a
login attempt would fail the command. The draft program needs no Vault token, so destroy,
reap and a prebuilt deploy never log in.
"""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest

GOOD = "1111111aaaa"


@pytest.fixture
def vault_down(monkeypatch: pytest.MonkeyPatch) -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"http://127.0.0.1:{port}"  # closed: connection refused
    monkeypatch.setenv("VAULT_ADDR", address)
    monkeypatch.setenv("VAULT_ROLE_ID", "role")
    monkeypatch.setenv("VAULT_SECRET_ID", "secret")
    return address


def up(envctl, branch: str = "feature/login") -> None:
    result = envctl("draft", "up", "--branch", branch, "--sha", GOOD, "--no-report")
    assert result.exit_code == 0, result.output


def test_the_vault_down_fixture_really_breaks_a_vault_login(envctl, vault_down) -> None:
    result = envctl("draft", "up", "--branch", "feature/login", "--sha", GOOD, "--no-report")
    assert result.exit_code != 0  # the template builds the image: its registry login is read
    assert envctl.fake.calls_of("up") == []


def test_draft_destroy_works_with_vault_down(envctl, monkeypatch, vault_down) -> None:
    monkeypatch.delenv("VAULT_ADDR")
    up(envctl)
    monkeypatch.setenv("VAULT_ADDR", vault_down)

    result = envctl("draft", "destroy", "--branch", "feature/login", "--no-report")

    assert result.exit_code == 0, result.output
    assert envctl.fake.stacks == {}
    assert "vault" not in result.output.lower()
    assert all("VAULT_TOKEN" not in env for _op, _stack, env in envctl.fake.env_seen)


def test_draft_reap_works_with_vault_down(envctl, monkeypatch, clock, vault_down) -> None:
    monkeypatch.delenv("VAULT_ADDR")
    for branch in ("feature/a", "feature/b"):
        up(envctl, branch)
    clock[0] += timedelta(hours=49)
    monkeypatch.setenv("VAULT_ADDR", vault_down)

    result = envctl("draft", "reap")

    assert result.exit_code == 0, result.output
    assert envctl.fake.stacks == {}
    assert "2 destroyed" in result.output


def test_a_prebuilt_deploy_works_with_vault_down(envctl, vault_down) -> None:
    result = envctl(
        "draft", "up", "--branch", "feature/login", "--sha", GOOD, "--no-report",
        "--set", "draft:image.prebuilt=true",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "vault: not needed (prebuilt image, no external database); no login" in result.output
