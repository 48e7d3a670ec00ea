"""Writing the leaders' report: the HTML page and the Markdown summary beside it, and the lines that announce
them (on the terminal, in the Dagster asset's metadata)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from pipelines.closed_loop.build import data_as_of as build_as_of
from pipelines.closed_loop.sql.context import SqlContext
from pipelines.funnel.definitions import load_definitions
from pipelines.funnel.model import FunnelDefinitions
from pipelines.report import markdown, page
from pipelines.report.cycles import cycles
from pipelines.report.funnel import funnel
from pipelines.report.headline import headline
from pipelines.report.marketing import marketing
from pipelines.report.model import Section
from pipelines.report.quality import latest_run, quality
from pipelines.report.read import Reader
from pipelines.report.sla import sla

TITLE = "Funnel and SLA report"


@dataclass(frozen=True)
class Published:
    page: Path
    markdown: Path
    headline: str  # one line: the funnel and the SLA in numbers
    as_of: datetime

    @property
    def summary(self) -> str:
        """The lines the terminal shows."""
        return "\n".join(
            [
                self.headline,
                f"report for sales and marketing leaders: {self.markdown}",
                f"page for sales and marketing leaders (open in a browser): {self.page}",
            ]
        )


def data_as_of(conn: sa.Connection, schema: str | None) -> datetime:
    """The instant a build judges the closed loop at unless told another (``build.data_as_of``: the latest
    instant the canonical data shows; now when it shows none)."""
    return build_as_of(SqlContext(conn, schema)) or datetime.now(UTC)


def sections(r: Reader, defs: FunnelDefinitions, run_id: str | None) -> list[Section]:
    return [headline(r, defs), funnel(r), sla(r, defs), marketing(r), cycles(r), quality(r, run_id)]


def page_path(markdown_path: Path) -> Path:
    """The page beside the Markdown summary: ``report.md`` -> ``report.html``."""
    return markdown_path.with_suffix(".html")


def publish(
    conn: sa.Connection,
    schema: str | None,
    path: Path,
    *,
    run_id: str | None = None,
    as_of: datetime | None = None,
    defs: FunnelDefinitions | None = None,
) -> Published:
    """Write the Markdown summary to ``path`` and the page beside it (definitions as configured:
    ``$CRM_LOOP_DEFINITIONS`` or the repository's). ``as_of`` is the instant the closed loop was judged at
    (default: its latest change); ``run_id`` the run whose checks to show (default: the latest that ran any)."""
    defs = defs or load_definitions()
    when = as_of or data_as_of(conn, schema)
    reader = Reader(conn, schema, when)
    run = run_id or latest_run(reader)
    h = markdown.headline(conn, schema)
    meta = [
        f"Data as of {when.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
        f"definitions {defs.version} ({h.definitions_hash or defs.content_hash})",
        f"generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        *([f"run {run}"] if run else []),
    ]
    html = page.render(TITLE, meta, sections(reader, defs, run))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown.render(conn, defs, schema, as_of=when, run_id=run), encoding="utf-8")
    page_path(path).write_text(html, encoding="utf-8")
    line = (
        f"funnel: {h.leads} leads -> {h.mqls} MQL -> {h.sals} SAL -> {h.sqls} SQL -> {h.opportunities} "
        f"opportunities -> {h.won} won ({h.revenue:,.0f}), {h.lost} lost"
        f"\nSLA: first touch in time {markdown.percent(h.first_touch_compliance)} ({h.first_touch_met} met, "
        f"{h.first_touch_breached} breached, {h.first_touch_pending} pending); {h.ignored_mqls} MQLs never "
        f"touched; {h.rejections_without_reason} rejections without a reason; {h.too_few_attempts} disqualified "
        "too early"
    )
    return Published(page_path(path), path, line, when)


def write(conn: sa.Connection, schema: str | None, path: Path, *, run_id: str | None = None) -> str:
    """``publish`` for the terminal: the lines announcing what was written."""
    return publish(conn, schema, path, run_id=run_id).summary
