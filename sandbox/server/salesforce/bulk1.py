"""Bulk API 1.0 query jobs (``/services/async/{version}/job``): create a job, add a SOQL batch, poll batches,
list and download results, close the job. tap-salesforce and many production tools still read this way.

Formats as the real API answers them: the job's ``contentType`` (CSV, XML or JSON) decides whether batch and
result-list replies are XML or JSON, and job replies follow the request's own Content-Type (JSON when it is
``application/json``). Errors are ``{"exceptionCode","exceptionMessage"}`` (or the ``<error>`` element).
``Sforce-Enable-PKChunking: true; chunkSize=N`` splits the query into one batch per N records (the original
batch then reads "Not Processed"), as Salesforce does. Batches walk Queued → InProgress → Completed over
``faults.bulk_job_seconds``; ``faults.bulk_fail_next`` fails the next batches.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

from sandbox.model.ids import sf_id
from sandbox.server.context import SandboxContext
from sandbox.server.http import Request, Response, iter_lines
from sandbox.server.salesforce.cursors import Cursor, CursorStore
from sandbox.server.salesforce.errors import SfApiError
from sandbox.server.salesforce.render import csv_header, csv_row
from sandbox.server.salesforce.soql import compile_soql
from sandbox.server.salesforce.store import INTEGRATION_USER_ID
from sandbox.server.salesforce.values import format_datetime

NS = "http://www.force.com/2009/06/asyncapi/dataload"
MAX_CHUNK_SIZE = 250_000
DEFAULT_CHUNK_SIZE = 100_000
_CHUNK_RE = re.compile(r"chunkSize\s*=\s*(\d+)", re.IGNORECASE)


class Bulk1Error(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Batch:
    id: str
    created: datetime
    duration: float
    cursor: Cursor | None  # None: the PK-chunked original batch, or a failed one
    offset: int = 0
    size: int = 0
    error: str | None = None
    not_processed: bool = False

    def state(self, now: datetime) -> str:
        if self.not_processed:
            return "Not Processed"
        elapsed = (now - self.created).total_seconds()
        if elapsed < self.duration / 3:
            return "Queued"
        if elapsed < self.duration:
            return "InProgress"
        return "Failed" if self.error else "Completed"


@dataclass
class Job:
    id: str
    operation: str
    object: str
    content_type: str
    created: datetime
    chunk_size: int | None
    version: str
    state: str = "Open"
    batches: list[Batch] = field(default_factory=list)


class Bulk1Jobs:
    def __init__(self, ctx: SandboxContext, cursors: CursorStore) -> None:
        self.ctx = ctx
        self.cursors = cursors
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._serial = 0

    # -- handlers --------------------------------------------------------------------------------------------
    def create_job(self, request: Request) -> Response:
        spec = _parse_body(request)
        operation, obj = spec.get("operation"), spec.get("object")
        content_type = str(spec.get("contentType") or "XML").upper()
        if operation not in ("query", "queryAll"):
            raise Bulk1Error(400, "InvalidJob", f"Invalid operation for a query job: {operation}")
        if not isinstance(obj, str) or not obj:
            raise Bulk1Error(400, "InvalidJob", "object is required")
        if content_type not in ("CSV", "XML", "JSON"):
            raise Bulk1Error(400, "InvalidJob", f"Invalid content type: {content_type}")
        job = Job(
            self._next("750"),
            operation,
            obj,
            content_type,
            self.ctx.clock.now(),
            _chunk_size(request),
            request.params["version"],
        )
        with self._lock:
            self._jobs[job.id] = job
        return self._job_reply(request, job, 201)

    def get_job(self, request: Request) -> Response:
        return self._job_reply(request, self._job(request), 200)

    def update_job(self, request: Request) -> Response:
        job = self._job(request)
        state = _parse_body(request).get("state")
        if state not in ("Closed", "Aborted"):
            raise Bulk1Error(400, "InvalidJobState", f"Invalid state for a job update: {state}")
        job.state = state
        return self._job_reply(request, job, 200)

    def add_batch(self, request: Request) -> Response:
        job = self._job(request)
        if job.state != "Open":
            raise Bulk1Error(400, "InvalidJobState", f"Job {job.id} is {job.state}: no batches can be added")
        soql = request.body.decode("utf-8").strip()
        if not soql:
            raise Bulk1Error(400, "InvalidBatch", "The batch holds no query")
        try:
            query = compile_soql(soql, self.ctx.clock.now())
        except SfApiError as exc:
            # SOQL errors surface as InvalidBatch, as Bulk 1.0 reports them.
            raise Bulk1Error(400, "InvalidBatch", f"Failed to process query: {exc.code}: {exc.message}") from None
        if query.obj.name.lower() != job.object.lower():
            raise Bulk1Error(400, "InvalidBatch", f"The query is on {query.obj.name}, the job on {job.object}")
        faults, now = self.ctx.faults, self.ctx.clock.now()
        duration = float(faults.settings.bulk_job_seconds)
        error = None
        if query.count_only:
            error = "InvalidBatch : Failed to process query: Aggregate Relationships not supported in Bulk Query"
        elif query.compound_fields:
            # As real batches fail on compound fields (Address, Location), not the job.
            fields = ", ".join(query.compound_fields)
            error = f"InvalidBatch : Failed to process query: FUNCTIONALITY_NOT_ENABLED: Selecting compound data not supported in Bulk Query ({fields})"
        if error is None and faults.settings.bulk_fail_next > 0:
            faults.update(bulk_fail_next=faults.settings.bulk_fail_next - 1)
            error = "InternalServerError : Failed to process query (sandbox fault: bulk_fail_next)"
        batch_id = self._next("751")
        cursor = None if error else self.cursors.open(batch_id, query, job.operation == "queryAll", expires=False)
        first = Batch(batch_id, now, duration, cursor, 0, cursor.total if cursor else 0, error)
        batches = [first]
        if job.chunk_size and cursor is not None:
            # PK chunking: the submitted batch is not processed; one batch per chunk of the Id-ordered snapshot.
            first.not_processed = True
            batches += [
                Batch(self._next("751"), now, duration, cursor, start, min(job.chunk_size, cursor.total - start))
                for start in range(0, cursor.total, job.chunk_size)
            ]
        job.batches.extend(batches)
        return self._batch_reply(job, self._batch_info(job, first), 201)

    def list_batches(self, request: Request) -> Response:
        job = self._job(request)
        infos = [self._batch_info(job, b) for b in job.batches]
        if _json_job(job):
            return _json(200, {"batchInfo": infos})
        inner = "".join(_xml_element("batchInfo", info, top=False) for info in infos)
        return _xml(200, f'<batchInfoList xmlns="{NS}">{inner}</batchInfoList>')

    def get_batch(self, request: Request) -> Response:
        job = self._job(request)
        return self._batch_reply(job, self._batch_info(job, self._batch(job, request)), 200)

    def result_list(self, request: Request) -> Response:
        job = self._job(request)
        batch = self._completed(job, request)
        result_id = _result_id(batch)
        if _json_job(job):
            return _json(200, [result_id])
        return _xml(200, f'<result-list xmlns="{NS}"><result>{result_id}</result></result-list>')

    def result(self, request: Request) -> Response:
        job = self._job(request)
        batch = self._completed(job, request)
        if request.params["result"] != _result_id(batch):
            raise Bulk1Error(404, "InvalidBatch", f"Unknown result {request.params['result']}")
        assert batch.cursor is not None
        if job.content_type == "CSV":
            return Response(200, iter_lines(self._csv(batch)), {"Content-Type": "text/csv"})
        rows = [
            {
                "attributes": {"type": batch.cursor.query.obj.name},
                **dict(zip(csv_header(batch.cursor.query), r, strict=True)),
            }
            for page in self.cursors.iter_rows(batch.cursor, batch.offset, batch.size)
            for r in (csv_row(batch.cursor.query, row) for row in page)
        ]
        if job.content_type == "JSON":
            return _json(200, rows)
        records = "".join(
            '<records xsi:type="sObject">'
            + "".join(
                f"<{k}>{escape(str(v))}</{k}>" if v != "" else f'<{k} xsi:nil="true"/>'
                for k, v in r.items()
                if k != "attributes"
            )
            + "</records>"
            for r in rows
        )
        return _xml(
            200,
            f'<queryResult xmlns="{NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{records}</queryResult>',
        )

    # -- helpers ---------------------------------------------------------------------------------------------
    def _csv(self, batch: Batch) -> Iterator[str]:
        assert batch.cursor is not None
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)

        def take() -> str:
            text = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            return text

        writer.writerow(csv_header(batch.cursor.query))
        yield take()
        for rows in self.cursors.iter_rows(batch.cursor, batch.offset, batch.size):
            for row in rows:
                writer.writerow(csv_row(batch.cursor.query, row))
            yield take()

    def _next(self, prefix: str) -> str:
        with self._lock:
            self._serial += 1
            return sf_id(prefix, self._serial)

    def _job(self, request: Request) -> Job:
        with self._lock:
            job = self._jobs.get(request.params["job"])
        if job is None:
            raise Bulk1Error(400, "InvalidJob", f"Unable to find job {request.params['job']}")
        return job

    def _batch(self, job: Job, request: Request) -> Batch:
        for batch in job.batches:
            if batch.id == request.params["batch"]:
                return batch
        raise Bulk1Error(400, "InvalidBatch", f"Unable to find batch {request.params['batch']} in job {job.id}")

    def _completed(self, job: Job, request: Request) -> Batch:
        batch = self._batch(job, request)
        state = batch.state(self.ctx.clock.now())
        if state != "Completed" or batch.cursor is None:
            raise Bulk1Error(400, "InvalidBatch", f"Batch {batch.id} is {state}: results are not available")
        return batch

    def _batch_info(self, job: Job, batch: Batch) -> dict[str, Any]:
        now = self.ctx.clock.now()
        state = batch.state(now)
        done = state in ("Completed", "Failed")
        info: dict[str, Any] = {"id": batch.id, "jobId": job.id, "state": state}
        if state == "Failed":
            info["stateMessage"] = batch.error
        elif state == "Not Processed":
            info["stateMessage"] = "The batch will not be processed: the job uses PK chunking"
        stamp = batch.created + timedelta(seconds=batch.duration) if done else batch.created
        info.update(
            createdDate=_bulk_datetime(batch.created),
            systemModstamp=_bulk_datetime(stamp),
            numberRecordsProcessed=batch.size if state == "Completed" else 0,
            numberRecordsFailed=0,
            totalProcessingTime=int(batch.duration * 1000) if done else 0,
            apiActiveProcessingTime=int(batch.duration * 1000) if done else 0,
            apexProcessingTime=0,
        )
        return info

    def _job_info(self, job: Job) -> dict[str, Any]:
        now = self.ctx.clock.now()
        states = [b.state(now) for b in job.batches if not b.not_processed]
        return {
            "id": job.id,
            "operation": job.operation,
            "object": job.object,
            "createdById": INTEGRATION_USER_ID,
            "createdDate": _bulk_datetime(job.created),
            "systemModstamp": _bulk_datetime(job.created),
            "state": job.state,
            "concurrencyMode": "Parallel",
            "contentType": job.content_type,
            "numberBatchesQueued": states.count("Queued"),
            "numberBatchesInProgress": states.count("InProgress"),
            "numberBatchesCompleted": states.count("Completed"),
            "numberBatchesFailed": states.count("Failed"),
            "numberBatchesTotal": len(job.batches),
            "numberRecordsProcessed": sum(
                b.size for b in job.batches if not b.not_processed and b.state(now) == "Completed"
            ),
            "numberRetries": 0,
            "apiVersion": float(job.version),
            "numberRecordsFailed": 0,
            "totalProcessingTime": 0,
            "apiActiveProcessingTime": 0,
            "apexProcessingTime": 0,
        }

    def _job_reply(self, request: Request, job: Job, status: int) -> Response:
        """Job replies follow the request's Content-Type: JSON for ``application/json``, else XML."""
        if _wants_json(request):
            return _json(status, self._job_info(job))
        return _xml(status, _xml_element("jobInfo", self._job_info(job), top=True))

    def _batch_reply(self, job: Job, info: dict[str, Any], status: int) -> Response:
        """Batch replies follow the job's content type: JSON for JSON jobs, XML for CSV and XML jobs."""
        if _json_job(job):
            return _json(status, info)
        return _xml(status, _xml_element("batchInfo", info, top=True))


def error_response(exc: Bulk1Error, request: Request) -> Response:
    if _wants_json(request):
        return _json(exc.status, {"exceptionCode": exc.code, "exceptionMessage": exc.message})
    body = f'<error xmlns="{NS}"><exceptionCode>{exc.code}</exceptionCode><exceptionMessage>{escape(exc.message)}</exceptionMessage></error>'
    return _xml(exc.status, body)


def _wants_json(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith("application/json")


def _json_job(job: Job) -> bool:
    return job.content_type == "JSON"


def _parse_body(request: Request) -> dict[str, Any]:
    text = request.body.decode("utf-8") if request.body else ""
    if not text.strip():
        return {}
    if _wants_json(request):
        try:
            body = json.loads(text)
        except ValueError as exc:
            raise Bulk1Error(400, "InvalidJob", f"Unable to parse the job: {exc}") from None
        return body if isinstance(body, dict) else {}
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise Bulk1Error(400, "InvalidXML", f"Unable to parse the job: {exc}") from None
    return {el.tag.rsplit("}", 1)[-1]: (el.text or "").strip() for el in root}


def _chunk_size(request: Request) -> int | None:
    """``Sforce-Enable-PKChunking: true`` or ``true; chunkSize=N`` (also ``chunkSize=N`` alone); else None."""
    header = request.headers.get("sforce-enable-pkchunking", "").strip()
    m = _CHUNK_RE.search(header)
    if header.split(";")[0].strip().lower() != "true" and m is None:
        return None
    size = int(m.group(1)) if m else DEFAULT_CHUNK_SIZE
    if not 0 < size <= MAX_CHUNK_SIZE:
        raise Bulk1Error(400, "InvalidJob", f"chunkSize must be between 1 and {MAX_CHUNK_SIZE}")
    return size


def _result_id(batch: Batch) -> str:
    return "752" + batch.id[3:]


def _bulk_datetime(value: datetime) -> str:
    """Bulk 1.0 stamps jobs as ``2024-01-01T00:00:00.000Z``."""
    return format_datetime(value).replace("+0000", "Z")


def _xml_element(tag: str, info: dict[str, Any], top: bool) -> str:
    inner = "".join(f"<{k}>{escape(_xml_value(v))}</{k}>" for k, v in info.items() if v is not None)
    xmlns = f' xmlns="{NS}"' if top else ""
    return f"<{tag}{xmlns}>{inner}</{tag}>"


def _xml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _json(status: int, payload: Any) -> Response:
    return Response(status, json.dumps(payload).encode(), {"Content-Type": "application/json"})


def _xml(status: int, body: str) -> Response:
    return Response(
        status, ('<?xml version="1.0" encoding="UTF-8"?>' + body).encode(), {"Content-Type": "application/xml"}
    )
