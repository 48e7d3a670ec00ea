"""One write-back run: plan from closed_loop_leads and the CRMs' current values, store the diff, and with
``apply`` write the changes (batched per CRM), recording every field's outcome in ``writeback_audit``."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.api.budget import ApiBudgetExceeded
from connectors.warehouse.warehouse import Warehouse
from pipelines.funnel.model import WritebackDefs
from pipelines.writeback import audit
from pipelines.writeback.diff import Change, Current, plan, unsent
from pipelines.writeback.targets import Target
from pipelines.writeback.values import RecordKey, desired_values


@dataclass
class WritebackOutcome:
    run_id: str
    applied: bool
    changes: list[Change]
    results: dict[tuple[str, str, str, str], tuple[str, str | None]] = field(default_factory=dict)
    budget_stopped: str | None = None

    def counts(self) -> Counter[str]:
        return Counter(result for result, _ in self.results.values())


def run_writeback(
    wh: Warehouse, defs: WritebackDefs, targets: Sequence[Target], *, apply: bool, run_id: str | None = None
) -> WritebackOutcome:
    """Plan for the systems in ``targets`` (records of other systems are left out), then store and, with
    ``apply``, write. An exhausted API budget stops the writes: what was not written is recorded as skipped."""
    run_id = run_id or uuid.uuid4().hex
    table = audit.audit_table(wh)
    by_system = {t.system: t for t in targets}
    desired = {k: v for k, v in desired_values(defs, audit.read_leads(wh)).items() if k[0] in by_system}
    kinds = {(f.system, f.object, f.field): f.kind for f in defs.fields}
    outcome = WritebackOutcome(run_id, apply, [])
    try:
        for target in targets:
            target.prepare([f for f in defs.fields if f.system == target.system], create=apply)
        last = audit.last_writes(wh, table)
        wanted = unsent(desired, last)
        outcome.changes = plan(wanted, _current(by_system, defs, wanted), last, kinds)
        for change in outcome.changes:
            outcome.results[_key(change)] = (
                change.action if change.action != "write" else ("planned" if not apply else "skipped"),
                _why(change),
            )
        if apply:
            for target in targets:
                _write(target, outcome)
    except ApiBudgetExceeded as exc:
        outcome.budget_stopped = str(exc)
        for key, (result, _) in outcome.results.items():
            if result == "skipped":
                outcome.results[key] = ("skipped", f"API budget reached: {exc}")
    finally:
        audit.record(wh, table, _rows(outcome, by_system))
    return outcome


def _current(
    by_system: Mapping[str, Target], defs: WritebackDefs, desired: Mapping[RecordKey, Any]
) -> dict[RecordKey, Current]:
    current: dict[RecordKey, Current] = {}
    for system, target in by_system.items():
        for object in sorted({o for s, o, _ in desired if s == system}):
            ids = [i for s, o, i in desired if s == system and o == object]
            fields = [f.field for f in defs.of(system, object)]
            for record_id, values in target.read_current(object, ids, fields).items():
                current[(system, object, record_id)] = values
    return current


def _write(target: Target, outcome: WritebackOutcome) -> None:
    pending: dict[str, dict[str, dict[str, str | None]]] = {}
    for change in outcome.changes:
        if change.system == target.system and change.action == "write":
            pending.setdefault(change.object, {}).setdefault(change.record_id, {})[change.field] = change.new
    for object, updates in sorted(pending.items()):
        for batch in target.update(object, updates):
            for record_id, error in batch.items():
                for name in updates.get(record_id, {}):
                    outcome.results[(target.system, object, record_id, name)] = (
                        ("failed", error) if error else ("written", None)
                    )


def _rows(outcome: WritebackOutcome, by_system: Mapping[str, Target]) -> list[dict[str, Any]]:
    if not outcome.results:
        return []
    # Writes are stamped with the CRM's clock, the one its records' last-modified dates use.
    stamps = {system: target.server_now() for system, target in by_system.items()}
    rows = []
    for change in outcome.changes:
        result, error = outcome.results[_key(change)]
        rows.append(
            {
                "run_id": outcome.run_id,
                "system": change.system,
                "object": change.object,
                "record_id": change.record_id,
                "field": change.field,
                "old_value": change.old,
                "new_value": change.new,
                "mode": "apply" if outcome.applied else "dry_run",
                "result": result,
                "error": error,
                "recorded_at": stamps[change.system],
            }
        )
    return rows


def _key(change: Change) -> tuple[str, str, str, str]:
    return (change.system, change.object, change.record_id, change.field)


def _why(change: Change) -> str | None:
    if change.action == "conflict":
        return "changed in the CRM after crm-loop's last write; left as is"
    if change.action == "missing":
        return "no live record with this id in the CRM"
    return None


def summary_lines(outcome: WritebackOutcome) -> list[str]:
    """The diff as people read it: one line per field (record, field, old -> new, result), then the totals."""
    lines = []
    for change in outcome.changes:
        result, error = outcome.results[_key(change)]
        old = "(empty)" if change.old is None else change.old
        new = "(empty)" if change.new is None else change.new
        tail = f" ({error})" if error and result != "planned" else ""
        lines.append(
            f"{change.system} {change.object} {change.record_id} {change.field}: {old} -> {new} [{result}]{tail}"
        )
    counts = ", ".join(f"{n} {result}" for result, n in sorted(outcome.counts().items())) or "nothing to change"
    mode = "applied" if outcome.applied else "dry run (nothing written; --apply writes)"
    lines.append(f"writeback {outcome.run_id}: {mode}: {counts}")
    if outcome.budget_stopped:
        lines.append(f"stopped at the API budget: {outcome.budget_stopped}")
    return lines
