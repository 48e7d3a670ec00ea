"""Suites for the raw Salesforce tables (one per catalogued object, lower-case column names)."""

from __future__ import annotations

from datetime import datetime, timedelta

from checks.model import Severity, Suite, expect
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
from checks.suites.relations import owner_active, reference_found
from connectors.salesforce.catalog import raw_table_name
from pipelines.funnel.model import FunnelDefinitions

SOURCE = "salesforce"
LEAD, CONTACT, ACCOUNT = raw_table_name("Lead"), raw_table_name("Contact"), raw_table_name("Account")
OPPORTUNITY, TASK, EVENT, USER = (raw_table_name(o) for o in ("Opportunity", "Task", "Event", "User"))
# Objects whose newest change says whether the sync keeps up; reference objects (users, campaigns) may rest.
FRESHNESS_OBJECTS = ("Lead", "Task")


def salesforce_suites(
    objects: tuple[str, ...], defs: FunnelDefinitions, as_of: datetime, max_age: timedelta
) -> list[Suite]:
    suites: list[Suite] = []
    for name in objects:
        table = raw_table_name(name)
        suites += [keys_suite(table), reconciliation_suite(table, SOURCE, name)]
        if name in FRESHNESS_OBJECTS:
            suites.append(freshness_suite(table, "systemmodstamp", as_of, max_age))
    suites += [s for s in _quality(defs) if s.asset in {raw_table_name(o) for o in objects}]
    return suites


def _quality(defs: FunnelDefinitions) -> list[Suite]:
    reasons = [v for r in defs.reasons.values() for v in r.salesforce]
    return [
        Suite(
            f"{LEAD}__values",
            LEAD,
            Severity.WARN,
            live_rows(LEAD, "id", "email", "status", "disqualification_reason__c"),
            (
                email_expectation(),
                in_set("status", defs.stages.salesforce_lead_status),
                in_set("disqualification_reason__c", reasons),
            ),
            description="e-mail well formed; Status and Disqualification_Reason__c within the agreed values",
        ),
        Suite(
            f"{LEAD}__duplicates",
            LEAD,
            Severity.WARN,
            lower_email(LEAD),
            (expect("ExpectColumnValuesToBeUnique", column="email_key"),),
            description="no two live leads share an e-mail (ignoring case)",
        ),
        Suite(
            f"{LEAD}__owners",
            LEAD,
            Severity.WARN,
            owner_active(LEAD, "ownerid", USER, active="isactive", team="team__c"),
            (expect("ExpectColumnValuesToNotBeNull", column="ownerid"), in_set_bool("owner_active")),
            description="every lead owned by an active user of a sales team",
        ),
        Suite(
            f"{CONTACT}__values",
            CONTACT,
            Severity.WARN,
            live_rows(CONTACT, "id", "email"),
            (email_expectation(),),
            description="e-mail well formed",
        ),
        Suite(
            f"{OPPORTUNITY}__values",
            OPPORTUNITY,
            Severity.WARN,
            live_rows(OPPORTUNITY, "id", "stagename"),
            (in_set("stagename", defs.stages.salesforce_opportunity_stages),),
            description="StageName within the agreed stages",
        ),
        Suite(
            f"{OPPORTUNITY}__orphans",
            OPPORTUNITY,
            Severity.WARN,
            reference_found(OPPORTUNITY, "accountid", (ACCOUNT,), "account_found"),
            (in_set_bool("account_found"),),
            description="every opportunity's AccountId is a landed account",
        ),
        *(
            Suite(
                f"{table}__orphans",
                table,
                Severity.WARN,
                reference_found(table, "whoid", (LEAD, CONTACT), "who_found"),
                (in_set_bool("who_found"),),
                description="every activity's WhoId is a landed lead or contact",
            )
            for table in (TASK, EVENT)
        ),
    ]
