"""Suites for the raw HubSpot tables: object types, owners, association edges and lifecycle history."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from checks.model import Expect, Severity, Suite, expect
from checks.suites.common import (
    email_expectation,
    freshness_suite,
    in_set,
    in_set_bool,
    keys_suite,
    live_rows,
    lower_email,
    reconciliation_suite,
)
from checks.suites.relations import linked, owner_active, reference_found
from connectors.hubspot.catalog import ASSOCIATIONS, ENGAGEMENT_TYPES, OWNERS, PROPERTY_HISTORY, raw_table_name
from pipelines.funnel.model import STAGE_RANK, FunnelDefinitions

# Each source imports SQLAlchemy when it builds (a check runs), not when the code location declares the suites.
if TYPE_CHECKING:
    import sqlalchemy as sa

    from checks.live_tables import Catalog

SOURCE = "hubspot"
# Activity object types: each must hang off a contact (the one it touched).
CONTACTS, DEALS = raw_table_name("contacts"), raw_table_name("deals")
# Control-table object names of the streams that are not object types (see connectors/hubspot/*.STREAM).
STREAMS = {OWNERS.name: "owners", ASSOCIATIONS.name: "associations", PROPERTY_HISTORY.name: "contact_property_history"}
MQL_DATE = "hs_lifecyclestage_marketingqualifiedlead_date"
# The canonical order of HubSpot's lifecycle date properties; each one present must not precede the one before.
STAGE_DATES = (
    "created_at",
    "hs_lifecyclestage_lead_date",
    MQL_DATE,
    "hs_lifecyclestage_salesqualifiedlead_date",
    "hs_lifecyclestage_opportunity_date",
    "hs_lifecyclestage_customer_date",
)


def hubspot_suites(
    object_types: tuple[str, ...], defs: FunnelDefinitions, as_of: datetime, max_age: timedelta
) -> list[Suite]:
    suites: list[Suite] = []
    for object_type in object_types:
        table = raw_table_name(object_type)
        suites += [keys_suite(table), reconciliation_suite(table, SOURCE, object_type)]
    for table, stream in STREAMS.items():
        suites += [keys_suite(table), reconciliation_suite(table, SOURCE, stream)]
    if "contacts" in object_types:
        suites += [freshness_suite(CONTACTS, "updated_at", as_of, max_age), *_contacts(defs)]
    if "deals" in object_types:
        suites.append(
            Suite(
                f"{DEALS}__values",
                DEALS,
                Severity.WARN,
                live_rows(DEALS, "id", "dealstage"),
                (in_set("dealstage", defs.stages.hubspot_deal_stages),),
                description="dealstage within the agreed stages",
            )
        )
    suites += [_dangling("contacts", CONTACTS), _dangling("deals", DEALS), _regressions(defs)]
    suites += [_unlinked(t, ("contacts",)) for t in ENGAGEMENT_TYPES if t in object_types]
    if "deals" in object_types:
        suites.append(_unlinked("deals", ("contacts", "companies")))
    return suites


def _contacts(defs: FunnelDefinitions) -> list[Suite]:
    reasons = [v for r in defs.reasons.values() for v in r.hubspot]
    return [
        Suite(
            f"{CONTACTS}__values",
            CONTACTS,
            Severity.WARN,
            live_rows(CONTACTS, "id", "email", "lifecyclestage", "hs_lead_status", "disqualification_reason"),
            (
                email_expectation(),
                in_set("lifecyclestage", defs.stages.hubspot_lifecycle),
                in_set("hs_lead_status", defs.stages.hubspot_lead_status),
                in_set("disqualification_reason", reasons),
            ),
            description="e-mail well formed; lifecycle stage, lead status and reason within the agreed values",
        ),
        Suite(
            f"{CONTACTS}__stage_order",
            CONTACTS,
            Severity.WARN,
            live_rows(CONTACTS, "id", *STAGE_DATES),
            stage_order_expectations(STAGE_DATES),
            description="created <= lead <= MQL <= SQL <= opportunity <= customer dates",
        ),
        Suite(
            f"{CONTACTS}__duplicates",
            CONTACTS,
            Severity.WARN,
            lower_email(CONTACTS),
            (expect("ExpectColumnValuesToBeUnique", column="email_key"),),
            description="no two live contacts share an e-mail (ignoring case)",
        ),
        Suite(
            f"{CONTACTS}__owners",
            CONTACTS,
            Severity.WARN,
            owner_active(CONTACTS, "hubspot_owner_id", OWNERS.name, only_where_not_null=MQL_DATE),
            (expect("ExpectColumnValuesToNotBeNull", column="hubspot_owner_id"), in_set_bool("owner_active")),
            description="every contact that became an MQL has an owner who is not archived",
        ),
    ]


def stage_order_expectations(columns: tuple[str, ...]) -> tuple[Expect, ...]:
    return tuple(
        expect(
            "ExpectColumnPairValuesAToBeGreaterThanB",
            column_A=later,
            column_B=earlier,
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        )
        for earlier, later in zip(columns, columns[1:])
    )


def _dangling(to_type: str, target: str) -> Suite:
    return Suite(
        f"{ASSOCIATIONS.name}__dangling_{to_type}",
        ASSOCIATIONS.name,
        Severity.WARN,
        reference_found(ASSOCIATIONS.name, "to_id", (target,), "target_found", where={"to_type": (to_type,)}),
        (in_set_bool("target_found"),),
        description=f"every edge to {to_type} points at a landed record",
    )


def _unlinked(object_type: str, targets: tuple[str, ...]) -> Suite:
    """Checked on the edges asset: it runs after every object asset, so both ends have landed."""
    return Suite(
        f"{ASSOCIATIONS.name}__orphan_{object_type}",
        ASSOCIATIONS.name,
        Severity.WARN,
        linked(object_type, raw_table_name(object_type), ASSOCIATIONS.name, targets, "linked"),
        (in_set_bool("linked"),),
        description=f"every live {object_type} record is associated with {' or '.join(targets)}",
    )


def _regressions(defs: FunnelDefinitions) -> Suite:
    ranks = {
        value: STAGE_RANK[stage]
        for value, stage in defs.stages.hubspot_lifecycle.items()
        if stage is not None and stage in STAGE_RANK
    }

    def build(catalog: Catalog) -> sa.Select:
        import sqlalchemy as sa

        h = catalog.table(PROPERTY_HISTORY.name, "id", "contact_id", "property", "value", "changed_at")
        rank = sa.case(*((h.c.value == v, r) for v, r in ranks.items()))
        ranked = (
            sa.select(h.c.id, h.c.contact_id, h.c.changed_at, rank.label("rank"))
            .where(h.c.property == "lifecyclestage", h.c.value.in_(list(ranks)))
            .subquery("ranked")
        )
        previous = sa.func.lag(ranked.c["rank"]).over(
            partition_by=ranked.c.contact_id, order_by=(ranked.c.changed_at, ranked.c.id)
        )
        stepped = sa.select(ranked.c.id, ranked.c.contact_id, ranked.c["rank"], previous.label("previous")).subquery(
            "stepped"
        )
        return sa.select(
            stepped.c.id, stepped.c.contact_id, (stepped.c["rank"] < stepped.c.previous).label("regressed")
        ).where(stepped.c.previous.is_not(None))

    return Suite(
        f"{PROPERTY_HISTORY.name}__stage_regressions",
        PROPERTY_HISTORY.name,
        Severity.WARN,
        build,
        (expect("ExpectColumnValuesToBeInSet", column="regressed", value_set=[False]),),
        id_columns=("contact_id",),
        description="no contact's lifecycle stage moves back down the funnel",
    )
