"""The leaders' HTML page: every number on it is the analyst views' number for the same as_of, on DuckDB and on
PostgreSQL (the page's tables are parsed back and compared with the views, aggregated here in Python), and the
page draws in a real browser (Debian's headless Chromium): every chart, no console error, no network request.

The warehouses are the SQL-model tests' sandbox extractions (tests/closed_loop/sql/conftest.py), with
closed_loop_leads built at a fixed instant.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from connectors.warehouse.warehouse import Warehouse
from pipelines.closed_loop.build import write_closed_loop
from pipelines.funnel.business_time import BusinessCalendar
from pipelines.funnel.definitions import DEFAULT_PATH, load_definitions
from pipelines.funnel.sla import mql_commitment_outcome
from pipelines.report import Published, publish
from pipelines.report.marketing import MIN_CAMPAIGN, MIN_LEADS, MIN_SHARE, OTHER_CAMPAIGNS
from pipelines.report.numbers import shown
from pipelines.report.sla import AGE_BUCKETS, TARGET_MULTIPLES
from tests.closed_loop.sql.conftest import (  # noqa: F401 - the session fixtures, shared with this module
    canonical_duckdb_path,
    canonical_postgres,
    duckdb_copy,
    postgres_copy,
    raw_duckdb_path,
    raw_postgres,
)

AS_OF = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)  # before the sandbox's anchor: some SLAs still pending
DEFS = load_definitions(DEFAULT_PATH)
SINCE = date(2025, 12, 1)  # the page's trends: the as_of month and the eleven before


# --- the page, read back -------------------------------------------------------------------------------------------


class _Tables(HTMLParser):
    """Each ``<table data-table>``: its source and its rows as {column: (data-value, shown text)}."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, Any]] = {}
        self._table: str | None = None
        self._cell: tuple[str, str] | None = None
        self._text = ""
        self._row: dict[str, tuple[str, str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "table" and "data-table" in a:
            self._table = a["data-table"]
            self.tables[self._table] = {"source": a["data-source"], "rows": [], "kinds": {}}
        elif tag == "th" and self._table and "data-kind" in a:
            self.tables[self._table]["kinds"][a["data-column"]] = a["data-kind"]
        elif tag == "tr" and self._table:
            self._row = {}
        elif tag == "td" and self._row is not None and "data-column" in a:
            self._cell, self._text = (a["data-column"], a["data-value"]), ""

    def handle_data(self, data: str) -> None:
        if self._cell:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell and self._row is not None:
            self._row[self._cell[0]] = (self._cell[1], self._text)
            self._cell = None
        elif tag == "tr" and self._table and self._row:
            self.tables[self._table]["rows"].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None


def page_tables(html: str) -> dict[str, dict[str, Any]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


# --- the views' numbers, aggregated here -----------------------------------------------------------------------------


def rows(conn: sa.Connection, wh: Warehouse, relation: str) -> list[dict[str, Any]]:
    name = f'"{wh.schema}"."{relation}"' if wh.schema else f'"{relation}"'
    return [dict(r) for r in conn.execute(sa.text(f"SELECT * FROM {name}")).mappings()]


def has(conn: sa.Connection, wh: Warehouse, relation: str) -> bool:
    return sa.inspect(conn).has_table(relation, schema=wh.schema) or relation in sa.inspect(conn).get_view_names(
        schema=wh.schema
    )


def div(a: Any, b: Any) -> float | None:
    return None if not b else float(a) / float(b)


def sums(group: list[dict[str, Any]], columns: list[str]) -> dict[str, float]:
    return {c: sum(float(r[c] or 0) for r in group) for c in columns}


def grouped(items: list[dict[str, Any]], key: str) -> dict[Any, list[dict[str, Any]]]:
    out: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        out[item[key]].append(item)
    return out


STAGES = ["leads", "mqls", "sals", "sqls", "opportunities", "won", "lost"]


def funnel_rates(s: dict[str, float]) -> dict[str, float | None]:
    return {
        "lead_to_mql_rate": div(s["mqls"], s["leads"]),
        "mql_to_sal_rate": div(s["sals"], s["mqls"]),
        "sal_to_sql_rate": div(s["sqls"], s["sals"]),
        "mql_to_sql_rate": div(s["sqls"], s["mqls"]),
        "sql_to_opportunity_rate": div(s["opportunities"], s["sqls"]),
        "win_rate": div(s["won"], s["won"] + s["lost"]),
        "lead_to_customer_rate": div(s["won"], s["leads"]),
    }


def naive(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(tzinfo=None)


def bucket(value: float, edges: list[tuple[float, float | None]]) -> int:
    return next(i for i, (_, hi) in enumerate(edges) if hi is None or value < hi)


def expected(conn: sa.Connection, wh: Warehouse) -> dict[str, list[dict[str, Any]]]:
    """Every table of the page, computed in Python from the views' rows (and closed_loop_leads' for the
    histogram, the ages and the recycled leads), in the page's order where the order is the page's message."""
    totals = rows(conn, wh, "funnel_totals")[0]
    teams = rows(conn, wh, "sla_compliance_by_team")
    owners = rows(conn, wh, "sla_compliance_by_owner")
    conversion = rows(conn, wh, "funnel_conversion_by_month")
    disq = rows(conn, wh, "disqualification_reasons_by_campaign")
    leads = rows(conn, wh, "closed_loop_leads")
    out: dict[str, list[dict[str, Any]]] = {}

    ignored = [r for r in leads if r["first_touch_sla_status"] == "breached" and r["first_touch_at"] is None]
    ages = sorted((naive(AS_OF) - r["mql_at"]).total_seconds() / 86400 for r in ignored)
    median = None if not ages else (ages[(len(ages) - 1) // 2] + ages[len(ages) // 2]) / 2
    ar = sums(teams, ["accept_reject_met", "accept_reject_breached"])
    out["headline_figures"] = [
        {
            "mqls": totals["mqls"],
            "first_touch_compliance": div(
                totals["first_touch_met"], totals["first_touch_met"] + totals["first_touch_breached"]
            ),
            "accept_reject_compliance": div(
                ar["accept_reject_met"], ar["accept_reject_met"] + ar["accept_reject_breached"]
            ),
            "ignored_mqls": totals["ignored_mqls"],
            "oldest_ignored_days": max(ages) if ages else None,
            "median_ignored_days": median,
        }
    ]
    calendar = BusinessCalendar.from_spec(DEFS.sla.calendar)
    mqls = [
        (r["mql_at"].replace(tzinfo=UTC), float(r["score_at_mql"] or 0))
        for r in leads
        if r["mql_at"] is not None and not r["mql_inferred"]
    ]
    months = sorted({r["mql_month"] for r in leads if r["mql_at"] is not None and not r["mql_inferred"]})
    commitment = [mql_commitment_outcome(m, mqls, AS_OF, calendar, DEFS.sla.mql_commitment) for m in months]
    out["mql_commitment"] = [
        {"month": c.month, "count": c.count, "target": c.target, "status": c.status}
        for c in commitment
        if c.month >= SINCE
    ]
    local = AS_OF.astimezone(ZoneInfo(DEFS.sla.calendar.timezone))
    this_month = next((c.count for c in commitment if c.month == date(local.year, local.month, 1)), 0)
    out["mqls_this_month"] = [{"count": this_month, "target": DEFS.sla.mql_commitment.monthly_count}]

    stages = ["leads", "mqls", "sals", "sqls", "opportunities", "won"]
    out["funnel_stages"] = [
        {
            "people": totals[s],
            "step_rate": div(totals[s], totals[stages[i - 1]]) if i else None,
            "share_of_leads": div(totals[s], totals["leads"]),
        }
        for i, s in enumerate(stages)
    ]
    by_month = grouped([r for r in conversion if r["cohort_month"] >= SINCE], "cohort_month")
    out["funnel_by_month"] = [
        {"cohort_month": m, **(s := sums(g, STAGES)), **funnel_rates(s)} for m, g in sorted(by_month.items())
    ]
    by_source = grouped(conversion, "original_source")
    source_rows = [{"original_source": k, **(s := sums(g, STAGES)), **funnel_rates(s)} for k, g in by_source.items()]
    out["funnel_by_source"] = sorted(source_rows, key=lambda r: (-r["leads"], r["original_source"]))
    if "duplicates_excluded" in totals:
        out["funnel_duplicates"] = [{"duplicates_excluded": totals["duplicates_excluded"]}]

    def sla_row(r: dict[str, Any]) -> dict[str, Any]:
        keep = ["mqls_audited", "first_touch_met", "first_touch_breached", "first_touch_pending"]
        keep += ["first_touch_compliance", "avg_business_minutes_to_first_touch", "rejections_without_reason"]
        decided = r["accept_reject_met"] + r["accept_reject_breached"]
        return {**{k: r[k] for k in keep}, "accept_reject_compliance": div(r["accept_reject_met"], decided)}

    def worst_first(r: dict[str, Any], key: str) -> tuple[Any, ...]:
        c = r["first_touch_compliance"]
        return (c is None, c or 0.0, r[key])

    out["sla_by_team"] = [
        {"owner_team": r["owner_team"], **sla_row(r)} for r in sorted(teams, key=lambda r: worst_first(r, "owner_team"))
    ]
    reps = [{**r, "owner_name": r["owner_name"] or r["owner_key"]} for r in owners if r["mqls_audited"] > 0]
    out["sla_by_rep"] = [
        {"owner_name": r["owner_name"], "owner_team": r["owner_team"], **sla_row(r)}
        for r in sorted(reps, key=lambda r: worst_first(r, "owner_name"))
    ]
    target = DEFS.sla.first_touch.inside_hours.minutes
    edges = [
        (lo * target, None if hi is None else hi * target)
        for lo, hi in zip(TARGET_MULTIPLES, [*TARGET_MULTIPLES[1:], None], strict=True)
    ]
    counts = [0] * len(edges)
    for r in leads:
        if r["first_touch_sla_status"] in ("met", "breached") and r["business_minutes_to_first_touch"] is not None:
            counts[bucket(r["business_minutes_to_first_touch"], edges)] += 1
    out["first_touch_histogram"] = [
        {"leads": n, "against_target": "within target" if hi is not None and hi <= target else "over target"}
        for n, (_, hi) in zip(counts, edges, strict=True)
    ]
    age_edges = [(float(lo), None if hi is None else float(hi)) for _, lo, hi in AGE_BUCKETS]
    age_counts = [0] * len(age_edges)
    for age in ages:
        age_counts[bucket(age, age_edges)] += 1
    out["ignored_ageing"] = [
        {"bucket": label, "leads": n} for (label, _, _), n in zip(AGE_BUCKETS, age_counts, strict=True)
    ]

    reason = lambda r: "no reason given" if r["disqualification_reason"] == "(none)" else r["disqualification_reason"]  # noqa: E731
    all_rejected = sum(r["rejected_leads"] for r in disq)
    overall = [
        {"reason": k, "rejected_leads": n, "share": div(n, all_rejected)}
        for k, n in (
            (k, sum(r["rejected_leads"] for r in g))
            for k, g in grouped([{**r, "reason": reason(r)} for r in disq], "reason").items()
        )
    ]
    out["disqualification_reasons"] = sorted(overall, key=lambda r: (-r["rejected_leads"], r["reason"]))
    totals_by_campaign = {k: sum(r["rejected_leads"] for r in g) for k, g in grouped(disq, "campaign_key").items()}
    folded: dict[tuple[str, str], int] = defaultdict(int)
    for r in disq:
        small = totals_by_campaign[r["campaign_key"]] < MIN_CAMPAIGN
        campaign = OTHER_CAMPAIGNS if small else r["campaign_key"]
        keep = small or (r["rejected_leads"] >= MIN_LEADS and r["share_of_campaign_rejections"] >= MIN_SHARE)
        folded[(campaign, reason(r) if keep else "other")] += r["rejected_leads"]
    group_totals: dict[str, int] = defaultdict(int)
    for (campaign, _), n in folded.items():
        group_totals[campaign] += n
    out["disqualification_by_campaign"] = sorted(
        (
            {"campaign_key": c, "reason": k, "rejected_leads": n, "share": div(n, group_totals[c])}
            for (c, k), n in folded.items()
        ),
        key=lambda r: (
            r["campaign_key"] == OTHER_CAMPAIGNS,
            -group_totals[r["campaign_key"]],
            r["campaign_key"],
            r["reason"] == "other",
            -r["rejected_leads"],
            r["reason"],
        ),
    )
    rejected = grouped([r for r in leads if r["rejected_at"] is not None], "original_source")
    recycled = [
        {"original_source": k or "(none)", "recycled": n, "share_of_rejected": div(n, len(g))}
        for k, g in rejected.items()
        for n in [sum(1 for r in g if r["outcome"] == "recycled")]
        if n
    ]
    out["recycled_by_source"] = sorted(recycled, key=lambda r: (-r["recycled"], r["original_source"]))

    if has(conn, wh, "revenue_by_campaign"):
        revenue = rows(conn, wh, "revenue_by_campaign")
        money = ["leads", "opportunities", "won", "pipeline_amount", "revenue"]
        label = {"first_touch": "first touch", "last_touch": "last touch"}
        for key in ("campaign_key", "original_source"):
            cells = grouped([{**r, "k": (r[key], label[r["attribution"]])} for r in revenue], "k")
            table = [{key: k, "attribution": a, **sums(g, money)} for (k, a), g in cells.items()]
            revenue_of = defaultdict(float)
            for r in table:
                revenue_of[r[key]] += r["revenue"]
            out[f"revenue_by_{key}"] = sorted(table, key=lambda r: (-revenue_of[r[key]], r[key], r["attribution"]))
    if has(conn, wh, "marketing_influenced_revenue"):
        out["influenced_revenue"] = sorted(
            (r for r in rows(conn, wh, "marketing_influenced_revenue") if r["month"] >= SINCE), key=lambda r: r["month"]
        )
    if has(conn, wh, "cycle_length_by_month"):
        cycles = rows(conn, wh, "cycle_length_by_month")
        for measure in ("mql_to_won", "opportunity_to_close"):
            out[f"cycle_{measure}"] = sorted(
                (r for r in cycles if r["measure"] == measure and r["month"] >= SINCE),
                key=lambda r: (r["month"], r["original_source"]),
            )
    return out


def same(page: str, want: Any) -> bool:
    if want is None:
        return page == ""
    if isinstance(want, date):
        return page == want.isoformat()
    if isinstance(want, str):
        return page == want
    return page != "" and math.isclose(float(page), float(want), rel_tol=1e-9, abs_tol=1e-9)


# --- fixtures --------------------------------------------------------------------------------------------------------


@contextmanager
def closed_loop_at_as_of(engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    """A private copy of the engine's sandbox warehouse with closed_loop_leads and the views built at AS_OF."""
    if engine == "duckdb":
        context = duckdb_copy(request.getfixturevalue("canonical_duckdb_path"), tmp_path)
    else:
        context = postgres_copy(request.getfixturevalue("canonical_postgres"))
    with context as wh:
        write_closed_loop(wh, DEFS, AS_OF)
        yield wh


@pytest.fixture(params=["duckdb", "postgres"])
def built(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    with closed_loop_at_as_of(request.param, request, tmp_path) as wh:
        yield wh


@pytest.fixture
def built_duckdb(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    with closed_loop_at_as_of("duckdb", request, tmp_path) as wh:
        yield wh


def render(wh: Warehouse, directory: Path) -> Published:
    with wh.engine.connect() as conn:
        return publish(conn, wh.schema, directory / "report.md", as_of=AS_OF, defs=DEFS)


# --- tests -----------------------------------------------------------------------------------------------------------


def test_every_number_on_the_page_is_the_views_number(built: Warehouse, tmp_path: Path) -> None:
    published = render(built, tmp_path)
    html = published.page.read_text(encoding="utf-8")
    on_page = page_tables(html)
    with built.engine.connect() as conn:
        want = expected(conn, built)
    assert want["funnel_stages"][0]["people"] > 0 and want["sla_by_rep"], "the sandbox funnel has people and reps"
    missing = set(want) - set(on_page)
    assert not missing, f"tables missing from the page: {missing}"
    for key, want_rows in want.items():
        got_rows = on_page[key]["rows"]
        assert len(got_rows) == len(want_rows), key
        for i, (got, expect) in enumerate(zip(got_rows, want_rows, strict=True)):
            for column, value in expect.items():
                if column not in got:
                    continue  # a view column the page does not show
                raw, text = got[column]
                assert same(raw, value), f"{key} row {i} {column}: page {raw!r}, views {value!r}"
                assert text == shown(value, on_page[key]["kinds"][column]), f"{key} row {i} {column}: shows {text!r}"
        # Every cell shown is a number the views gave, formatted for people.
        shown_columns = {c for r in got_rows for c in r}
        assert shown_columns <= {c for r in want_rows for c in r} | {"stage", "bucket", "against_target"}, key
    # Numbers for people: a rate reads 91%, not 0.9137.
    assert on_page["headline_figures"]["rows"][0]["first_touch_compliance"][1].endswith("%")
    # Absent views are said to be absent, not silently skipped.
    for view in ("revenue_by_campaign", "marketing_influenced_revenue", "cycle_length_by_month"):
        with built.engine.connect() as conn:
            present = has(conn, built, view)
        assert present or f"the view {view} is not built there yet" in html
    assert published.page.stat().st_size < 2_000_000


# --- in a browser ----------------------------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# What the page must draw: every chart as a visible SVG with marks in it.
_CHARTS_JS = """Array.from(document.querySelectorAll('figure.chart')).map(f => {
  const svg = f.querySelector('svg'); const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  return {chart: f.dataset.chart, width: box.width, height: box.height,
          marks: svg ? svg.querySelectorAll('path, rect, line, text').length : 0};
})"""


class DevTools:
    """A headless Chromium driven over its DevTools protocol (websockets, no browser-driver dependency)."""

    def __init__(self, workdir: Path) -> None:
        from websockets.sync.client import connect

        assert CHROMIUM
        self.process = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--remote-debugging-port=0",
                f"--user-data-dir={workdir / 'profile'}",
                "--no-first-run",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr
        for line in self.process.stderr:
            if "DevTools listening on ws://" in line:
                port = line.split("ws://", 1)[1].split("/", 1)[0]
                break
        else:
            raise AssertionError("chromium did not start its DevTools endpoint")
        with urllib.request.urlopen(f"http://{port}/json/list", timeout=10) as response:
            page = next(t for t in json.load(response) if t["type"] == "page")
        self._stack = ExitStack()
        self.socket = self._stack.enter_context(connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=10))
        self.events: list[dict[str, Any]] = []
        self._id = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._id += 1
        self.socket.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=30))
            if message.get("id") == self._id:
                assert "error" not in message, message
                return dict(message.get("result", {}))
            self.events.append(message)

    def wait_for(self, event: str) -> None:
        while not any(e.get("method") == event for e in self.events):
            self.events.append(json.loads(self.socket.recv(timeout=30)))

    def close(self) -> None:
        self._stack.close()
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (.ci/run installs Debian's package)")
def test_the_page_draws_every_chart_in_headless_chromium(built_duckdb: Warehouse, tmp_path: Path) -> None:
    import base64

    published = render(built_duckdb, tmp_path)
    expected_charts = published.page.read_text(encoding="utf-8").count('<figure class="chart"')
    browser = DevTools(tmp_path)
    try:
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.call(f"{domain}.enable")
        browser.call("Page.navigate", url=published.page.as_uri())
        browser.wait_for("Page.loadEventFired")
        drawn = browser.call("Runtime.evaluate", expression=_CHARTS_JS, returnByValue=True)["result"]["value"]
        height = browser.call("Runtime.evaluate", expression="document.body.scrollHeight")["result"]["value"]
        browser.call(
            "Emulation.setDeviceMetricsOverride", width=1000, height=int(height), deviceScaleFactor=1, mobile=False
        )
        shot = browser.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    finally:
        browser.close()
    (tmp_path / "report.png").write_bytes(base64.b64decode(shot["data"]))

    assert expected_charts >= 8 and len(drawn) == expected_charts
    for chart in drawn:
        assert chart["width"] > 50 and chart["height"] > 30 and chart["marks"] > 5, chart
    errors = [
        e["params"]
        for e in browser.events
        if (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert"))
        or e.get("method") == "Runtime.exceptionThrown"
        or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]
    assert errors == []
    requested = [
        e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"
    ]
    assert requested == [published.page.as_uri()], "the page fetched something besides itself"
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_data_quality_speaks_plainly_and_links_to_the_technical_detail(built_duckdb: Warehouse, tmp_path: Path) -> None:
    from checks.history import CheckHistory, RunStamp
    from checks.sla.evaluate import audit

    records = audit(built_duckdb.engine, built_duckdb.schema, DEFS, AS_OF).records()
    stamp = RunStamp("run-1", AS_OF, AS_OF, DEFS.version, DEFS.content_sha256)
    CheckHistory(built_duckdb.engine, built_duckdb.schema).record(stamp, records)
    with built_duckdb.engine.connect() as conn:
        total, passed = conn.execute(
            sa.text("SELECT COUNT(*), SUM(CASE WHEN status = 'passed' THEN 1 ELSE 0 END) FROM check_results")
        ).one()
        failing = conn.execute(sa.text("SELECT check_name FROM check_results WHERE status <> 'passed'")).scalars().all()
    assert failing, "the sandbox breaches some SLA"

    html = render(built_duckdb, tmp_path).page.read_text(encoding="utf-8")  # the latest run: run-1
    section = html[html.index('<section id="quality">') :]
    assert f"{passed} of {total} checks passed" in section
    tables = page_tables(section)
    summary, detail = tables["quality_summary"]["rows"], tables["quality_detail"]["rows"]
    assert len(summary) == len(detail) == len(failing)
    for name in failing:
        assert f'<tr id="dq-{name}">' in section and f'href="#dq-{name}"' in section
        assert not any(name in row["finding"][1] for row in summary), "technical names belong in the detail"
    assert {row["check_name"][1] for row in detail} == set(failing)
