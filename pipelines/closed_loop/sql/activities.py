"""canonical_activities (``activities.build_activities``): HubSpot engagements joined to their live contact
associations (one row per activity and contact; an activity with none appears once, who NULL) and Salesforce
Tasks/Events by WhoId (00Q… a Lead, 003… a Contact; WhatId 006… an Opportunity), each joined to its person.

Everything is an equality (hash) join or a window over a key, so it scales with the activity count:
  - ``act_contacts``: the distinct live (engagement type, engagement id, contact id) association edges;
  - ``act_first_deal``: per engagement, its lowest associated deal id (by length, then text: ids are numbers).

The reference keeps the activity columns as the raw frames hold them (``_column``: not trimmed, blank read as
missing by ``write.to_rows``), and matches WhoId prefixes, TaskSubtype and association types on those exact
values; ``_stage`` stages text that way ("stored"). Only the touch rules trim (``sql.touches``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from connectors.hubspot import catalog as hubspot
from connectors.salesforce import catalog as salesforce
from pipelines.closed_loop.activities import _HS_DETAIL, HUBSPOT_TYPES
from pipelines.closed_loop.sql.context import SqlContext, Want, is_textual, literal
from pipelines.closed_loop.sql.touches import (
    HUBSPOT_TOUCH_PROPERTIES,
    hubspot_engagement_touch,
    salesforce_event_touch,
    salesforce_task_touch,
)
from pipelines.funnel.model import FunnelDefinitions

Staged = Want | Literal["stored"]

CONTACT_EDGES = "act_contacts"
FIRST_DEAL = "act_first_deal"
_ROW_COLUMNS = (
    "source_system",
    "source_object",
    "source_id",
    "activity_type",
    "occurred_at",
    "owner_source_id",
    "direction",
    "status",
    "subtype",
    "subject",
    "counts_as_touch",
    "created_at",
    "updated_at",
    "is_deleted",
    "who_source_id",
    "who_source_object",
    "opportunity_source_id",
)


def activities_sql(ctx: SqlContext, defs: FunnelDefinitions, people: str) -> str:
    """Every canonical_activities column; ``people`` is a relation of canonical_people rows with person_key."""
    create_edges(ctx)
    rows = " UNION ALL ".join(
        [_hubspot(ctx, defs, t) for t in HUBSPOT_TYPES] + [_salesforce_task(ctx, defs), _salesforce_event(ctx, defs)]
    )
    key = "a.source_system || ':' || a.source_object || ':' || a.source_id || '>' || COALESCE(a.who_source_id, '-')"
    passed = ", ".join(f"a.{c}" for c in _ROW_COLUMNS)
    return f"""
        SELECT {key} AS activity_key, {passed}, p.person_key, p.person_key IS NULL AS is_orphan,
               {literal(defs.content_hash)} AS definitions_hash
        FROM ({rows}) a
        LEFT JOIN (SELECT source_system, source_object, source_id, person_key FROM {people}) p
          ON p.source_system = a.source_system AND p.source_object = a.who_source_object
         AND p.source_id = a.who_source_id
    """


def create_edges(ctx: SqlContext) -> None:
    """Temp tables ``act_contacts`` and ``act_first_deal`` from the live HubSpot associations."""
    edges = _stage(
        ctx,
        hubspot.raw_table_name("associations"),
        {"from_type": "stored", "from_id": "stored", "to_type": "stored", "to_id": "stored", "_is_deleted": "boolean"},
    )
    engagements = ", ".join(literal(t) for t in HUBSPOT_TYPES)
    live = f"SELECT * FROM {edges} e WHERE NOT COALESCE(e._is_deleted, FALSE) AND e.from_type IN ({engagements})"
    ctx.temp(CONTACT_EDGES, f"SELECT DISTINCT from_type, from_id, to_id FROM ({live}) l WHERE to_type = 'contacts'")
    ctx.temp(
        FIRST_DEAL,
        f"""
        SELECT from_type, from_id, to_id FROM (
            SELECT from_type, from_id, to_id,
                   ROW_NUMBER() OVER (
                       PARTITION BY from_type, from_id ORDER BY LENGTH(to_id), {ctx.sortable("to_id")}
                   ) AS pick
            FROM ({live}) l
            WHERE to_type = 'deals'
        ) ranked
        WHERE pick = 1
        """,
    )


def _stage(ctx: SqlContext, table: str, columns: Mapping[str, Staged]) -> str:
    """``ctx.raw`` plus "stored" text: a text column exactly as stored, blanks NULL (what the reference's
    ``_column`` hands ``write.to_rows``); other sources convert like ``ctx.raw``'s "text"."""
    types = ctx.source_types(table)
    if not types:
        return ctx.raw(table, {c: "text" if w == "stored" else w for c, w in columns.items()})
    parts = []
    for name, want in columns.items():
        source = types.get(name)
        if want == "stored" and is_textual(source):
            quoted = f'"{name}"'
            parts.append(f"CASE WHEN {ctx.clean(quoted)} IS NOT NULL THEN {quoted} END AS {name}")
        else:
            parts.append(f"{ctx.convert(name, source, 'text' if want == 'stored' else want)} AS {name}")
    return f"(SELECT {', '.join(parts)} FROM {ctx.table(table)})"


def _hubspot(ctx: SqlContext, defs: FunnelDefinitions, object_type: str) -> str:
    direction, status, subtype, subject = _HS_DETAIL[object_type]
    details: dict[str, Staged] = {name: "stored" for name in (direction, status, subtype, subject) if name is not None}
    touch_properties: dict[str, Staged] = {name: "stored" for name in HUBSPOT_TOUCH_PROPERTIES[object_type]}
    columns: dict[str, Staged] = {
        "id": "stored",
        "hs_timestamp": "timestamp",
        "hs_createdate": "timestamp",
        "created_at": "timestamp",
        "hs_lastmodifieddate": "timestamp",
        "updated_at": "timestamp",
        "hubspot_owner_id": "stored",
        "_is_deleted": "boolean",
        "archived": "boolean",
        **details,
        **touch_properties,
    }
    src = _stage(ctx, hubspot.raw_table_name(object_type), columns)
    deleted = "(COALESCE(e._is_deleted, FALSE) OR COALESCE(e.archived, FALSE))"
    values = {
        "source_system": "'hubspot'",
        "source_object": literal(object_type),
        "source_id": "e.id",
        "activity_type": literal(HUBSPOT_TYPES[object_type]),
        "occurred_at": "COALESCE(e.hs_timestamp, e.hs_createdate, e.created_at)",
        "owner_source_id": "e.hubspot_owner_id",
        "direction": f"e.{direction}" if direction else "CAST(NULL AS VARCHAR)",
        "status": f"e.{status}" if status else "CAST(NULL AS VARCHAR)",
        "subtype": f"e.{subtype}" if subtype else "CAST(NULL AS VARCHAR)",
        "subject": f"e.{subject}",
        "counts_as_touch": f"({hubspot_engagement_touch(ctx, defs, object_type, 'e')} AND NOT {deleted})",
        "created_at": "COALESCE(e.hs_createdate, e.created_at)",
        "updated_at": "COALESCE(e.hs_lastmodifieddate, e.updated_at)",
        "is_deleted": deleted,
        "who_source_id": "c.to_id",
        "who_source_object": "CASE WHEN c.to_id IS NOT NULL THEN 'contact' END",
        "opportunity_source_id": "d.to_id",
    }
    kind = literal(object_type)
    return _select(
        values,
        f"{src} e "
        f"LEFT JOIN {CONTACT_EDGES} c ON c.from_type = {kind} AND c.from_id = e.id "
        f"LEFT JOIN {FIRST_DEAL} d ON d.from_type = {kind} AND d.from_id = e.id",
    )


def _salesforce_common(src: str) -> dict[str, str]:
    """Columns Tasks and Events share: ids, owner, WhoId/WhatId links, times and deletion."""
    return {
        "source_system": "'salesforce'",
        "source_id": f"{src}.id",
        "owner_source_id": f"{src}.ownerid",
        "subject": f"{src}.subject",
        "created_at": f"{src}.createddate",
        "updated_at": f"{src}.lastmodifieddate",
        "is_deleted": f"COALESCE({src}._is_deleted, FALSE)",
        "who_source_id": f"{src}.whoid",
        "who_source_object": (
            f"CASE WHEN SUBSTRING({src}.whoid, 1, 3) = '00Q' THEN 'lead' "
            f"WHEN SUBSTRING({src}.whoid, 1, 3) = '003' THEN 'contact' END"
        ),
        # No LIKE '006%': psycopg2 would read the '%' as a parameter marker.
        "opportunity_source_id": f"CASE WHEN SUBSTRING({src}.whatid, 1, 3) = '006' THEN {src}.whatid END",
    }


_SALESFORCE_STAGED: dict[str, Staged] = {
    "id": "stored",
    "ownerid": "stored",
    "subject": "stored",
    "createddate": "timestamp",
    "lastmodifieddate": "timestamp",
    "_is_deleted": "boolean",
    "whoid": "stored",
    "whatid": "stored",
}


def _salesforce_task(ctx: SqlContext, defs: FunnelDefinitions) -> str:
    columns: dict[str, Staged] = {
        **_SALESFORCE_STAGED,
        "tasksubtype": "stored",
        "status": "stored",
        "calltype": "stored",
        "completeddatetime": "timestamp",
    }
    src = _stage(ctx, salesforce.raw_table_name("task"), columns)
    touch = salesforce_task_touch(ctx, defs, "t.tasksubtype", "t.status", "t.calltype")
    values = {
        **_salesforce_common("t"),
        "source_object": "'task'",
        "activity_type": "CASE t.tasksubtype WHEN 'Call' THEN 'call' WHEN 'Email' THEN 'email' ELSE 'task' END",
        "occurred_at": "COALESCE(t.completeddatetime, t.createddate)",
        "direction": "t.calltype",
        "status": "t.status",
        "subtype": "t.tasksubtype",
        "counts_as_touch": f"({touch} AND NOT COALESCE(t._is_deleted, FALSE))",
    }
    return _select(values, f"{src} t")


def _salesforce_event(ctx: SqlContext, defs: FunnelDefinitions) -> str:
    columns: dict[str, Staged] = {
        **_SALESFORCE_STAGED,
        "eventsubtype": "stored",
        "status": "stored",
        "calltype": "stored",
        "startdatetime": "timestamp",
        "activitydatetime": "timestamp",
    }
    src = _stage(ctx, salesforce.raw_table_name("event"), columns)
    values = {
        **_salesforce_common("v"),
        "source_object": "'event'",
        "activity_type": "'meeting'",
        "occurred_at": "COALESCE(v.startdatetime, v.activitydatetime, v.createddate)",
        "direction": "v.calltype",
        "status": "v.status",
        "subtype": "v.eventsubtype",
        "counts_as_touch": f"({salesforce_event_touch(defs)} AND NOT COALESCE(v._is_deleted, FALSE))",
    }
    return _select(values, f"{src} v")


def _select(values: Mapping[str, str], source: str) -> str:
    """One UNION ALL branch: ``_ROW_COLUMNS`` in a fixed order so the branches line up."""
    return f"SELECT {', '.join(f'{values[c]} AS {c}' for c in _ROW_COLUMNS)} FROM {source}"
