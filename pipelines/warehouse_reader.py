"""Read-only access to the warehouse for the commands people run by hand (``sql``, ``report``).

Such a command never creates or changes a warehouse: a DuckDB file must exist and is opened read-only, a
PostgreSQL session is read-only. Whatever goes wrong while opening it or running a query becomes a one-line
``UserError`` naming the cause and what to change.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from connectors.errors import UserError
from pipelines.warehouse_settings import SCHEMA_VARIABLE, URL_VARIABLE
from pipelines.warehouse_url import EXAMPLES, duckdb_file, parse, shown

# DuckDB refuses a second process while one writes, naming the writer: 'Conflicting lock is held in <exe> (PID 42)'.
_DUCKDB_LOCK = re.compile(r"Conflicting lock is held in .*?\(PID (\d+)\)")
_DUCKDB_TABLE = re.compile(r"Table with name (\S+) does not exist")
_DUCKDB_COLUMN = re.compile(r'Referenced column "([^"]+)" not found')
_POSTGRES_TABLE = re.compile(r'relation "([^"]+)" does not exist')
_POSTGRES_COLUMN = re.compile(r'column "([^"]+)" does not exist')
# A query that tried to write: DuckDB's read-only attachment, PostgreSQL's read-only transaction.
_READ_ONLY = ("attached in read-only mode", "in a read-only transaction")
CLOSE_NAMES = 3
_LISTINGS = {
    "schemas": "schema_name FROM information_schema.schemata",
    "tables": "table_name FROM information_schema.tables",
    "columns": "table_name, column_name FROM information_schema.columns",
}
# A server that does not answer is reported after this long rather than waited for.
CONNECT_TIMEOUT_S = 10


def first_line(error: BaseException) -> str:
    """The driver's own message, first line (the rest repeats the query with a caret under it)."""
    message = str(getattr(error, "orig", None) or error).strip()
    return message.splitlines()[0].strip() if message else type(error).__name__


@contextmanager
def read_only(url: str, schema: str = "") -> Iterator[sa.Connection]:
    """A read-only connection to the warehouse at ``url``, its search path set to ``schema`` (when given)."""
    parsed = parse(url)
    database = duckdb_file(parsed)
    backend = parsed.get_backend_name()
    if backend == "duckdb":
        if database is None:
            raise UserError(f"{shown(parsed)} names no DuckDB file: write {EXAMPLES}")
        if not database.is_file():
            raise UserError(
                f"no DuckDB warehouse at {database.resolve()}: check the path in --warehouse or {URL_VARIABLE} "
                "(crm-loop sync or crm-loop demo creates one)"
            )
    connect_args: dict[str, dict[str, object]] = {
        "duckdb": {"read_only": True},
        "postgresql": {"options": "-c default_transaction_read_only=on", "connect_timeout": CONNECT_TIMEOUT_S},
    }
    try:
        engine = sa.create_engine(parsed, connect_args=connect_args.get(backend, {}))
    except (sa.exc.NoSuchModuleError, ImportError) as error:
        raise UserError(
            f"cannot use the warehouse URL {shown(parsed)} ({first_line(error)}): write {EXAMPLES}"
        ) from None
    try:
        try:
            conn = engine.connect()
        except sa.exc.DBAPIError as error:
            raise _open_error(error, parsed) from error
        with conn:
            if schema:
                _use_schema(conn, schema, parsed)
            yield conn
    finally:
        engine.dispose()


def _open_error(error: sa.exc.DBAPIError, url: sa.URL) -> UserError:
    lock = _DUCKDB_LOCK.search(str(error.orig))
    database = duckdb_file(url)
    if lock and database is not None:
        return UserError(
            f"the warehouse {database.resolve()} is being written by a running job (pid {lock.group(1)}); "
            "try again when it finishes"
        )
    return UserError(f"cannot open the warehouse {shown(url)}: {first_line(error)}")


def _use_schema(conn: sa.Connection, schema: str, url: sa.URL) -> None:
    schemas = list(conn.execute(sa.text("SELECT DISTINCT schema_name FROM information_schema.schemata")).scalars())
    if schema not in schemas:
        close = difflib.get_close_matches(schema, schemas, n=CLOSE_NAMES)
        raise UserError(
            f"the warehouse {shown(url)} has no schema {schema!r} (check --schema or {SCHEMA_VARIABLE}); "
            + _suggest(close, "schemas")
        )
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SET search_path TO {conn.dialect.identifier_preparer.quote_identifier(schema)}")
    else:
        conn.exec_driver_sql("SET search_path = " + "'" + schema.replace("'", "''") + "'")
    # Committed: PostgreSQL undoes a SET with its transaction, and a failed query rolls that back.
    conn.commit()


def query_error(error: sa.exc.DBAPIError, conn: sa.Connection, *, missing_table_hint: str = "") -> UserError:
    """The one line to show for a query the warehouse refused. ``conn`` is where it ran: the names close to an
    unknown table or column are looked up there. ``missing_table_hint`` replaces those suggestions for an
    unknown table (a command whose own queries failed: the warehouse is not built yet)."""
    message = str(error.orig)
    conn.rollback()
    table = _DUCKDB_TABLE.search(message) or _POSTGRES_TABLE.search(message)
    if table:
        name, where = table.group(1), _current_schema(conn)
        if missing_table_hint:
            return UserError(f"no table or view {name} in schema {where} of the warehouse: {missing_table_hint}")
        relations = conn.execute(
            sa.text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"), {"s": where}
        ).scalars()
        close = difflib.get_close_matches(name, list(relations), n=CLOSE_NAMES)
        return UserError(f"no table or view {name} in schema {where}; {_suggest(close, 'tables')}")
    column = _DUCKDB_COLUMN.search(message) or _POSTGRES_COLUMN.search(message)
    if column:
        name = column.group(1).split(".")[-1]
        rows = conn.execute(
            sa.text("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = :s"),
            {"s": _current_schema(conn)},
        ).all()
        # The tables the query names, when it names any: their columns are the likely ones.
        named = [r for r in rows if re.search(rf"\b{re.escape(r.table_name)}\b", error.statement or "", re.I)]
        candidates = named or rows
        names = difflib.get_close_matches(name, sorted({r.column_name for r in candidates}), n=CLOSE_NAMES)
        found = sorted(f"{r.table_name}.{r.column_name}" for r in candidates if r.column_name in names)
        return UserError(f"no column {name} in the tables the query reads; {_suggest(found, 'columns')}")
    if any(marker in message for marker in _READ_ONLY):
        return UserError(f"the warehouse is opened read-only here, the query tried to write: {first_line(error)}")
    return UserError(f"the warehouse refused the query: {first_line(error)}")


def _current_schema(conn: sa.Connection) -> str:
    return str(conn.execute(sa.text("SELECT current_schema()")).scalar_one())


def _suggest(close: list[str], kind: str) -> str:
    if close:
        return "did you mean " + ", ".join(close[: CLOSE_NAMES * 2]) + "?"
    return f'crm-loop sql "SELECT {_LISTINGS[kind]}" lists the {kind}'
