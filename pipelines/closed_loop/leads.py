"""One closed-loop row per person: stage times, SLA outcomes, owner and outcome, from a ``PersonBundle``.

Pure: the bundle, the definitions, the business calendar and ``as_of`` in, a dict of column values out.
The row shows the world as of then: stage observations after ``as_of`` are not reached yet (``bundles`` already
leaves out people none of whose records existed). Every rule lives in ``pipelines.funnel`` (stages, sla, reasons, scoring, icp); this module only decides which
CRM record feeds which argument:
  - the owner responsible for the lead is the Salesforce Lead owner (sales works leads there), else the
    HubSpot contact owner;
  - first touch and contact attempts count touches from BOTH CRMs (``canonical_activities.counts_as_touch``)
    known by ``as_of``, from the MQL (creation when never an MQL);
  - the first-touch clock's assignments are the current owner's record's: the Salesforce Lead's creation and
    its Owner changes, for HubSpot-only people the hubspot_owner_id changes to a value; none when unassigned;
    those known by ``as_of`` count;
  - ``email`` is the first e-mail over Leads, HubSpot contacts, Salesforce Contacts; ``email_other_crm`` the
    first one of the other CRM's records when it differs (records linked by id that disagree on the e-mail);
  - the disqualification reason is read from Salesforce first, HubSpot otherwise;
  - Salesforce Opportunities drive the opportunity stages; a HubSpot deal only when no Opportunity exists;
  - campaign attribution (``_attribution``) reads the bundle's dated campaign memberships: first and last touch
    at or before the MQL (``as_of`` when never an MQL or the MQL lies after it), ties to the alphabetically
    first campaign key; influenced when one is dated before the opportunity's creation.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from pipelines.closed_loop.accounts import firmographics_row
from pipelines.closed_loop.bundles import PersonBundle, Record
from pipelines.closed_loop.values import day, flag, instant, number, text
from pipelines.funnel.business_time import BusinessCalendar
from pipelines.funnel.model import EXIT_STAGES, FunnelDefinitions
from pipelines.funnel.reasons import hubspot_reason, salesforce_reason
from pipelines.funnel.scoring import Engagement, PersonFacts, lead_score, score_reached_at
from pipelines.funnel.sla import (
    accept_reject_outcome,
    audited_mql_at,
    decision_at,
    disqualification_attempts_outcome,
    first_touch_clock,
    first_touch_outcome,
    rejection_reason_outcome,
    sla_mql_at,
)
from pipelines.funnel.stages import (
    Journey,
    Observed,
    StageObservation,
    derive_journey,
    hubspot_contact,
    hubspot_deal,
    salesforce_lead,
    salesforce_opportunity,
)


def journey_of(b: PersonBundle, defs: FunnelDefinitions, as_of: datetime | None = None) -> Journey:
    """The person's journey as known at ``as_of`` (stage observations after it are not counted)."""
    observed: list[Observed] = []
    if b.hubspot_contacts:
        contact = b.hubspot_contacts[0]
        status_history = b.lead_status_history
        if not status_history and contact.get("lead_status") and (since := instant(contact.get("updated_at"))):
            status_history = [(contact["lead_status"], since)]  # no history extracted: holds since last change
        observed.append(
            hubspot_contact(
                defs,
                lifecycle_history=b.lifecycle_history,
                lifecycle_dates=b.lifecycle_dates,
                lead_status_history=status_history,
            )
        )
    for lead in b.salesforce_leads:
        created = instant(lead["created_at"])
        if created is None:
            continue
        history = b.lead_history.get(lead["source_id"], [])
        observed.append(
            salesforce_lead(
                defs,
                created_at=created,
                status=lead.get("lead_status"),
                history=history,
                is_converted=bool(lead.get("is_converted")),
                converted_date=day(lead.get("converted_date")),
                mql_at=instant(lead.get("mql_at")),
                status_since=None if history else instant(lead.get("updated_at")),
            )
        )
    for opp in b.opportunities:
        created = instant(opp["created_at"])
        if created is None:
            continue
        observed.append(
            salesforce_opportunity(
                defs,
                created_at=created,
                stage_name=opp.get("stage_raw"),
                stage_history=b.opportunity_history.get(opp["source_id"], []),
                is_closed=bool(opp.get("is_closed")),
                is_won=bool(opp.get("is_won")),
                close_date=day(opp.get("close_date")),
            )
        )
    if not b.opportunities:
        for deal in b.deals:
            created = instant(deal["created_at"])
            if created is None:
                continue
            closed_at = _start_of_day(day(deal.get("close_date")), defs) if deal.get("is_closed") else None
            observed.append(hubspot_deal(defs, stage_history=[(deal.get("stage_raw") or "", closed_at or created)]))
            observed.append(Observed((StageObservation("opportunity", created, "hubspot.deal.createdate"),)))
    return derive_journey(*observed, as_of=as_of)


def _start_of_day(value: date | None, defs: FunnelDefinitions) -> datetime | None:
    """Local midnight in the calendar's zone, as for an Opportunity (``stages._start_of``): a close date is a day
    of the business, not of UTC."""
    return None if value is None else datetime.combine(value, time(0), ZoneInfo(defs.sla.calendar.timezone))


def _month(value: datetime | None, calendar: BusinessCalendar) -> date | None:
    return None if value is None else value.astimezone(calendar.tz).date().replace(day=1)


def _owner(b: PersonBundle) -> tuple[Record | None, str]:
    """(owner row, status): Salesforce Lead owner first, else HubSpot contact owner."""
    refs = [("salesforce", lead.get("owner_source_id")) for lead in b.salesforce_leads[:1]]
    refs += [("hubspot", c.get("owner_source_id")) for c in b.hubspot_contacts[:1]]
    for system, owner_id in refs:
        if not owner_id:
            continue
        row = b.owners.get((system, owner_id))
        if row is None:
            return None, "inactive"  # an id the CRM no longer lists: a deactivated owner
        if not row.get("team"):
            return row, "unassigned"
        return row, ("assigned" if row.get("is_active") else "inactive")
    return None, "unassigned"


def _assigned_at(b: PersonBundle, status: str) -> datetime | None:
    """When the current owner got the lead: its last owner change (Salesforce Lead history, else HubSpot's
    hubspot_owner_id history), else the Lead's creation."""
    if status == "unassigned":
        return None
    if b.salesforce_leads:
        lead = b.salesforce_leads[0]
        owner_changes = [h.at for h in b.lead_history.get(lead["source_id"], []) if h.field == "Owner"]
        return max(owner_changes) if owner_changes else instant(lead["created_at"])
    assignments = [at for value, at in b.owner_history if value]
    return max(assignments) if assignments else None


def _assignments(b: PersonBundle, status: str, as_of: datetime) -> list[datetime]:
    """The owner assignments the first-touch clock may start from (``_assigned_at``'s sources, every one)."""
    if status == "unassigned":
        return []
    if b.salesforce_leads:
        lead = b.salesforce_leads[0]
        created = instant(lead["created_at"])
        times = [h.at for h in b.lead_history.get(lead["source_id"], []) if h.field == "Owner"]
        times += [created] if created is not None else []
    else:
        times = [at for value, at in b.owner_history if value]
    return [t for t in times if t <= as_of]


def _emails(live: list[Record], fallback: str | None) -> tuple[str | None, str | None]:
    """(``email``, ``email_other_crm``): the first e-mail in ``live`` order, and the first of the other CRM's
    records when it is a different one."""
    first = next((x for x in live if x.get("email_normalized")), None)
    if first is None:
        return fallback, None
    other = next(
        (
            x["email_normalized"]
            for x in live
            if x.get("email_normalized") and x["source_system"] != first["source_system"]
        ),
        None,
    )
    return first["email_normalized"], (other if other != first["email_normalized"] else None)


def _reason(b: PersonBundle, defs: FunnelDefinitions) -> tuple[str | None, str | None]:
    for lead in b.salesforce_leads:
        if lead.get("disqualification_reason_raw"):
            return salesforce_reason(lead["disqualification_reason_raw"], defs), lead["disqualification_reason_raw"]
    for contact in b.hubspot_contacts[:1]:
        return hubspot_reason(
            contact.get("disqualification_reason_raw"), contact.get("lead_status"), defs
        ), contact.get("disqualification_reason_raw")
    return None, None


def _score(
    b: PersonBundle,
    account: Record | None,
    person: Record,
    mql_at: datetime | None,
    as_of: datetime,
    defs: FunnelDefinitions,
) -> tuple[float, str, float | None, datetime | None]:
    """Fit from title and the account's size and industry; engagement from HubSpot's aggregates, dated at
    creation (page views, forms, webinar), the MQL (demo request) and the last reply: the only dates known.
    Returns the score and band at ``as_of``, the score at the CRM's MQL, and when the score reached the MQL
    threshold (fit known from the person record's creation)."""
    facts = PersonFacts(
        title=person.get("title"),
        employees=(account or {}).get("employees") or person.get("employees"),
        industry=(account or {}).get("industry") or person.get("industry"),
    )
    engagements: list[Engagement] = []
    contact = b.hubspot_contacts[0] if b.hubspot_contacts else None
    created = instant(person.get("created_at"))
    if contact is not None and created is not None:
        if views := contact.get("page_views"):
            engagements.append(Engagement("page_view", created, int(views)))
        if forms := contact.get("form_fills"):
            engagements.append(Engagement("form_fill", created, int(forms)))
        if flag(contact.get("webinar_attended")):
            engagements.append(Engagement("webinar", created))
        if flag(contact.get("demo_requested")):
            engagements.append(Engagement("demo_request", mql_at or created))
        if reply := instant(contact.get("last_reply_at")):
            engagements.append(Engagement("email_reply", reply))
    score = lead_score(facts, engagements, as_of, defs)
    # Marketing's commitment is judged on the score a lead had when it became an MQL, not today's faded one.
    at_mql = lead_score(facts, engagements, mql_at, defs).total if mql_at is not None else None
    return score.total, score.band, at_mql, score_reached_at(facts, engagements, created, as_of, defs)


def _primary_ids(b: PersonBundle) -> dict[str, str | None]:
    contact = b.hubspot_contacts[0] if b.hubspot_contacts else None
    linked_lead = contact.get("linked_salesforce_lead_id") if contact else None
    lead = next(
        (x for x in b.salesforce_leads if x["source_id"] == linked_lead),
        b.salesforce_leads[0] if b.salesforce_leads else None,
    )
    sf_contact_id = lead.get("converted_contact_id") if lead else None
    if not any(c["source_id"] == sf_contact_id for c in b.salesforce_contacts):
        sf_contact_id = b.salesforce_contacts[0]["source_id"] if b.salesforce_contacts else None
    opp_id = lead.get("converted_opportunity_id") if lead else None
    if not any(o["source_id"] == opp_id for o in b.opportunities):
        opp_id = b.opportunities[0]["source_id"] if b.opportunities else None
    deal = next(
        (d for d in b.deals if opp_id and d["opportunity_key"] == f"salesforce:opportunity:{opp_id}"),
        b.deals[0] if b.deals else None,
    )
    return {
        "hubspot_contact_id": contact["source_id"] if contact else None,
        "salesforce_lead_id": lead["source_id"] if lead else None,
        "salesforce_contact_id": sf_contact_id,
        "salesforce_opportunity_id": opp_id,
        "hubspot_deal_id": deal["source_id"] if deal else None,
    }


def _outcome(journey: Journey) -> str:
    for stage in ("won", "lost"):
        if stage in journey.reached:
            return stage
    if "opportunity" in journey.reached:
        return "open_opportunity"
    return journey.current if journey.current in EXIT_STAGES else "open"


def _attribution(
    b: PersonBundle, mql_at: datetime | None, opportunity_at: datetime | None, as_of: datetime
) -> tuple[str | None, str | None, bool | None]:
    """(first-touch campaign, last-touch campaign, marketing influenced)."""
    cutoff = mql_at if mql_at is not None and mql_at <= as_of else as_of
    known = [(at, key) for at, key in b.campaign_memberships if at <= cutoff]
    first = min(known, default=None)
    latest = max((at for at, _ in known), default=None)
    last = min((key for at, key in known if at == latest), default=None)
    influenced = None if opportunity_at is None else any(at < opportunity_at for at, _ in b.campaign_memberships)
    return (first[1] if first else None), last, influenced


def closed_loop_row(
    b: PersonBundle, defs: FunnelDefinitions, calendar: BusinessCalendar, as_of: datetime
) -> dict[str, Any]:
    journey = journey_of(b, defs, as_of)
    ids = _primary_ids(b)
    live = [*b.salesforce_leads, *b.hubspot_contacts, *b.salesforce_contacts]
    person = next(
        (x for x in live if x["source_id"] in (ids["salesforce_lead_id"], ids["hubspot_contact_id"])), live[0]
    )
    account = b.accounts[0] if b.accounts else None
    sf_account = next((a["source_id"] for a in b.accounts if a["source_system"] == "salesforce"), None)
    hs_company = next((a["source_id"] for a in b.accounts if a["source_system"] == "hubspot"), None)
    firm = (
        account
        if account is not None
        else firmographics_row(
            person.get("industry"), person.get("employees"), person.get("annual_revenue"), person.get("country"), defs
        )
    )
    created_at = min((t for x in live if (t := instant(x.get("created_at")))), default=None)
    mql_reach = journey.reached.get("mql")
    mql_at = mql_reach.at if mql_reach else None
    owner, owner_status = _owner(b)
    score, band, score_at_mql, score_mql_at = _score(b, account, person, mql_at, as_of, defs)
    policy = defs.sla
    audited = sla_mql_at(audited_mql_at(journey), score_mql_at, policy.mql_source)
    known = [t for t in b.touches if t <= as_of]
    start = audited or mql_at or created_at
    after = [t for t in known if start is None or t >= start]
    first_touch = after[0] if after else None
    rejected_at = min((t for s in ("disqualified", "recycled") if (t := journey.reached_at(s))), default=None)
    reason, reason_raw = _reason(b, defs)
    clock = (
        first_touch_clock(audited, _assignments(b, owner_status, as_of), policy.first_touch)
        if audited is not None
        else None
    )
    ft = first_touch_outcome(clock.at if clock else None, first_touch, as_of, calendar, policy.first_touch)
    ar = accept_reject_outcome(audited, decision_at(journey), as_of, calendar, policy.accept_reject)
    rr = rejection_reason_outcome(rejected_at is not None, reason, policy.accept_reject)
    attempts = disqualification_attempts_outcome(rejected_at, reason, known, policy.disqualification, since=start)
    end = rejected_at or as_of
    contact_attempts = sum(1 for t in after if t <= end)
    regression = journey.regressions[-1] if journey.regressions else None
    email_valid = any(x.get("email_is_valid") for x in live)
    email, email_other_crm = _emails(live, person.get("email"))
    opp = next((o for o in b.opportunities if o["source_id"] == ids["salesforce_opportunity_id"]), None)
    deal = next((d for d in b.deals if d["source_id"] == ids["hubspot_deal_id"]), None)
    amount = number((opp or {}).get("amount")) if opp else number((deal or {}).get("amount"))
    stamps = [t for x in b.all_records if (t := instant(x.get("updated_at")))]
    stamps += [t for o in (*b.opportunities, *b.deals) if (t := instant(o.get("updated_at")))]
    if b.activity_updated_at:
        stamps.append(b.activity_updated_at)
    campaign_id = (opp or {}).get("campaign_source_id")
    opportunity_at, won_at, lost_at = (journey.reached_at(s) for s in ("opportunity", "won", "lost"))
    first_campaign, last_campaign, influenced = _attribution(b, mql_at, opportunity_at, as_of)
    return {
        "person_key": b.person_key,
        **ids,
        "hubspot_company_id": hs_company,
        "salesforce_account_id": sf_account,
        "email": email,
        "email_other_crm": email_other_crm,
        "email_is_valid": email_valid,
        "company_name": (account or {}).get("name") or person.get("company_name"),
        "industry": firm.get("industry_canonical"),
        "icp_tier": firm.get("icp_tier"),
        "lead_score": score,
        "score_band": band,
        "score_at_mql": score_at_mql,
        "score_mql_at": score_mql_at,
        "crm_score": next(
            (
                number(x.get("crm_score"))
                for x in (*b.salesforce_leads, *b.hubspot_contacts)
                if x.get("crm_score") is not None
            ),
            None,
        ),
        "original_source": next(
            (x["original_source"] for x in (*b.hubspot_contacts, *b.salesforce_leads) if x.get("original_source")), None
        ),
        "campaign_key": _campaign(b, campaign_id),
        "first_touch_campaign_key": first_campaign,
        "last_touch_campaign_key": last_campaign,
        "marketing_influenced": influenced,
        "owner_key": owner["owner_key"] if owner else None,
        "owner_name": owner["name"] if owner else None,
        "owner_team": owner.get("team") if owner else None,
        "owner_status": owner_status,
        "created_at": created_at,
        "cohort_month": _month(created_at, calendar),
        "mql_at": mql_at,
        "mql_month": _month(mql_at, calendar),
        "mql_inferred": bool(mql_reach and mql_reach.inferred),
        "assigned_at": _assigned_at(b, owner_status),
        "first_touch_at": first_touch,
        "accepted_at": journey.reached_at("sal"),
        "rejected_at": rejected_at,
        "sql_at": journey.reached_at("sql"),
        "opportunity_created_at": opportunity_at,
        "won_at": won_at,
        "lost_at": lost_at,
        "closed_month": _month(won_at or lost_at, calendar),
        "outcome": _outcome(journey),
        "amount": amount,
        "disqualification_reason": reason,
        "disqualification_reason_raw": reason_raw,
        "contact_attempts": contact_attempts,
        "contact_attempts_required": policy.disqualification.min_attempts,
        "business_minutes_to_first_touch": round(ft.business_minutes, 3)
        if first_touch and ft.business_minutes is not None
        else None,
        "first_touch_clock_from": clock.source if clock else None,
        "first_touch_clock_at": clock.at if clock else None,
        "first_touch_sla_status": ft.status,
        "first_touch_due_at": ft.due_at,
        "accept_reject_sla_status": ar.status,
        "accept_reject_due_at": ar.due_at,
        "rejection_reason_sla_status": rr.status,
        "contact_attempts_sla_status": attempts.status,
        "current_stage": journey.current,
        "has_stage_regression": regression is not None,
        "regression_from_stage": regression.from_stage if regression else None,
        "regression_to_stage": regression.to_stage if regression else None,
        "regressed_at": regression.at if regression else None,
        "unmapped_values": ",".join(journey.unmapped) or None,
        "has_identity_conflict": b.has_identity_conflict,
        "counts_as_lead": b.counts_as_lead,
        "last_updated_at": max(stamps) if stamps else None,
        "definitions_hash": defs.content_hash,
    }


def _campaign(b: PersonBundle, opportunity_campaign: str | None) -> str | None:
    """The opportunity's primary campaign, else the first responded Salesforce campaign, else HubSpot's."""
    if opportunity_campaign:
        for x in (*b.salesforce_leads, *b.salesforce_contacts):
            if x.get("salesforce_campaign_id") == opportunity_campaign and x.get("campaign_key"):
                return text(x["campaign_key"])
    for x in (*b.salesforce_leads, *b.salesforce_contacts, *b.hubspot_contacts):
        if x.get("campaign_key"):
            return text(x["campaign_key"])
    return opportunity_campaign
