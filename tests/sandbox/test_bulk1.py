"""Salesforce Bulk API 1.0 query jobs as tap-salesforce and other production tools drive them."""

from __future__ import annotations

import csv
import io
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from sandbox.control import Control
from sandbox.server.app import Sandbox
from tests.sandbox.sf_fixtures import ca_session, fetch_token

NS = "{http://www.force.com/2009/06/asyncapi/dataload}"


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(seed=7, size=40, workdir=tmp_path_factory.mktemp("bulk1")) as sb:
        Control(sb.control_url).faults(bulk_job_seconds=0.05)
        yield sb


class Bulk1:
    def __init__(self, sb: Sandbox) -> None:
        self.http = ca_session(sb)
        self.base = f"{sb.salesforce_url}/services/async/59.0"
        self.session = fetch_token(sb).json()["access_token"]

    def call(self, method: str, path: str, body: str = "", content_type: str = "application/json", **headers: str):
        headers = {"X-SFDC-Session": self.session, "Content-Type": content_type, **headers}
        return self.http.request(method, self.base + path, data=body.encode(), headers=headers, timeout=10)

    def job(self, obj: str = "Lead", content_type: str = "CSV", **headers: str) -> str:
        body = json.dumps({"operation": "queryAll", "object": obj, "contentType": content_type})
        response = self.call("POST", "/job", body, **headers)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def batch(self, job: str, soql: str) -> dict[str, str]:
        response = self.call("POST", f"/job/{job}/batch", soql, "text/csv")
        assert response.status_code == 201, response.text
        return _xml(response.text)

    def wait(self, job: str, batch: str) -> dict[str, str]:
        for _ in range(100):
            info = _xml(self.call("GET", f"/job/{job}/batch/{batch}").text)
            if info["state"] in ("Completed", "Failed", "Not Processed"):
                return info
            time.sleep(0.02)
        raise AssertionError("batch never finished")

    def rows(self, job: str, batch: str) -> list[dict[str, str]]:
        listing = ET.fromstring(self.call("GET", f"/job/{job}/batch/{batch}/result").text)
        rows: list[dict[str, str]] = []
        for result in listing.iter(f"{NS}result"):
            text = self.call("GET", f"/job/{job}/batch/{batch}/result/{result.text}").text
            rows.extend(csv.DictReader(io.StringIO(text)))
        return rows


def _xml(text: str) -> dict[str, str]:
    return {el.tag.removeprefix(NS): el.text or "" for el in ET.fromstring(text)}


def test_csv_query_job_end_to_end(box: Sandbox) -> None:
    bulk = Bulk1(box)
    job = bulk.job()
    batch = bulk.batch(job, "SELECT Id, LastName, IsDeleted FROM Lead")
    assert batch["state"] in ("Queued", "InProgress", "Completed") and batch["jobId"] == job
    done = bulk.wait(job, batch["id"])
    assert done["state"] == "Completed"
    rows = bulk.rows(job, batch["id"])
    assert len(rows) == int(done["numberRecordsProcessed"]) == box.info()["records"]["salesforce"]["Lead"]
    assert set(rows[0]) == {"Id", "LastName", "IsDeleted"}
    closed = bulk.call("POST", f"/job/{job}", json.dumps({"state": "Closed"}))
    assert closed.json()["state"] == "Closed" and closed.json()["numberBatchesCompleted"] == 1


def test_job_replies_follow_the_request_content_type(box: Sandbox) -> None:
    bulk = Bulk1(box)
    xml_body = (
        '<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload">'
        "<operation>query</operation><object>Account</object><contentType>CSV</contentType></jobInfo>"
    )
    created = bulk.call("POST", "/job", xml_body, "application/xml; charset=UTF-8")
    assert created.status_code == 201 and created.headers["Content-Type"] == "application/xml"
    info = _xml(created.text)
    assert info["state"] == "Open" and info["object"] == "Account"
    as_json = bulk.call("GET", f"/job/{info['id']}")
    assert as_json.json()["operation"] == "query"


def test_json_job_answers_json_batches_and_results(box: Sandbox) -> None:
    bulk = Bulk1(box)
    job = bulk.job("Account", "JSON")
    batch = bulk.call("POST", f"/job/{job}/batch", "SELECT Id, Name FROM Account", "application/json").json()
    for _ in range(100):
        batch = bulk.call("GET", f"/job/{job}/batch/{batch['id']}").json()
        if batch["state"] == "Completed":
            break
        time.sleep(0.02)
    results = bulk.call("GET", f"/job/{job}/batch/{batch['id']}/result").json()
    records: list[dict[str, Any]] = bulk.call("GET", f"/job/{job}/batch/{batch['id']}/result/{results[0]}").json()
    assert len(records) == box.info()["records"]["salesforce"]["Account"]
    assert records[0]["attributes"]["type"] == "Account"


def test_pk_chunking_splits_the_query_into_id_ranges(box: Sandbox) -> None:
    bulk = Bulk1(box)
    job = bulk.job(**{"Sforce-Enable-PKChunking": "true; chunkSize=10"})
    original = bulk.batch(job, "SELECT Id FROM Lead")
    listing = ET.fromstring(bulk.call("GET", f"/job/{job}/batch").text)
    batches = [{el.tag.removeprefix(NS): el.text for el in b} for b in listing.iter(f"{NS}batchInfo")]
    assert batches[0]["id"] == original["id"] and batches[0]["state"] == "Not Processed"
    ids: list[str] = []
    for b in batches[1:]:
        assert bulk.wait(job, str(b["id"]))["state"] == "Completed"
        chunk = [r["Id"] for r in bulk.rows(job, str(b["id"]))]
        assert 0 < len(chunk) <= 10
        ids.extend(chunk)
    assert len(ids) == len(set(ids)) == box.info()["records"]["salesforce"]["Lead"]


def test_compound_fields_fail_the_batch_not_the_job(box: Sandbox) -> None:
    bulk = Bulk1(box)
    job = bulk.job()
    batch = bulk.batch(job, "SELECT Id, Address FROM Lead")
    done = bulk.wait(job, batch["id"])
    assert done["state"] == "Failed" and "compound" in done["stateMessage"]


def test_errors_in_bulk_shape(box: Sandbox) -> None:
    bulk = Bulk1(box)
    bad = requests.Session()
    bad.trust_env = False
    bad.verify = str(box.ca_path)
    refused = bad.post(
        bulk.base + "/job",
        data="{}",
        headers={"X-SFDC-Session": "nonsense", "Content-Type": "application/json"},
        timeout=10,
    )
    assert refused.status_code == 400 and refused.json()["exceptionCode"] == "InvalidSessionId"
    unknown = bulk.call("GET", "/job/7505g0000009999AAA")
    assert unknown.status_code == 400 and unknown.json()["exceptionCode"] == "InvalidJob"
    job = bulk.job()
    malformed = bulk.call("POST", f"/job/{job}/batch", "SELECT Nope FROM Lead", "text/csv")
    assert malformed.status_code == 400 and "InvalidBatch" in malformed.text
