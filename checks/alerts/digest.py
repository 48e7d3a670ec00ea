"""The one message a run sends: counts per status and severity, each failing check in a line, escalations."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Escalated:
    kind: str  # check | owner
    subject: str  # check name or owner key
    runs: int  # consecutive runs in breach


@dataclass(frozen=True)
class Digest:
    run_id: str
    run_url: str
    definitions_hash: str
    counts: Mapping[str, int]  # passed / failed / error / checks
    failing: Sequence[Mapping[str, Any]]  # check_results rows that did not pass, ERROR first
    escalations: Sequence[Escalated] = field(default_factory=tuple)
    run_failure: str | None = None  # why the run itself failed (a step error), if it did

    @property
    def title(self) -> str:
        c = self.counts
        checks = (
            f"{c.get('failed', 0)} failed, {c.get('error', 0)} errors, "
            f"{c.get('passed', 0)} passed of {c.get('checks', 0)}"
        )
        if self.run_failure:
            return f"crm-loop run FAILED (run {self.run_id[:8]}); checks: {checks}"
        return f"crm-loop checks: {checks} (run {self.run_id[:8]})"

    def text(self) -> str:
        lines = [self.title]
        if self.run_url:
            lines.append(f"Run: {self.run_url}")
        if self.run_failure:
            lines.append(f"Run failure: {self.run_failure}")
        for row in self.failing:
            ids = ", ".join(row.get("sample_ids") or [])
            lines.append(
                f"- [{row['severity']}] {row['check_name']} ({row['asset']}): {row['status']}, "
                f"{row['unexpected_count']} offending"
                + (f" e.g. {ids}" if ids else "")
                + (f" - {row['error']}" if row.get("error") else "")
            )
        for e in self.escalations:
            lines.append(f"ESCALATION: {e.kind} {e.subject} in breach {e.runs} runs in a row")
        return "\n".join(lines)

    def payload(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "run_url": self.run_url,
            "definitions_hash": self.definitions_hash,
            "counts": dict(self.counts),
            "failing": [
                {
                    k: row.get(k)
                    for k in (
                        "check_name",
                        "asset",
                        "kind",
                        "status",
                        "severity",
                        "unexpected_count",
                        "sample_ids",
                        "error",
                    )
                }
                for row in self.failing
            ],
            "escalations": [e.__dict__ for e in self.escalations],
            "run_failure": self.run_failure,
        }


def build_digest(
    run_id: str,
    run_url: str,
    rows: Sequence[Mapping[str, Any]],
    escalations: Sequence[Escalated] = (),
    run_failure: str | None = None,
) -> Digest:
    counts = Counter(str(r["status"]) for r in rows)
    counts["checks"] = len(rows)
    failing = sorted(
        (r for r in rows if r["status"] != "passed"),
        key=lambda r: (r["severity"] != "ERROR", r["status"] != "error", r["check_name"]),
    )
    hashes = {str(r["definitions_hash"]) for r in rows}
    return Digest(run_id, run_url, ",".join(sorted(hashes)), dict(counts), failing, tuple(escalations), run_failure)
