"""What the digest needs beyond the run's own ``check_results`` rows, read in a few set-based queries: each
check's previous result and how long it has been failing, the reps behind each SLA breach, and the CRM records
of the resolved people a finding names."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from checks.alerts.links import PersonRecords
from checks.model import Outcome, outcome
from checks.sla.store import IGNORED
from connectors.warehouse.catalog.harmonised import CANONICAL_OWNERS, CLOSED_LOOP_LEADS
from connectors.warehouse.catalog.quality import CHECK_RESULTS, SLA_COMPLIANCE
from connectors.warehouse.schema import table_for

MAX_REPS = 5
UNASSIGNED = "(none)"  # checks.sla.compliance's member for leads without an owner


@dataclass(frozen=True)
class CheckHistoryNote:
    previous: Outcome | None = None  # the check's outcome in the run before this one; None: first run
    previous_unexpected: int | None = None
    failing_since: datetime | None = None  # UTC; the first run of the current streak of not passing
    failing_runs: int = 0  # runs in that streak, this one included


@dataclass(frozen=True)
class Rep:
    name: str
    leads: int  # leads in breach (or ignored) for this rule in this run


@dataclass(frozen=True)
class RunContext:
    history: Mapping[str, CheckHistoryNote] = field(default_factory=dict)
    reps: Mapping[str, tuple[Rep, ...]] = field(default_factory=dict)  # SLA check name -> worst reps first
    reps_in_breach: Mapping[str, int] = field(default_factory=dict)  # SLA check name -> how many reps
    people: PersonRecords = field(default_factory=dict)


def sla_check_name(rule: str) -> str:
    return "sla__ignored_leads" if rule == IGNORED else f"sla__{rule}"


def run_context(engine: sa.Engine, schema: str | None, run_id: str, rows: Sequence[Mapping[str, object]]) -> RunContext:
    meta = sa.MetaData(schema=schema)
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        present = {
            n
            for n in (SLA_COMPLIANCE.name, CANONICAL_OWNERS.name, CLOSED_LOOP_LEADS.name)
            if inspector.has_table(n, schema=schema)
        }
        history = _history(conn, table_for(CHECK_RESULTS, meta), run_id)
        reps: dict[str, tuple[Rep, ...]] = {}
        counts: dict[str, int] = {}
        if SLA_COMPLIANCE.name in present:
            owners = table_for(CANONICAL_OWNERS, meta) if CANONICAL_OWNERS.name in present else None
            reps, counts = _reps(conn, table_for(SLA_COMPLIANCE, meta), owners, run_id)
        people: PersonRecords = {}
        keys = _person_keys(rows)
        if keys and CLOSED_LOOP_LEADS.name in present:
            people = _people(conn, table_for(CLOSED_LOOP_LEADS, meta), keys)
    return RunContext(history, reps, counts, people)


def _history(conn: sa.Connection, t: sa.Table, run_id: str) -> dict[str, CheckHistoryNote]:
    this_run = sa.select(t.c.check_name, t.c.checked_at, t.c.status).where(t.c.run_id == run_id).subquery("this_run")
    earlier = (
        sa.select(
            t.c.check_name,
            t.c.status,
            t.c.severity,
            t.c.unexpected_count,
            sa.func.row_number().over(partition_by=t.c.check_name, order_by=t.c.checked_at.desc()).label("n"),
        )
        .join(this_run, sa.and_(this_run.c.check_name == t.c.check_name, t.c.checked_at < this_run.c.checked_at))
        .where(t.c.run_id != run_id)
        .subquery("earlier")
    )
    previous = {
        r.check_name: (outcome(r.status, r.severity), int(r.unexpected_count or 0))
        for r in conn.execute(sa.select(earlier).where(earlier.c.n == 1))
    }
    failing = sa.select(this_run).where(this_run.c.status != "passed").subquery("failing")
    last_pass = (
        sa.select(t.c.check_name, sa.func.max(t.c.checked_at).label("at"))
        .join(failing, failing.c.check_name == t.c.check_name)
        .where(t.c.status == "passed", t.c.checked_at < failing.c.checked_at)
        .group_by(t.c.check_name)
        .subquery("last_pass")
    )
    streak = (
        sa.select(t.c.check_name, sa.func.min(t.c.checked_at).label("since"), sa.func.count().label("runs"))
        .join(failing, failing.c.check_name == t.c.check_name)
        .outerjoin(last_pass, last_pass.c.check_name == t.c.check_name)
        .where(
            t.c.checked_at <= failing.c.checked_at, sa.or_(last_pass.c.at.is_(None), t.c.checked_at > last_pass.c.at)
        )
        .group_by(t.c.check_name)
    )
    streaks = {r.check_name: (r.since, int(r.runs)) for r in conn.execute(streak)}
    out: dict[str, CheckHistoryNote] = {}
    for name in previous.keys() | streaks.keys():
        before, before_count = previous.get(name, (None, None))
        since, runs = streaks.get(name, (None, 0))
        out[name] = CheckHistoryNote(before, before_count, _utc(since), runs)
    return out


def _reps(
    conn: sa.Connection, s: sa.Table, owners: sa.Table | None, run_id: str
) -> tuple[dict[str, tuple[Rep, ...]], dict[str, int]]:
    ranked = (
        sa.select(
            s.c.rule,
            s.c.member,
            s.c.breached,
            sa.func.row_number().over(partition_by=s.c.rule, order_by=(s.c.breached.desc(), s.c.member)).label("n"),
            sa.func.count().over(partition_by=s.c.rule).label("reps"),
        )
        .where(s.c.run_id == run_id, s.c.dimension == "owner", s.c.breached > 0)
        .subquery("ranked")
    )
    if owners is not None:
        names = (
            sa.select(owners.c.owner_key, sa.func.max(owners.c.name).label("name"))
            .group_by(owners.c.owner_key)
            .subquery("names")
        )
        query = sa.select(ranked, names.c.name).outerjoin(names, names.c.owner_key == ranked.c.member)
    else:
        query = sa.select(ranked, sa.null().label("name"))
    query = query.where(ranked.c.n <= MAX_REPS).order_by(ranked.c.rule, ranked.c.n)
    reps: dict[str, list[Rep]] = {}
    counts: dict[str, int] = {}
    for r in conn.execute(query):
        check = sla_check_name(r.rule)
        label = "unassigned" if r.member == UNASSIGNED else (r.name or r.member)
        reps.setdefault(check, []).append(Rep(label, int(r.breached)))
        counts[check] = int(r.reps)
    return {k: tuple(v) for k, v in reps.items()}, counts


def _person_keys(rows: Iterable[Mapping[str, object]]) -> list[str]:
    # Findings about resolved people: closed-loop suites and the SLA findings (mql_commitment samples months).
    keys: dict[str, None] = {}
    for row in rows:
        if row["status"] == "passed" or row["asset"] != CLOSED_LOOP_LEADS.name:
            continue
        if row["check_name"] != "sla__mql_commitment":
            keys.update(dict.fromkeys(str(i) for i in _ids(row)))
    return list(keys)


def _ids(row: Mapping[str, object]) -> Sequence[object]:
    ids = row.get("sample_ids")
    return ids if isinstance(ids, (list, tuple)) else ()


def _people(conn: sa.Connection, leads: sa.Table, keys: list[str]) -> dict[str, list[tuple[str, str, str]]]:
    query = sa.select(
        leads.c.person_key, leads.c.salesforce_lead_id, leads.c.salesforce_contact_id, leads.c.hubspot_contact_id
    ).where(leads.c.person_key.in_(keys))
    out: dict[str, list[tuple[str, str, str]]] = {}
    for key, lead, contact, hubspot in conn.execute(query):
        out[key] = [
            (system, object_name, str(record))
            for system, object_name, record in (
                ("salesforce", "lead", lead),
                ("salesforce", "contact", contact),
                ("hubspot", "contacts", hubspot),
            )
            if record
        ]
    return out


def _utc(value: datetime | None) -> datetime | None:
    # check_results holds naive UTC instants.
    return None if value is None else value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
