"""One connection, its dialect and the staging of raw tables, shared by every SQL model of a build.

SQL is written once in the subset DuckDB and PostgreSQL share; the few places they differ (regular
expressions, adding seconds to a timestamp, aggregating strings) are methods here, so a model never branches
on the engine itself.

Raw staging mirrors ``pipelines.closed_loop.values`` cell for cell: ``text`` trims and turns blanks into NULL
(integral numbers lose their ".0", as ids landed as numbers do), ``integer`` truncates, ``boolean`` reads
"true"/"1"/"yes", ``timestamp`` takes only real timestamps (what ``values.instant`` accepts). No value can make
staging fail (see ``values``): every CAST is guarded by a test that proves it succeeds, because PostgreSQL has
no TRY_CAST and one record's value must not stop the build for everyone.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa

from connectors.warehouse.schema import qualified
from pipelines.closed_loop.values import MAX_NUMBER_LENGTH, READABLE_NUMBER

Want = Literal["text", "integer", "float", "boolean", "timestamp", "date"]

SQL_TYPES: Mapping[str, str] = {
    "text": "VARCHAR",
    "string": "VARCHAR",
    "integer": "BIGINT",
    "float": "DOUBLE PRECISION",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
}
# What Python's str.strip() removes, for the whitespace CRMs actually store.
_WHITESPACE = " \t\n\r\f\v"
# Their code points, and 0: ``ascii`` of the empty string.
_WHITESPACE_CODES = ", ".join(str(c) for c in sorted({0, *map(ord, _WHITESPACE)}))
# A plain (optionally qualified, optionally quoted) column reference.
_COLUMN = re.compile(
    r'[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?|"[A-Za-z0-9_]+"|[A-Za-z_][A-Za-z0-9_]*\."[A-Za-z0-9_]+"'
)
_NUMERIC_SOURCES = ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMERIC", "DOUBLE PRECISION")
_TEXT_SOURCES = ("VARCHAR", "TEXT", "CHARACTER VARYING")
_INTEGER_SOURCES = ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER")
# BIGINT's bounds as doubles (both exact): a double in [-2**63, 2**63) truncates to a BIGINT without overflow.
_INT64_LOW, _INT64_HIGH = (
    "CAST(-9.223372036854775808e18 AS DOUBLE PRECISION)",
    "CAST(9.223372036854775808e18 AS DOUBLE PRECISION)",
)


def is_textual(source: str | None) -> bool:
    """Whether a column of this SQL type (as ``source_types`` reports it) holds text."""
    return source is not None and (source in _TEXT_SOURCES or source.startswith("VARCHAR"))


def literal(value: Any) -> str:
    """A SQL literal for a Python value (mapping tables and parameters that shape the SQL text)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, datetime):
        return f"CAST('{value.isoformat(sep=' ')}' AS TIMESTAMP)"
    if isinstance(value, date):
        return f"CAST('{value.isoformat()}' AS DATE)"
    return "'" + str(value).replace("'", "''") + "'"


@dataclass
class SqlContext:
    conn: sa.Connection
    schema: str | None
    _types: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def dialect(self) -> str:
        return self.conn.dialect.name

    # --- names and execution -----------------------------------------------------------------------------
    def table(self, name: str) -> str:
        """A warehouse table (catalog or raw), schema-qualified and quoted."""
        return qualified(self.conn.dialect, self.schema, name)

    def execute(self, sql: str) -> None:
        self.conn.exec_driver_sql(sql)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.conn.exec_driver_sql(sql).fetchall()]

    def scalar(self, sql: str) -> Any:
        # Fetched in full: DuckDB refuses the next Arrow fetch while a result is left open.
        rows = self.rows(sql)
        return rows[0][0] if rows else None

    def columns(self, relation: str) -> list[str]:
        """Column names of a table or temp table, in order."""
        return list(self.conn.exec_driver_sql(f"SELECT * FROM {relation} WHERE 1 = 0").keys())

    def temp(self, name: str, select: str) -> str:
        """(Re)create session-local table ``name`` from ``select``; returns the name to select from."""
        self.execute(f"DROP TABLE IF EXISTS {name}")
        self.execute(f"CREATE TEMPORARY TABLE {name} AS {select}")
        self.analyze(name)
        return name

    def once(self, name: str, select: str) -> str:
        """An intermediate read by one statement: DuckDB plans it inline, a copy it need not write; PostgreSQL gets
        temp table ``name`` with statistics, since it plans a join over a subquery of joins and windows from
        guesses (at 1M people it chose a nested loop over two million-row inputs)."""
        if self.dialect == "postgresql":
            return self.temp(name, select)
        return f"({select})"

    def analyze(self, name: str) -> None:
        """Statistics for a table written in this build on PostgreSQL (autovacuum never sees temp tables and
        reaches a fresh catalog table only after the build; without statistics the planner picks nested loops or
        sorted merges over millions of rows); DuckDB keeps its own."""
        if self.dialect == "postgresql":
            self.execute(f"ANALYZE {name}")

    def values(self, name: str, columns: Mapping[str, Want], rows: Iterable[Sequence[Any]]) -> str:
        """A small temp table from Python values (definitions mapping tables, calendars)."""
        spec = ", ".join(f"{c} {SQL_TYPES[t]}" for c, t in columns.items())
        self.execute(f"DROP TABLE IF EXISTS {name}")
        self.execute(f"CREATE TEMPORARY TABLE {name} ({spec})")
        batch: list[str] = []
        for row in rows:
            batch.append("(" + ", ".join(literal(v) for v in row) + ")")
            if len(batch) == 1000:
                self.execute(f"INSERT INTO {name} VALUES {', '.join(batch)}")
                batch = []
        if batch:
            self.execute(f"INSERT INTO {name} VALUES {', '.join(batch)}")
        self.analyze(name)
        return name

    def fetch_arrow(self, sql: str) -> pa.Table:
        """A query's result as Arrow, for the few steps a vectorised library does better than SQL."""
        if self.dialect == "duckdb":
            return self.conn.connection.dbapi_connection.sql(sql).to_arrow_table()  # type: ignore[union-attr]
        result = self.conn.exec_driver_sql(sql)
        names = list(result.keys())
        columns = list(zip(*result.fetchall())) or [() for _ in names]
        return pa.table({n: pa.array(list(c)) for n, c in zip(names, columns)})

    def load_arrow(self, name: str, data: pa.Table, columns: Mapping[str, Want]) -> str:
        """A temp table ``name`` (``columns``: name -> type) filled from Arrow in bulk (Arrow scan on DuckDB,
        COPY on PostgreSQL)."""
        spec = ", ".join(f"{c} {SQL_TYPES[t]}" for c, t in columns.items())
        self.execute(f"DROP TABLE IF EXISTS {name}")
        self.execute(f"CREATE TEMPORARY TABLE {name} ({spec})")
        if data.num_rows == 0:
            return name
        data = data.select(list(columns))
        if self.dialect == "duckdb":
            duck = self.conn.connection.dbapi_connection
            view = f"_arrow_{name}"
            duck.register(view, data)  # type: ignore[union-attr]
            try:
                self.execute(f"INSERT INTO {name} SELECT * FROM {view}")
            finally:
                duck.unregister(view)  # type: ignore[union-attr]
            return name
        sink = pa.BufferOutputStream()
        pacsv.write_csv(data, sink, pacsv.WriteOptions(include_header=False))
        cursor = self.conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.copy_expert(f"COPY {name} FROM STDIN WITH (FORMAT csv)", io.BytesIO(sink.getvalue().to_pybytes()))
        finally:
            cursor.close()
        self.analyze(name)
        return name

    # --- raw staging -------------------------------------------------------------------------------------
    def source_types(self, table: str) -> dict[str, str]:
        """Column -> upper-case SQL type of an existing table; empty when the table does not exist."""
        if table not in self._types:
            schema = self.schema if self.schema is not None else self.scalar("SELECT current_schema()")
            found = self.conn.execute(
                sa.text(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_catalog = current_database() AND table_schema = :schema AND table_name = :table "
                    "ORDER BY ordinal_position"
                ),
                {"schema": schema, "table": table},
            )
            self._types[table] = {name: str(kind).upper() for name, kind in found}
        return self._types[table]

    def has_table(self, table: str) -> bool:
        return bool(self.source_types(table))

    def raw(self, table: str, columns: Mapping[str, Want]) -> str:
        """A subquery over raw ``table`` with exactly ``columns`` (name -> wanted type), converted as the
        pandas builders convert cells; absent columns are NULL and an absent table is empty."""
        types = self.source_types(table)
        if not types:
            nulls = ", ".join(f"CAST(NULL AS {SQL_TYPES[t]}) AS {c}" for c, t in columns.items())
            return f"(SELECT {nulls} WHERE 1 = 0)"
        parts = [f"{self.convert(c, types.get(c), t)} AS {c}" for c, t in columns.items()]
        return f"(SELECT {', '.join(parts)} FROM {self.table(table)})"

    def convert(self, column: str, source: str | None, want: Want) -> str:
        if source is None:
            return f"CAST(NULL AS {SQL_TYPES[want]})"
        col = f'"{column}"'
        numeric = source.startswith(_NUMERIC_SOURCES)
        integral = source.startswith(_INTEGER_SOURCES)
        textual = is_textual(source)
        if want == "text":
            if textual:
                return self.clean(col)
            if numeric:
                return (
                    f"CASE WHEN {col} = TRUNC({col}) AND {self._in_int64(col)} THEN CAST(CAST({col} AS BIGINT) AS VARCHAR) "
                    f"ELSE CAST({col} AS VARCHAR) END"
                )
            if source == "BOOLEAN":
                return f"CASE WHEN {col} THEN 'True' WHEN NOT {col} THEN 'False' END"
            return self.clean(f"CAST({col} AS VARCHAR)")
        if want == "integer":
            if integral:
                return f"CAST({col} AS BIGINT)"
            if numeric:
                return self.integer_of_double(f"CAST({col} AS DOUBLE PRECISION)")
            if textual:
                return self.integer_of_text(self.clean(col))
            if source == "BOOLEAN":
                return f"CASE WHEN {col} THEN CAST(1 AS BIGINT) WHEN NOT {col} THEN CAST(0 AS BIGINT) END"
            return "CAST(NULL AS BIGINT)"
        if want == "float":
            if numeric or integral:
                return f"CAST({col} AS DOUBLE PRECISION)"
            if textual:
                return self.number_of_text(self.clean(col))
            if source == "BOOLEAN":
                return f"CASE WHEN {col} THEN 1.0 WHEN NOT {col} THEN 0.0 END"
            return "CAST(NULL AS DOUBLE PRECISION)"
        if want == "boolean":
            if source == "BOOLEAN":
                return col
            if textual:
                return f"CASE WHEN {self.clean(col)} IS NULL THEN NULL ELSE LOWER({self.clean(col)}) IN ('true', '1', 'yes') END"
            if numeric or integral:
                return f"({col} <> 0)"
            return "CAST(NULL AS BOOLEAN)"
        if want == "timestamp":
            return col if source.startswith("TIMESTAMP") else "CAST(NULL AS TIMESTAMP)"
        if want == "date":
            if source == "DATE":
                return col
            if source.startswith("TIMESTAMP"):
                return f"CAST({col} AS DATE)"
            if textual:
                return self._date_of_text(f"SUBSTRING({self.clean(col)}, 1, 10)")
            return "CAST(NULL AS DATE)"
        raise ValueError(f"unknown wanted type {want!r}")

    # --- numbers and dates from text, never failing (``values.integer``/``number``/``day``) ----------------
    def _readable(self, text: str) -> str:
        return f"({self.matches(text, READABLE_NUMBER)} AND LENGTH({text}) <= {MAX_NUMBER_LENGTH})"

    def number_of_text(self, text: str) -> str:
        """``values.number`` of cleaned text: a readable number as a double (its bounds keep the CAST within the
        double's range on PostgreSQL, which raises on overflow and underflow), else NULL."""
        return f"CASE WHEN {self._readable(text)} THEN CAST({text} AS DOUBLE PRECISION) END"

    def _in_int64(self, double: str) -> str:
        return f"({double} >= {_INT64_LOW} AND {double} < {_INT64_HIGH})"

    def integer_of_double(self, double: str) -> str:
        """``values.integer`` of a double: truncated when within BIGINT's range, else NULL."""
        return f"CASE WHEN {self._in_int64(double)} THEN CAST(TRUNC({double}) AS BIGINT) END"

    def integer_of_text(self, text: str) -> str:
        """``values.integer`` of cleaned text: a readable number, exact on its digits unless it has an exponent,
        NULL outside BIGINT's range (checked on the digits, so the CAST cannot overflow)."""
        head = f"SPLIT_PART({text}, '.', 1)"
        digits = f"LTRIM(LTRIM({head}, '+-'), '0')"
        negative = f"(LEFT({head}, 1) = '-')"
        limit = f"CASE WHEN {negative} THEN '9223372036854775808' ELSE '9223372036854775807' END"
        fits = f"(LENGTH({digits}) < 19 OR (LENGTH({digits}) = 19 AND {self.sortable(digits)} <= {limit}))"
        exact = (
            f"CASE WHEN {digits} = '' THEN CAST(0 AS BIGINT) "
            f"WHEN {fits} THEN CAST(CASE WHEN {negative} THEN '-' ELSE '' END || {digits} AS BIGINT) END"
        )
        scientific = self.integer_of_double(f"CAST({text} AS DOUBLE PRECISION)")
        return (
            f"CASE WHEN {self._readable(text)} THEN "
            f"CASE WHEN STRPOS(LOWER({text}), 'e') > 0 THEN {scientific} ELSE {exact} END END"
        )

    def _date_of_text(self, head: str) -> str:
        """``values.day`` of text's first ten characters: a date when they spell a real calendar date."""
        year, month, day = (
            f"CAST(SUBSTRING({head}, {start}, {length}) AS INTEGER)" for start, length in ((1, 4), (6, 2), (9, 2))
        )
        leap = f"((MOD({year}, 4) = 0 AND MOD({year}, 100) <> 0) OR MOD({year}, 400) = 0)"
        last = f"CASE WHEN {month} IN (4, 6, 9, 11) THEN 30 WHEN {month} = 2 THEN CASE WHEN {leap} THEN 29 ELSE 28 END ELSE 31 END"
        valid = f"({year} >= 1 AND {month} BETWEEN 1 AND 12 AND {day} BETWEEN 1 AND {last})"
        shaped = self.matches(head, "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
        return f"CASE WHEN {shaped} THEN CASE WHEN {valid} THEN CAST({head} AS DATE) END END"

    # --- expressions that differ by engine ---------------------------------------------------------------
    def clean(self, expr: str) -> str:
        """Trimmed text, blanks as NULL (``values.text`` on a string)."""
        trimmed = f"NULLIF(TRIM(BOTH '{_WHITESPACE}' FROM {expr}), '')"
        if self.dialect == "postgresql" or not _COLUMN.fullmatch(expr):
            return trimmed
        # DuckDB trims a set of characters slowly (half the cost of staging a raw column); nearly every value
        # neither starts nor ends with whitespace, and such a value is its own trimmed text. A column reference
        # only: the CASE repeats the expression four times, which for a computed one would mean computing it again.
        untrimmed = (
            f"ascii({expr}) NOT IN ({_WHITESPACE_CODES}) AND ascii(right({expr}, 1)) NOT IN ({_WHITESPACE_CODES})"
        )
        return f"CASE WHEN {untrimmed} THEN {expr} ELSE {trimmed} END"

    def matches(self, expr: str, pattern: str, *, ignore_case: bool = False) -> str:
        """Partial regular-expression match. Patterns use ``\\b`` for word boundaries (PostgreSQL's ``\\y``)."""
        if self.dialect == "postgresql":
            return f"({expr} {'~*' if ignore_case else '~'} {literal(pattern.replace(chr(92) + 'b', chr(92) + 'y'))})"
        flags = ", 'i'" if ignore_case else ""
        return f"regexp_matches({expr}, {literal(pattern)}{flags})"

    def plus_seconds(self, ts: str, seconds: str) -> str:
        if self.dialect == "postgresql":
            return f"({ts} + make_interval(secs => {seconds}))"
        return f"({ts} + to_microseconds(CAST(ROUND(({seconds}) * 1000000) AS BIGINT)))"

    def seconds_between(self, start: str, end: str) -> str:
        """``end - start`` in seconds (fractional), as a double on both engines."""
        return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS DOUBLE PRECISION)"

    def fold(self, expr: str) -> str:
        """Trimmed, lower-cased text for lookups (Python's strip + casefold on the ASCII picklist values CRMs use)."""
        return f"LOWER({self.clean(expr)})"

    def round(self, expr: str, digits: int) -> str:
        """A double rounded to ``digits`` decimals; PostgreSQL rounds only NUMERIC, so it goes there and back."""
        if self.dialect == "postgresql":
            return f"CAST(ROUND(CAST({expr} AS NUMERIC), {digits}) AS DOUBLE PRECISION)"
        return f"ROUND({expr}, {digits})"

    def sortable(self, expr: str) -> str:
        """Text ordered by code point, as Python orders str (PostgreSQL would otherwise use the database's
        locale collation); use it in ORDER BY, MIN/MAX and comparisons of text."""
        return f'({expr} COLLATE "C")' if self.dialect == "postgresql" else expr

    def first_by(self, expr: str, key: str, where: str = "TRUE") -> str:
        """The value of ``expr`` on the group's row with the smallest ``key`` among rows where ``where`` holds
        (NULL when none does): one pass of a hash aggregate, where a ROW_NUMBER per ordering would sort the
        group once for each. ``key`` must be unique within the group."""
        if self.dialect == "postgresql":
            return f"(ARRAY_AGG({expr} ORDER BY {key}) FILTER (WHERE {where}))[1]"
        # ARG_MIN would skip a row whose value is NULL and take the next one; ARG_MIN_NULL keeps it, as ARRAY_AGG does.
        return f"ARG_MIN_NULL({expr}, {key}) FILTER (WHERE {where})"

    def string_agg(self, expr: str, separator: str, order_by: str) -> str:
        return f"STRING_AGG({expr}, {literal(separator)} ORDER BY {order_by})"

    def split_list(self, expr: str) -> str:
        """One row per comma-separated element of ``expr`` (a set-returning expression for the SELECT list)."""
        if self.dialect == "postgresql":
            return f"unnest(string_to_array({expr}, ','))"
        return f"unnest(string_split({expr}, ','))"
