"""Parse the short durations users type: ``48h``, ``90m``, ``2d``, ``1h30m``."""

from __future__ import annotations

import re
from datetime import timedelta

from automation.lifecycle.errors import BadInput

_PART = re.compile(r"(\d+)([dhm])")
_WHOLE = re.compile(r"(?:\d+[dhm])+")
_UNITS = {"d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}


def parse_duration(text: str, *, name: str, maximum: timedelta) -> timedelta:
    """``text`` as a timedelta between one minute and ``maximum``; BadInput names ``name``."""
    cleaned = text.strip().lower()
    expected = f"expected a duration like 48h, 90m, 2d or 1h30m, at most {_show(maximum)}"
    if not _WHOLE.fullmatch(cleaned):
        raise BadInput(f"{name}: {text!r} is not a duration ({expected})")
    total = sum((int(n) * _UNITS[unit] for n, unit in _PART.findall(cleaned)), timedelta())
    if total < timedelta(minutes=1):
        raise BadInput(f"{name}: {text!r} is shorter than a minute ({expected})")
    if total > maximum:
        raise BadInput(f"{name}: {text!r} is longer than {_show(maximum)} ({expected})")
    return total


def _show(value: timedelta) -> str:
    """``48h``, ``90m``: the short form of a whole number of minutes or hours."""
    minutes = int(value.total_seconds()) // 60
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"
