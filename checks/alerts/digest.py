"""The one message a run sends, as data: a headline (what failed, since when, the trend against the last run),
one finding per check that did not pass (what it means, how many rows, what to do, links to the records, the
reps behind an SLA breach) and the escalations. ``checks.alerts.slack`` and ``checks.alerts.mail`` render it;
the JSON webhook gets ``payload()``. Counts follow ``checks.model.outcome``, as the run summary and the report do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from checks.alerts.context import CheckHistoryNote, Rep, RunContext
from checks.alerts.describe import CheckInfo, what_to_do
from checks.alerts.links import CrmAddresses, Link, record_links
from checks.model import OUTCOMES, Outcome, Tally, outcome, tally
from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS

LABELS: dict[Outcome, str] = {"failed": "FAILED", "error": "COULD NOT RUN", "warn": "WARN", "passed": "passed"}


@dataclass(frozen=True)
class Escalated:
    kind: str  # check | owner
    subject: str  # check name or owner key
    runs: int  # a check: consecutive runs in breach; an owner: consecutive breached SLA outcomes

    @property
    def streak(self) -> str:
        return f"{self.runs} {'runs' if self.kind == 'check' else 'breaches'} in a row"


@dataclass(frozen=True)
class Finding:
    """One check of the run that did not pass."""

    check_name: str
    asset: str
    kind: str  # quality | sla
    severity: str
    outcome: Outcome
    description: str
    rows_checked: int
    unexpected_count: int
    sample_ids: tuple[str, ...]
    id_columns: tuple[str, ...]  # what each sampled id is made of
    action: str
    links: tuple[Link, ...] = ()
    reps: tuple[Rep, ...] = ()
    reps_in_breach: int = 0
    history: CheckHistoryNote = field(default_factory=CheckHistoryNote)
    error: str | None = None

    @property
    def is_new(self) -> bool:
        return self.history.previous in (None, "passed")

    def size(self) -> str:
        if self.outcome == "error":
            return ""  # the label says it, the action says why
        unit = "leads" if self.id_columns == ("person_key",) else "rows"
        if self.check_name == "sla__mql_commitment":
            unit = "months"
        return f"{self.unexpected_count:,} of {self.rows_checked:,} {unit}"

    def trend(self) -> str:
        h = self.history
        if h.previous is None:
            return "first run of this check"
        if h.previous == "passed":
            return "new since the last run"
        since = f"failing since {h.failing_since:%Y-%m-%d} ({h.failing_runs} runs)" if h.failing_since else ""
        if h.previous_unexpected is None or self.outcome == "error" or h.previous == "error":
            return since
        delta = self.unexpected_count - h.previous_unexpected
        change = f"{delta:+,} since the last run" if delta else "unchanged since the last run"
        return f"{since}, {change}" if since else change

    def facts(self) -> str:
        """How many rows, since when, and the change since the last run, e.g. ``37 of 1,500 rows · failing since
        2026-11-27 (4 runs), +6 since the last run``."""
        return " · ".join(part for part in (self.size(), self.trend()) if part)

    def rep_line(self) -> str:
        if not self.reps:
            return ""
        more = self.reps_in_breach - len(self.reps)
        return ", ".join(f"{r.name} ({r.leads})" for r in self.reps) + (f" and {more} more" if more > 0 else "")

    def payload(self) -> dict[str, Any]:
        h = self.history
        return {
            "check_name": self.check_name,
            "asset": self.asset,
            "kind": self.kind,
            "outcome": self.outcome,
            "severity": self.severity,
            "description": self.description,
            "rows_checked": self.rows_checked,
            "unexpected_count": self.unexpected_count,
            "sample_ids": list(self.sample_ids),
            "error": self.error,
            "action": self.action,
            "links": [{"label": link.label, "url": link.url} for link in self.links],
            "reps": [{"name": r.name, "leads": r.leads} for r in self.reps],
            "previous_outcome": h.previous,
            "previous_unexpected_count": h.previous_unexpected,
            "failing_since": h.failing_since.isoformat() if h.failing_since else None,
            "failing_runs": h.failing_runs,
        }


@dataclass(frozen=True)
class Digest:
    run_id: str
    run_url: str
    definitions_hash: str
    tally: Tally
    findings: Sequence[Finding]  # FAILED first, then COULD NOT RUN, then WARN
    fixed: Sequence[str] = ()  # checks that did not pass in their previous run and pass now
    escalations: Sequence[Escalated] = ()
    run_failure: str | None = None  # why the run itself failed (a step error), if it did

    @property
    def short_run_id(self) -> str:
        return self.run_id.split("-")[0]  # as Dagster's UI and dagster-slack shorten it

    @property
    def needs_action(self) -> bool:
        return bool(self.run_failure or self.escalations or self.tally.needs_action)

    @property
    def title(self) -> str:
        """The headline's first line: the e-mail subject, Slack's header and notification text."""
        if self.run_failure:
            checks = f"checks: {self.tally.summary()}" if self.tally.total else "before any check ran"
            return f"crm-loop run {self.short_run_id} FAILED; {checks}"
        if not self.needs_action:
            return f"crm-loop: all {self.tally.total} checks passed (run {self.short_run_id})"
        return f"crm-loop: {self.tally.summary()} (run {self.short_run_id})"

    def trend(self) -> str:
        """Since when and how it moved: new findings, old ones still failing (the oldest since when), fixes."""
        if not self.findings and not self.fixed:
            return ""
        if all(f.history.previous is None for f in self.findings) and not self.fixed:
            return "First run of these checks."
        new = sum(1 for f in self.findings if f.is_new)
        still = [f for f in self.findings if not f.is_new]
        parts = [f"{new} new"] if new else []
        if still:
            oldest = min((f.history.failing_since for f in still if f.history.failing_since), default=None)
            parts.append(f"{len(still)} still failing" + (f" (the oldest since {oldest:%Y-%m-%d})" if oldest else ""))
        if self.fixed:
            parts.append(f"{len(self.fixed)} fixed")
        return "Since the last run: " + ", ".join(parts) + "."

    def text(self) -> str:
        """Plain text: the e-mail's text part and Slack's notification fallback."""
        if not self.needs_action:
            return self.title + (f" {self.run_url}" if self.run_url else "")
        lines = [self.title]
        lines += [line for line in (self.trend(),) if line]
        if self.run_url:
            lines.append(f"Run: {self.run_url}")
        if self.run_failure:
            lines.append(f"Run failure: {self.run_failure}")
        for f in self.findings:
            lines += ["", f"{LABELS[f.outcome]}  {f.description} ({f.check_name})"]
            lines.append(f"  {f.facts()}")
            lines.append(f"  What to do: {f.action}")
            if f.reps:
                lines.append(f"  Reps: {f.rep_line()}")
            if f.links:
                lines.append("  Records: " + " ".join(link.url for link in f.links))
        if self.escalations:
            lines.append("")
        for e in self.escalations:
            lines.append(f"ESCALATION: {e.kind} {e.subject} in breach {e.streak}")
        return "\n".join(lines)

    def payload(self) -> dict[str, Any]:
        t = self.tally
        return {
            "title": self.title,
            "run_id": self.run_id,
            "run_url": self.run_url,
            "definitions_hash": self.definitions_hash,
            "counts": {"failed": t.failed, "error": t.error, "warn": t.warn, "passed": t.passed, "checks": t.total},
            "needs_action": self.needs_action,
            "trend": self.trend(),
            "failing": [f.payload() for f in self.findings],
            "fixed": list(self.fixed),
            "escalations": [e.__dict__ for e in self.escalations],
            "run_failure": self.run_failure,
        }


def build_digest(
    run_id: str,
    run_url: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    context: RunContext | None = None,
    catalog: Mapping[str, CheckInfo] | None = None,
    crm: CrmAddresses | None = None,
    escalations: Sequence[Escalated] = (),
    run_failure: str | None = None,
) -> Digest:
    """``rows``: the run's ``check_results`` rows (``CheckHistory.for_run``); ``catalog``: what each check
    means and how its samples name records (``checks.alerts.describe.check_catalog``)."""
    ctx = context or RunContext()
    names = catalog or {}
    findings = [
        _finding(r, outcome(str(r["status"]), str(r["severity"])), ctx, names, crm or CrmAddresses())
        for r in rows
        if r["status"] != "passed"
    ]
    findings.sort(key=lambda f: (OUTCOMES.index(f.outcome), f.check_name))
    fixed = sorted(
        str(r["check_name"])
        for r in rows
        if r["status"] == "passed"
        and ctx.history.get(str(r["check_name"]), CheckHistoryNote()).previous not in (None, "passed")
    )
    hashes = sorted({str(r["definitions_hash"]) for r in rows})
    return Digest(
        run_id, run_url, ",".join(hashes), tally(rows), tuple(findings), tuple(fixed), tuple(escalations), run_failure
    )


def _finding(
    row: Mapping[str, Any], result: Outcome, ctx: RunContext, catalog: Mapping[str, CheckInfo], crm: CrmAddresses
) -> Finding:
    name = str(row["check_name"])
    # A check the catalog does not know (added since): its name in words; on closed_loop_leads, one row per person.
    by_person = ("person_key",) if row["asset"] == CLOSED_LOOP_LEADS.name else ()
    info = catalog.get(name) or CheckInfo(name.replace("__", ": ").replace("_", " "), by_person)
    samples = tuple(str(i) for i in row.get("sample_ids") or ())
    return Finding(
        check_name=name,
        asset=str(row["asset"]),
        kind=str(row.get("kind") or "quality"),
        severity=str(row["severity"]),
        outcome=result,
        description=info.description,
        rows_checked=int(row.get("rows_checked") or 0),
        unexpected_count=int(row.get("unexpected_count") or 0),
        sample_ids=samples,
        id_columns=info.id_columns,
        action=what_to_do(name, result, row.get("details") or (), row.get("error")),
        links=record_links(crm, str(row["asset"]), info.id_columns, samples, ctx.people),
        reps=ctx.reps.get(name, ()),
        reps_in_breach=ctx.reps_in_breach.get(name, 0),
        history=ctx.history.get(name, CheckHistoryNote()),
        error=row.get("error"),
    )
