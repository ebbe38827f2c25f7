"""Parse and show the short durations users type: ``48h``, ``90m``, ``2d``, ``1h30m``, ``90s``."""

from __future__ import annotations

import re
from datetime import timedelta

from automation.lifecycle.errors import BadInput

_PART = re.compile(r"(\d+)(ms|[dhms])")
_WHOLE = re.compile(r"(?:\d+(?:ms|[dhms]))+")
_MILLISECONDS = {"d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}
MINUTE = timedelta(minutes=1)


def milliseconds(text: str) -> int:
    """Whole milliseconds of a duration already known to be well formed (a Prometheus
    window such as ``5m``); a plain int, so a huge number cannot overflow timedelta."""
    return sum(int(n) * _MILLISECONDS[unit] for n, unit in _PART.findall(text))


def parse_duration(
    text: str,
    *,
    name: str,
    maximum: timedelta,
    minimum: timedelta = MINUTE,
    examples: str = "48h, 90m, 2d or 1h30m",
) -> timedelta:
    """``text`` as a timedelta from ``minimum`` to ``maximum``; BadInput names ``name``."""
    cleaned = text.strip().lower()
    expected = (
        f"expected a duration like {examples}, "
        f"at least {show_duration(minimum)} and at most {show_duration(maximum)}"
    )
    if not _WHOLE.fullmatch(cleaned):
        raise BadInput(f"{name}: {text!r} is not a duration ({expected})")
    value = milliseconds(cleaned)
    if value < minimum.total_seconds() * 1000:
        raise BadInput(f"{name}: {text!r} is shorter than {show_duration(minimum)} ({expected})")
    if value > maximum.total_seconds() * 1000:
        raise BadInput(f"{name}: {text!r} is longer than {show_duration(maximum)} ({expected})")
    return timedelta(milliseconds=value)


def show_duration(value: timedelta) -> str:
    """``48h``, ``1h30m``, ``45m``, ``2m30s``, ``10s``: as users type them."""
    hours, rest = divmod(int(value.total_seconds()), 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (seconds, "s")) if n]
    return "".join(parts) or "0s"
