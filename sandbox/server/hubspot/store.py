"""HubSpot records in the shared SQLite database: one ``hs_<type>`` table per object type, plus history,
associations and owners.

Every property gets its own column, typed as HubSpot's search treats it (datetimes as millisecond epochs,
numbers as numbers, booleans 0/1), so search filters and sorts become plain SQL. Writes go through here so that
each change bumps the last-modified property and ``updatedAt`` and appends property history, as HubSpot does;
association changes deliberately touch neither record (the real API behaves so, and connectors miss them).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sandbox.model.dataset import Association, HubSpotData, HubSpotOwner, HubSpotRecord, PropertyChange
from sandbox.model.hubspot import (
    ASSOCIATION_TYPES,
    LAST_MODIFIED_PROPERTY,
    OBJECT_TYPES,
    PROPERTIES,
    HsProperty,
    create_date_property,
    property_map,
)
from sandbox.server.clock import SandboxClock
from sandbox.server.db import SandboxDB
from sandbox.server.hubspot.values import ms, to_storage, to_wire

LIVE = "archived = 0 AND merged_into IS NULL"
_AFFINITY = {"datetime": "INTEGER", "date": "INTEGER", "bool": "INTEGER", "number": "NUMERIC"}


def table(object_type: str) -> str:
    if object_type not in PROPERTIES:
        raise ValueError(f"unknown HubSpot object type {object_type!r}")
    return f"hs_{object_type}"


def col(name: str) -> str:
    """A property's column: quoted, since names come from the schema and requests, never trusted SQL."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class HistoryEntry:
    value: str
    timestamp_ms: int
    source_type: str
    source_id: str | None
    updated_by_user_id: int | None


class HubSpotStore:
    def __init__(self, db: SandboxDB, clock: SandboxClock) -> None:
        self.db = db
        self.clock = clock
        self._props = {t: property_map(t) for t in OBJECT_TYPES}
        self._groups: dict[str, dict[str, str]] = {}

    def prop(self, object_type: str, name: str) -> HsProperty | None:
        return self._props[object_type].get(name)

    def properties(self, object_type: str) -> dict[str, HsProperty]:
        """The model's properties plus those created through the API."""
        return self._props[object_type]

    def create_property(self, object_type: str, prop: HsProperty) -> None:
        """A custom property, as a portal admin or an integration creates one: a new (empty) column."""
        with self.db.transaction() as conn:
            conn.execute(
                f"ALTER TABLE {table(object_type)} ADD COLUMN {col(prop.name)} {_AFFINITY.get(prop.type, 'TEXT')}"
            )
        self._props[object_type] = {**self._props[object_type], prop.name: prop}

    def groups(self, object_type: str) -> dict[str, str]:
        """Property group name -> label: the model's groups plus those created through the API."""
        known = {p.group: p.group.replace("_", " ").title() for p in PROPERTIES[object_type]}
        return {**known, **self._groups.get(object_type, {})}

    def create_group(self, object_type: str, name: str, label: str) -> None:
        self._groups.setdefault(object_type, {})[name] = label

    def now_ms(self) -> int:
        return ms(self.clock.now())

    # -- schema ----------------------------------------------------------------------------------------------
    def create_schema(self) -> None:
        with self.db.transaction() as conn:
            for object_type in OBJECT_TYPES:
                columns = ", ".join(f"{col(p.name)} {_AFFINITY.get(p.type, 'TEXT')}" for p in PROPERTIES[object_type])
                name = table(object_type)
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {name} (id INTEGER PRIMARY KEY, created_at INTEGER NOT NULL, "
                    f"updated_at INTEGER NOT NULL, archived INTEGER NOT NULL DEFAULT 0, archived_at INTEGER, "
                    f"merged_into INTEGER, {columns})"
                )
                # Incremental search sorts and filters on the last-modified date: keep it indexed.
                lastmod = LAST_MODIFIED_PROPERTY[object_type]
                conn.execute(f"CREATE INDEX IF NOT EXISTS {name}_lastmod ON {name} ({col(lastmod)}, id)")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS hs_history (object_type TEXT NOT NULL, object_id INTEGER NOT NULL, "
                "property TEXT NOT NULL, value TEXT, timestamp_ms INTEGER NOT NULL, source_type TEXT NOT NULL, "
                "source_id TEXT, updated_by_user_id INTEGER)"
            )
            conn.execute(
                "CREATE INDEX IF NOT EXISTS hs_history_key ON hs_history (object_type, object_id, property, timestamp_ms)"
            )
            conn.execute(
                "CREATE TABLE IF NOT EXISTS hs_associations (from_type TEXT NOT NULL, from_id INTEGER NOT NULL, "
                "to_type TEXT NOT NULL, to_id INTEGER NOT NULL, type_id INTEGER NOT NULL, category TEXT NOT NULL, "
                "label TEXT, PRIMARY KEY (from_type, from_id, to_type, to_id, type_id)) WITHOUT ROWID"
            )
            conn.execute(
                "CREATE TABLE IF NOT EXISTS hs_owners (id INTEGER PRIMARY KEY, email TEXT NOT NULL, first_name TEXT, "
                "last_name TEXT, user_id INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, "
                "archived INTEGER NOT NULL DEFAULT 0, teams TEXT NOT NULL DEFAULT '[]')"
            )

    # -- loading ---------------------------------------------------------------------------------------------
    def load(self, data: HubSpotData) -> None:
        with self.db.transaction() as conn:
            for object_type, records in data.objects.items():
                names = [p.name for p in PROPERTIES[object_type]]
                sql = self._insert_sql(object_type, names)
                conn.executemany(sql, (self._dataset_row(object_type, names, r) for r in records))
            conn.executemany(
                "INSERT INTO hs_owners (id, email, first_name, last_name, user_id, created_at, updated_at, archived, teams) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (_owner_row(o) for o in data.owners),
            )
            conn.executemany(_ASSOC_INSERT, (row for a in data.associations for row in _association_rows(a)))
            conn.executemany(_HISTORY_INSERT, (_history_row(self._props, h) for h in data.history))

    def _insert_sql(self, object_type: str, names: Sequence[str]) -> str:
        fixed = ["id", "created_at", "updated_at", "archived", "archived_at"]
        columns = ", ".join([*fixed, *(col(n) for n in names)])
        return f"INSERT INTO {table(object_type)} ({columns}) VALUES ({', '.join('?' * (len(fixed) + len(names)))})"

    def _dataset_row(self, object_type: str, names: Sequence[str], record: HubSpotRecord) -> tuple[Any, ...]:
        props = self._props[object_type]
        unknown = set(record.properties) - set(props)
        if unknown:
            raise ValueError(f"{object_type} {record.id}: properties {sorted(unknown)} are not in hubspot/schema.py")
        values = {name: to_storage(props[name], v) for name, v in record.properties.items()}
        created, updated = ms(record.created_at), ms(record.updated_at)
        self._fill_system(object_type, values, record.id, created, updated)
        archived_at = ms(record.archived_at) if record.archived_at else (updated if record.archived else None)
        return (record.id, created, updated, int(record.archived), archived_at, *(values.get(n) for n in names))

    def _fill_system(
        self, object_type: str, values: dict[str, Any], object_id: int, created: int, updated: int
    ) -> None:
        values["hs_object_id"] = object_id
        known = set(self._props[object_type])
        for names, instant in (
            ({create_date_property(object_type), "hs_createdate", "createdate"}, created),
            ({LAST_MODIFIED_PROPERTY[object_type], "hs_lastmodifieddate"}, updated),
        ):
            for name in names & known:
                if values.get(name) is None:
                    values[name] = instant

    # -- reads -----------------------------------------------------------------------------------------------
    def page(self, object_type: str, after_id: int, limit: int, archived: bool) -> list[sqlite3.Row]:
        """Records in id order from ``after_id``: live ones, or (``archived``) only archived ones."""
        where = "archived = 1 AND merged_into IS NULL" if archived else LIVE
        return self.db.query(
            f"SELECT * FROM {table(object_type)} WHERE {where} AND id >= ? ORDER BY id LIMIT ?", (after_id, limit)
        )

    def get(self, object_type: str, object_id: int, archived: bool = False) -> sqlite3.Row | None:
        """One record; a merged-away id resolves to its survivor, as the real API redirects."""
        for _ in range(32):  # survivors can themselves be merged later; chains are short
            row = self.db.query(f"SELECT * FROM {table(object_type)} WHERE id = ?", (object_id,))
            if not row:
                return None
            if row[0]["merged_into"] is None:
                return row[0] if bool(row[0]["archived"]) == archived else None
            object_id = int(row[0]["merged_into"])
        return None

    def get_by_property(self, object_type: str, name: str, value: Any, archived: bool = False) -> sqlite3.Row | None:
        where = "archived = 1 AND merged_into IS NULL" if archived else LIVE
        rows = self.db.query(
            f"SELECT * FROM {table(object_type)} WHERE {where} AND {col(name)} = ? ORDER BY id LIMIT 1", (value,)
        )
        return rows[0] if rows else None

    def select(
        self, object_type: str, where: str, params: Sequence[Any], order_by: str, limit: int, offset: int
    ) -> list[sqlite3.Row]:
        return self.db.query(
            f"SELECT * FROM {table(object_type)} WHERE {LIVE} AND ({where}) ORDER BY {order_by} LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )

    def count(self, object_type: str, where: str, params: Sequence[Any]) -> int:
        return int(self.db.scalar(f"SELECT COUNT(*) FROM {table(object_type)} WHERE {LIVE} AND ({where})", params))

    def live_ids(self, object_type: str) -> list[int]:
        return [int(r[0]) for r in self.db.query(f"SELECT id FROM {table(object_type)} WHERE {LIVE} ORDER BY id")]

    def history(
        self, object_type: str, ids: Sequence[int], names: Sequence[str]
    ) -> dict[tuple[int, str], list[HistoryEntry]]:
        """Newest first, as ``propertiesWithHistory`` lists them."""
        out: dict[tuple[int, str], list[HistoryEntry]] = {}
        if not ids or not names:
            return out
        rows = self.db.query(
            f"SELECT * FROM hs_history WHERE object_type = ? AND object_id IN ({_marks(ids)}) "
            f"AND property IN ({_marks(names)}) ORDER BY timestamp_ms DESC, rowid DESC",
            (object_type, *ids, *names),
        )
        for r in rows:
            out.setdefault((int(r["object_id"]), r["property"]), []).append(
                HistoryEntry(
                    r["value"], int(r["timestamp_ms"]), r["source_type"], r["source_id"], r["updated_by_user_id"]
                )
            )
        return out

    def associations(self, from_type: str, ids: Sequence[int], to_type: str) -> dict[int, list[sqlite3.Row]]:
        """Associations to live records only: archiving a record hides its associations, as in HubSpot."""
        out: dict[int, list[sqlite3.Row]] = {}
        if not ids:
            return out
        rows = self.db.query(
            f"SELECT a.* FROM hs_associations a JOIN {table(to_type)} t ON t.id = a.to_id AND t.archived = 0 AND t.merged_into IS NULL "
            f"WHERE a.from_type = ? AND a.to_type = ? AND a.from_id IN ({_marks(ids)}) ORDER BY a.from_id, a.to_id, a.type_id",
            (from_type, to_type, *ids),
        )
        for r in rows:
            out.setdefault(int(r["from_id"]), []).append(r)
        return out

    def association_pairs(self, from_type: str, to_type: str) -> list[tuple[int, int]]:
        rows = self.db.query(
            "SELECT DISTINCT from_id, to_id FROM hs_associations WHERE from_type = ? AND to_type = ? ORDER BY from_id, to_id",
            (from_type, to_type),
        )
        return [(int(r[0]), int(r[1])) for r in rows]

    def owners(self, after_id: int, limit: int, archived: bool, email: str | None) -> list[sqlite3.Row]:
        sql = "SELECT * FROM hs_owners WHERE archived = ? AND id >= ?"
        params: list[Any] = [int(archived), after_id]
        if email is not None:
            sql += " AND lower(email) = lower(?)"
            params.append(email)
        return self.db.query(sql + " ORDER BY id LIMIT ?", (*params, limit))

    def owner(self, owner_id: int, archived: bool) -> sqlite3.Row | None:
        rows = self.db.query("SELECT * FROM hs_owners WHERE id = ? AND archived = ?", (owner_id, int(archived)))
        return rows[0] if rows else None

    def counts(self) -> dict[str, int]:
        out = {t: int(self.db.scalar(f"SELECT COUNT(*) FROM {table(t)} WHERE {LIVE}")) for t in OBJECT_TYPES}
        out["owners"] = int(self.db.scalar("SELECT COUNT(*) FROM hs_owners WHERE archived = 0"))
        return out

    # -- writes ----------------------------------------------------------------------------------------------
    def insert(
        self, object_type: str, values: dict[str, Any], *, source_type: str = "API", at_ms: int | None = None
    ) -> int:
        """A new record from storage-ready values; its initial values enter the history."""
        now = self.now_ms() if at_ms is None else at_ms
        names = [p.name for p in PROPERTIES[object_type]]
        with self.db.transaction() as conn:
            new_id = int(conn.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table(object_type)}").fetchone()[0])
            row_values = dict(values)
            self._fill_system(object_type, row_values, new_id, now, now)
            conn.execute(
                self._insert_sql(object_type, names), (new_id, now, now, 0, None, *(row_values.get(n) for n in names))
            )
            conn.executemany(
                _HISTORY_INSERT, self._history_rows(object_type, new_id, values, now, source_type, None, None)
            )
        return new_id

    def update(
        self,
        object_type: str,
        object_id: int,
        values: dict[str, Any],
        *,
        source_type: str = "API",
        source_id: str | None = None,
        user_id: int | None = None,
        at_ms: int | None = None,
    ) -> dict[str, Any] | None:
        """Apply storage-ready values to a live record; returns the changed ones (None if no such record).

        A write that changes nothing leaves the record, its last-modified date and its history alone.
        """
        with self.db.transaction() as conn:
            rows = conn.execute(f"SELECT * FROM {table(object_type)} WHERE id = ? AND {LIVE}", (object_id,)).fetchall()
            if not rows:
                return None
            current = rows[0]
            changed = {k: v for k, v in values.items() if current[k] != v}
            if changed:
                now = self.now_ms() if at_ms is None else at_ms
                self._write(conn, object_type, [object_id], {**changed, **self._touch(object_type, now)}, now)
                conn.executemany(
                    _HISTORY_INSERT,
                    self._history_rows(object_type, object_id, changed, now, source_type, source_id, user_id),
                )
        return changed

    def touch(self, object_type: str, ids: Sequence[int], at_ms: int, values: dict[str, Any] | None = None) -> None:
        """Stamp many records with one last-modified instant (a bulk import or workflow run), in one statement."""
        with self.db.transaction() as conn:
            self._write(conn, object_type, ids, {**(values or {}), **self._touch(object_type, at_ms)}, at_ms)
            if values:
                conn.executemany(
                    _HISTORY_INSERT,
                    (
                        row
                        for i in ids
                        for row in self._history_rows(object_type, i, values, at_ms, "IMPORT", None, None)
                    ),
                )

    def archive(self, object_type: str, ids: Iterable[int]) -> list[int]:
        """Archive live records; the last-modified property stays as it was [?], ``updatedAt`` moves to now."""
        now = self.now_ms()
        done: list[int] = []
        with self.db.transaction() as conn:
            for object_id in ids:
                cur = conn.execute(
                    f"UPDATE {table(object_type)} SET archived = 1, archived_at = ?, updated_at = ? WHERE id = ? AND {LIVE}",
                    (now, now, object_id),
                )
                if cur.rowcount:
                    done.append(object_id)
        return done

    def purge(self, object_type: str, ids: Iterable[int]) -> list[int]:
        """Delete records permanently (a GDPR delete): gone from every listing, archived ones included."""
        done: list[int] = []
        with self.db.transaction() as conn:
            for object_id in ids:
                if conn.execute(f"DELETE FROM {table(object_type)} WHERE id = ?", (object_id,)).rowcount:
                    done.append(object_id)
                    conn.execute(
                        "DELETE FROM hs_history WHERE object_type = ? AND object_id = ?", (object_type, object_id)
                    )
                    conn.execute(
                        "DELETE FROM hs_associations WHERE (from_type = ? AND from_id = ?) OR (to_type = ? AND to_id = ?)",
                        (object_type, object_id, object_type, object_id),
                    )
        return done

    def merge(self, object_type: str, survivor: int, merged: int) -> None:
        """Fold ``merged`` into ``survivor``: the merged id redirects, its associations move to the survivor."""
        with self.db.transaction() as conn:
            rows = {
                int(r["id"]): r
                for r in conn.execute(
                    f"SELECT * FROM {table(object_type)} WHERE id IN (?, ?) AND {LIVE}", (survivor, merged)
                )
            }
            if len(rows) != 2:
                raise ValueError(f"cannot merge {object_type} {merged} into {survivor}: both must be live records")
            now = self.now_ms()
            ids = [v for r in (rows[survivor], rows[merged]) for v in (r["hs_merged_object_ids"] or "").split(";") if v]
            merged_ids = ";".join([*ids, str(merged)])
            conn.execute(
                f"UPDATE {table(object_type)} SET merged_into = ?, updated_at = ? WHERE id = ?", (survivor, now, merged)
            )
            self._write(
                conn,
                object_type,
                [survivor],
                {"hs_merged_object_ids": merged_ids, **self._touch(object_type, now)},
                now,
            )
            conn.executemany(
                _HISTORY_INSERT,
                self._history_rows(
                    object_type, survivor, {"hs_merged_object_ids": merged_ids}, now, "CRM_UI", None, None
                ),
            )
            # Move the merged record's associations (both directions) onto the survivor, dropping duplicates.
            conn.execute(
                "UPDATE OR IGNORE hs_associations SET from_id = ? WHERE from_type = ? AND from_id = ?",
                (survivor, object_type, merged),
            )
            conn.execute(
                "UPDATE OR IGNORE hs_associations SET to_id = ? WHERE to_type = ? AND to_id = ?",
                (survivor, object_type, merged),
            )
            conn.execute(
                "DELETE FROM hs_associations WHERE (from_type = ? AND from_id = ?) OR (to_type = ? AND to_id = ?)",
                (object_type, merged, object_type, merged),
            )

    def associate(self, from_type: str, from_id: int, to_type: str, to_id: int) -> None:
        """Add the default association both ways, leaving both records' last-modified dates untouched."""
        with self.db.transaction() as conn:
            conn.executemany(
                _ASSOC_INSERT,
                _association_rows(
                    Association(from_type, from_id, to_type, to_id, association_type(from_type, to_type))
                ),
            )

    def dissociate(self, from_type: str, from_id: int, to_type: str, to_id: int) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "DELETE FROM hs_associations WHERE (from_type = ? AND from_id = ? AND to_type = ? AND to_id = ?) "
                "OR (from_type = ? AND from_id = ? AND to_type = ? AND to_id = ?)",
                (from_type, from_id, to_type, to_id, to_type, to_id, from_type, from_id),
            )

    # -- helpers ---------------------------------------------------------------------------------------------
    def _touch(self, object_type: str, at_ms: int) -> dict[str, int]:
        names = {LAST_MODIFIED_PROPERTY[object_type], "hs_lastmodifieddate"} & set(self._props[object_type])
        return {n: at_ms for n in names}

    def _write(
        self, conn: sqlite3.Connection, object_type: str, ids: Sequence[int], values: dict[str, Any], at_ms: int
    ) -> None:
        sets = ", ".join([*(f"{col(k)} = ?" for k in values), "updated_at = ?"])
        params = [*values.values(), at_ms]
        for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
            chunk = list(ids[start : start + 500])
            conn.execute(f"UPDATE {table(object_type)} SET {sets} WHERE id IN ({_marks(chunk)})", (*params, *chunk))

    def _history_rows(
        self,
        object_type: str,
        object_id: int,
        values: dict[str, Any],
        at_ms: int,
        source_type: str,
        source_id: str | None,
        user_id: int | None,
    ) -> list[tuple[Any, ...]]:
        props = self._props[object_type]
        return [
            (object_type, object_id, name, to_wire(props[name], value), at_ms, source_type, source_id, user_id)
            for name, value in values.items()
        ]


def association_type(from_type: str, to_type: str) -> int:
    try:
        return ASSOCIATION_TYPES[(from_type, to_type)]
    except KeyError:
        raise ValueError(f"no HUBSPOT_DEFINED association between {from_type} and {to_type}") from None


_ASSOC_INSERT = "INSERT OR IGNORE INTO hs_associations (from_type, from_id, to_type, to_id, type_id, category, label) VALUES (?, ?, ?, ?, ?, ?, ?)"
_HISTORY_INSERT = (
    "INSERT INTO hs_history (object_type, object_id, property, value, timestamp_ms, source_type, source_id, updated_by_user_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def _association_rows(a: Association) -> list[tuple[Any, ...]]:
    """Both directions: HubSpot answers associations from either side, each with its own type id."""
    reverse = ASSOCIATION_TYPES.get((a.to_type, a.from_type)) if a.category == "HUBSPOT_DEFINED" else a.type_id
    if reverse is None:
        raise ValueError(f"no HUBSPOT_DEFINED association from {a.to_type} back to {a.from_type}")
    return [
        (a.from_type, a.from_id, a.to_type, a.to_id, a.type_id, a.category, a.label),
        (a.to_type, a.to_id, a.from_type, a.from_id, reverse, a.category, a.label),
    ]


def _history_row(props: dict[str, dict[str, HsProperty]], h: PropertyChange) -> tuple[Any, ...]:
    if h.property not in props[h.object_type]:
        raise ValueError(f"history for unknown property {h.object_type}.{h.property}")
    return (
        h.object_type,
        h.object_id,
        h.property,
        h.value,
        ms(h.timestamp),
        h.source_type,
        h.source_id,
        h.updated_by_user_id,
    )


def _owner_row(o: HubSpotOwner) -> tuple[Any, ...]:
    return (
        o.id,
        o.email,
        o.first_name,
        o.last_name,
        o.user_id,
        ms(o.created_at),
        ms(o.updated_at),
        int(o.archived),
        json.dumps(o.teams),
    )
