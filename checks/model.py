"""What a check is and what running it gives: suites of GX expectations over one batch, and their outcomes.

Suites hold expectations as plain data (``Expect``), not GX objects: declaring every check (as the Dagster code
location does when it loads) must not import great_expectations; ``checks.engine`` builds the GX objects when a
check runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

if TYPE_CHECKING:
    import sqlalchemy as sa

    from checks.live_tables import Catalog

Status = Literal["passed", "failed", "error"]


class Severity(str, Enum):
    """ERROR: the guarded data is unusable and downstream assets must wait. WARN: a finding, not a blocker."""

    ERROR = "ERROR"
    WARN = "WARN"


# Builds the rows a suite validates: usually a table, sometimes a join (orphans) or a derived column (regressions).
# A string so that declaring suites (when the code location loads) does not import SQLAlchemy.
Source: TypeAlias = "Callable[[Catalog], sa.Select]"


@dataclass(frozen=True)
class Expect:
    """One GX expectation as data: the name of its class in ``great_expectations.expectations`` (e.g.
    ``ExpectColumnValuesToBeUnique``) and the keyword arguments it is built with."""

    kind: str
    kwargs: Mapping[str, Any]


def expect(kind: str, **kwargs: Any) -> Expect:
    return Expect(kind, kwargs)


@dataclass(frozen=True)
class Suite:
    """A named set of expectations over one batch, guarding one asset at one severity.

    ``id_columns`` name each offending row in reports (a sample of ids, not values); they must be in the batch.
    """

    name: str
    asset: str
    severity: Severity
    source: Source
    expectations: tuple[Expect, ...]
    id_columns: tuple[str, ...] = ("id",)
    description: str = ""


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str  # GX expectation type, e.g. expect_column_values_to_be_unique
    column: str  # the column(s) it looked at, "a,b" for pairs
    success: bool
    unexpected_count: int
    sample_ids: tuple[str, ...]
    observed: str | None = None  # aggregate expectations (freshness) report a value, not rows
    meta: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SuiteResult:
    suite: str
    asset: str
    severity: Severity
    status: Status
    rows: int
    outcomes: tuple[ExpectationOutcome, ...]
    error: str | None = None

    @property
    def failed(self) -> tuple[ExpectationOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.success)

    @property
    def unexpected_count(self) -> int:
        return sum(o.unexpected_count for o in self.failed)

    @property
    def sample_ids(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for outcome in self.failed:
            seen.update(dict.fromkeys(outcome.sample_ids))
        return tuple(seen)[:SAMPLE_SIZE]


SAMPLE_SIZE = 10


# One definition of a check's outcome, shared by the run summary, the digest and the report, so that one screen
# never shows two different counts. The unit is one row of ``check_results`` (a suite, or one SLA finding): the
# "of N" is every check the run recorded.
Outcome = Literal["failed", "error", "warn", "passed"]
OUTCOMES: tuple[Outcome, ...] = ("failed", "error", "warn", "passed")  # the order they are listed in


def outcome(status: str, severity: str) -> Outcome:
    """``failed``: an ERROR-severity check found bad rows (downstream assets wait); ``warn``: a WARN-severity
    finding; ``error``: the check could not judge the data at all (whatever its severity, someone must fix it)."""
    if status == "passed":
        return "passed"
    if status == "error":
        return "error"
    return "failed" if severity == Severity.ERROR.value else "warn"


@dataclass(frozen=True)
class Tally:
    failed: int = 0
    error: int = 0
    warn: int = 0
    passed: int = 0

    @property
    def total(self) -> int:
        return self.failed + self.error + self.warn + self.passed

    @property
    def needs_action(self) -> bool:
        return self.total > self.passed

    def summary(self) -> str:
        """E.g. ``2 failed, 1 could not run, 3 warnings, 89 passed of 95 checks`` (zero counts left out)."""
        parts = [
            f"{n} {label}"
            for n, label in (
                (self.failed, "failed"),
                (self.error, "could not run"),
                (self.warn, "warning" if self.warn == 1 else "warnings"),
            )
            if n
        ]
        return ", ".join([*parts, f"{self.passed} passed of {self.total} check{'' if self.total == 1 else 's'}"])


def tally(rows: Iterable[Mapping[Any, Any]]) -> Tally:
    """Count ``check_results`` rows (anything with ``status`` and ``severity``) by outcome."""
    counts = Counter(outcome(str(r["status"]), str(r["severity"])) for r in rows)
    return Tally(**{o: counts.get(o, 0) for o in OUTCOMES})
