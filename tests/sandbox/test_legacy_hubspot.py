"""HubSpot's legacy read endpoints and the public-host gateway, as other people's connectors read them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import requests

from sandbox.control import Control
from sandbox.server.app import Sandbox


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(seed=7, size=40, workdir=tmp_path_factory.mktemp("legacy"), gateway=True) as sb:
        yield sb


def _get(sb: Sandbox, path: str, **params: Any) -> requests.Response:
    http = requests.Session()
    http.trust_env = False
    headers = {"Authorization": f"Bearer {sb.info()['hubspot']['access_token']}"}
    return http.get(sb.hubspot_url + path, params=params, headers=headers, timeout=10)


def _pages(sb: Sandbox, path: str, key: str, more: str, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    offset: Any = None
    while True:
        body = _get(sb, path, **params, **({"offset": offset} if offset is not None else {})).json()
        out.extend(body[key])
        if not body[more]:
            return out
        offset = body["offset"]


def test_schemas_list_is_empty_for_a_portal_without_custom_objects(box: Sandbox) -> None:
    response = _get(box, "/crm/v3/schemas")
    assert response.status_code == 200
    assert response.json() == {"results": []}


def test_companies_v2_pages_with_has_more_and_versioned_properties(box: Sandbox) -> None:
    counts = box.info()["records"]["hubspot"]
    companies = _pages(
        box,
        "/companies/v2/companies/paged",
        "companies",
        "has-more",
        limit=7,
        properties=["name", "hs_lastmodifieddate"],
    )
    ids = [c["companyId"] for c in companies]
    assert len(ids) == len(set(ids)) == counts["companies"]
    first = companies[0]
    assert set(first["properties"]) == {"name", "hs_lastmodifieddate"}
    modified = first["properties"]["hs_lastmodifieddate"]
    # Legacy datetimes are millisecond epochs as strings; the last-modified value is its own change time.
    assert modified["value"] == str(modified["timestamp"])
    assert modified["versions"][0]["value"] == modified["value"]
    detail = _get(box, f"/companies/v2/companies/{first['companyId']}").json()
    assert detail["companyId"] == first["companyId"] and "createdate" in detail["properties"]
    assert _get(box, "/companies/v2/companies/1").status_code == 404


def test_deals_v1_pages_with_hasmore_and_associations(box: Sandbox) -> None:
    counts = box.info()["records"]["hubspot"]
    deals = _pages(
        box, "/deals/v1/deal/paged", "deals", "hasMore", limit=3, includeAssociations="true", properties="dealstage"
    )
    assert len({d["dealId"] for d in deals}) == counts["deals"]
    assert all(set(d["associations"]) >= {"associatedVids", "associatedCompanyIds"} for d in deals)
    assert any(d["associations"]["associatedVids"] for d in deals)


def test_engagements_v1_list_all_five_types_once(box: Sandbox) -> None:
    counts = box.info()["records"]["hubspot"]
    total = sum(counts[t] for t in ("calls", "emails", "meetings", "notes", "tasks"))
    paged = _pages(box, "/engagements/v1/engagements/paged", "results", "hasMore", limit=50)
    assert len({e["engagement"]["id"] for e in paged}) == total
    assert {e["engagement"]["type"] for e in paged} <= {
        "CALL",
        "EMAIL",
        "INCOMING_EMAIL",
        "FORWARDED_EMAIL",
        "MEETING",
        "NOTE",
        "TASK",
    }
    recent = _get(box, "/engagements/v1/engagements/recent/modified", count=100, since=0).json()
    assert recent["total"] == total
    stamps = [e["engagement"]["lastUpdated"] for e in recent["results"]]
    assert stamps == sorted(stamps, reverse=True)


def test_engagements_modified_after_resumes_from_its_cursor(box: Sandbox) -> None:
    cursor: Any = 0
    seen: list[int] = []
    while True:
        body = _get(box, "/engagements/v1/engagements/modified/after", limit=40, after=cursor).json()
        seen.extend(e["engagement"]["id"] for e in body["results"])
        cursor = body["after"]
        if not body["hasMore"]:
            break
    assert len(seen) == len(set(seen))
    changed = Control(box.control_url).action("hubspot", "modify_random", type="calls", n=1)["ids"]
    again = _get(box, "/engagements/v1/engagements/modified/after", after=cursor).json()
    assert [str(e["engagement"]["id"]) for e in again["results"]] == changed


def test_legacy_properties_and_standard_objects_without_records(box: Sandbox) -> None:
    v2 = _get(box, "/properties/v2/company/properties").json()
    assert {"name", "type", "fieldType", "options", "groupName"} <= set(v2[0])
    assert {p["name"] for p in _get(box, "/properties/v1/deals/properties").json()} >= {"dealstage", "amount"}
    tickets = _get(box, "/crm/v3/properties/tickets").json()["results"]
    assert "hs_object_id" in {p["name"] for p in tickets}
    assert _get(box, "/crm/v3/objects/tickets").json() == {"results": []}
    pipelines = _get(box, "/crm-pipelines/v1/pipelines/deals").json()["results"]
    assert pipelines[0]["stages"][0]["metadata"]["probability"] == "0.2"


def test_legacy_endpoints_share_the_rate_limit(box: Sandbox) -> None:
    control = Control(box.control_url)
    control.faults(ten_second_limit=1)
    try:
        statuses = [_get(box, "/deals/v1/pipelines").status_code for _ in range(3)]
    finally:
        control.reset_faults()
    assert 429 in statuses


def test_gateway_answers_for_the_public_hosts_only(box: Sandbox) -> None:
    assert box.gateway is not None
    http = requests.Session()
    http.trust_env = False
    http.proxies = {"https": box.gateway.url}
    http.verify = str(box.ca_path)
    token = box.info()["hubspot"]["access_token"]
    response = http.get(
        "https://api.hubapi.com/crm/v3/schemas", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.json() == {"results": []}
    login = http.post("https://login.salesforce.com/services/oauth2/token", data={"grant_type": "x"}, timeout=10)
    assert login.json()["error"] == "unsupported_grant_type"
    with pytest.raises(requests.exceptions.ProxyError):
        http.get("https://example.com/", timeout=10)


def test_search_takes_a_top_level_filters_list_as_one_and_group(box: Sandbox) -> None:
    """Airbyte's HubSpot source searches with ``filters`` beside (not inside) filterGroups."""
    changed = Control(box.control_url).action("hubspot", "modify_random", type="contacts", n=2)["ids"]
    http = requests.Session()
    http.trust_env = False
    token = box.info()["hubspot"]["access_token"]
    stamps = [
        datetime.fromisoformat(_get(box, f"/crm/v3/objects/contacts/{i}").json()["updatedAt"].replace("Z", "+00:00"))
        for i in changed
    ]
    body = {
        "filters": [
            {"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(int(min(stamps).timestamp() * 1000))},
            {"propertyName": "hs_object_id", "operator": "GTE", "value": "0"},
        ],
        "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
        "limit": 200,
    }
    found = http.post(
        f"{box.hubspot_url}/crm/v3/objects/contacts/search",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    assert sorted(r["id"] for r in found["results"]) == sorted(changed) and found["total"] == len(changed)
