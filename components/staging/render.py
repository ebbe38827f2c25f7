"""The one renderer of remote scripts: a script file plus its parameters, as command text.

Each concern is a small POSIX shell file in ``scripts/`` (kamal-style command builders).
``render`` prepends ``set -euf``, the parameters as shell-quoted assignments and the
shared ``lib.sh``; the result is the exact text pulumi-command sends over SSH and the
tests run. Secrets are never parameters: they travel on stdin.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

SCRIPTS_DIR = Path(__file__).resolve().parent / "scripts"
PARAM_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")

Param = str | int | bool


@cache
def script_source(name: str) -> str:
    """The text of ``scripts/<name>.sh``."""
    path = SCRIPTS_DIR / f"{name}.sh"
    if not re.fullmatch(r"[a-z_]+", name) or not path.is_file():
        raise ValueError(f"no remote script named {name!r}")
    return path.read_text(encoding="utf-8")


def shell_value(value: Param) -> str:
    """``value`` as one shell word: booleans as true/false, everything else single-quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # shlex.quote leaves plain words bare; always quoting keeps `USER=admin` from reading
    # like a command to shellcheck (SC2209) and to the next reader.
    return shlex.quote(text) if text and shlex.quote(text) != text else f"'{text}'"


def _assignment(key: str, value: Param) -> str:
    line = f"{key}={shell_value(value)}\n"
    if isinstance(value, str) and ("$" in value or "`" in value):
        # literal text (a script the host writes to a file): nothing in it is meant to expand
        return "# shellcheck disable=SC2016\n" + line
    return line


def render(name: str, params: Mapping[str, Param], uses: Sequence[str] = ()) -> str:
    """Command text of script ``name`` with ``params`` (and the helper scripts ``uses``)."""
    for key in params:
        if not PARAM_NAME.match(key):
            raise ValueError(f"parameter {key!r} is not an upper-case shell name")
    assignments = "".join(_assignment(key, params[key]) for key in sorted(params))
    parts = [script_source("lib"), *(script_source(u) for u in uses), script_source(name)]
    return f"# environments staging: {name}\nset -euf\n{assignments}" + "".join(
        part if part.endswith("\n") else part + "\n" for part in parts
    )


def digest(text: str) -> str:
    """A short, stable fingerprint of ``text`` (used in command triggers)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
