"""Salesforce records in the shared SQLite database: one table ``sf_<Object>`` per object, one column per field.

System fields behave as in an org: inserts stamp CreatedDate/LastModifiedDate/SystemModstamp from the sandbox
clock, updates bump LastModifiedDate and SystemModstamp, a delete only sets IsDeleted (the recycle bin, still
visible to queryAll) and a purge removes the row. Both log the deletion, because getDeleted must keep
reporting hard-deleted ids: that is how a replicating connector learns about them at all.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sandbox.model.ids import sf_id
from sandbox.model.salesforce import OBJECTS, SfField, SfObject
from sandbox.server.clock import SandboxClock
from sandbox.server.db import SandboxDB
from sandbox.server.salesforce.errors import SfApiError
from sandbox.server.salesforce.values import format_datetime, to_db

DELETIONS_TABLE = "sf__deletions"
# Who "did it" when the dataset or an API write names no user: the sandbox's integration user.
INTEGRATION_USER_ID = sf_id("005", 0)
_SYSTEM_STAMPS = ("LastModifiedDate", "SystemModstamp")


def table(obj: SfObject) -> str:
    return f"sf_{obj.name}"


def stored_fields(obj: SfObject) -> list[SfField]:
    """Compound address fields have no column: they are rendered from their component fields."""
    return [f for f in obj.fields if f.type != "address"]


def _sql_type(f: SfField) -> str:
    if f.type in ("boolean", "int"):
        return "INTEGER"
    if f.type in ("double", "currency", "percent"):
        return "REAL"
    return "TEXT"


class SalesforceStore:
    def __init__(self, db: SandboxDB, clock: SandboxClock) -> None:
        self.db = db
        self.clock = clock
        self._counters: dict[str, int] = {}

    # -- schema ----------------------------------------------------------------------------------------------
    def create_schema(self) -> None:
        with self.db.transaction() as conn:
            for obj in OBJECTS.values():
                cols = ", ".join(
                    f'"{f.name}" {_sql_type(f)}' + (" PRIMARY KEY" if f.name == "Id" else "")
                    for f in stored_fields(obj)
                )
                conn.execute(f'CREATE TABLE IF NOT EXISTS "{table(obj)}" ({cols})')
                for name in ("SystemModstamp", "LastModifiedDate", "CreatedDate"):
                    if obj.field(name) is not None:
                        conn.execute(
                            f'CREATE INDEX IF NOT EXISTS "ix_{table(obj)}_{name}" ON "{table(obj)}" ("{name}")'
                        )
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {DELETIONS_TABLE} "
                "(object TEXT NOT NULL, id TEXT NOT NULL, deleted_date TEXT NOT NULL, PRIMARY KEY (object, id))"
            )

    # -- writes ----------------------------------------------------------------------------------------------
    def insert_many(self, obj: SfObject, records: Iterable[dict[str, Any]], *, api: bool = False) -> list[str]:
        """Insert neutral dataset dicts (or REST bodies when ``api``: read-only fields refused, required checked)."""
        columns = stored_fields(obj)
        names = ", ".join(f'"{f.name}"' for f in columns)
        marks = ", ".join("?" for _ in columns)
        ids: list[str] = []
        with self.db.transaction() as conn:
            rows = []
            for record in records:
                values = self._new_row(conn, obj, record, api=api)
                ids.append(values["Id"])
                rows.append(tuple(values.get(f.name) for f in columns))
            conn.executemany(f'INSERT INTO "{table(obj)}" ({names}) VALUES ({marks})', rows)
        return ids

    def update(
        self,
        obj: SfObject,
        record_id: str,
        changes: dict[str, Any],
        *,
        stamp: datetime | None = None,
        api: bool = False,
    ) -> bool:
        """Apply ``changes``; ``stamp`` overrides the modification time (late-committed transactions)."""
        values = {f.name: to_db(f, v) for f, v in self._fields(obj, changes, api=api, creating=False)}
        when = format_datetime(stamp or self.clock.now())
        for name in _SYSTEM_STAMPS:
            if obj.field(name) is not None:
                values[name] = when
        if obj.field("LastModifiedById") is not None and "LastModifiedById" not in values:
            values["LastModifiedById"] = INTEGRATION_USER_ID
        with self.db.transaction() as conn:
            row = conn.execute(
                f'SELECT * FROM "{table(obj)}" WHERE "Id" = ? AND "IsDeleted" = 0', (record_id,)
            ).fetchone()
            if row is None:
                return False
            values.update(self._calculated(obj, {**dict(row), **values}))
            assignments = ", ".join(f'"{k}" = ?' for k in values)
            conn.execute(f'UPDATE "{table(obj)}" SET {assignments} WHERE "Id" = ?', (*values.values(), record_id))
        return True

    def check_update(self, obj: SfObject, changes: dict[str, Any]) -> None:
        """Raise the SfApiError an API update with ``changes`` would meet (unknown, read-only or bad values)."""
        self._fields(obj, changes, api=True, creating=False)

    def soft_delete(self, obj: SfObject, record_id: str) -> bool:
        now = format_datetime(self.clock.now())
        stamps = ", ".join(f'"{n}" = ?' for n in _SYSTEM_STAMPS if obj.field(n) is not None)
        args = [now] * stamps.count("?")
        with self.db.transaction() as conn:
            done = conn.execute(
                f'UPDATE "{table(obj)}" SET "IsDeleted" = 1{", " + stamps if stamps else ""} '
                'WHERE "Id" = ? AND "IsDeleted" = 0',
                (*args, record_id),
            ).rowcount
            if done:
                conn.execute(f"INSERT OR IGNORE INTO {DELETIONS_TABLE} VALUES (?, ?, ?)", (obj.name, record_id, now))
        return bool(done)

    def purge(self, obj: SfObject, record_id: str) -> bool:
        """Hard delete: the row is gone even from queryAll, the deletion log keeps the id for getDeleted."""
        now = format_datetime(self.clock.now())
        with self.db.transaction() as conn:
            done = conn.execute(f'DELETE FROM "{table(obj)}" WHERE "Id" = ?', (record_id,)).rowcount
            if done:
                conn.execute(f"INSERT OR IGNORE INTO {DELETIONS_TABLE} VALUES (?, ?, ?)", (obj.name, record_id, now))
        return bool(done)

    # -- reads -----------------------------------------------------------------------------------------------
    def get(self, obj: SfObject, record_id: str) -> sqlite3.Row | None:
        rows = self.db.query(f'SELECT * FROM "{table(obj)}" WHERE "Id" = ? AND "IsDeleted" = 0', (record_id,))
        return rows[0] if rows else None

    def updated_ids(self, obj: SfObject, start: str, end: str) -> list[str]:
        stamp = "SystemModstamp" if obj.field("SystemModstamp") is not None else "CreatedDate"
        rows = self.db.query(
            f'SELECT "Id" FROM "{table(obj)}" WHERE "IsDeleted" = 0 AND "{stamp}" >= ? AND "{stamp}" < ? '
            f'ORDER BY "{stamp}", "Id"',
            (start, end),
        )
        return [r[0] for r in rows]

    def deletions(self, obj: SfObject, start: str, end: str) -> list[tuple[str, str]]:
        rows = self.db.query(
            f"SELECT id, deleted_date FROM {DELETIONS_TABLE} WHERE object = ? AND deleted_date >= ? "
            "AND deleted_date < ? ORDER BY deleted_date, id",
            (obj.name, start, end),
        )
        return [(r[0], r[1]) for r in rows]

    def counts(self) -> dict[str, int]:
        return {
            name: int(self.db.scalar(f'SELECT COUNT(*) FROM "{table(obj)}" WHERE "IsDeleted" = 0'))
            for name, obj in OBJECTS.items()
        }

    def sample_ids(self, obj: SfObject, n: int, rng: random.Random) -> list[str]:
        """``n`` live ids picked reproducibly by ``rng`` (sorted first so the pick ignores storage order)."""
        ids = [r[0] for r in self.db.query(f'SELECT "Id" FROM "{table(obj)}" WHERE "IsDeleted" = 0 ORDER BY "Id"')]
        return rng.sample(ids, min(n, len(ids)))

    # -- helpers ---------------------------------------------------------------------------------------------
    def _fields(self, obj: SfObject, record: dict[str, Any], *, api: bool, creating: bool) -> list[tuple[SfField, Any]]:
        out = []
        for name, value in record.items():
            f = obj.field(name)
            if f is None or f.type == "address":
                raise SfApiError(400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {obj.name}", [name])
            if api and not (f.createable if creating else f.updateable):
                raise SfApiError(
                    400,
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {f.name}. Please check the security settings of this "
                    "field and verify that it is read/write for your profile or permission set.",
                    [f.name],
                )
            try:
                to_db(f, value)
            except (TypeError, ValueError) as exc:
                raise SfApiError(400, "JSON_PARSER_ERROR", f"Cannot deserialize value for {f.name}: {exc}") from exc
            out.append((f, value))
        return out

    def _new_row(self, conn: sqlite3.Connection, obj: SfObject, record: dict[str, Any], *, api: bool) -> dict[str, Any]:
        given = dict(record)
        record_id = given.pop("Id", None) if not api else None
        values = {f.name: to_db(f, v) for f, v in self._fields(obj, given, api=api, creating=True)}
        now = format_datetime(self.clock.now())
        values["Id"] = record_id or self._next_id(conn, obj)
        defaults: dict[str, Any] = {
            "CreatedDate": now,
            "CreatedById": INTEGRATION_USER_ID,
            "OwnerId": INTEGRATION_USER_ID,
        }
        defaults["LastModifiedDate"] = values.get("CreatedDate", now)
        defaults["LastModifiedById"] = values.get("CreatedById", INTEGRATION_USER_ID)
        defaults["SystemModstamp"] = values.get("LastModifiedDate", defaults["LastModifiedDate"])
        for f in stored_fields(obj):
            if values.get(f.name) is not None:
                continue
            if f.name in defaults:
                values[f.name] = defaults[f.name]
            elif f.type == "boolean":
                values[f.name] = 0  # booleans are never null in Salesforce
            elif f.default_value is not None:
                values[f.name] = f.default_value
            elif api and not f.nillable and f.createable:
                raise SfApiError(400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{f.name}]", [f.name])
        values.update(self._calculated(obj, values))
        return values

    @staticmethod
    def _calculated(obj: SfObject, values: dict[str, Any]) -> dict[str, Any]:
        """Person names are formula-like: Name follows FirstName and LastName."""
        name = obj.field("Name")
        if name is None or not name.calculated:
            return {}
        parts = [values.get("FirstName"), values.get("LastName")]
        return {"Name": " ".join(p for p in parts if p) or None}

    def _next_id(self, conn: sqlite3.Connection, obj: SfObject) -> str:
        n = self._counters.get(obj.name)
        if n is None:
            n = conn.execute(f'SELECT COUNT(*) FROM "{table(obj)}"').fetchone()[0]
            n += conn.execute(f"SELECT COUNT(*) FROM {DELETIONS_TABLE} WHERE object = ?", (obj.name,)).fetchone()[0]
        while True:
            n += 1
            candidate = sf_id(obj.key_prefix, n)
            taken = conn.execute(f'SELECT 1 FROM "{table(obj)}" WHERE "Id" = ?', (candidate,)).fetchone()
            if taken is None:
                self._counters[obj.name] = n
                return candidate
