"""What a check is and what running it gives: suites of GX expectations over one batch, and their outcomes.

Suites hold expectations as plain data (``Expect``), not GX objects: declaring every check (as the Dagster code
location does when it loads) must not import great_expectations; ``checks.engine`` builds the GX objects when a
check runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
