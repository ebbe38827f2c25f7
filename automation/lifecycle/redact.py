"""Keep secret values out of everything envctl prints or writes."""

from __future__ import annotations

import threading

MASK = "[secret]"
_MIN_LENGTH = 4  # shorter values would mask ordinary words


class Redactor:
    """Replaces every registered secret value in a text with ``[secret]``."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, *values: str) -> None:
        """Register values that must never be shown."""
        with self._lock:
            self._values.update(v for v in values if len(v) >= _MIN_LENGTH)

    def __call__(self, text: str) -> str:
        with self._lock:
            values = sorted(self._values, key=len, reverse=True)
        for value in values:
            text = text.replace(value, MASK)
        return text
