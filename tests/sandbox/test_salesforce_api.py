"""The sandbox's Salesforce side, driven through the real simple-salesforce client over HTTPS."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceOperationError,
    SalesforceRefusedRequest,
)

from sandbox.control import Control
from sandbox.server.app import Sandbox
from tests.sandbox.sf_fixtures import (  # noqa: F401 - fixtures
    ACCOUNT_ID,
    LEADS,
    OWNER_ID,
    ca_session,
    connect,
    fetch_token,
    sf,
    sf_control,
    sf_sandbox,
)


def _served(control: Control, route: str) -> int:
    return sum(1 for r in control.requests_served("salesforce") if r["route"] == route)


def test_oauth_grants_and_errors(sf_sandbox: Sandbox) -> None:
    info = sf_sandbox.info()["salesforce"]
    ok = fetch_token(sf_sandbox).json()
    assert ok["token_type"] == "Bearer" and ok["instance_url"] == sf_sandbox.salesforce_url
    assert set(ok) >= {"access_token", "id", "issued_at", "signature", "scope"}
    password = fetch_token(
        sf_sandbox, grant_type="password", username=info["username"], password=info["password"] + info["security_token"]
    )
    refresh = fetch_token(sf_sandbox, grant_type="refresh_token", refresh_token=info["refresh_token"])
    assert password.status_code == refresh.status_code == 200
    bad_secret = fetch_token(sf_sandbox, client_secret="nope")
    assert bad_secret.status_code == 400 and bad_secret.json()["error"] == "invalid_client"
    bad_password = fetch_token(sf_sandbox, grant_type="password", username=info["username"], password="wrong")
    assert bad_password.status_code == 400 and bad_password.json()["error"] == "invalid_grant"


def test_soap_login_and_relogin_after_expiry(sf_sandbox: Sandbox, sf_control: Control) -> None:
    # simple-salesforce builds https://{domain}.salesforce.com/...; a URL fragment swallows the suffix.
    info = sf_sandbox.info()["salesforce"]
    host = info["instance_url"].split("//", 1)[1]
    sf = Salesforce(
        username=info["username"],
        password=info["password"],
        security_token=info["security_token"],
        domain=f"{host}/services/Soap/u/59.0#",
        session=ca_session(sf_sandbox),
    )
    first = sf.session_id
    sf_control.faults(session_expiry_after=1)
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 1
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 1  # 401, re-login, retry
    assert sf.session_id != first
    with pytest.raises(SalesforceAuthenticationFailed, match="INVALID_LOGIN"):
        Salesforce(
            username=info["username"],
            password="wrong",
            security_token="x",
            domain=f"{host}/services/Soap/u/59.0#",
            session=ca_session(sf_sandbox),
        )


def test_query_renders_relationships_and_types(sf: Salesforce) -> None:
    result = sf.query(
        "SELECT Id, Name, Owner.Email, Lead_Score__c, CreatedDate, IsDeleted, Address FROM Lead "
        "WHERE Lead_Score__c >= 447 ORDER BY Lead_Score__c DESC"
    )
    assert result["totalSize"] == 3 and result["done"] and "nextRecordsUrl" not in result
    top = result["records"][0]
    assert top["attributes"] == {"type": "Lead", "url": f"/services/data/v59.0/sobjects/Lead/{top['Id']}"}
    assert top["Name"] == "Pat Lead449" and top["Lead_Score__c"] == 449.0 and top["IsDeleted"] is False
    assert top["Owner"]["Email"] == "ada.ng@acme.test" and top["Owner"]["attributes"]["type"] == "User"
    assert top["CreatedDate"].endswith(".000+0000") and len(top["CreatedDate"]) == 28
    assert top["Address"]["city"] == "Berlin" and top["Address"]["street"] is None
    contacts = sf.query("SELECT LastName, Account.Name, Account.Owner.Email FROM Contact ORDER BY LastName")
    doe, orphan = contacts["records"]
    assert doe["Account"]["Name"] == "Acme, Inc." and doe["Account"]["Owner"]["Email"] == "ada.ng@acme.test"
    assert orphan["Account"] is None


def test_where_operators_and_count(sf: Salesforce) -> None:
    def count(where: str) -> int:
        return int(sf.query(f"SELECT COUNT() FROM Lead WHERE {where}")["totalSize"])

    assert sf.query("SELECT COUNT() FROM Lead")["records"] == []
    assert count("Lead_Score__c < 10 AND (City = 'berlin' OR City = null)") == 10  # case-insensitive '='
    assert count("City != 'Berlin'") == LEADS // 2  # null counts as "not Berlin" in SOQL
    assert count("NumberOfEmployees IN (1, 2, 3) AND NOT Email LIKE 'lead1%'") == 2
    assert count("Company = 'Quote \"Co\", Ltd'") == LEADS // 3
    assert count("CreatedDate < 2026-02-10T15:00:00Z") == LEADS - 1  # Lead000 is exactly on the bound
    assert count("MQL_Date__c = 2026-02-27T16:00:00+01:00") == LEADS // 5
    assert count("CreatedDate = LAST_N_DAYS:30") == LEADS
    page = sf.query("SELECT Id, Lead_Score__c FROM Lead ORDER BY City DESC NULLS FIRST, Lead_Score__c LIMIT 3 OFFSET 1")
    assert [r["Lead_Score__c"] for r in page["records"]] == [2.0, 4.0, 6.0]


def test_errors_raise_client_exceptions(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as bad_field:
        sf.query("SELECT Id, Nope__c FROM Lead")
    assert bad_field.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Nope__c' on entity 'Lead'" in bad_field.value.content[0]["message"]
    with pytest.raises(SalesforceMalformedRequest) as bad_type:
        sf.query("SELECT Id FROM Leed")
    assert bad_type.value.content[0]["errorCode"] == "INVALID_TYPE"
    for soql in (
        "SELECT Id FROM Lead WHERE",
        "SELECT Id FROM Lead WHERE A__c = 1 AND Email = 'x' OR Id = 'y'",
        "SELECT Id, (SELECT Id FROM Contacts) FROM Account",
        "SELECT Id FROM Lead GROUP BY Id",
    ):
        with pytest.raises(SalesforceMalformedRequest) as exc:
            sf.query(soql.replace("A__c", "Lead_Score__c"))
        assert exc.value.content[0]["errorCode"] == "MALFORMED_QUERY", soql


def test_query_all_iter_pages_with_batch_size(sf: Salesforce, sf_control: Control) -> None:
    sf_control.reset_requests()
    ids = [
        r["Id"]
        for r in sf.query_all_iter(
            "SELECT Id FROM Lead ORDER BY Lead_Score__c", headers={"Sforce-Query-Options": "batchSize=200"}
        )
    ]
    assert len(ids) == len(set(ids)) == LEADS
    assert _served(sf_control, "query") == 1 and _served(sf_control, "query_more") == 2


def test_paging_is_a_snapshot(sf: Salesforce, sf_control: Control) -> None:
    first = sf.query("SELECT Id FROM Contact", headers={"Sforce-Query-Options": "batchSize=200"})
    assert first["done"] and first["totalSize"] == 2
    page = sf.query("SELECT Id, Name FROM Lead ORDER BY Name", headers={"Sforce-Query-Options": "batchSize=200"})
    assert page["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g") and page["nextRecordsUrl"].endswith(
        "-200"
    )
    sf_control.action("salesforce", "insert", object="Lead", records=[{"LastName": "Aaa", "Company": "Late"}])
    rest = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True)
    final = sf.query_more(rest["nextRecordsUrl"], identifier_is_url=True)
    assert len(page["records"]) + len(rest["records"]) + len(final["records"]) == page["totalSize"] == LEADS
    assert final["done"] and "nextRecordsUrl" not in final


def test_soft_delete_visible_to_query_all(sf: Salesforce) -> None:
    created = sf.Lead.create({"LastName": "Gone", "Company": "Temp"})
    assert created["success"] and created["id"].startswith("00Q") and len(created["id"]) == 18
    assert sf.Lead.update(created["id"], {"Status": "Working - Contacted"}) == 204
    assert sf.Lead.get(created["id"])["Status"] == "Working - Contacted"
    assert sf.Lead.delete(created["id"]) == 204
    soql = f"SELECT Id, IsDeleted FROM Lead WHERE Id = '{created['id']}'"
    assert sf.query(soql)["totalSize"] == 0
    assert sf.query_all(soql, include_deleted=True)["records"][0]["IsDeleted"] is True  # queryAll


def test_describe_has_custom_picklist(sf: Salesforce) -> None:
    names = {o["name"]: o for o in sf.describe()["sobjects"]}
    assert names["Lead"]["keyPrefix"] == "00Q" and names["Lead"]["replicateable"]
    fields = {f["name"]: f for f in sf.Lead.describe()["fields"]}
    reason = fields["Disqualification_Reason__c"]
    assert reason["custom"] and reason["type"] == "picklist" and reason["soapType"] == "xsd:string"
    assert {
        "active": True,
        "defaultValue": False,
        "label": "No Budget",
        "validFor": None,
        "value": "No Budget",
    } in reason["picklistValues"]
    assert fields["OwnerId"]["referenceTo"] == ["User"] and fields["OwnerId"]["relationshipName"] == "Owner"
    assert fields["City"]["compoundFieldName"] == "Address"
    status = fields["Status"]["picklistValues"]
    assert [p["value"] for p in status if p["defaultValue"]] == ["Open - Not Contacted"]


def test_get_updated_and_deleted_include_purges(sf: Salesforce, sf_sandbox: Sandbox, sf_control: Control) -> None:
    now = sf_sandbox.ctx.clock.now()
    purged = sf_control.action("salesforce", "purge_random", object="Lead", n=2, seed=3)["ids"]
    late = sf_control.action("salesforce", "late_commit", object="Lead", n=1, minutes=90, seed=4)["ids"]
    # Replication works at minute resolution and never covers the current minute: let it pass.
    requests.post(f"{sf_control.base_url}/_sandbox/clock/advance", json={"seconds": 120}, timeout=10).raise_for_status()
    deleted = sf.Lead.deleted(now - timedelta(minutes=5), now + timedelta(minutes=5))
    assert {d["id"] for d in deleted["deletedRecords"]} >= set(purged)
    assert "earliestDateAvailable" in deleted and deleted["latestDateCovered"].endswith(":00.000+0000")
    assert (
        sf.query(f"SELECT COUNT() FROM Lead WHERE Id IN ('{purged[0]}', '{purged[1]}')", include_deleted=True)[
            "totalSize"
        ]
        == 0
    )
    # A late commit is invisible to a window that already closed, and found by one reaching back far enough.
    assert late[0] not in sf.Lead.updated(now - timedelta(minutes=5), now + timedelta(minutes=5))["ids"]
    assert late[0] in sf.Lead.updated(now - timedelta(hours=2), now + timedelta(minutes=5))["ids"]
    with pytest.raises(SalesforceMalformedRequest) as too_old:
        sf.Lead.updated(now - timedelta(days=31), now)
    assert too_old.value.content[0]["errorCode"] == "INVALID_REPLICATION_DATE"


def test_limits_and_usage_header(sf: Salesforce, sf_control: Control) -> None:
    limits = sf.limits()
    usage = sf.api_usage["api-usage"]
    assert limits["DailyApiRequests"]["Max"] == usage.total
    assert limits["DailyApiRequests"]["Remaining"] == usage.total - usage.used
    sf_control.faults(sf_daily_api_limit=usage.used + 1)
    sf.query("SELECT COUNT() FROM Account")
    with pytest.raises(SalesforceRefusedRequest) as refused:
        sf.query("SELECT COUNT() FROM Account")
    assert refused.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"


def test_session_expiry_gives_401_and_new_token_works(sf_sandbox: Sandbox, sf_control: Control) -> None:
    sf = connect(sf_sandbox)
    sf_control.faults(session_expiry_after=2)
    sf.query("SELECT COUNT() FROM Account")
    sf.query("SELECT COUNT() FROM Account")
    with pytest.raises(SalesforceExpiredSession) as expired:
        sf.query("SELECT COUNT() FROM Account")
    assert expired.value.status == 401 and expired.value.content[0]["errorCode"] == "INVALID_SESSION_ID"
    assert connect(sf_sandbox).query("SELECT COUNT() FROM Account")["totalSize"] == 1
    sf_control.reset_faults()
    fresh = connect(sf_sandbox)
    sf_control.action("salesforce", "expire_sessions")
    with pytest.raises(SalesforceExpiredSession):
        fresh.query("SELECT COUNT() FROM Account")


def test_injected_faults_map_to_salesforce_errors(sf: Salesforce, sf_control: Control) -> None:
    sf_control.faults(rate_429=1.0)
    with pytest.raises(SalesforceRefusedRequest, match="ConcurrentPerOrgLongTxn"):
        sf.query("SELECT COUNT() FROM Account")
    sf_control.faults(rate_429=0.0, rate_5xx=1.0)
    with pytest.raises(Exception) as unavailable:
        sf.query("SELECT COUNT() FROM Account")
    assert getattr(unavailable.value, "status", None) == 503


def test_bulk2_query_streams_pages(sf: Salesforce, sf_control: Control) -> None:
    sf_control.reset_requests()
    pages = list(
        sf.bulk2.Lead.query(
            "SELECT Id, Company, Owner.Email, Lead_Score__c, IsConverted, MQL_Date__c FROM Lead "
            "WHERE Email LIKE 'lead%'",
            max_records=200,
            wait=0.1,
        )
    )
    rows = [row for page in pages for row in csv.DictReader(io.StringIO(page))]
    assert len(pages) == 3 and len(rows) >= LEADS - 3  # purges elsewhere in the module may remove a few
    assert _served(sf_control, "bulk_results") == 3
    quoted = next(r for r in rows if r["Company"].startswith("Quote"))
    assert quoted["Company"] == 'Quote "Co", Ltd' and quoted["Owner.Email"] == "ada.ng@acme.test"
    assert {r["IsConverted"] for r in rows} == {"false"}
    assert {r["MQL_Date__c"] for r in rows} >= {"", "2026-02-27T15:00:00.000+0000"}


def test_bulk2_rejects_compound_fields_and_fails_on_fault(sf: Salesforce, sf_control: Control) -> None:
    with pytest.raises(SalesforceOperationError, match="compound"):
        list(sf.bulk2.Lead.query("SELECT Id, Address FROM Lead", wait=0.1))
    sf_control.faults(bulk_fail_next=1)
    with pytest.raises(SalesforceOperationError, match="bulk_fail_next"):
        list(sf.bulk2.Lead.query("SELECT Id FROM Lead", wait=0.1))


def test_bulk2_results_before_completion_is_412(sf_sandbox: Sandbox, sf_control: Control) -> None:
    sf_control.faults(bulk_job_seconds=30)
    token = fetch_token(sf_sandbox).json()["access_token"]
    http = ca_session(sf_sandbox)
    http.headers["Authorization"] = f"Bearer {token}"
    base = f"{sf_sandbox.salesforce_url}/services/data/v59.0/jobs/query"
    job = http.post(base, json={"operation": "query", "query": "SELECT Id FROM Account"}, timeout=10).json()
    assert job["id"].startswith("750") and job["state"] == "UploadComplete" and job["object"] == "Account"
    early = http.get(f"{base}/{job['id']}/results", timeout=10)
    assert early.status_code == 412 and early.json()[0]["errorCode"] == "JOB_NOT_COMPLETE"
    aborted = http.patch(f"{base}/{job['id']}", json={"state": "Aborted"}, timeout=10).json()
    assert aborted["state"] == "Aborted"
    assert http.delete(f"{base}/{job['id']}", timeout=10).status_code == 204


def test_tls_needs_the_sandbox_ca(sf_sandbox: Sandbox) -> None:
    plain = requests.Session()
    plain.trust_env = False  # system CA bundle only: the sandbox's CA is unknown to it
    with pytest.raises(requests.exceptions.SSLError):
        plain.get(f"{sf_sandbox.salesforce_url}/services/data/", timeout=10)
    assert ca_session(sf_sandbox).get(f"{sf_sandbox.salesforce_url}/services/data/", timeout=10).status_code == 200


def test_unknown_path_and_missing_token(sf_sandbox: Sandbox) -> None:
    http = ca_session(sf_sandbox)
    missing = http.get(f"{sf_sandbox.salesforce_url}/services/data/v59.0/limits", timeout=10)
    assert missing.status_code == 401 and missing.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    nowhere = http.get(f"{sf_sandbox.salesforce_url}/services/nowhere", timeout=10)
    assert nowhere.status_code == 404 and nowhere.json()[0]["errorCode"] == "NOT_FOUND"


def test_generated_ids_are_valid_18_character_ids_with_the_right_key_prefixes(sf: Salesforce) -> None:
    from sandbox.model.ids import is_valid_18

    for object_name, prefix in (("Lead", "00Q"), ("Account", "001"), ("Contact", "003"), ("User", "005")):
        ids = [r["Id"] for r in sf.query(f"SELECT Id FROM {object_name} LIMIT 20")["records"]]
        assert ids and all(is_valid_18(i) and i.startswith(prefix) for i in ids), object_name
