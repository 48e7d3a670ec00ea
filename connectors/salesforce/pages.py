"""Pages of Salesforce records, as generators: REST ``nextRecordsUrl`` paging and Bulk 2.0 result locators.

Each page is yielded with what is needed to resume after it, so the caller can commit the page and its
resume point together and a killed run continues where it stopped.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from simple_salesforce.bulk2 import Operation

from connectors.salesforce.connection import SalesforceConnection


class BulkJobFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class Page:
    records: list[dict[str, Any]]
    resume: dict[str, Any]  # REST: {"next_url"}; Bulk: {"job_id", "locator"}; empty when this was the last page
    total: int | None = None  # REST: the query's totalSize (rows in the whole result, not this page)


def rest_pages(
    conn: SalesforceConnection, soql: str, *, include_deleted: bool, batch_size: int = 2000
) -> Iterator[Page]:
    headers = {"Sforce-Query-Options": f"batchSize={batch_size}"}
    result = conn.call(lambda sf: sf.query(soql, include_deleted=include_deleted, headers=headers), what="query")
    while True:
        next_url = result.get("nextRecordsUrl")
        records = [_strip_attributes(r) for r in result["records"]]
        yield Page(records, {"next_url": next_url} if next_url else {}, total=result.get("totalSize"))
        if not next_url:
            return
        result = conn.call(
            lambda sf: sf.query_more(next_url, identifier_is_url=True, headers=headers), what="query_more"
        )


def _strip_attributes(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "attributes"}


def start_bulk_job(conn: SalesforceConnection, object_name: str, soql: str, *, include_deleted: bool) -> str:
    operation = Operation.query_all if include_deleted else Operation.query
    job = conn.call(
        lambda sf: getattr(sf.bulk2, object_name)._client.create_job(operation, soql), what="bulk job create"
    )
    return str(job["id"])


def wait_for_bulk_job(
    conn: SalesforceConnection, object_name: str, job_id: str, *, poll_s: float = 1.0, timeout_s: float = 3600
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    delay = min(poll_s, 0.2)
    while True:
        info = conn.call(lambda sf: getattr(sf.bulk2, object_name)._client.get_job(job_id, True), what="bulk job poll")
        state = info.get("state")
        if state == "JobComplete":
            return dict(info)
        if state in ("Failed", "Aborted"):
            raise BulkJobFailed(
                f"Bulk 2.0 job {job_id} for {object_name} ended {state}: {info.get('errorMessage', '')}"
            )
        if time.monotonic() > deadline:
            raise BulkJobFailed(f"Bulk 2.0 job {job_id} for {object_name} still {state} after {timeout_s:.0f}s")
        time.sleep(delay)
        delay = min(poll_s, delay * 2)


def bulk_pages(
    conn: SalesforceConnection, object_name: str, job_id: str, *, locator: str = "", max_records: int = 10_000
) -> Iterator[Page]:
    """Result pages of a completed job, from ``locator`` on: one page of CSV in memory at a time."""
    while True:
        current = locator
        result = conn.call(
            lambda sf: getattr(sf.bulk2, object_name)._client.get_query_results(job_id, current, max_records),
            what="bulk results",
        )
        records = _parse_csv(result["records"])
        if len(records) != result["number_of_records"]:
            raise BulkJobFailed(
                f"Bulk 2.0 job {job_id}: page announced {result['number_of_records']} records, parsed {len(records)}"
            )
        locator = result["locator"]
        yield Page(records, {"job_id": job_id, "locator": locator} if locator else {})
        if not locator:
            return


def _parse_csv(text: str) -> list[dict[str, Any]]:
    """Bulk CSV has no nulls, only empty cells: read them as None, like REST's JSON null."""
    reader = csv.DictReader(io.StringIO(text))
    return [{k: (v if v != "" else None) for k, v in row.items()} for row in reader]
