"""components.config: which top-level keys are secret config, kept secret or refused.

Pulumi hands a program decrypted values and the list of secret keys (per top-level key);
``load_settings`` records them on the model, from the runtime (as ``pulumi up`` runs the
program) or from the caller, and refuses secret keys the model cannot keep secret.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pulumi
import pytest
from pulumi.runtime import config as runtime

from components.config import ConfigError, SettingsModel, load_settings


class Demo(SettingsModel):
    host: str = "example.com"
    env: dict[str, str] = {}
    secret_carriers: ClassVar[frozenset[str] | None] = frozenset({"env"})


class Unchecked(SettingsModel):
    host: str = "example.com"


@pytest.fixture(autouse=True)
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """Outputs need an event loop (an offline plan earlier in the session unset it)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.set_event_loop(None)
    loop.close()


def _is_secret(value: Any) -> bool:
    if not isinstance(value, pulumi.Output):
        return False
    return bool(asyncio.get_event_loop().run_until_complete(value.is_secret()))


@pytest.fixture
def runtime_config() -> Iterator[None]:
    """The runtime's config as the language host sets it; restored afterwards."""
    saved, saved_secret = dict(runtime.CONFIG.get()), set(runtime._SECRET_KEYS.get())
    yield
    runtime.set_all_config(saved, sorted(saved_secret))


def test_values_of_a_secret_key_are_kept_secret(tmp_path: Path) -> None:
    config = {"staging:env": '{"TOKEN": "s3cr3t"}', "staging:host": "h.example.com"}
    settings = load_settings(
        Demo, "staging", "staging", tmp_path, config, secret_keys=["staging:env"]
    )
    assert settings.secret_config == {"env"}
    assert _is_secret(settings.keep_secret("env", dict(settings.env)))
    assert settings.keep_secret("host", settings.host) == "h.example.com"


def test_plain_config_stays_plain(tmp_path: Path) -> None:
    settings = load_settings(Demo, "staging", "staging", tmp_path, {"staging:env": '{"A": "b"}'})
    assert settings.secret_config == frozenset()
    assert settings.keep_secret("env", dict(settings.env)) == {"A": "b"}


def test_a_secret_key_the_model_cannot_keep_secret_is_refused(tmp_path: Path) -> None:
    config = {"staging:host": "h.example.com"}
    with pytest.raises(ConfigError) as error:
        load_settings(Demo, "staging", "staging", tmp_path, config, secret_keys=["staging:host"])
    message = str(error.value)
    assert "staging:host" in message and "staging:env" in message
    assert "h.example.com" not in message
    # A model without carriers is not checked (its component decides).
    load_settings(Unchecked, "staging", "staging", tmp_path, config, secret_keys=["staging:host"])


def test_the_runtime_secret_keys_are_read_as_pulumi_up_sets_them(
    tmp_path: Path, runtime_config: None
) -> None:
    runtime.set_all_config(
        {"staging:env": '{"TOKEN": "s3cr3t"}', "draft:team": "x"}, ["staging:env", "draft:team"]
    )
    settings = load_settings(Demo, "staging", "staging", tmp_path)
    assert settings.secret_config == {"env"}  # draft:team is another namespace's
    assert settings.env == {"TOKEN": "s3cr3t"}
    assert _is_secret(settings.keep_secret("env", dict(settings.env)))


def test_the_record_survives_copies(tmp_path: Path) -> None:
    settings = load_settings(
        Demo, "staging", "staging", tmp_path, {"staging:env": "{}"}, secret_keys=["staging:env"]
    )
    assert settings.model_copy(update={"host": "other.example.com"}).secret_config == {"env"}
