"""Section 3: sales' side of the SLA: compliance by team and by rep (worst first), how long first touches took
against the target, and how long the never-touched MQLs have waited."""

from __future__ import annotations

from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from connectors.warehouse.catalog.views import SLA_BY_OWNER, SLA_BY_TEAM
from pipelines.funnel.model import FunnelDefinitions
from pipelines.report import charts
from pipelines.report.headline import AGE_DAYS, IGNORED
from pipelines.report.model import Column, Section
from pipelines.report.read import Reader

_WORST_FIRST = "CASE WHEN first_touch_compliance IS NULL THEN 1 ELSE 0 END, first_touch_compliance, {key}"
_SLA_COLUMNS = (
    Column("mqls_audited", "MQLs"),
    Column("first_touch_met", "Touched in time"),
    Column("first_touch_breached", "Late or never"),
    Column("first_touch_pending", "Pending"),
    Column("first_touch_compliance", "First-touch compliance", "rate"),
    Column("avg_business_minutes_to_first_touch", "Mean time to first touch", "minutes"),
    Column("accept_reject_compliance", "Accept/reject compliance", "rate"),
    Column("rejections_without_reason", "Rejected without reason"),
)
_SLA_SELECT = (
    "mqls_audited, first_touch_met, first_touch_breached, first_touch_pending, first_touch_compliance, "
    "avg_business_minutes_to_first_touch, "
    "1.0 * accept_reject_met / NULLIF(accept_reject_met + accept_reject_breached, 0) AS accept_reject_compliance, "
    "rejections_without_reason"
)
# Ages of the never-touched MQLs, in days: (label, from, to); the last bucket is open.
AGE_BUCKETS: tuple[tuple[str, float, float | None], ...] = (
    ("< 1 day", 0, 1),
    ("1–3 days", 1, 3),
    ("3–7 days", 3, 7),
    ("1–2 weeks", 7, 14),
    ("2–4 weeks", 14, 28),
    ("1–3 months", 28, 90),
    ("3+ months", 90, None),
)
# Time to first touch as multiples of the target: the histogram's bin edges.
TARGET_MULTIPLES = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


def _buckets(expr: str, edges: list[tuple[str, float, float | None]]) -> tuple[str, str]:
    """A CASE naming each row's bucket, and the buckets' labels as rows (so empty buckets show as zero)."""
    whens = " ".join(f"WHEN {expr} < {hi} THEN {i}" for i, (_, _, hi) in enumerate(edges) if hi is not None)
    case = f"CASE {whens} ELSE {len(edges) - 1} END"
    labels = " UNION ALL ".join(
        f"SELECT {i} AS n, '{label}' AS bucket, {lo} AS lower_bound, "
        + ("CAST(NULL AS DOUBLE PRECISION)" if hi is None else str(hi))
        + " AS upper_bound"
        for i, (label, lo, hi) in enumerate(edges)
    )
    return case, labels


def _minutes(value: float) -> str:
    return f"{value / 60:g} h" if value >= 60 else f"{value:g} min"


def sla(r: Reader, defs: FunnelDefinitions) -> Section:
    by_team = r.table(
        "sla_by_team",
        "By team, worst first-touch compliance first",
        SLA_BY_TEAM.name,
        (Column("owner_team", "Team", "text"), *_SLA_COLUMNS),
        f"SELECT owner_team, {_SLA_SELECT} FROM {{v}} ORDER BY {_WORST_FIRST.format(key='owner_team')}",
    )
    by_rep = r.table(
        "sla_by_rep",
        "By rep (reps with MQLs only), worst first",
        SLA_BY_OWNER.name,
        (Column("owner_name", "Rep", "text"), Column("owner_team", "Team", "text"), *_SLA_COLUMNS),
        f"SELECT COALESCE(owner_name, owner_key) AS owner_name, owner_team, {_SLA_SELECT} FROM {{v}} "
        f"WHERE mqls_audited > 0 ORDER BY {_WORST_FIRST.format(key='owner_name')}",
    )
    target = defs.sla.first_touch.inside_hours.minutes
    edges = [
        (
            f"{_minutes(lo * target)}–{_minutes(hi * target)}" if hi is not None else f"over {_minutes(lo * target)}",
            lo * target,
            None if hi is None else hi * target,
        )
        for lo, hi in zip(TARGET_MULTIPLES, [*TARGET_MULTIPLES[1:], None], strict=True)
    ]
    case, labels = _buckets("business_minutes_to_first_touch", edges)
    histogram = r.table(
        "first_touch_histogram",
        f"Time to first touch in business minutes (target: {_minutes(target)})",
        CLOSED_LOOP_LEADS.name,
        (
            Column("bucket", "Business time to first touch", "text"),
            Column("leads", "MQLs"),
            Column("against_target", "Against the target", "text"),
        ),
        f"""SELECT b.bucket, COALESCE(c.leads, 0) AS leads,
                   CASE WHEN b.upper_bound <= {target} THEN 'within target' ELSE 'over target' END AS against_target
            FROM ({labels}) b
            LEFT JOIN (SELECT n, COUNT(*) AS leads
                       FROM (SELECT {case} AS n FROM {{t}}
                             WHERE first_touch_sla_status IN ('met', 'breached')
                               AND business_minutes_to_first_touch IS NOT NULL) x
                       GROUP BY n) c ON c.n = b.n
            ORDER BY b.n""",
    )
    age_case, age_labels = _buckets(AGE_DAYS, list(AGE_BUCKETS))
    ageing = r.table(
        "ignored_ageing",
        "Never-touched MQLs by days waited since they became MQLs",
        CLOSED_LOOP_LEADS.name,
        (Column("bucket", "Waiting since the MQL", "text"), Column("leads", "MQLs never touched")),
        f"""SELECT b.bucket, COALESCE(c.leads, 0) AS leads
            FROM ({age_labels}) b
            LEFT JOIN (SELECT n, COUNT(*) AS leads FROM (SELECT {age_case} AS n FROM {{t}} WHERE {IGNORED}) x
                       GROUP BY n) c ON c.n = b.n
            ORDER BY b.n""",
        {"as_of": r.as_of_naive},
    )
    return Section(
        "sla",
        "Lead-handling SLA (sales)",
        f"First-touch compliance is the share of MQLs first contacted within the agreed time ({_minutes(target)} "
        "of business time from the SLA clock's start), among those touched or past their deadline; accept/reject "
        "compliance likewise for the accept-or-reject decision.",
        [
            charts.bars(
                "sla_team_chart", "First-touch compliance by team", by_team, "owner_team", "first_touch_compliance"
            ),
            by_team,
            by_rep,
            charts.columns(
                "first_touch_histogram_chart",
                "Time to first touch",
                histogram,
                "bucket",
                "leads",
                colour_by="against_target",
            ),
            histogram,
            charts.columns("ignored_ageing_chart", "Never-touched MQLs by age", ageing, "bucket", "leads"),
            ageing,
        ],
    )
