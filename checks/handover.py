"""The handover reconciliation: the shared lead score against the MQLs the CRMs recorded.

The agreement says an MQL is a lead that reaches the shared score, and marketing hands every MQL to sales. Two
findings break it, each counted per original source and campaign so the owner of the leak is visible:
  - ``reached_score_not_handed_over``: the score reached the threshold (``score_mql_at``) but the CRMs never
    recorded an MQL by ``as_of`` (marketing sat on the lead);
  - ``handed_over_below_score``: the CRMs recorded an MQL whose score at that instant (``score_at_mql``) was below
    the threshold (handed over without meeting the agreement). MQL times inferred from later stages are left
    out: nobody handed those leads over, sales found them.
Counted in the warehouse with one GROUP BY per finding; samples of person keys are capped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from checks.model import SAMPLE_SIZE, Severity
from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from pipelines.funnel.model import FunnelDefinitions

# The Dagster code location declares a check per rule at import; SQLAlchemy and the history table's code load
# when one runs.
if TYPE_CHECKING:
    import sqlalchemy as sa

    from checks.history import CheckRecord

DETAIL_GROUPS = 20  # source x campaign groups stored with a result: the largest, enough to act on
COLUMNS = ("person_key", "mql_at", "mql_inferred", "score_mql_at", "score_at_mql", "original_source", "campaign_key")


@dataclass(frozen=True)
class SourceCampaign:
    source: str | None
    campaign: str | None
    leads: int


@dataclass(frozen=True)
class HandoverFinding:
    name: str
    description: str
    count: int
    by_source_campaign: list[SourceCampaign]  # most leads first
    sample_ids: tuple[str, ...]

    def record(self, checked: int) -> CheckRecord:
        """The ``check_results`` row of this finding (``checked``: the leads it was judged on)."""
        from checks.history import CheckRecord

        return CheckRecord(
            check_name=f"handover__{self.name}",
            asset=CLOSED_LOOP_LEADS.name,
            kind="handover",
            status="failed" if self.count else "passed",
            severity=Severity.WARN.value,
            rows_checked=checked,
            expectations=1,
            failed_expectations=1 if self.count else 0,
            unexpected_count=self.count,
            sample_ids=self.sample_ids,
            details=[
                {"source": g.source, "campaign": g.campaign, "leads": g.leads}
                for g in self.by_source_campaign[:DETAIL_GROUPS]
            ],
        )


@dataclass(frozen=True)
class Handover:
    leads: int
    findings: list[HandoverFinding]

    def records(self) -> list[CheckRecord]:
        return [f.record(self.leads) for f in self.findings]


# Each finding's name and what it counts; the conditions are ``_condition``'s.
RULES: dict[str, str] = {
    "reached_score_not_handed_over": "Leads that reached the agreed lead score but were never handed to sales as MQLs",
    "handed_over_below_score": "MQLs handed to sales with a lead score below the agreed threshold",
}


def _condition(name: str, t: sa.TableClause, threshold: float) -> sa.ColumnElement[bool]:
    import sqlalchemy as sa

    if name == "reached_score_not_handed_over":
        return sa.and_(t.c.score_mql_at.is_not(None), t.c.mql_at.is_(None))
    return sa.and_(
        t.c.mql_at.is_not(None),
        sa.not_(sa.func.coalesce(t.c.mql_inferred, sa.false())),
        sa.func.coalesce(t.c.score_at_mql, 0.0) < threshold,
    )


def reconcile(
    engine: sa.Engine, schema: str | None, defs: FunnelDefinitions, sample_size: int = SAMPLE_SIZE
) -> Handover:
    """Both findings over the warehouse's ``closed_loop_leads``."""
    import sqlalchemy as sa

    from checks.live_tables import Catalog

    leads = Catalog(engine, schema).table(CLOSED_LOOP_LEADS.name, *COLUMNS)
    threshold = float(defs.lead_score.mql_threshold)
    with engine.connect() as conn:
        total = int(conn.execute(sa.select(sa.func.count()).select_from(leads)).scalar_one())
        findings = [
            _finding(conn, leads, name, description, _condition(name, leads, threshold), sample_size)
            for name, description in RULES.items()
        ]
    return Handover(total, findings)


def _finding(
    conn: sa.Connection,
    leads: sa.TableClause,
    name: str,
    description: str,
    condition: sa.ColumnElement[bool],
    sample_size: int,
) -> HandoverFinding:
    import sqlalchemy as sa

    leaked = sa.func.count().label("leads")
    groups = conn.execute(
        sa.select(leads.c.original_source, leads.c.campaign_key, leaked)
        .where(condition)
        .group_by(leads.c.original_source, leads.c.campaign_key)
        .order_by(leaked.desc(), leads.c.original_source, leads.c.campaign_key)
    ).all()
    sample = conn.execute(
        sa.select(leads.c.person_key).where(condition).order_by(leads.c.person_key).limit(sample_size)
    ).scalars()
    by_group = [SourceCampaign(source, campaign, int(n)) for source, campaign, n in groups]
    return HandoverFinding(name, description, sum(g.leads for g in by_group), by_group, tuple(str(k) for k in sample))
