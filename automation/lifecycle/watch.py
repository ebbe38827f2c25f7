"""The post-deploy watch: a few minutes of the new release's 5xx ratio, read from Prometheus.

After a successful ``envctl draft up --watch 5m``, the draft's 5xx ratio is read about 20
times (at most every 15 s) from Prometheus's HTTP API (``/api/v1/query``). The expression
is the alert's own (``components.draft.monitoring.five_xx_ratio``), over the time since the
deploy (at most ``draft:monitoring.errorWindow``), so the old release's requests never
count. The first half of the watch lets the release settle; the second half decides:

* ``unhealthy``: every reading with traffic there is above
  ``draft:monitoring.errorRatioThreshold``: roll back;
* ``healthy``: readings with traffic there, not all above it;
* ``no traffic``: every reading there saw no request (NaN or no series): not a failure;
* ``unknown``: Prometheus could not be read there (unreachable, an HTTP error, a refused
  query): not a failure, and never reported as healthy.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import httpx

from automation.lifecycle.durations import milliseconds, parse_duration, show_duration
from automation.lifecycle.errors import BadInput
from automation.lifecycle.redact import Redactor
from components.draft.settings import DraftSettings

Verdict = Literal["healthy", "unhealthy", "no traffic", "unknown"]
URL_ENV = "ENVCTL_PROMETHEUS_URL"
TOKEN_ENV = "ENVCTL_PROMETHEUS_TOKEN"
SHORTEST, LONGEST = timedelta(seconds=10), timedelta(minutes=30)
READINGS, LONGEST_STEP = 20, 15.0


def parse_watch(text: str) -> timedelta:
    """``--watch`` as a timedelta, 10s to 30m (``5m``, ``90s``, ``2m30s``); BadInput."""
    return parse_duration(
        text, name="--watch", minimum=SHORTEST, maximum=LONGEST, examples="5m, 90s or 2m30s"
    )


@dataclass(frozen=True)
class Prometheus:
    """Where to read metrics: the base URL (any path prefix kept), its credentials apart."""

    url: httpx.URL
    token: str | None = None

    @property
    def shown(self) -> str:
        """The URL fit to print: without user and password."""
        return str(_without_user(self.url))


def _without_user(url: httpx.URL) -> httpx.URL:
    return url.copy_with(username=None, password=None)


def prometheus_from(option: str | None, token: str | None, redact: Redactor) -> Prometheus:
    """``--prometheus-url`` (or ENVCTL_PROMETHEUS_URL) checked; secrets registered; BadInput."""
    expected = f"expected the http(s) URL of Prometheus from --prometheus-url or {URL_ENV}, e.g. http://prometheus.monitoring:9090"
    if not option:
        raise BadInput(f"--prometheus-url: required with --watch ({expected})")
    try:
        url = httpx.URL(option.strip())
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        shown = option if url is None or not url.userinfo else str(_without_user(url))
        raise BadInput(f"--prometheus-url: {shown!r} is not a URL ({expected})")
    redact.add(*(secret for secret in (url.password, token) if secret))
    return Prometheus(url, token or None)


class Unreadable(Exception):
    """Prometheus gave no usable answer; the message is fit to print."""


class PrometheusReader:
    """Instant queries against ``/api/v1/query`` with httpx."""

    def __init__(self, prometheus: Prometheus, timeout: float = 5.0) -> None:
        self.prometheus = prometheus
        headers = {"Authorization": f"Bearer {prometheus.token}"} if prometheus.token else {}
        base = prometheus.url
        self._endpoint = base.copy_with(path=base.path.rstrip("/") + "/api/v1/query", query=None)
        self._client = httpx.Client(headers=headers, timeout=timeout)

    def close(self) -> None:
        self._client.close()

    def value(self, query: str) -> float | None:
        """The query's one value; None for no series or NaN (no requests); Unreadable."""
        where = f"Prometheus at {self.prometheus.shown}"
        try:
            reply = self._client.post(self._endpoint, data={"query": query})
        except httpx.TimeoutException:
            raise Unreadable(f"{where} did not answer in time") from None
        except httpx.TransportError as exc:
            raise Unreadable(f"{where} is unreachable ({type(exc).__name__})") from None
        try:
            body = reply.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "status" not in body:
            raise Unreadable(
                f"{where} answered HTTP {reply.status_code}, not a Prometheus API response"
            )
        if body["status"] != "success":
            raise Unreadable(
                f"{where} refused the query (HTTP {reply.status_code}): {body.get('error')}"
            )
        data = body.get("data") or {}
        result: Any = data.get("result")
        try:
            if data.get("resultType") == "scalar":
                samples = [float(result[1])]
            else:
                samples = [float(item["value"][1]) for item in result]
        except (TypeError, KeyError, IndexError, ValueError):
            raise Unreadable(f"{where} answered with an unexpected document") from None
        found = [v for v in samples if not math.isnan(v)]
        return max(found) if found else None


@dataclass(frozen=True)
class Reading:
    """One look at the ratio, ``at`` seconds into the watch."""

    at: float
    ratio: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class WatchResult:
    """The watch's verdict, the threshold it judged against, and what it read."""

    verdict: Verdict
    threshold: float
    duration: timedelta
    readings: tuple[Reading, ...]

    @property
    def unhealthy(self) -> bool:
        return self.verdict == "unhealthy"

    def summary(self) -> str:
        """One line: the verdict and the numbers behind it (no secrets: none are read)."""
        deciding = _second_half(self.readings, self.duration)
        ratios = [r.ratio for r in deciding if r.ratio is not None]
        errors = [r.error for r in deciding if r.error is not None]
        span = show_duration(self.duration)
        limit = f"{self.threshold:.2%}"
        if self.verdict == "unhealthy":
            return (
                f"the 5xx ratio stayed above {limit} for the last half of a {span} watch "
                f"(lowest {min(ratios):.2%}, {len(ratios)} readings)"
            )
        if self.verdict == "healthy":
            note = f"; {len(errors)} readings failed" if errors else ""
            return (
                f"healthy: the 5xx ratio did not stay above {limit} during a {span} watch "
                f"(latest {ratios[-1]:.2%}, highest {max(ratios):.2%}){note}"
            )
        if self.verdict == "no traffic":
            return f"no traffic during the {span} watch: nothing to judge, not a failure"
        last = errors[-1] if errors else "no reading"
        return (
            f"unknown: the 5xx ratio could not be read during the {span} watch ({last}); "
            "the release stays, but nothing says it is healthy"
        )


def _second_half(readings: tuple[Reading, ...], duration: timedelta) -> list[Reading]:
    half = duration.total_seconds() / 2
    return [r for r in readings if r.at >= half]


def judge(readings: tuple[Reading, ...], threshold: float, duration: timedelta) -> Verdict:
    """The verdict of the readings of the watch's second half (module docstring)."""
    deciding = _second_half(readings, duration)
    ratios = [r.ratio for r in deciding if r.ratio is not None]
    if ratios:
        return "unhealthy" if all(ratio > threshold for ratio in ratios) else "healthy"
    if any(r.error is not None for r in deciding) or not deciding:
        return "unknown"
    return "no traffic"


def watch_release(
    reader: PrometheusReader,
    namespace: str,
    threshold: float,
    window: str,
    duration: timedelta,
    notify: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> WatchResult:
    """Read the 5xx ratio of ``namespace``'s release for ``duration`` and judge it.

    Each reading covers the requests since the watch began (the end of the deploy), at
    most ``window`` (the alert's); it starts right after the deploy, so the first readings
    may see no traffic yet.
    """
    # the alert's module loads the Kubernetes SDK: only when a watch runs
    from components.draft.monitoring import five_xx_ratio

    total = duration.total_seconds()
    step = min(LONGEST_STEP, total / READINGS)
    longest = max(1, milliseconds(window) // 1000)
    notify(
        f"watch: reading the 5xx ratio of {namespace} from {reader.prometheus.shown} "
        f"for {show_duration(duration)} (rolls back above {threshold:.2%})"
    )
    start = monotonic()
    readings: list[Reading] = []
    while True:
        sleep(step)
        at = monotonic() - start
        span = min(longest, max(1, int(at)))  # never reaching before the deploy
        try:
            ratio = reader.value(five_xx_ratio(namespace, f"{span}s"))
            readings.append(Reading(at, ratio=ratio))
        except Unreadable as exc:
            if not any(r.error for r in readings):
                notify(f"watch: {exc}; still trying until the watch ends")
            readings.append(Reading(at, error=str(exc)))
        if at >= total:
            break
    verdict = judge(tuple(readings), threshold, duration)
    return WatchResult(verdict, threshold, duration, tuple(readings))


def watcher(
    prometheus: Prometheus,
    namespace: str,
    duration: timedelta,
    notify: Callable[[str], None],
) -> Callable[[DraftSettings], WatchResult]:
    """The ``watch`` of ``deploy_draft``: threshold and window from the draft's settings
    (``draft:monitoring``, what the alert uses); the verdict is told through ``notify``."""

    def watch(settings: DraftSettings) -> WatchResult:
        monitoring = settings.monitoring
        reader = PrometheusReader(prometheus)
        try:
            result = watch_release(
                reader,
                namespace,
                monitoring.error_ratio_threshold,
                monitoring.error_window,
                duration,
                notify,
            )
        finally:
            reader.close()
        notify(f"watch: {result.summary()}")
        return result

    return watch
