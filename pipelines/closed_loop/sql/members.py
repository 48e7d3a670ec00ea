"""Who belongs to each person, in the order the reference bundles list them (``bundles.PersonBundle``).

``create_members`` writes temp table ``members``: every live canonical_people row of a resolved person, with its
rank inside its kind, so "the person's HubSpot contact" is ``kind = 'hubspot_contact' AND kind_rank = 1``:
  - hubspot_contact: live HubSpot contacts, lowest id first (by length, then text: ids are numbers);
  - salesforce_lead: live Leads, earliest CreatedDate first (unknown last), then Id;
  - salesforce_contact: live Salesforce Contacts, lowest Id first.
With ``as_of``, people who did not exist then (every live record with a known creation created after it:
``bundles._created_after``) have no members, so they are left out of every model built on ``members``.
``create_deals`` writes temp table ``person_deals``: live canonical opportunities of each person, split by CRM
(kind ``salesforce_opportunity`` / ``hubspot_deal``), earliest created first, then id.
"""

from __future__ import annotations

from datetime import datetime

from connectors.warehouse.catalog.harmonised import CANONICAL_OPPORTUNITIES, CANONICAL_PEOPLE
from pipelines.closed_loop.sql.context import SqlContext, literal
from pipelines.closed_loop.values import naive_utc

MEMBERS = "members"
PERSON_DEALS = "person_deals"


def create_members(ctx: SqlContext, as_of: datetime | None = None) -> str:
    sid = ctx.sortable("source_id")
    kind = (
        "CASE WHEN source_system = 'hubspot' THEN 'hubspot_contact' "
        "WHEN source_object = 'lead' THEN 'salesforce_lead' ELSE 'salesforce_contact' END"
    )
    order = (
        "CASE WHEN source_system = 'hubspot' THEN LENGTH(source_id) ELSE 0 END, "
        "CASE WHEN source_object = 'lead' AND source_system = 'salesforce' THEN created_at END NULLS LAST, "
        f"{sid}"
    )
    people = ctx.table(CANONICAL_PEOPLE.name)
    live = f"SELECT * FROM {people} WHERE person_key IS NOT NULL AND NOT is_deleted"
    if as_of is not None:
        # An anti-join on a grouped table, not NOT IN: PostgreSQL runs NOT IN over a subquery it expects to outgrow
        # work_mem as a scan of that subquery per row (at 1M people it had not ended after ten minutes).
        late = (
            f"SELECT person_key FROM ({live}) l GROUP BY person_key "
            f"HAVING MIN(created_at) > {literal(naive_utc(as_of))}"
        )
        live = (
            f"SELECT m.* FROM ({live}) m LEFT JOIN ({late}) late ON late.person_key = m.person_key "
            "WHERE late.person_key IS NULL"
        )
    # Ranked on the key columns alone, then joined back: a window carrying every column of the row would sort
    # all of them (at 1M people the wide window took twice as long as this join).
    ranks = f"""
        SELECT source_system, source_object, source_id, {kind} AS kind,
               ROW_NUMBER() OVER (PARTITION BY person_key, {kind} ORDER BY {order}) AS kind_rank
        FROM ({live}) p
    """
    return ctx.temp(
        MEMBERS,
        f"""
        SELECT p.*, r.kind, r.kind_rank
        FROM {people} p
        JOIN {ctx.once("member_ranks", ranks)} r
          ON r.source_system = p.source_system AND r.source_object = p.source_object AND r.source_id = p.source_id
        """,
    )


def create_deals(ctx: SqlContext) -> str:
    kind = "CASE WHEN source_system = 'salesforce' THEN 'salesforce_opportunity' ELSE 'hubspot_deal' END"
    return ctx.temp(
        PERSON_DEALS,
        f"""
        SELECT o.*, {kind} AS kind,
               ROW_NUMBER() OVER (
                   PARTITION BY person_key, {kind} ORDER BY created_at NULLS LAST, {ctx.sortable("source_id")}
               ) AS kind_rank
        FROM {ctx.table(CANONICAL_OPPORTUNITIES.name)} o
        WHERE person_key IS NOT NULL AND NOT is_deleted
        """,
    )
