"""REST API handlers: versions, query/queryAll with locator paging, sObject describe/CRUD, getUpdated/getDeleted,
limits. Handlers raise SfApiError; the side's middleware turns it into Salesforce's JSON error array."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime as http_date
from email.utils import parsedate_to_datetime
from typing import Any

from sandbox.model.ids import sf_id
from sandbox.model.salesforce import SfObject, get_object
from sandbox.server.context import SandboxContext
from sandbox.server.http import Request, Response, json_response
from sandbox.server.salesforce.cursors import DEFAULT_BATCH, Cursor, CursorStore
from sandbox.server.salesforce.describe import basic_info, global_describe, object_describe
from sandbox.server.salesforce.errors import SfApiError, not_found, not_found_type
from sandbox.server.salesforce.render import full_record, query_record
from sandbox.server.salesforce.soql import compile_soql
from sandbox.server.salesforce.store import SalesforceStore, table
from sandbox.server.salesforce.values import format_datetime, parse_datetime

MIN_BATCH = 200
COLLECTION_MAX = 200  # records per sObject Collections call
UPDATED_WINDOW = timedelta(days=30)
DELETED_WINDOW = timedelta(days=15)
MAX_REPLICATION_IDS = 600_000
VERSIONS = (
    ("57.0", "Spring '23"),
    ("58.0", "Summer '23"),
    ("59.0", "Winter '24"),
    ("60.0", "Spring '24"),
    ("61.0", "Summer '24"),
    ("62.0", "Winter '25"),
)
_BATCH_RE = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)


class RestApi:
    def __init__(
        self,
        ctx: SandboxContext,
        store: SalesforceStore,
        cursors: CursorStore,
        limits: Callable[[], dict[str, Any]],
    ) -> None:
        self.ctx = ctx
        self.store = store
        self.cursors = cursors
        self._limits = limits
        self._locators = 0
        self._lock = threading.Lock()
        # The schema never changes while the sandbox runs: its last change is the org's set-up, at the anchor.
        # HTTP dates carry whole seconds, so compare at that precision.
        self.schema_changed_at = ctx.clock.anchor.astimezone(UTC).replace(microsecond=0)
        # Validation rules an admin added (control action ``validation_rule``): every API update meets them.
        self.validation_rules: list[ValidationRule] = []
        # Duplicate rules set to block on edit (control action ``duplicate_rule``).
        self.duplicate_rules: list[DuplicateRule] = []

    # -- discovery -------------------------------------------------------------------------------------------
    def versions(self, _: Request) -> Response:
        return json_response(
            200, [{"label": label, "url": f"/services/data/v{v}", "version": v} for v, label in VERSIONS]
        )

    def resources(self, request: Request) -> Response:
        base = f"/services/data/v{request.params['version']}"
        names = ("sobjects", "query", "queryAll", "limits", "jobs", "search", "recent", "tooling", "composite")
        return json_response(200, {name: f"{base}/{name}" for name in names})

    def limits(self, _: Request) -> Response:
        return json_response(200, self._limits())

    # -- SOQL ------------------------------------------------------------------------------------------------
    def query(self, request: Request) -> Response:
        return self._query(request, include_deleted=False)

    def query_all(self, request: Request) -> Response:
        return self._query(request, include_deleted=True)

    def query_more(self, request: Request) -> Response:
        cursor = self.cursors.get(request.params["locator"])
        if cursor is None:
            raise SfApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(request, cursor, int(request.params["offset"]))

    def _query(self, request: Request, include_deleted: bool) -> Response:
        soql = request.arg("q")
        if not soql:
            raise SfApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
        compiled = compile_soql(soql, self.ctx.clock.now())
        if compiled.count_only:
            sql, params = compiled.count_sql(include_deleted)
            return json_response(200, {"totalSize": int(self.ctx.db.scalar(sql, params)), "done": True, "records": []})
        with self._lock:
            self._locators += 1
            locator = sf_id("01g", self._locators)
        cursor = self.cursors.open(locator, compiled, include_deleted)
        return self._page(request, cursor, 0)

    def _page(self, request: Request, cursor: Cursor, offset: int) -> Response:
        # A page without the header keeps the batch size the query started with [?].
        size = _batch_size(request) or cursor.batch_size
        cursor.batch_size = size
        rows = self.cursors.page(cursor, offset, size)
        version = request.params["version"]
        end = offset + size
        body: dict[str, Any] = {"totalSize": cursor.total, "done": end >= cursor.total}
        if end < cursor.total:
            endpoint = "queryAll" if cursor.include_deleted else "query"
            body["nextRecordsUrl"] = f"/services/data/v{version}/{endpoint}/{cursor.locator}-{end}"
        elif offset == 0:
            self.cursors.close(cursor.locator)  # a single page needs no locator; multi-page ones idle out
        body["records"] = [query_record(cursor.query, row, version) for row in rows]
        return json_response(200, body)

    # -- sObjects --------------------------------------------------------------------------------------------
    def describe_global(self, request: Request) -> Response:
        return self._unless_unchanged(request) or json_response(
            200, global_describe(request.params["version"]), self._last_modified()
        )

    def describe(self, request: Request) -> Response:
        obj = self._object(request)
        return self._unless_unchanged(request) or json_response(
            200, object_describe(obj, request.params["version"]), self._last_modified()
        )

    def _last_modified(self) -> dict[str, str]:
        return {"Last-Modified": http_date(self.schema_changed_at, usegmt=True)}

    def _unless_unchanged(self, request: Request) -> Response | None:
        """As Salesforce answers a describe (global or of one object) sent with ``If-Modified-Since``: ``304``
        with no body when the schema has not changed since; ``None`` means "send the describe"."""
        since = _http_datetime(request.headers.get("if-modified-since", ""))
        if since is not None and since >= self.schema_changed_at:
            return Response(304, b"", self._last_modified())
        return None

    def info(self, request: Request) -> Response:
        return json_response(200, basic_info(self._object(request), request.params["version"]))

    def create(self, request: Request) -> Response:
        obj = self._object(request)
        body = _json_body(request)
        if obj.name.endswith("History"):
            raise SfApiError(400, "INVALID_TYPE_FOR_OPERATION", f"entity type {obj.name} does not support insert")
        record_id = self.store.insert_many(obj, [body], api=True)[0]
        return json_response(201, {"id": record_id, "success": True, "errors": []})

    def get_record(self, request: Request) -> Response:
        obj = self._object(request)
        row = self.store.get(obj, request.params["id"])
        if row is None:
            raise not_found()
        return json_response(200, full_record(obj, row, request.params["version"]))

    def update_record(self, request: Request) -> Response:
        obj = self._object(request)
        self._validate(obj, _json_body(request))
        self._check_duplicates(obj, request.params["id"])
        if not self.store.update(obj, request.params["id"], _json_body(request), api=True):
            raise not_found()
        return Response(204)

    def collections_update(self, request: Request) -> Response:
        """PATCH composite/sobjects: up to 200 records ``{"attributes": {"type"}, "id", field: value...}``. The
        reply is one result per record in request order; a failure names no id (match by position), as in
        Salesforce's documented replies. With ``allOrNone`` false each record stands alone; with true one
        failure rolls every record back (the others fail with ALL_OR_NONE_OPERATION_ROLLED_BACK)."""
        body = _json_body(request)
        records = body.get("records")
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise SfApiError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of sObject[] from records")
        if len(records) > COLLECTION_MAX:
            raise SfApiError(
                400,
                "EXCEEDED_ID_LIMIT",
                f"record limit reached. cannot submit more than {COLLECTION_MAX} records into this call",
            )
        checked = [self._collection_item(r) for r in records]
        if body.get("allOrNone") is True and any(isinstance(c, SfApiError) for c in checked):
            rolled = SfApiError(
                400,
                "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                "Record rolled back because not all records were valid and the request was using AllOrNone header",
                [],
            )
            return json_response(200, [_collection_error(c if isinstance(c, SfApiError) else rolled) for c in checked])
        results: list[dict[str, Any]] = []
        for item in checked:
            if isinstance(item, SfApiError):
                results.append(_collection_error(item))
                continue
            obj, record_id, fields = item
            try:
                self.store.update(obj, record_id, fields, api=True)
            except SfApiError as exc:
                results.append(_collection_error(exc))
                continue
            results.append({"id": record_id, "success": True, "errors": []})
        return json_response(200, results)

    def _collection_item(self, record: dict[str, Any]) -> tuple[SfObject, str, dict[str, Any]] | SfApiError:
        """A record of a collection, checked as an update of it would be, or the error it would fail with."""
        fields = {k: v for k, v in record.items() if k not in ("attributes", "id", "Id")}
        kind = (record.get("attributes") or {}).get("type") if isinstance(record.get("attributes"), dict) else None
        obj = get_object(kind) if isinstance(kind, str) else None
        if obj is None:
            return SfApiError(400, "INVALID_TYPE", f"Must send a concrete entity type: {kind}", [])
        record_id = str(record.get("id") or record.get("Id") or "")
        if not _RECORD_ID.fullmatch(record_id) or not record_id.startswith(obj.key_prefix):
            return SfApiError(400, "MALFORMED_ID", f"{obj.label} ID: id value of incorrect type: {record_id}", ["Id"])
        if self.store.get(obj, record_id) is None:
            if self.store.db.query(f'SELECT 1 FROM "{table(obj)}" WHERE "Id" = ?', (record_id,)):
                return SfApiError(400, "ENTITY_IS_DELETED", "entity is deleted", [])
            # [?] Salesforce's code for a well-formed id of no record.
            return SfApiError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
        try:
            self.store.check_update(obj, fields)
            self._validate(obj, fields)
            self._check_duplicates(obj, record_id)
        except SfApiError as exc:
            return exc
        return obj, record_id, fields

    def _check_duplicates(self, obj: SfObject, record_id: str) -> None:
        """A blocking duplicate rule refuses any edit of a record that matches another live record on the rule's
        field, whatever fields the edit sets (Salesforce evaluates the whole record on save)."""
        for rule in self.duplicate_rules:
            if rule.object != obj.name:
                continue
            rows = self.store.db.query(
                f'SELECT d."Id" FROM "{table(obj)}" r JOIN "{table(obj)}" d ON d."{rule.field}" = r."{rule.field}" '
                f'WHERE r."Id" = ? AND d."Id" <> r."Id" AND d."IsDeleted" = 0 ORDER BY d."Id"',
                (record_id,),
            )
            if rows:
                raise SfDuplicatesDetected(obj.name, rule.name, [str(r[0]) for r in rows])

    def _validate(self, obj: SfObject, fields: dict[str, Any]) -> None:
        for rule in self.validation_rules:
            if rule.object == obj.name and rule.field in fields and fields[rule.field] == rule.equals:
                raise SfApiError(400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", rule.message, [rule.field])

    def delete_record(self, request: Request) -> Response:
        if not self.store.soft_delete(self._object(request), request.params["id"]):
            raise not_found()
        return Response(204)

    def updated(self, request: Request) -> Response:
        obj = self._object(request)
        start, latest = self._replication_window(request, UPDATED_WINDOW)
        ids = self.store.updated_ids(obj, format_datetime(start), format_datetime(latest))
        if len(ids) > MAX_REPLICATION_IDS:
            raise SfApiError(
                400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 600000 records into this call"
            )
        return json_response(200, {"ids": ids, "latestDateCovered": format_datetime(latest)})

    def deleted(self, request: Request) -> Response:
        obj = self._object(request)
        start, latest = self._replication_window(request, DELETED_WINDOW)
        rows = self.store.deletions(obj, format_datetime(start), format_datetime(latest))
        earliest = _minute(self.ctx.clock.now() - DELETED_WINDOW)
        return json_response(
            200,
            {
                "deletedRecords": [{"id": record_id, "deletedDate": when} for record_id, when in rows],
                "earliestDateAvailable": format_datetime(earliest),
                "latestDateCovered": format_datetime(latest),
            },
        )

    # -- helpers ---------------------------------------------------------------------------------------------
    def _object(self, request: Request) -> SfObject:
        obj = get_object(request.params["object"])
        if obj is None:
            raise not_found_type(request.params["object"])
        return obj

    def _replication_window(self, request: Request, window: timedelta) -> tuple[datetime, datetime]:
        """(start, latestDateCovered): seconds are dropped, as Salesforce works at minute resolution; the
        window ends at the requested end or now, whichever is earlier."""
        raw_start, raw_end = request.arg("start"), request.arg("end")
        if not raw_start or not raw_end:
            raise SfApiError(400, "MISSING_ARGUMENT", "start and end parameters are required")
        try:
            # An unencoded "+" in the query string arrives as a space.
            start, end = (_minute(parse_datetime(v.replace(" ", "+"))) for v in (raw_start, raw_end))
        except ValueError as exc:
            raise SfApiError(400, "INVALID_REPLICATION_DATE", str(exc)) from exc
        now = self.ctx.clock.now()
        if end < start:
            raise SfApiError(400, "INVALID_REPLICATION_DATE", "startDate must chronologically precede endDate")
        if start < _minute(now - window):
            raise SfApiError(
                400,
                "INVALID_REPLICATION_DATE",
                f"startDate cannot be more than {window.days} days ago",
            )
        return start, min(end, _minute(now))


_RECORD_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")


@dataclass(frozen=True)
class ValidationRule:
    """Fails an update that sets ``field`` of ``object`` to ``equals``, with ``message`` (an admin's rule)."""

    object: str
    field: str
    equals: Any
    message: str


@dataclass(frozen=True)
class DuplicateRule:
    """Blocks edits of a record whose ``field`` equals another live record's (a matching rule on one field)."""

    object: str
    field: str
    name: str


class SfDuplicatesDetected(SfApiError):
    """DUPLICATES_DETECTED, with the ``duplicateResult`` a save error carries: the rule and the matching ids."""

    def __init__(self, obj: str, rule: str, matches: list[str]) -> None:
        super().__init__(400, "DUPLICATES_DETECTED", "Use one of these records?", [])
        self.duplicate_result = {
            "allowSave": False,
            "duplicateRule": rule,
            "duplicateRuleEntityType": obj,
            "errorMessage": None,
            "matchResults": [
                {
                    "entityType": obj,
                    "errors": [],
                    "matchEngine": "ExactMatchEngine",
                    "matchRecords": [
                        {"additionalInformation": [], "fieldDiffs": [], "matchConfidence": 100.0, "record": {"Id": i}}
                        for i in matches
                    ],
                    "rule": f"{rule}_Matching_Rule",
                    "size": len(matches),
                    "success": True,
                }
            ],
        }


def _collection_error(exc: SfApiError) -> dict[str, Any]:
    error: dict[str, Any] = {"statusCode": exc.code, "message": exc.message, "fields": exc.fields or []}
    if isinstance(exc, SfDuplicatesDetected):
        error["duplicateResult"] = exc.duplicate_result
    return {"success": False, "errors": [error]}


def _http_datetime(value: str) -> datetime | None:
    """An HTTP date; an unparseable one is ignored, as servers do, and the full reply is sent."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).astimezone(UTC)
    except (TypeError, ValueError):
        return None


def _minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


def _batch_size(request: Request) -> int | None:
    """``Sforce-Query-Options: batchSize=N`` is a hint: clamped to 200–2,000 as Salesforce does."""
    m = _BATCH_RE.search(request.headers.get("sforce-query-options", ""))
    return None if not m else max(MIN_BATCH, min(DEFAULT_BATCH, int(m.group(1))))


def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise SfApiError(400, "JSON_PARSER_ERROR", f"Unexpected character in request body: {exc}") from exc
    if not isinstance(body, dict):
        raise SfApiError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of sObject from the request body")
    return body
