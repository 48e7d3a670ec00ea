"""The sandbox's HubSpot side, driven by the real hubspot-api-client over real sockets."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
import requests
from hubspot.crm.associations.v4 import BatchInputPublicFetchAssociationsBatchRequest
from hubspot.crm.objects import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    PublicObjectSearchRequest,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.objects.exceptions import ApiException, NotFoundException, ServiceException, UnauthorizedException
from urllib3.util.retry import Retry

from sandbox.server.app import Sandbox
from tests.sandbox.hs_fixtures import (
    ARCHIVED_CONTACTS,
    N_CONTACTS,
    client,
    contact_created,
    contact_modified,
    control,
    sandbox,  # noqa: F401 - pytest fixture
    set_faults,
    shared_sandbox,  # noqa: F401 - pytest fixture
)

LIVE_IDS = [str(i) for i in range(1, N_CONTACTS + 1) if i not in ARCHIVED_CONTACTS]


def _ms(dt: datetime) -> str:
    return str(int(dt.timestamp() * 1000))


def _search(sb: Sandbox, object_type: str = "contacts", **body: object):
    return client(sb).crm.objects.search_api.do_search(object_type, PublicObjectSearchRequest(**body))


def _all_pages(sb: Sandbox, **kwargs: object) -> list:
    api = client(sb).crm.objects.basic_api
    out, after = [], None
    while True:
        page = api.get_page("contacts", after=after, **kwargs)
        out.extend(page.results)
        if page.paging is None:
            return out
        after = page.paging.next.after


# -- list / get --------------------------------------------------------------------------------------------------
def test_get_page_pages_through_live_contacts_in_id_order(shared_sandbox: Sandbox) -> None:
    records = _all_pages(shared_sandbox, limit=7, properties=["email", "hubspotscore", "demo_requested"])
    assert [r.id for r in records] == LIVE_IDS
    first = records[0]
    assert first.properties["hubspotscore"] == "3"
    assert first.properties["demo_requested"] == "false"
    assert first.properties["hs_object_id"] == "1"  # always returned, as are the create/modify dates
    assert first.properties["createdate"] == "2024-01-02T00:00:00.000Z"
    assert first.properties["lastmodifieddate"] == "2024-01-02T12:00:00.000Z"
    assert first.archived is False and first.updated_at == contact_modified(1)


def test_get_page_archived_returns_only_archived(shared_sandbox: Sandbox) -> None:
    page = client(shared_sandbox).crm.objects.basic_api.get_page("contacts", archived=True, limit=100)
    assert [r.id for r in page.results] == [str(i) for i in ARCHIVED_CONTACTS]
    assert all(r.archived and r.archived_at is not None for r in page.results)
    assert page.paging is None


def test_get_page_with_associations_and_history(shared_sandbox: Sandbox) -> None:
    page = client(shared_sandbox).crm.objects.basic_api.get_page(
        "contacts",
        limit=3,
        properties=["lifecyclestage"],
        properties_with_history=["lifecyclestage"],
        associations=["companies"],
    )
    third = page.results[2]
    assert third.associations["companies"].results[0].id == "4"
    assert third.associations["companies"].results[0].type == "contact_to_company"
    history = third.properties_with_history["lifecyclestage"]
    assert [h.value for h in history] == ["salesqualifiedlead", "lead"]  # newest first
    assert history[0].source_type == "CRM_UI" and history[0].updated_by_user_id == 9001
    # A seeded value without recorded history still has one entry, as the real API never answers [].
    assert [h.value for h in page.results[0].properties_with_history["lifecyclestage"]] == ["lead"]


def test_get_page_limit_over_100_is_rejected(shared_sandbox: Sandbox) -> None:
    with pytest.raises(ApiException) as err:
        client(shared_sandbox).crm.objects.basic_api.get_page("contacts", limit=101)
    assert err.value.status == 400
    assert json.loads(err.value.body)["category"] == "VALIDATION_ERROR"


def test_get_by_id_id_property_and_404(shared_sandbox: Sandbox) -> None:
    api = client(shared_sandbox).crm.objects.basic_api
    assert api.get_by_id("contacts", "5", properties=["email"]).properties["email"] == "person5@company1.example"
    assert api.get_by_id("contacts", "person7@company3.example", id_property="email").id == "7"
    with pytest.raises(NotFoundException) as err:
        api.get_by_id("contacts", "24")  # archived
    assert json.loads(err.value.body)["category"] == "OBJECT_NOT_FOUND"
    assert api.get_by_id("contacts", "24", archived=True).archived is True


def test_hundreds_of_properties_in_a_get_hit_414(shared_sandbox: Sandbox) -> None:
    names = [f"custom_property_with_a_long_internal_name_{i:04d}" for i in range(400)]
    with pytest.raises(ApiException) as err:
        client(shared_sandbox).crm.objects.basic_api.get_page("contacts", properties=names)
    assert err.value.status == 414


# -- search --------------------------------------------------------------------------------------------------------
def test_search_compares_hs_object_id_numerically(shared_sandbox: Sandbox) -> None:
    res = _search(
        shared_sandbox,
        filter_groups=[{"filters": [{"propertyName": "hs_object_id", "operator": "GT", "value": "9"}]}],
        sorts=[{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
        limit=200,
    )
    # As strings "10" < "9": a string comparison would return nothing useful. Archived 24, 25 never appear.
    assert [r.id for r in res.results] == [str(i) for i in range(10, 24)]
    assert res.total == 14 and res.paging is None


def test_search_datetime_gt_between_and_paging(shared_sandbox: Sandbox) -> None:
    since = contact_modified(15)
    res = _search(
        shared_sandbox,
        filter_groups=[{"filters": [{"propertyName": "lastmodifieddate", "operator": "GT", "value": _ms(since)}]}],
        sorts=[{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
        limit=3,
    )
    assert res.total == 8 and [r.id for r in res.results] == ["16", "17", "18"]
    assert res.paging.next.after == "3"
    nxt = _search(
        shared_sandbox,
        filter_groups=[{"filters": [{"propertyName": "lastmodifieddate", "operator": "GT", "value": _ms(since)}]}],
        sorts=[{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
        limit=3,
        after="3",
    )
    assert [r.id for r in nxt.results] == ["19", "20", "21"]
    between = _search(
        shared_sandbox,
        filter_groups=[
            {
                "filters": [
                    {
                        "propertyName": "createdate",
                        "operator": "BETWEEN",
                        "value": "2024-01-03",
                        "highValue": contact_created(5).isoformat(),
                    }
                ]
            }
        ],
    )
    assert sorted(int(r.id) for r in between.results) == [2, 3, 4, 5]  # inclusive at both ends


def test_search_operators_sorts_and_query(shared_sandbox: Sandbox) -> None:
    def ids(**body: object) -> list[str]:
        return [r.id for r in _search(shared_sandbox, limit=200, **body).results]

    one = lambda f: [{"filters": [f]}]  # noqa: E731
    assert ids(
        filter_groups=one({"propertyName": "lifecyclestage", "operator": "IN", "values": ["customer", "opportunity"]})
    ) == ["4", "5", "10", "11", "16", "17", "22", "23"]
    assert ids(
        filter_groups=one({"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": "*@company2.example"})
    ) == ["1", "6", "11", "16", "21"]
    assert ids(filter_groups=one({"propertyName": "demo_requested", "operator": "EQ", "value": "true"})) == [
        "4",
        "8",
        "12",
        "16",
        "20",
    ]
    assert ids(filter_groups=one({"propertyName": "hs_lead_status", "operator": "NOT_HAS_PROPERTY"}))[:3] == [
        "1",
        "2",
        "3",
    ]
    # Groups OR, filters within a group AND.
    assert ids(
        filter_groups=[
            {"filters": [{"propertyName": "hubspotscore", "operator": "LTE", "value": "6"}]},
            {
                "filters": [
                    {"propertyName": "hubspotscore", "operator": "GTE", "value": "66"},
                    {"propertyName": "lastname", "operator": "EQ", "value": "sampler"},
                ]
            },
        ]
    ) == ["1", "2", "22"]
    assert ids(sorts=[{"propertyName": "hubspotscore", "direction": "DESCENDING"}])[:2] == ["23", "22"]
    assert ids(sorts=["-hubspotscore"])[:2] == ["23", "22"]
    assert ids(query="First12") == ["12"]
    assert ids(filter_groups=one({"propertyName": "hs_object_id", "operator": "EQ", "value": "24"})) == []


@pytest.mark.parametrize(
    "body",
    [
        {
            "filterGroups": [
                {"filters": [{"propertyName": "hubspotscore", "operator": "GT", "value": str(i)} for i in range(7)]}
            ]
        },
        {"filterGroups": [{"filters": [{"propertyName": "hubspotscore", "operator": "GT", "value": "1"}]}] * 6},
        {"limit": 201},
        {"sorts": [{"propertyName": "createdate"}, {"propertyName": "email"}]},
        {"query": "x" * 3_001},
        {"filterGroups": [{"filters": [{"propertyName": "createdate", "operator": "GT", "value": "yesterday"}]}]},
    ],
    ids=["7-filters-in-group", "6-groups", "limit-201", "two-sorts", "body-over-3000", "bad-datetime"],
)
def test_search_rejects_what_the_real_api_rejects(shared_sandbox: Sandbox, body: dict) -> None:
    resp = requests.post(
        f"{shared_sandbox.hubspot_url}/crm/v3/objects/contacts/search",
        json=body,
        headers={"Authorization": f"Bearer {shared_sandbox.ctx.credentials.hs_access_token}"},
        timeout=10,
    )
    assert resp.status_code == 400, resp.text
    assert resp.json()["category"] == "VALIDATION_ERROR"


# -- batch -----------------------------------------------------------------------------------------------------
def test_batch_read_complete_and_partial(shared_sandbox: Sandbox) -> None:
    api = client(shared_sandbox).crm.objects.batch_api
    ok = api.read(
        "contacts",
        BatchReadInputSimplePublicObjectId(
            inputs=[{"id": "2"}, {"id": "3"}], properties=["email"], properties_with_history=["lifecyclestage"]
        ),
    )
    assert ok.status == "COMPLETE" and sorted(r.id for r in ok.results) == ["2", "3"]
    assert ok.results[1].properties_with_history["lifecyclestage"][0].value == "salesqualifiedlead"
    partial = api.read(
        "contacts",
        BatchReadInputSimplePublicObjectId(inputs=[{"id": "2"}, {"id": "999"}, {"id": "24"}], properties=["email"]),
    )
    assert type(partial).__name__ == "BatchResponseSimplePublicObjectWithErrors"  # the client decoded the 207
    assert [r.id for r in partial.results] == ["2"]
    assert partial.num_errors == 1 and partial.errors[0].category == "OBJECT_NOT_FOUND"
    assert partial.errors[0].context == {"ids": ["999", "24"]}
    by_email = api.read(
        "contacts", BatchReadInputSimplePublicObjectId(inputs=[{"id": "person9@company5.example"}], id_property="email")
    )
    assert [r.id for r in by_email.results] == ["9"]


def test_create_update_batch_update_archive(sandbox: Sandbox) -> None:
    api = client(sandbox).crm.objects
    created = api.basic_api.create(
        "contacts", SimplePublicObjectInputForCreate(properties={"email": "new@x.example", "lifecyclestage": "lead"})
    )
    assert created.id == str(N_CONTACTS + 1) and created.properties["lifecyclestage"] == "lead"
    before = created.properties["lastmodifieddate"]
    updated = api.basic_api.update(
        "contacts", created.id, SimplePublicObjectInput(properties={"lifecyclestage": "customer"})
    )
    assert updated.properties["lastmodifieddate"] > before
    with pytest.raises(ApiException) as err:
        api.basic_api.update("contacts", created.id, SimplePublicObjectInput(properties={"lifecyclestage": "bogus"}))
    assert err.value.status == 400 and "INVALID_OPTION" in err.value.body
    batch = api.batch_api.update(
        "contacts",
        BatchInputSimplePublicObjectBatchInput(
            inputs=[{"id": "1", "properties": {"jobtitle": "CFO"}}, {"id": "2", "properties": {"jobtitle": "CTO"}}]
        ),
    )
    assert batch.status == "COMPLETE" and sorted(r.properties["jobtitle"] for r in batch.results) == ["CFO", "CTO"]
    history = api.basic_api.get_by_id(
        "contacts", created.id, properties_with_history=["lifecyclestage"]
    ).properties_with_history
    assert [h.value for h in history["lifecyclestage"]] == ["customer", "lead"]
    api.basic_api.archive("contacts", created.id)
    with pytest.raises(NotFoundException):
        api.basic_api.get_by_id("contacts", created.id)
    api.batch_api.archive("contacts", BatchInputSimplePublicObjectId(inputs=[{"id": "1"}, {"id": "2"}]))
    assert [r.id for r in api.basic_api.get_page("contacts", archived=True, limit=100).results] == [
        "1",
        "2",
        "24",
        "25",
        created.id,
    ]


# -- owners, properties, associations -----------------------------------------------------------------------------
def test_owners_paging_and_email_filter(shared_sandbox: Sandbox) -> None:
    owners = client(shared_sandbox).crm.owners.owners_api
    first = owners.get_page(limit=2)
    assert [o.id for o in first.results] == ["101", "102"] and first.paging.next.after == "103"
    rest = owners.get_page(limit=2, after=first.paging.next.after)
    assert [o.email for o in rest.results] == ["rep3@crm-loop.example"] and rest.paging is None
    assert owners.get_page(email="rep2@crm-loop.example").results[0].user_id == 9002
    assert rest.results[0].teams[0].name == "Sales" and rest.results[0].type == "PERSON"


def test_properties_describe_types_and_options(shared_sandbox: Sandbox) -> None:
    props = {p.name: p for p in client(shared_sandbox).crm.properties.core_api.get_all("contacts").results}
    assert props["createdate"].type == "datetime" and props["hs_object_id"].type == "number"
    assert [o.value for o in props["lifecyclestage"].options][:2] == ["subscriber", "lead"]
    assert props["demo_requested"].hubspot_defined is False


def test_associations_v4_single_and_batch(shared_sandbox: Sandbox) -> None:
    assoc = client(shared_sandbox).crm.associations.v4
    single = assoc.basic_api.get_page("calls", 1, "contacts")
    assert [(r.to_object_id, r.association_types[0].type_id) for r in single.results] == [("1", 194), ("2", 194)]
    paged = assoc.basic_api.get_page("calls", 1, "contacts", limit=1)
    assert paged.paging.next.after == "2"
    reverse = assoc.basic_api.get_page("contacts", 2, "calls")
    assert [r.to_object_id for r in reverse.results] == ["1", "2"] and reverse.results[0].association_types[
        0
    ].type_id == 193
    batch = assoc.batch_api.get_page(
        "contacts", "companies", BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": "1"}, {"id": "6"}])
    )
    assert batch.status == "COMPLETE"
    assert {r._from.id: [t.to_object_id for t in r.to] for r in batch.results} == {"1": ["2"], "6": ["2"]}
    partial = assoc.batch_api.get_page(
        "calls", "contacts", BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": "4"}, {"id": "77"}])
    )
    assert type(partial).__name__ == "BatchResponsePublicAssociationMultiWithLabelWithErrors"
    assert partial.num_errors == 1 and partial.errors[0].context == {"fromObjectId": ["77"]}


# -- auth, limits, faults -----------------------------------------------------------------------------------------
def test_bad_token_is_401(shared_sandbox: Sandbox) -> None:
    with pytest.raises(UnauthorizedException) as err:
        client(shared_sandbox, token="pat-na1-wrong").crm.objects.basic_api.get_page("contacts")
    body = json.loads(err.value.body)
    assert body["category"] == "INVALID_AUTHENTICATION" and body["message"].startswith(
        "Authentication credentials not found"
    )


def test_ten_second_limit_429_headers_and_daily_limit(sandbox: Sandbox) -> None:
    set_faults(sandbox, ten_second_limit=3)
    # urllib3's default Retry(3) already honours Retry-After on GETs; retries off to observe the 429 itself.
    api = client(sandbox, retry=Retry(total=0)).crm.objects.basic_api
    api.get_page("contacts")
    _, status, headers = api.get_page_with_http_info("contacts")
    assert (
        status == 200 and headers["X-HubSpot-RateLimit-Max"] == "3" and headers["X-HubSpot-RateLimit-Remaining"] == "1"
    )
    assert (
        headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
        and "X-HubSpot-RateLimit-Daily-Remaining" in headers
    )
    api.get_page("contacts")
    with pytest.raises(ApiException) as err:
        api.get_page("contacts")
    assert err.value.status == 429
    assert err.value.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert 1 <= int(err.value.headers["Retry-After"]) <= 10
    body = json.loads(err.value.body)
    assert body["policyName"] == "TEN_SECONDLY_ROLLING" and body["errorType"] == "RATE_LIMIT"
    # Moving the sandbox clock past the window frees it; then the daily budget runs out.
    requests.post(f"{sandbox.control_url}/_sandbox/clock/advance", json={"seconds": 11}, timeout=10)
    set_faults(sandbox, ten_second_limit=100, daily_limit=4)
    api.get_page("contacts")
    with pytest.raises(ApiException) as err:
        api.get_page("contacts")
    assert json.loads(err.value.body)["policyName"] == "DAILY" and int(err.value.headers["Retry-After"]) >= 1


def test_search_secondly_limit_and_retry_after_backoff(sandbox: Sandbox) -> None:
    set_faults(sandbox, search_per_second=1)
    with pytest.raises(ApiException) as err:
        for _ in range(3):
            _search(sandbox)
    assert err.value.status == 429 and json.loads(err.value.body)["policyName"] == "SECONDLY"
    assert err.value.headers["Retry-After"] == "1"
    # A urllib3 Retry honouring Retry-After (POST allowed) rides through the limit.
    retrying = client(sandbox, retry=Retry(total=5, status_forcelist=[429], allowed_methods=None, backoff_factor=0.1))
    api = retrying.crm.objects.search_api
    totals = [api.do_search("contacts", PublicObjectSearchRequest(limit=1)).total for _ in range(3)]
    assert totals == [23, 23, 23]
    statuses = [r.status for r in sandbox.ctx.log.records("hubspot") if r.route == "search"]
    # Server threads log concurrently, so the log's order is not the wire's: count, don't index.
    assert statuses.count(429) >= 2 and statuses.count(200) >= 4


def test_injected_faults(sandbox: Sandbox) -> None:
    set_faults(sandbox, rate_5xx=1.0)
    with pytest.raises(ServiceException) as err:
        client(sandbox).crm.objects.basic_api.get_page("contacts")
    assert err.value.status in (502, 503, 504)
    set_faults(sandbox, rate_5xx=0.0, rate_429=1.0)
    with pytest.raises(ApiException) as err:
        client(sandbox, retry=Retry(total=0)).crm.objects.basic_api.get_page("contacts")
    assert err.value.status == 429 and "Retry-After" in err.value.headers
    set_faults(sandbox, rate_429=0.0, truncate_rate=1.0)
    with pytest.raises(Exception) as cut:  # urllib3 reports the short body: the client must not see a page
        client(sandbox).crm.objects.basic_api.get_page("contacts")
    assert "IncompleteRead" in repr(cut.value) or "ProtocolError" in repr(cut.value)


# -- control actions ------------------------------------------------------------------------------------------------
def test_merge_hides_merged_and_redirects(sandbox: Sandbox) -> None:
    pairs = control(sandbox, "merge", {"type": "contacts", "n": 2})["pairs"]
    merged = {p["merged"] for p in pairs}
    assert len(pairs) == 2 and not merged & {p["survivor"] for p in pairs}
    assert not merged & {r.id for r in _all_pages(sandbox, limit=100)}
    assert not merged & {r.id for r in _all_pages(sandbox, limit=100, archived=True)}
    assert not merged & {r.id for r in _search(sandbox, limit=200).results}
    api = client(sandbox).crm.objects.basic_api
    for p in pairs:
        got = api.get_by_id("contacts", p["merged"], properties=["hs_merged_object_ids"])
        assert got.id == p["survivor"] and p["merged"] in got.properties["hs_merged_object_ids"].split(";")
    assert sandbox.hubspot.record_counts()["contacts"] == len(LIVE_IDS) - 2


def test_associate_quietly_leaves_last_modified_alone(sandbox: Sandbox) -> None:
    before = {r.id: r.properties["lastmodifieddate"] for r in _all_pages(sandbox, limit=100)}
    added = control(sandbox, "associate_quietly", {"from_type": "contacts", "to_type": "deals", "n": 3})["added"]
    assert len(added) == 3
    assoc = client(sandbox).crm.associations.v4.basic_api
    for contact_id, deal_id in added:
        assert deal_id in [r.to_object_id for r in assoc.get_page("contacts", int(contact_id), "deals").results]
        assert contact_id in [r.to_object_id for r in assoc.get_page("deals", int(deal_id), "contacts").results]
    assert {r.id: r.properties["lastmodifieddate"] for r in _all_pages(sandbox, limit=100)} == before
    removed = control(
        sandbox, "associate_quietly", {"from_type": "contacts", "to_type": "deals", "n": 3, "remove": True}
    )["removed"]
    assert sorted(removed) == sorted(added)
    assert assoc.get_page("contacts", int(added[0][0]), "deals").results == []


def test_modify_and_archive_random(sandbox: Sandbox) -> None:
    changed = control(sandbox, "modify_random", {"type": "contacts", "n": 2})
    assert changed["property"] == "hs_lead_status" and len(changed["ids"]) == 2
    api = client(sandbox).crm.objects.basic_api
    for cid in changed["ids"]:
        rec = api.get_by_id("contacts", cid, properties=["hs_lead_status"], properties_with_history=["hs_lead_status"])
        assert rec.updated_at > contact_modified(int(cid)) and rec.properties["hs_lead_status"]
        assert rec.properties_with_history["hs_lead_status"][0].value == rec.properties["hs_lead_status"]
    gone = control(sandbox, "archive_random", {"type": "contacts", "n": 3})["ids"]
    archived_now = {r.id for r in _all_pages(sandbox, limit=100, archived=True)}
    assert set(gone) <= archived_now and sandbox.hubspot.record_counts()["contacts"] == len(LIVE_IDS) - 3
    assert sandbox.hubspot.record_counts()["owners"] == 3


def test_control_errors(sandbox: Sandbox) -> None:
    assert requests.post(f"{sandbox.control_url}/_sandbox/hubspot/explode", json={}, timeout=10).status_code == 404
    assert (
        requests.post(f"{sandbox.control_url}/_sandbox/hubspot/merge", json={"type": "widgets"}, timeout=10).status_code
        == 400
    )
    inserted = control(
        sandbox,
        "insert",
        {
            "type": "contacts",
            "properties": {"email": "ctl@x.example"},
            "associations": [{"to_type": "companies", "to_id": 1}],
        },
    )
    assert control(sandbox, "update", {"type": "contacts", "id": inserted["id"], "properties": {"jobtitle": "VP"}})[
        "changed"
    ] == ["jobtitle"]


# -- the 10,000-result search window ------------------------------------------------------------------------------
def test_bulk_touch_makes_10k_window_bite() -> None:
    from tests.sandbox.hs_fixtures import hubspot_chunk

    with Sandbox(data=[hubspot_chunk(n_contacts=10_050)]) as sb:
        touched = control(sb, "bulk_touch", {"type": "contacts", "n": 10_050})
        assert touched["count"] == 10_048  # the two archived contacts are not live
        same_ms = {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "lastmodifieddate", "operator": "EQ", "value": str(touched["timestamp_ms"])}
                    ]
                }
            ]
        }
        sort = [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}]
        near_end = _search(sb, filter_groups=same_ms["filterGroups"], sorts=sort, limit=100, after="9900")
        assert near_end.total == 10_048 and len(near_end.results) == 100
        assert near_end.paging.next.after == "10000"
        with pytest.raises(ApiException) as err:
            _search(sb, filter_groups=same_ms["filterGroups"], sorts=sort, limit=100, after="10000")
        assert err.value.status == 400 and json.loads(err.value.body)["category"] == "VALIDATION_ERROR"
        # Ties keep a stable id order, so a connector can page by hs_object_id inside one timestamp.
        assert [int(r.id) for r in near_end.results] == sorted(int(r.id) for r in near_end.results)
        page = client(sb).crm.objects.basic_api.get_page(
            "contacts", limit=100, properties_with_history=["lastmodifieddate"]
        )
        assert len(page.results) == 50  # propertiesWithHistory shrinks list pages to 50
        assert datetime.fromisoformat(touched["timestamp"].replace("Z", "+00:00")) > datetime.now(UTC) - timedelta(
            days=1
        )


# -- generated data -----------------------------------------------------------------------------------------------
def test_generated_dataset_is_served_consistently() -> None:
    with Sandbox(size=200) as sb:
        sb.ctx.faults.update(search_per_second=1_000)
        counts = sb.hubspot.record_counts()
        contacts = _all_pages(sb, limit=100, associations=["companies"])
        assert len(contacts) == counts["contacts"] > 0
        company_ids = sorted(
            {a.id for c in contacts if c.associations for a in c.associations["companies"].results}, key=int
        )
        assert company_ids, "generated contacts should be associated with companies"
        read = client(sb).crm.objects.batch_api.read(
            "companies", BatchReadInputSimplePublicObjectId(inputs=[{"id": i} for i in company_ids[:100]])
        )
        assert read.status == "COMPLETE" and len(read.results) == min(
            100, len(company_ids)
        )  # a 200: every target exists
        assert _search(sb, limit=1).total == counts["contacts"]
