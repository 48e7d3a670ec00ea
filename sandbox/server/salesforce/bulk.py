"""Bulk API 2.0 query jobs: create, poll, abort, delete, and stream result pages as CSV.

A job snapshots its matching Ids at creation and then walks UploadComplete → InProgress → JobComplete over
``faults.bulk_job_seconds`` of real time (or ends Failed when ``faults.bulk_fail_next`` is set). Result pages are
streamed from the snapshot in batches, so a million-row extract never sits in memory.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sandbox.model.ids import sf_id
from sandbox.server.context import SandboxContext
from sandbox.server.http import Request, Response, iter_lines, json_response
from sandbox.server.salesforce.cursors import Cursor, CursorStore
from sandbox.server.salesforce.errors import SfApiError, not_found
from sandbox.server.salesforce.render import csv_header, csv_row
from sandbox.server.salesforce.soql import CompiledQuery, compile_soql
from sandbox.server.salesforce.store import INTEGRATION_USER_ID
from sandbox.server.salesforce.values import format_datetime

_DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^", "BACKQUOTE": "`"}
_LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
_FINAL = ("JobComplete", "Failed", "Aborted")


@dataclass
class BulkJob:
    id: str
    operation: str
    query: CompiledQuery
    created: datetime
    duration: float
    column_delimiter: str
    line_ending: str
    cursor: Cursor | None  # None once the job is aborted or deleted
    error: str | None = None
    aborted_at: datetime | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def state(self, now: datetime) -> str:
        if self.aborted_at is not None:
            return "Aborted"
        elapsed = (now - self.created).total_seconds()
        if elapsed < self.duration / 3:
            return "UploadComplete"
        if elapsed < self.duration:
            return "InProgress"
        return "Failed" if self.error else "JobComplete"


class BulkQueryJobs:
    def __init__(self, ctx: SandboxContext, cursors: CursorStore) -> None:
        self.ctx = ctx
        self.cursors = cursors
        self._jobs: dict[str, BulkJob] = {}
        self._lock = threading.Lock()
        self.created_today = 0

    # -- handlers --------------------------------------------------------------------------------------------
    def create(self, request: Request) -> Response:
        body = request.json() or {}
        operation = body.get("operation")
        if operation not in ("query", "queryAll"):
            raise SfApiError(400, "INVALIDJOB", f"InvalidJob : Invalid operation: {operation}")
        delimiter, ending = body.get("columnDelimiter", "COMMA"), body.get("lineEnding", "LF")
        if delimiter not in _DELIMITERS or ending not in _LINE_ENDINGS:
            raise SfApiError(400, "INVALIDJOB", "InvalidJob : Invalid columnDelimiter or lineEnding")
        if not isinstance(body.get("query"), str):
            raise SfApiError(400, "INVALIDJOB", "InvalidJob : A query is required for query jobs")
        # Syntax and field errors are refused at creation [?]; Bulk-only restrictions fail the job, as real
        # jobs do for compound fields.
        query = compile_soql(body["query"], self.ctx.clock.now())
        error = _bulk_restriction(query)
        faults = self.ctx.faults
        if error is None and faults.settings.bulk_fail_next > 0:
            faults.update(bulk_fail_next=faults.settings.bulk_fail_next - 1)
            error = "InternalServerError : Failed to process query (sandbox fault: bulk_fail_next)"
        with self._lock:
            self.created_today += 1
            job_id = sf_id("750", self.created_today)
        cursor = None if error else self.cursors.open(job_id, query, operation == "queryAll", expires=False)
        job = BulkJob(
            job_id,
            operation,
            query,
            self.ctx.clock.now(),
            float(faults.settings.bulk_job_seconds),
            delimiter,
            ending,
            cursor,
            error,
        )
        with self._lock:
            self._jobs[job_id] = job
        return json_response(200, self._info(job, request.params["version"]))

    def list(self, request: Request) -> Response:
        with self._lock:
            jobs = list(self._jobs.values())
        return json_response(
            200,
            {
                "done": True,
                "nextRecordsUrl": None,
                "records": [self._info(job, request.params["version"]) for job in jobs],
            },
        )

    def get(self, request: Request) -> Response:
        return json_response(200, self._info(self._job(request), request.params["version"]))

    def patch(self, request: Request) -> Response:
        job = self._job(request)
        if (request.json() or {}).get("state") != "Aborted":
            raise SfApiError(400, "INVALIDJOBSTATE", "InvalidJobState : Query jobs can only be changed to Aborted")
        with job.lock:
            if job.state(self.ctx.clock.now()) in _FINAL:
                raise SfApiError(
                    400, "INVALIDJOBSTATE", f"InvalidJobState : Job is already {job.state(self.ctx.clock.now())}"
                )
            job.aborted_at = self.ctx.clock.now()
        self._drop_cursor(job)
        return json_response(200, self._info(job, request.params["version"]))

    def delete(self, request: Request) -> Response:
        job = self._job(request)
        with self._lock:
            self._jobs.pop(job.id, None)
        self._drop_cursor(job)
        return Response(204)

    def results(self, request: Request) -> Response:
        job = self._job(request)
        state = job.state(self.ctx.clock.now())
        if state != "JobComplete" or job.cursor is None:
            if state in ("UploadComplete", "InProgress"):
                raise SfApiError(412, "JOB_NOT_COMPLETE", f"Job {job.id} is not complete; current state: {state}")
            raise SfApiError(400, "INVALIDJOBSTATE", f"InvalidJobState : Job {job.id} is in state {state}")
        offset = _decode_locator(request.arg("locator"))
        max_records = request.arg("maxRecords")
        if max_records is not None and (not max_records.isdigit() or int(max_records) < 1):
            raise SfApiError(400, "INVALIDREQUEST", f"Invalid maxRecords: {max_records}")
        cursor = job.cursor
        size = int(max_records) if max_records else max(cursor.total - offset, 0)
        end = min(offset + size, cursor.total)
        headers = {
            "Content-Type": "text/csv",
            "Sforce-NumberOfRecords": str(self.cursors.count_page(cursor, offset, end - offset)),
            "Sforce-Locator": _encode_locator(end) if end < cursor.total else "null",
        }
        lines = self._csv_lines(job, cursor, offset, end - offset)
        return Response(200, iter_lines(lines), headers)

    # -- helpers ---------------------------------------------------------------------------------------------
    def _csv_lines(self, job: BulkJob, cursor: Cursor, offset: int, size: int) -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(
            buffer,
            delimiter=_DELIMITERS[job.column_delimiter],
            lineterminator=_LINE_ENDINGS[job.line_ending],
            quoting=csv.QUOTE_MINIMAL,
        )

        def take() -> str:
            text = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            return text

        writer.writerow(csv_header(job.query))
        yield take()
        for rows in self.cursors.iter_rows(cursor, offset, size):
            for row in rows:
                writer.writerow(csv_row(job.query, row))
            yield take()

    def _job(self, request: Request) -> BulkJob:
        with self._lock:
            job = self._jobs.get(request.params["job"])
        if job is None:
            raise not_found()
        return job

    def _drop_cursor(self, job: BulkJob) -> None:
        if job.cursor is not None:
            self.cursors.close(job.cursor.locator)
            job.cursor = None

    def _info(self, job: BulkJob, version: str) -> dict[str, Any]:
        state = job.state(self.ctx.clock.now())
        done = state in ("JobComplete", "Failed")
        info: dict[str, Any] = {
            "id": job.id,
            "operation": job.operation,
            "object": job.query.obj.name,
            "createdById": INTEGRATION_USER_ID,
            "createdDate": format_datetime(job.created),
            "systemModstamp": format_datetime(job.created + timedelta(seconds=job.duration) if done else job.created),
            "state": state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(version),
            "jobType": "V2Query",
            "lineEnding": job.line_ending,
            "columnDelimiter": job.column_delimiter,
            "numberRecordsProcessed": job.cursor.total if state == "JobComplete" and job.cursor else 0,
            "retries": 0,
            "totalProcessingTime": int(job.duration * 1000) if done else 0,
        }
        if state == "Failed":
            info["errorMessage"] = job.error
        return info


def _bulk_restriction(query: CompiledQuery) -> str | None:
    """Bulk API 2.0 refuses what it cannot split into CSV chunks."""
    if query.count_only:
        return "FeatureNotEnabled : Aggregate queries are not supported by Bulk API 2.0"
    if query.uses_offset:
        return "FeatureNotEnabled : OFFSET is not supported by Bulk API 2.0"
    if query.compound_fields:
        return f"FeatureNotEnabled : Selecting compound data not supported in Bulk Query ({', '.join(query.compound_fields)})"
    return None


def _encode_locator(offset: int) -> str:
    """Real locators are the next offset in unpadded base64 ("MjAwMA" is 2000)."""
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def _decode_locator(locator: str | None) -> int:
    if not locator:
        return 0
    try:
        text = base64.b64decode(locator + "=" * (-len(locator) % 4), validate=True).decode()
        if text.isdigit():
            return int(text)
    except (binascii.Error, UnicodeDecodeError):
        pass
    raise SfApiError(400, "INVALIDLOCATOR", f"Invalid locator: {locator}")
