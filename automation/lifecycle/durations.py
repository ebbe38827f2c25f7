"""Parse and show the short durations users type: ``48h``, ``90m``, ``2d``, ``1h30m``."""

from __future__ import annotations

import re
from datetime import timedelta

from automation.lifecycle.errors import BadInput

_PART = re.compile(r"(\d+)([dhm])")
_WHOLE = re.compile(r"(?:\d+[dhm])+")
_MINUTES = {"d": 24 * 60, "h": 60, "m": 1}


def parse_duration(text: str, *, name: str, maximum: timedelta) -> timedelta:
    """``text`` as a timedelta between one minute and ``maximum``; BadInput names ``name``."""
    cleaned = text.strip().lower()
    expected = f"expected a duration like 48h, 90m, 2d or 1h30m, at most {show_duration(maximum)}"
    if not _WHOLE.fullmatch(cleaned):
        raise BadInput(f"{name}: {text!r} is not a duration ({expected})")
    # whole minutes as a plain int first: a huge number must not overflow timedelta
    minutes = sum(int(n) * _MINUTES[unit] for n, unit in _PART.findall(cleaned))
    if minutes < 1:
        raise BadInput(f"{name}: {text!r} is shorter than a minute ({expected})")
    if minutes * 60 > maximum.total_seconds():
        raise BadInput(f"{name}: {text!r} is longer than {show_duration(maximum)} ({expected})")
    return timedelta(minutes=minutes)


def show_duration(value: timedelta) -> str:
    """``48h``, ``1h30m``, ``45m``: whole hours and minutes, as users type them."""
    hours, minutes = divmod(int(value.total_seconds()) // 60, 60)
    if hours and minutes:
        return f"{hours}h{minutes}m"
    return f"{hours}h" if hours else f"{minutes}m"
