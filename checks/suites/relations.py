"""Sources that look across tables: references that point nowhere, and owners who cannot work a lead.

Each yields the referencing row's id, the reference, and a boolean ``*_found``/``*_active`` column the suite
expects to be true, so the GX result names the offending rows like any single-table expectation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from checks.model import Source
from connectors.warehouse.spec import IS_DELETED

# Each source imports SQLAlchemy when it builds (a check runs), not when the code location declares the suites.
if TYPE_CHECKING:
    import sqlalchemy as sa

    from checks.live_tables import Catalog


def reference_found(
    table: str, column: str, targets: tuple[str, ...], label: str, *, where: dict[str, tuple[str, ...]] | None = None
) -> Source:
    """Live rows of ``table`` whose non-null ``column`` is the ``id`` of a row in any of ``targets`` (deleted
    targets count as found: the reference was valid, the deletion is tracked elsewhere).

    ``where`` narrows the referencing rows to column values (e.g. association edges to contacts only).
    """

    def build(catalog: Catalog) -> sa.Select:
        import sqlalchemy as sa

        filters = where or {}
        t = catalog.table(table, "id", column, IS_DELETED, *filters)
        present = [name for name in targets if catalog.exists(name)]
        if not present:
            raise LookupError(f"none of {targets} exists to resolve {table}.{column}")
        known = sa.union_all(*(sa.select(catalog.table(name, "id").c.id) for name in present)).subquery("known")
        query = (
            sa.select(t.c.id, t.c[column], known.c.id.is_not(None).label(label))
            .select_from(t.outerjoin(known, known.c.id == t.c[column]))
            .where(t.c[IS_DELETED] == sa.false(), t.c[column].is_not(None))
        )
        for name, values in filters.items():
            query = query.where(t.c[name].in_(values))
        return query

    return build


def owner_active(
    table: str,
    owner_column: str,
    owners: str,
    *,
    only_where_not_null: str | None = None,
    active: str | None = None,
    team: str | None = None,
) -> Source:
    """Live rows of ``table`` with their owner and ``owner_active``: the owner exists, is not deleted/archived,
    is flagged ``active`` (when the owners table has such a column) and belongs to a sales team (when it has
    ``team``: an API or admin user is not someone who works leads).

    ``only_where_not_null`` restricts to rows where that column is set (e.g. contacts that became an MQL).
    """

    def build(catalog: Catalog) -> sa.Select:
        import sqlalchemy as sa

        extra = (only_where_not_null,) if only_where_not_null else ()
        t = catalog.table(table, "id", owner_column, IS_DELETED, *extra)
        owner_columns = catalog.columns(owners)
        wanted = ["id", IS_DELETED] + [c for c in (active, team) if c and c in owner_columns]
        o = catalog.table(owners, *wanted)
        ok = sa.and_(
            o.c.id.is_not(None),
            o.c[IS_DELETED] == sa.false(),
            *([o.c[active] == sa.true()] if active and active in owner_columns else []),
            *([o.c[team].is_not(None)] if team and team in owner_columns else []),
        )
        query = (
            sa.select(t.c.id, t.c[owner_column], sa.case((ok, sa.true()), else_=sa.false()).label("owner_active"))
            .select_from(t.outerjoin(o, sa.cast(o.c.id, sa.Text) == sa.cast(t.c[owner_column], sa.Text)))
            .where(t.c[IS_DELETED] == sa.false())
        )
        if only_where_not_null:
            query = query.where(t.c[only_where_not_null].is_not(None))
        return query

    return build


def linked(object_type: str, table: str, edges: str, targets: tuple[str, ...], label: str) -> Source:
    """Live records of ``object_type`` with ``label`` true when an edge (either direction: HubSpot reads each
    pair from one side only) joins them to a record of any ``targets`` type. HubSpot drops an association when
    its other end is deleted, so an activity whose contact is gone shows up as unlinked, not as a dangling edge.
    """

    def build(catalog: Catalog) -> sa.Select:
        import sqlalchemy as sa

        t = catalog.table(table, "id", IS_DELETED)
        e = catalog.table(edges, "from_type", "from_id", "to_type", "to_id", IS_DELETED)
        live = e.c[IS_DELETED] == sa.false()
        # The linked ids once each (UNION), joined: a hash join on both engines, where a correlated EXISTS (or an
        # IN list larger than PostgreSQL's work_mem) scans the edges once per record.
        forward = sa.select(e.c.from_id.label("id")).where(live, e.c.from_type == object_type, e.c.to_type.in_(targets))
        backward = sa.select(e.c.to_id.label("id")).where(live, e.c.to_type == object_type, e.c.from_type.in_(targets))
        ids = sa.union(forward, backward).subquery()
        return (
            sa.select(t.c.id, ids.c.id.is_not(None).label(label))
            .select_from(t.outerjoin(ids, ids.c.id == t.c.id))
            .where(t.c[IS_DELETED] == sa.false())
        )

    return build
