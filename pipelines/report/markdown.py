"""The Markdown summary of the leaders' report, read from the warehouse's closed-loop table and its views.

Plain Markdown, so it reads well in a terminal, a pull request, a wiki or an e-mail; the full report with its
trends and charts is the HTML page (``pipelines.report.page``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from checks.model import tally
from checks.sla.compliance import mql_commitment as checked_commitment
from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS, IDENTITY_CONFLICTS
from connectors.warehouse.catalog.quality import CHECK_RESULTS
from connectors.warehouse.catalog.views import DISQUALIFICATION_BY_CAMPAIGN, FUNNEL_TOTALS, SLA_BY_OWNER, SLA_BY_TEAM
from connectors.warehouse.schema import qualified
from pipelines.funnel.business_time import BusinessCalendar
from pipelines.funnel.model import FunnelDefinitions
from pipelines.funnel.sla import CommitmentOutcome


@dataclass(frozen=True)
class Headline:
    leads: int
    mqls: int
    sals: int
    sqls: int
    opportunities: int
    won: int
    lost: int
    revenue: float
    first_touch_met: int
    first_touch_breached: int
    first_touch_pending: int
    ignored_mqls: int
    accept_reject_breached: int
    rejections_without_reason: int
    too_few_attempts: int
    identity_conflicts: int
    definitions_hash: str

    @property
    def first_touch_compliance(self) -> float | None:
        decided = self.first_touch_met + self.first_touch_breached
        return self.first_touch_met / decided if decided else None


def headline(conn: sa.Connection, schema: str | None = None) -> Headline:
    row = conn.execute(sa.text(f"SELECT * FROM {qualified(conn.dialect, schema, FUNNEL_TOTALS.name)}")).mappings().one()
    c = qualified(conn.dialect, schema, IDENTITY_CONFLICTS.name)
    conflicts = int(conn.execute(sa.text(f"SELECT COUNT(*) FROM {c}")).scalar_one())
    # The Headline's fields only: funnel_totals gains columns (duplicates_excluded) this summary does not show.
    counted = {f.name for f in fields(Headline)} - {"revenue", "identity_conflicts", "definitions_hash"}
    counts = {k: int(row[k] or 0) for k in counted - {"too_few_attempts"}}
    counts["too_few_attempts"] = int(row["disqualified_too_few_attempts"] or 0)
    return Headline(
        **counts,
        revenue=float(row["revenue"] or 0),
        identity_conflicts=conflicts,
        definitions_hash=str(row["definitions_hash"] or ""),
    )


def mql_commitment(
    conn: sa.Connection, schema: str | None, defs: FunnelDefinitions, as_of: datetime
) -> list[CommitmentOutcome]:
    """Marketing's side of the deal, month by month, judged at ``as_of`` (the instant the closed loop was judged
    at): MQLs at or above the committed score vs the committed count, as the page and the SLA check count them
    (``checks.sla.compliance.mql_commitment``; each MQL with the score it had when it became one)."""
    leads = sa.table(
        CLOSED_LOOP_LEADS.name, sa.column("mql_at"), sa.column("mql_inferred"), sa.column("score_at_mql"), schema=schema
    )
    calendar = BusinessCalendar.from_spec(defs.sla.calendar)
    return checked_commitment(conn, leads, as_of, calendar, defs.sla.mql_commitment)


def _blank(value: str | None, label: str) -> str:
    """The views write '(none)' for a missing reason; say what is missing."""
    return label if value in (None, "(none)") else str(value)


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _cell(value: Any) -> str:
    """Fractions up to 1 are the views' rates, shown as percentages; a DECIMAL is read as the number it is."""
    number = float(value) if isinstance(value, Decimal) else value
    if isinstance(number, float):
        return f"{number:.0%}" if number <= 1 else f"{number:,.1f}"
    return "" if value is None else str(value)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        out.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return out


def render(
    conn: sa.Connection,
    defs: FunnelDefinitions,
    schema: str | None = None,
    *,
    as_of: datetime,
    run_id: str | None = None,
) -> str:
    """The Markdown summary of the closed loop judged at ``as_of``."""
    h = headline(conn, schema)
    q = lambda name: qualified(conn.dialect, schema, name)  # noqa: E731 - a short alias inside the SQL strings below
    lines = [
        "# crm-loop funnel and SLA report",
        "",
        f"Data as of {as_of.astimezone(UTC):%Y-%m-%d %H:%M} UTC · "
        f"generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · definitions `{h.definitions_hash}`"
        + (f" · run `{run_id}`" if run_id else ""),
        "",
        "## Funnel",
        "",
        *_table(
            ["leads", "MQL", "SAL", "SQL", "opportunity", "won", "lost", "won revenue"],
            [[h.leads, h.mqls, h.sals, h.sqls, h.opportunities, h.won, h.lost, f"{h.revenue:,.0f}"]],
        ),
        "",
        "## Lead-handling SLA (sales)",
        "",
        f"- First touch within target: **{percent(h.first_touch_compliance)}** "
        f"({h.first_touch_met} met, {h.first_touch_breached} breached, {h.first_touch_pending} pending)",
        f"- MQLs nobody ever touched, past their deadline: **{h.ignored_mqls}**",
        f"- Accept/reject decisions past the deadline: **{h.accept_reject_breached}**",
        f"- Rejections without an agreed reason: **{h.rejections_without_reason}**",
        f"- Disqualified before the minimum contact attempts: **{h.too_few_attempts}**",
        f"- People whose CRM records conflict (see `identity_conflicts`): **{h.identity_conflicts}**",
        "",
        "### By team",
        "",
    ]
    teams = conn.execute(
        sa.text(
            f"SELECT owner_team, mqls_audited, first_touch_met, first_touch_breached, first_touch_compliance, "
            f"accept_reject_breached, rejections_without_reason FROM {q(SLA_BY_TEAM.name)} ORDER BY owner_team"
        )
    ).all()
    lines += _table(
        ["team", "MQLs", "first touch met", "breached", "compliance", "accept/reject late", "no reason"], teams
    )
    owners = conn.execute(
        sa.text(
            f"SELECT owner_name, owner_team, mqls_audited, first_touch_breached, first_touch_compliance, "
            f"accept_reject_breached, rejections_without_reason FROM {q(SLA_BY_OWNER.name)} "
            f"ORDER BY first_touch_breached DESC, owner_name LIMIT 10"
        )
    ).all()
    lines += ["", "### Owners with the most first-touch breaches", ""]
    lines += _table(
        ["owner", "team", "MQLs", "first touch breached", "compliance", "accept/reject late", "no reason"], owners
    )
    commitment = mql_commitment(conn, schema, defs, as_of)
    lines += [
        "",
        f"## Marketing's MQL commitment ({defs.sla.mql_commitment.monthly_count} MQLs a month "
        f"scoring at least {defs.sla.mql_commitment.min_score:g})",
        "",
    ]
    lines += _table(
        ["month", "qualifying MQLs", "committed", "status"],
        [[c.month.strftime("%Y-%m"), c.count, c.target, c.status] for c in commitment],
    )
    view = q(DISQUALIFICATION_BY_CAMPAIGN.name)
    overall = conn.execute(
        sa.text(
            f"SELECT disqualification_reason, SUM(rejected_leads) AS n FROM {view} "
            f"GROUP BY disqualification_reason ORDER BY n DESC, disqualification_reason"
        )
    ).all()
    by_campaign = conn.execute(
        sa.text(
            f"SELECT campaign_key, disqualification_reason, rejected_leads, share_of_campaign_rejections FROM {view} "
            f"WHERE campaign_key <> '(none)' ORDER BY rejected_leads DESC, campaign_key, disqualification_reason LIMIT 12"
        )
    ).all()
    lines += ["", "## Why leads were disqualified (feedback for marketing)", ""]
    lines += _table(["reason", "rejected leads"], [[_blank(r[0], "(no reason given)"), r[1]] for r in overall])
    lines += ["", "By campaign (campaign-attributed leads only):", ""]
    lines += _table(
        ["campaign", "reason", "rejected leads", "share of the campaign's rejections"],
        [[r[0], _blank(r[1], "(no reason given)"), r[2], r[3]] for r in by_campaign],
    )
    if run_id:
        lines += data_quality(conn, schema, run_id)
    return "\n".join(lines) + "\n"


def data_quality(conn: sa.Connection, schema: str | None, run_id: str) -> list[str]:
    """The run's checks, counted by ``checks.model.outcome`` as the digest and the run summary count them."""
    results = (
        conn.execute(
            sa.text(
                f"SELECT check_name, status, severity, unexpected_count "
                f"FROM {qualified(conn.dialect, schema, CHECK_RESULTS.name)} "
                f"WHERE run_id = :run ORDER BY severity, check_name"
            ),
            {"run": run_id},
        )
        .mappings()
        .all()
    )
    failing = [[r["check_name"], r["severity"], r["unexpected_count"]] for r in results if r["status"] != "passed"]
    counts = tally(results)
    lines = ["", f"## Data quality: {counts.passed} of {counts.total} checks passed", "", counts.summary() + ".", ""]
    return lines + (_table(["check", "severity", "offending rows"], failing) if failing else ["All checks passed."])
