"""The sandbox's data generator, scenario manifest and fixture loader (pure: no server)."""

from __future__ import annotations

import gc
import re
import time
import weakref
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from datetime import time as time_
from pathlib import Path
from typing import Any

import pytest
import yaml

import sandbox.data
from sandbox.data.fixture import dump_fixture, load_fixture
from sandbox.data.generator import GeneratorConfig, PlantedRates, generate
from sandbox.data.manifest import PLANTED_KINDS
from sandbox.data.worktime import SHIPPED_CALENDAR, WorkCalendar
from sandbox.model.dataset import Association, DatasetChunk, HubSpotOwner, HubSpotRecord, PropertyChange
from sandbox.model.hubspot import LIFECYCLE_STAGES, PROPERTIES
from sandbox.model.salesforce import OBJECTS

ANCHOR = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
# Where the installed package keeps it: the fixture ships as package data of sandbox.data.
EXAMPLE = Path(sandbox.data.__file__).parent / "fixtures" / "example.json"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
HIGH_RATES = PlantedRates(
    never_contacted=0.06,
    late_first_touch=0.12,
    rejected_without_reason=0.1,
    too_few_attempts=0.15,
    late_accept_reject=0.08,
    missing_owner=0.06,
    stage_regression=0.06,
    duplicate=0.04,
    orphan_activity=0.03,
    malformed_email=0.03,
)


@dataclass
class Dataset:
    sf: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    hs: dict[str, list[HubSpotRecord]] = field(default_factory=lambda: defaultdict(list))
    owners: list[HubSpotOwner] = field(default_factory=list)
    associations: list[Association] = field(default_factory=list)
    history: list[PropertyChange] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)
    chunks: int = 0

    def add(self, chunk: DatasetChunk) -> None:
        self.chunks += 1
        for name, rows in chunk.salesforce.records.items():
            self.sf[name].extend(rows)
        for object_type, records in chunk.hubspot.objects.items():
            self.hs[object_type].extend(records)
        self.owners += chunk.hubspot.owners
        self.associations += chunk.hubspot.associations
        self.history += chunk.hubspot.history

    def by_id(self, object_name: str) -> dict[str, dict[str, Any]]:
        return {r["Id"]: r for r in self.sf[object_name]}

    def hs_by_id(self, object_type: str) -> dict[int, HubSpotRecord]:
        return {r.id: r for r in self.hs[object_type]}


def materialize(config: GeneratorConfig) -> Dataset:
    chunks, manifest = generate(config)
    data = Dataset()
    for chunk in chunks:
        data.add(chunk)
    data.manifest = manifest.to_dict()
    return data


@pytest.fixture(scope="module")
def planted() -> Dataset:
    return materialize(GeneratorConfig(seed=11, size=3_000, anchor=ANCHOR, rates=HIGH_RATES))


@pytest.fixture(scope="module")
def clean() -> Dataset:
    return materialize(GeneratorConfig(seed=5, size=1_500, anchor=ANCHOR, rates=PlantedRates.none()))


# -- determinism -----------------------------------------------------------------------------------------------
def test_same_seed_gives_identical_output_and_another_seed_differs() -> None:
    def document(seed: int) -> dict[str, Any]:
        chunks, manifest = generate(GeneratorConfig(seed=seed, size=300, anchor=ANCHOR, chunk_size=100))
        return dump_fixture(chunks, manifest)

    first, again, other = document(1), document(1), document(2)
    assert first == again
    assert first["hubspot"]["objects"]["contacts"] != other["hubspot"]["objects"]["contacts"]
    assert first["salesforce"]["Lead"] != other["salesforce"]["Lead"]


# -- planted problems --------------------------------------------------------------------------------------------
def _touches_by_person(data: Dataset) -> tuple[dict[str, list[datetime]], dict[int, list[datetime]]]:
    """Outbound touches per Salesforce WhoId and per HubSpot contact id, as a pipeline would find them."""
    sf: dict[str, list[datetime]] = defaultdict(list)
    for task in data.sf["Task"]:
        if task["TaskSubtype"] == "Call" or not task["Subject"].startswith("Email: Re:"):
            sf[task["WhoId"]].append(task["CompletedDateTime"])
    for event in data.sf["Event"]:
        sf[event["WhoId"]].append(event["ActivityDateTime"])
    engagements = {t: data.hs_by_id(t) for t in ("calls", "emails", "meetings")}
    hs: dict[int, list[datetime]] = defaultdict(list)
    for a in data.associations:
        if a.from_type in engagements and a.to_type == "contacts":
            record = engagements[a.from_type].get(a.from_id)
            if record is not None and record.properties.get("hs_email_direction") != "INCOMING_EMAIL":
                hs[a.to_id].append(record.properties["hs_timestamp"])
    return sf, hs


def _first_touch(data: Dataset, lead: dict[str, Any], contact_id: int) -> datetime | None:
    sf, hs = _touches_by_person(data)
    who = [lead["Id"], lead.get("ConvertedContactId")]
    times = [t for w in who if w for t in sf.get(w, [])] + hs.get(contact_id, [])
    return min(times) if times else None


def test_every_planted_kind_appears_with_ids_that_exist(planted: Dataset) -> None:
    m = planted.manifest
    leads, contacts = planted.by_id("Lead"), planted.hs_by_id("contacts")
    assert set(m["planted"]) == set(PLANTED_KINDS)
    for kind in PLANTED_KINDS:
        entries = m["planted"][kind]
        assert entries, f"nothing planted for {kind}"
        assert m["planted_counts"][kind] == len(entries)
        for entry in entries:
            assert entry["kind"] == kind
            assert entry["hubspot_contact_id"] in contacts
            assert entry["salesforce_lead_id"] is None or entry["salesforce_lead_id"] in leads
    sla = m["config"]["sla_business_minutes"]
    mql_leads = [lead for lead in planted.sf["Lead"] if lead.get("MQL_Date__c")]
    assert mql_leads

    for e in m["planted"]["never_contacted"]:
        lead = leads[e["salesforce_lead_id"]]
        assert lead["Status"] == "Open - Not Contacted"
        assert _first_touch(planted, lead, e["hubspot_contact_id"]) is None
        assert ANCHOR - lead["MQL_Date__c"] > timedelta(days=3)

    for e in m["planted"]["late_first_touch"]:
        lead = leads[e["salesforce_lead_id"]]
        touch = _first_touch(planted, lead, e["hubspot_contact_id"])
        assert touch is not None and touch.isoformat() == e["first_touch_at"]
        assert SHIPPED_CALENDAR.business_minutes_between(lead["MQL_Date__c"], touch) > sla

    facts = {p["hubspot_contact_id"]: p for p in m["people"]}
    for e in m["planted"]["late_accept_reject"]:
        mql, decided = _iso(e["mql_at"]), _iso(e["decided_at"])
        assert _iso(e["due_at"]) == mql + timedelta(hours=24) < ANCHOR
        assert facts[e["hubspot_contact_id"]]["accept_reject_late"]
        # Late by calendar and by business hours alike, or still undecided at the anchor.
        assert decided is None or SHIPPED_CALENDAR.business_minutes_between(mql, decided) > 24 * 60

    for e in m["planted"]["rejected_without_reason"]:
        lead = leads[e["salesforce_lead_id"]]
        assert lead["Status"] == "Closed - Not Converted"
        assert lead["Disqualification_Reason__c"] is None
        assert "disqualification_reason" not in contacts[e["hubspot_contact_id"]].properties

    sf_touches, hs_touches = _touches_by_person(planted)
    for e in m["planted"]["too_few_attempts"]:
        lead = leads[e["salesforce_lead_id"]]
        attempts = len(sf_touches.get(lead["Id"], [])) + len(hs_touches.get(e["hubspot_contact_id"], []))
        assert lead["Status"] == "Closed - Not Converted"
        assert 1 <= attempts == e["attempts"] < e["min_attempts"]

    users = planted.by_id("User")
    archived_owners = {o.id for o in planted.owners if o.archived}
    for e in m["planted"]["missing_owner"]:
        lead = leads[e["salesforce_lead_id"]]
        owner = contacts[e["hubspot_contact_id"]].properties.get("hubspot_owner_id")
        if e["variant"] == "unassigned":
            assert users[lead["OwnerId"]]["Title"] == "Integration User" and owner is None
        else:
            assert users[lead["OwnerId"]]["IsActive"] is False and int(owner) in archived_owners

    for e in m["planted"]["stage_regression"]:
        steps = sorted(
            (h.timestamp, h.value)
            for h in planted.history
            if h.object_id == e["hubspot_contact_id"] and h.property == "lifecyclestage"
        )
        ranks = [LIFECYCLE_STAGES.index(v) for _, v in steps if v]
        assert any(b < a for a, b in zip(ranks, ranks[1:])), steps
        assert contacts[e["hubspot_contact_id"]].properties["lifecyclestage"] == "lead"

    for e in m["planted"]["duplicate"]:
        if e["variant"] == "hubspot_contact":
            twin = contacts[e["duplicate_hubspot_contact_id"]]
            assert twin.properties["email"] == contacts[e["hubspot_contact_id"]].properties["email"] == e["email"]
            assert "salesforceleadid" not in twin.properties
        else:
            twin_lead = leads[e["duplicate_salesforce_lead_id"]]
            assert twin_lead["Email"] == leads[e["salesforce_lead_id"]]["Email"] == e["email"]
            assert twin_lead.get("HubSpot_Contact_Id__c") is None

    tasks, all_leads = planted.by_id("Task"), set(leads) | set(planted.by_id("Contact"))
    engagement_targets = defaultdict(set)
    for a in planted.associations:
        engagement_targets[(a.from_type, a.from_id)].add((a.to_type, a.to_id))
    for e in m["planted"]["orphan_activity"]:
        if e["crm"] == "salesforce":
            assert tasks[e["activity_id"]]["WhoId"] == e["missing_id"] and e["missing_id"] not in all_leads
        else:
            assert e["missing_id"] not in contacts
            assert engagement_targets[("calls", e["activity_id"])] == {("contacts", e["missing_id"])}

    for e in m["planted"]["malformed_email"]:
        assert contacts[e["hubspot_contact_id"]].properties["email"] == e["email"]
        assert not EMAIL.match(e["email"]) and EMAIL.match(e["clean_email"])


def test_zero_rates_plant_nothing_and_leave_a_clean_funnel(clean: Dataset) -> None:
    m = clean.manifest
    assert all(not entries for entries in m["planted"].values())
    emails = [r.properties["email"] for r in clean.hs["contacts"]]
    assert len(emails) == len(set(emails)) and all(EMAIL.match(e) for e in emails)
    assert len({lead["Email"] for lead in clean.sf["Lead"]}) == len(clean.sf["Lead"])
    active = {u["Id"] for u in clean.sf["User"] if u["IsActive"] and u["Title"] != "Integration User"}
    contacts = clean.hs_by_id("contacts")
    sla = m["config"]["sla_business_minutes"]
    for lead in clean.sf["Lead"]:
        assert lead["OwnerId"] in active
        touch = _first_touch(clean, lead, int(lead["HubSpot_Contact_Id__c"]))
        if touch is None:  # only leads whose SLA had not run out by the anchor may still be untouched
            assert SHIPPED_CALENDAR.business_minutes_between(lead["MQL_Date__c"], ANCHOR) <= sla
        else:
            assert SHIPPED_CALENDAR.business_minutes_between(lead["MQL_Date__c"], touch) <= sla
        if lead["Status"] == "Closed - Not Converted":
            assert lead["Disqualification_Reason__c"]
        assert contacts[int(lead["HubSpot_Contact_Id__c"])].properties["salesforceleadid"] == lead["Id"]
    for contact in clean.hs["contacts"]:
        assert (
            contact.properties["lifecyclestage"] != "lead"
            or "hs_lifecyclestage_marketingqualifiedlead_date" not in contact.properties
        )


def test_a_clean_dataset_has_a_believable_funnel(clean: Dataset) -> None:
    people = clean.manifest["people"]
    assert len(people) == 1_500  # below facts_limit every person has facts
    mqls = [p for p in people if p["mql_at"]]
    accepted = [p for p in mqls if p["accepted_at"]]
    converted = [p for p in accepted if p["converted_at"]]
    closed = [p for p in converted if p["outcome"] in ("won", "lost")]
    assert 0.25 < len(mqls) / len(people) < 0.42
    assert 0.5 < len(accepted) / len(mqls) < 0.7
    assert 0.28 < len(converted) / len(accepted) < 0.5
    assert 0.1 < sum(p["outcome"] == "won" for p in closed) / len(closed) < 0.4
    activities = sum(len(clean.sf[o]) for o in ("Task", "Event")) + sum(
        len(clean.hs[t]) for t in ("calls", "emails", "meetings", "notes", "tasks")
    )
    assert 6 < activities / len(mqls) < 14
    sales_touch_hours = [t["CompletedDateTime"] for t in clean.sf["Task"]]
    local = [SHIPPED_CALENDAR.is_open(t) for t in sales_touch_hours]
    assert sum(local) / len(local) > 0.8  # mostly inside business hours


def test_clean_leads_are_decided_within_the_agreement(clean: Dataset) -> None:
    """Accepted or rejected within 24 calendar hours of the MQL (the shipped accept/reject deadline)."""
    decided = 0
    for p in clean.manifest["people"]:
        mql = _iso(p["mql_at"])
        if mql is None or mql + timedelta(hours=24) > ANCHOR:
            continue
        decision = _iso(p["accepted_at"]) or _iso(p["closed_at"])
        assert decision is not None and decision - mql <= timedelta(hours=24), p
        assert not p["accept_reject_late"]
        decided += 1
    assert decided > 300


def test_conversions_open_opportunities_at_once_later_or_never(clean: Dataset) -> None:
    """SQL is not opportunity by construction: some conversions open one days later, some never do."""
    converted = [p for p in clean.manifest["people"] if p["converted_at"]]
    at_once = [p for p in converted if p["opportunity_at"] == p["converted_at"]]
    later = [p for p in converted if p["opportunity_at"] and p["opportunity_at"] != p["converted_at"]]
    without = [p for p in converted if p["opportunity_at"] is None]
    assert len(at_once) + len(later) + len(without) == len(converted) > 100
    assert 0.4 < len(at_once) / len(converted) < 0.7
    assert 0.1 < len(later) / len(converted) < 0.35 and 0.1 < len(without) / len(converted) < 0.35
    gaps = [_iso(p["opportunity_at"]) - _iso(p["converted_at"]) for p in later]  # type: ignore[operator]
    assert min(gaps) > timedelta(hours=12) and max(gaps) < timedelta(days=45)
    assert all(p["outcome"] == "sql" and p["salesforce_opportunity_id"] is None for p in without)
    assert all(p["hubspot_deal_id"] is None for p in without)
    leads = clean.by_id("Lead")
    opportunities = clean.by_id("Opportunity")
    for p in later:
        # An opportunity opened after the conversion is not the lead's ConvertedOpportunity; it names the contact.
        assert leads[p["salesforce_lead_id"]]["ConvertedOpportunityId"] is None
        opportunity = opportunities[p["salesforce_opportunity_id"]]
        assert opportunity["ContactId"] == p["salesforce_contact_id"]
        assert opportunity["CreatedDate"].isoformat() == p["opportunity_at"]
    for p in at_once:
        assert leads[p["salesforce_lead_id"]]["ConvertedOpportunityId"] == p["salesforce_opportunity_id"]


def _iso(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


# -- consistency -------------------------------------------------------------------------------------------------
def test_records_are_consistent_with_the_schemas_and_each_other(planted: Dataset) -> None:
    for name, rows in planted.sf.items():
        fields = {f.name for f in OBJECTS[name].fields}
        for row in rows:
            assert set(row) <= fields, (name, set(row) - fields)
    for object_type, records in planted.hs.items():
        names = {p.name for p in PROPERTIES[object_type]}
        for record in records:
            assert set(record.properties) <= names, (object_type, set(record.properties) - names)
            assert isinstance(record.id, int)

    leads, contacts, opps = planted.by_id("Lead"), planted.by_id("Contact"), planted.by_id("Opportunity")
    converted = [lead for lead in leads.values() if lead["IsConverted"]]
    assert converted
    by_contact_id = {o["ContactId"]: o for o in opps.values()}
    for lead in converted:
        assert lead["Status"] == "Closed - Converted"
        contact = contacts[lead["ConvertedContactId"]]
        opp = opps.get(lead["ConvertedOpportunityId"]) or by_contact_id.get(contact["Id"])
        if opp is None:  # converted without an opportunity (yet)
            continue
        assert (
            opp["ContactId"] == contact["Id"] and opp["AccountId"] == contact["AccountId"] == lead["ConvertedAccountId"]
        )
        assert opp["CreatedDate"] >= contact["CreatedDate"]
        assert opp["IsClosed"] == opp["StageName"].startswith("Closed") and opp["IsWon"] == (
            opp["StageName"] == "Closed Won"
        )
    history = defaultdict(list)
    for h in planted.sf["OpportunityHistory"]:
        history[h["OpportunityId"]].append(h)
    for opp in opps.values():
        steps = sorted(history[opp["Id"]], key=lambda h: h["CreatedDate"])
        assert steps[0]["CreatedDate"] == opp["CreatedDate"] and steps[-1]["StageName"] == opp["StageName"]

    for contact in planted.hs["contacts"]:
        dates = [contact.properties.get(f"hs_lifecyclestage_{s}_date") for s in LIFECYCLE_STAGES]
        reached = [d for d in dates if d is not None]
        assert reached == sorted(reached), contact.id
    by_contact = defaultdict(list)
    for h in planted.history:
        by_contact[(h.object_id, h.property)].append(h)
    for contact in planted.hs["contacts"]:
        steps = sorted(by_contact[(contact.id, "lifecyclestage")], key=lambda h: h.timestamp)
        assert steps[-1].value == contact.properties["lifecyclestage"]
        for h in steps:
            if h.value:
                assert contact.properties[f"hs_lifecyclestage_{h.value}_date"] <= h.timestamp
        status = sorted(by_contact[(contact.id, "hs_lead_status")], key=lambda h: h.timestamp)
        assert (status[-1].value if status else None) == contact.properties.get("hs_lead_status")


def test_nothing_happens_after_the_anchor(planted: Dataset) -> None:
    def check(value: Any, where: str) -> None:
        if isinstance(value, datetime):
            assert value.tzinfo is not None and value <= ANCHOR, where
        elif isinstance(value, date):
            assert value <= ANCHOR.date(), where

    for name, rows in planted.sf.items():
        for row in rows:
            for key, value in row.items():
                if (name, key) != ("Campaign", "EndDate"):  # a running campaign's planned end is in the future
                    check(value, f"{name}.{key}")
    for object_type, records in planted.hs.items():
        for record in records:
            check(record.created_at, object_type)
            check(record.updated_at, object_type)
            for key, value in record.properties.items():
                check(value, f"{object_type}.{key}")
    for h in planted.history:
        check(h.timestamp, h.property)


# -- streaming ---------------------------------------------------------------------------------------------------
def test_large_sizes_stream_in_chunks_without_keeping_records() -> None:
    chunks, _ = generate(GeneratorConfig(seed=3, size=12_000, anchor=ANCHOR, chunk_size=5_000))
    sizes, handed_out = [], []
    for chunk in chunks:
        contacts = chunk.hubspot.objects.get("contacts", [])
        sizes.append(len(contacts))
        if contacts:
            handed_out.append(weakref.ref(contacts[0]))
        del chunk, contacts
    gc.collect()
    assert sum(1 for n in sizes if n) >= 3 and max(sizes) <= 5_000 + 5_000 // 10  # duplicates ride along
    # Once the consumer drops a chunk nothing refers to its records: the generator accumulates none.
    assert len(handed_out) >= 3 and all(ref() is None for ref in handed_out)


def test_generation_speed_for_20000_people() -> None:
    started = time.perf_counter()
    chunks, manifest = generate(GeneratorConfig(seed=7, size=20_000, anchor=ANCHOR))
    records = sum(
        sum(len(r) for r in c.salesforce.records.values()) + sum(len(r) for r in c.hubspot.objects.values())
        for c in chunks
    )
    elapsed = time.perf_counter() - started
    print(f"generator_20k_people: {elapsed:.2f} s ({20_000 / elapsed:,.0f} people/s, {records:,} records)")
    assert manifest.to_dict()["counts"]["hubspot"]["contacts"] >= 20_000


# -- fixtures ----------------------------------------------------------------------------------------------------
def test_the_example_fixture_loads_with_typed_values() -> None:
    chunks, manifest = load_fixture(EXAMPLE)
    data = Dataset()
    for chunk in chunks:
        data.add(chunk)
    document = manifest.to_dict()
    assert document["counts"]["salesforce"]["Lead"] == len(data.sf["Lead"]) > 0
    assert document["counts"]["hubspot"]["contacts"] == len(data.hs["contacts"]) > 0
    assert document["planted"]["never_contacted"]  # the file's own manifest is kept
    lead = data.sf["Lead"][0]
    assert isinstance(lead["CreatedDate"], datetime) and lead["CreatedDate"].tzinfo is not None
    assert isinstance(lead["MQL_Date__c"], datetime)
    contact = data.hs["contacts"][0]
    assert isinstance(contact.properties["createdate"], datetime) and isinstance(contact.id, int)
    assert all(isinstance(o.created_at, datetime) for o in data.owners)


def test_a_generated_dataset_round_trips_through_a_fixture_file(tmp_path: Path) -> None:
    import json

    config = GeneratorConfig(seed=9, size=60, anchor=ANCHOR)
    original = materialize(config)
    chunks, manifest = generate(config)
    path = tmp_path / "dataset.json"
    path.write_text(json.dumps(dump_fixture(chunks, manifest)))
    loaded_chunks, loaded_manifest = load_fixture(path)
    loaded = Dataset()
    for chunk in loaded_chunks:
        loaded.add(chunk)
    strip = lambda rows: [{k: v for k, v in r.items() if v is not None} for r in rows]  # noqa: E731
    for name, rows in original.sf.items():
        assert strip(loaded.sf[name]) == strip(rows), name
    for object_type, records in original.hs.items():
        assert loaded.hs[object_type] == records, object_type
    assert loaded.owners == original.owners and loaded.associations == original.associations
    assert loaded.history == original.history
    assert loaded_manifest.to_dict()["counts"] == original.manifest["counts"]
    assert loaded_manifest.to_dict()["planted"] == original.manifest["planted"]


def test_fixture_rejects_fields_the_schema_does_not_know(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"salesforce": {"Lead": [{"Id": "00Q5g0000000001AAA", "Nonsense__c": 1}]}}')
    with pytest.raises(ValueError, match="Nonsense__c"):
        load_fixture(path)


def test_business_minutes_skip_nights_weekends_holidays_and_company_days_off() -> None:
    cal = SHIPPED_CALENDAR
    friday_4pm = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)  # 16:00 in New York
    monday = cal.add_business_minutes(friday_4pm, 90)
    assert monday == datetime(2026, 11, 23, 14, 30, tzinfo=UTC)  # Monday 9:30 New York
    assert cal.business_minutes_between(friday_4pm, monday) == 90
    thanksgiving_eve = datetime(2026, 11, 25, 21, 30, tzinfo=UTC)  # Wed 16:30, Thu is a holiday
    assert cal.add_business_minutes(thanksgiving_eve, 60).day == 27
    veterans_day = datetime(2026, 11, 11, 15, 0, tzinfo=UTC)  # Wed 10:00, a US public holiday
    assert not cal.is_open(veterans_day) and cal.add_business_minutes(veterans_day, 0).day == 12
    dec_23_4pm = datetime(2026, 12, 23, 21, 0, tzinfo=UTC)  # 24 December is a company day off, 25 a holiday
    assert cal.add_business_minutes(dec_23_4pm, 90) == datetime(2026, 12, 28, 14, 30, tzinfo=UTC)  # Mon 9:30
    every_day = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    weekend_work = WorkCalendar.from_mapping(
        {"timezone": "America/New_York", "working_hours": {day: "09:00-12:00, 13:00-17:00" for day in every_day}}
    )
    assert weekend_work.holiday_country is None and weekend_work.weekly[5] == (
        (time_(9), time_(12)),
        (time_(13), time_(17)),
    )
    assert weekend_work.add_business_minutes(friday_4pm, 90).day == 21


def test_the_shipped_calendar_is_the_definitions_calendar() -> None:
    """The generator plants on the calendar the SLA rules use: the shipped definitions' sla.calendar."""
    definitions = Path(__file__).parents[2] / "pipelines" / "funnel" / "definitions.yaml"
    spec = yaml.safe_load(definitions.read_text(encoding="utf-8"))["sla"]["calendar"]
    assert WorkCalendar.from_mapping(spec) == SHIPPED_CALENDAR
    assert GeneratorConfig(seed=1, size=1, anchor=ANCHOR).calendar == SHIPPED_CALENDAR
    assert generate(GeneratorConfig(seed=1, size=1, anchor=ANCHOR))[1].to_dict()["config"]["calendar"]["holidays"] == {
        "country": "US",
        "subdivision": None,
        "extra_dates": ["2026-12-24", "2026-12-31"],
    }
