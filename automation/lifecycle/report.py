"""The merge-request comment of a draft: one Markdown body, found again by a hidden marker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

MARKER = "<!-- envctl:draft-report -->"
TESTED_LABEL = "draft-tested"

_HEADLINE = {
    "deployed": "✅ Draft environment deployed",
    "rolled back": "⚠️ Draft update failed — rolled back",
    "failed": "❌ Draft update failed",
    "destroyed": "🗑️ Draft environment destroyed",
}


@dataclass(frozen=True)
class DraftReport:
    """What the comment says; every value is already free of secrets."""

    status: str
    stack: str
    branch: str
    sha: str | None = None
    image_tag: str | None = None
    url: str | None = None
    smoke: str | None = None
    expires_at: datetime | None = None
    pipeline_url: str | None = None
    rolled_back_to: str | None = None
    error: str | None = None
    watch: str | None = None
    """The post-deploy 5xx watch's summary (``draft up --watch``), when one ran."""

    @property
    def tested(self) -> bool:
        """True when this deploy's smoke test passed (the ``draft-tested`` label)."""
        return self.status == "deployed" and self.smoke == "passed"


def _cell(text: str) -> str:
    """Table-safe text: no pipes or line breaks."""
    return " ".join(text.replace("|", "\\|").split())


def render(report: DraftReport) -> str:
    """The comment body, starting with the marker that finds it again on the next push."""
    rows: list[tuple[str, str]] = []
    if report.url and report.status != "destroyed":
        rows.append(("URL", report.url))
    if report.image_tag:
        rows.append(("Image tag", f"`{report.image_tag}`"))
    if report.sha:
        rows.append(("Commit", f"`{report.sha[:12]}`"))
    if report.smoke:
        rows.append(("Smoke test", report.smoke))
    if report.watch:
        rows.append(("5xx watch", report.watch))
    if report.rolled_back_to:
        rows.append(("Now serving", f"`{report.rolled_back_to[:12]}` (last good deployment)"))
    if report.expires_at and report.status != "destroyed":
        expires = report.expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        extend = f"envctl draft extend --branch {report.branch} --hours 24"
        rows.append(("Expires", f"{expires} (each push renews it; or `{extend}`)"))
    rows.append(("Stack", f"`{report.stack}`"))
    if report.pipeline_url:
        rows.append(("Pipeline", report.pipeline_url))
    lines = [
        MARKER,
        f"### {_HEADLINE.get(report.status, report.status)}",
        "",
        "| | |",
        "|---|---|",
        *(f"| {name} | {_cell(value)} |" for name, value in rows),
    ]
    if report.error:
        lines += ["", f"> {_cell(report.error)}"]
    lines += ["", f"<sub>Updated by envctl for `{_cell(report.branch)}`.</sub>"]
    return "\n".join(lines) + "\n"
