"""The Salesforce side of the sandbox: routes, the per-call middleware (auth, limits, faults) and control actions.

Fault mapping [?]: Salesforce never answers 429. Its transient throttle is the concurrent long-running request
limit, answered 403 REQUEST_LIMIT_EXCEEDED ("ConcurrentPerOrgLongTxn Limit exceeded."), so ``faults.rate_429``
produces exactly that; ``rate_5xx`` produces 503 SERVER_UNAVAILABLE. Both carry ``Sforce-Limit-Info``.
"""

from __future__ import annotations

import random
import threading
from datetime import date, timedelta
from typing import Any

from sandbox.model.dataset import DatasetChunk
from sandbox.model.salesforce import SfField, SfObject, get_object
from sandbox.server.context import SandboxContext
from sandbox.server.http import Handler, Request, Response, Route, Router
from sandbox.server.salesforce.api import DuplicateRule, RestApi, ValidationRule
from sandbox.server.salesforce.auth import AuthEndpoints, SessionStore
from sandbox.server.salesforce.bulk import BulkQueryJobs
from sandbox.server.salesforce.bulk1 import Bulk1Error, Bulk1Jobs, error_response
from sandbox.server.salesforce.cursors import CursorStore
from sandbox.server.salesforce.errors import SfApiError, invalid_session
from sandbox.server.salesforce.store import SalesforceStore

_V = r"/services/data/v(?P<version>\d+\.\d+)"
_ID = r"(?P<id>[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?)"
_OBJ = r"(?P<object>[A-Za-z][A-Za-z0-9_]*)"
_ASYNC = r"/services/async/(?P<version>\d+\.\d+)"
_OPEN_ROUTES = {"oauth_token", "soap_login", "versions"}
DAILY_BULK_QUERY_JOBS = 10_000


class SalesforceSide:
    label = "salesforce"

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.store = SalesforceStore(ctx.db, ctx.clock)
        self.cursors = CursorStore(ctx.db, ctx.clock)
        self.sessions = SessionStore(ctx)
        self.auth = AuthEndpoints(ctx, self.sessions)
        self.bulk = BulkQueryJobs(ctx, self.cursors)
        self.bulk1 = Bulk1Jobs(ctx, self.cursors)
        self.api = RestApi(ctx, self.store, self.cursors, self.limits)
        self._usage_day: date | None = None
        self._usage = 0
        self._lock = threading.Lock()
        self._rng = random.Random(0)

    # -- CrmSide ---------------------------------------------------------------------------------------------
    def create_schema(self) -> None:
        self.store.create_schema()
        self.cursors.create_schema()

    def load(self, chunk: DatasetChunk) -> None:
        for name, rows in chunk.salesforce.records.items():
            self.store.insert_many(self._object(name), rows)

    def record_counts(self) -> dict[str, int]:
        return self.store.counts()

    def router(self) -> Router:
        r, api, bulk = Router(), self.api, self.bulk
        r.add("POST", r"/services/oauth2/token", "oauth_token", self.auth.token)
        r.add("POST", r"/services/Soap/u/(?P<version>\d+\.\d+)(?:/.*)?", "soap_login", self.auth.soap_login)
        r.add("GET", r"/services/data/?", "versions", api.versions)
        r.add("GET", _V + "/?", "resources", api.resources)
        r.add("GET", _V + "/limits/?", "limits", api.limits)
        r.add("GET", _V + "/query/?", "query", api.query)
        r.add("GET", _V + "/queryAll/?", "query_all", api.query_all)
        r.add(
            "GET",
            _V + r"/(?:query|queryAll)/(?P<locator>01g[A-Za-z0-9]+)-(?P<offset>\d+)",
            "query_more",
            api.query_more,
        )
        r.add("GET", _V + "/sobjects/?", "describe_global", api.describe_global)
        r.add("GET", _V + f"/sobjects/{_OBJ}/describe/?", "describe", api.describe)
        r.add("GET", _V + f"/sobjects/{_OBJ}/updated/?", "get_updated", api.updated)
        r.add("GET", _V + f"/sobjects/{_OBJ}/deleted/?", "get_deleted", api.deleted)
        r.add("GET", _V + f"/sobjects/{_OBJ}/?", "sobject_info", api.info)
        r.add("POST", _V + f"/sobjects/{_OBJ}/?", "sobject_create", api.create)
        r.add("GET", _V + f"/sobjects/{_OBJ}/{_ID}", "sobject_get", api.get_record)
        r.add("PATCH", _V + f"/sobjects/{_OBJ}/{_ID}", "sobject_update", api.update_record)
        r.add("DELETE", _V + f"/sobjects/{_OBJ}/{_ID}", "sobject_delete", api.delete_record)
        r.add("PATCH", _V + "/composite/sobjects/?", "collections_update", api.collections_update)
        r.add("POST", _V + "/jobs/query/?", "bulk_create", bulk.create)
        r.add("GET", _V + "/jobs/query/?", "bulk_list", bulk.list)
        r.add("GET", _V + r"/jobs/query/(?P<job>750[A-Za-z0-9]+)/?", "bulk_get", bulk.get)
        r.add("PATCH", _V + r"/jobs/query/(?P<job>750[A-Za-z0-9]+)/?", "bulk_abort", bulk.patch)
        r.add("DELETE", _V + r"/jobs/query/(?P<job>750[A-Za-z0-9]+)/?", "bulk_delete", bulk.delete)
        r.add("GET", _V + r"/jobs/query/(?P<job>750[A-Za-z0-9]+)/results/?", "bulk_results", bulk.results)
        b1, job, batch = self.bulk1, _ASYNC + r"/job/(?P<job>750[A-Za-z0-9]+)", r"/batch/(?P<batch>751[A-Za-z0-9]+)"
        r.add("POST", _ASYNC + r"/job/?", "bulk1_job_create", _bulk1(b1.create_job))
        r.add("GET", job + "/?", "bulk1_job_get", _bulk1(b1.get_job))
        r.add("POST", job + "/?", "bulk1_job_update", _bulk1(b1.update_job))
        r.add("POST", job + "/batch/?", "bulk1_batch_add", _bulk1(b1.add_batch))
        r.add("GET", job + "/batch/?", "bulk1_batch_list", _bulk1(b1.list_batches))
        r.add("GET", job + batch + "/?", "bulk1_batch_get", _bulk1(b1.get_batch))
        r.add("GET", job + batch + "/result/?", "bulk1_result_list", _bulk1(b1.result_list))
        r.add("GET", job + batch + r"/result/(?P<result>752[A-Za-z0-9]+)", "bulk1_result", _bulk1(b1.result))
        return r

    def not_found(self, request: Request, path_known: bool) -> Response:
        if path_known:
            return SfApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{request.method}' not allowed.").response()
        return SfApiError(404, "NOT_FOUND", "The requested resource does not exist").response()

    def internal_error(self, request: Request, exc: Exception) -> Response:
        return SfApiError(
            500, "UNKNOWN_EXCEPTION", f"An unexpected error occurred: {type(exc).__name__}: {exc}"
        ).response()

    def middleware(self, request: Request, route: Route, handler: Handler) -> Response:
        faults = self.ctx.faults
        faults.delay()
        if route.name in _OPEN_ROUTES:
            return self._call(handler, request)
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if route.name.startswith("bulk1_"):
            # Bulk API 1.0 takes the session in X-SFDC-Session (a bearer header works too) and answers in its own
            # error shape.
            token = request.headers.get("x-sfdc-session", "").strip() or token
            if not token or self.sessions.use(token, route.name) is None:
                return error_response(Bulk1Error(400, "InvalidSessionId", "Invalid session id"), request)
        elif not token or self.sessions.use(token, route.name) is None:
            return invalid_session().response()
        used, limit = self._count_call()
        headers = {"Sforce-Limit-Info": f"api-usage={used}/{limit}"}
        if used > limit:
            return SfApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.").response(headers)
        if faults.roll(faults.settings.rate_5xx):
            return SfApiError(503, "SERVER_UNAVAILABLE", "Server unavailable").response(headers)
        if faults.roll(faults.settings.rate_429):
            return SfApiError(403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.").response(
                headers
            )
        response = self._call(handler, request)
        response.headers.setdefault("Sforce-Limit-Info", headers["Sforce-Limit-Info"])
        if faults.roll(faults.settings.truncate_rate):
            response.truncate = True
        return response

    def limits(self) -> dict[str, Any]:
        with self._lock:
            used = self._usage
        limit = self.ctx.faults.settings.sf_daily_api_limit
        bulk_used = self.bulk.created_today

        def pair(maximum: int, remaining: int) -> dict[str, int]:
            return {"Max": maximum, "Remaining": max(remaining, 0)}

        return {
            "ConcurrentAsyncGetReportInstances": pair(200, 200),
            "DailyApiRequests": pair(limit, limit - used),
            "DailyAsyncApexExecutions": pair(250_000, 250_000),
            "DailyBulkApiBatches": pair(15_000, 15_000),
            "DailyBulkV2QueryFileStorageMB": pair(976_562, 976_562),
            "DailyBulkV2QueryJobs": pair(DAILY_BULK_QUERY_JOBS, DAILY_BULK_QUERY_JOBS - bulk_used),
            "DataStorageMB": pair(1_024, 1_024),
            "HourlyODataCallout": pair(10_000, 10_000),
        }

    # -- control ---------------------------------------------------------------------------------------------
    def control(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        actions = {
            "modify_random": self._modify_random,
            "delete_random": self._delete_random,
            "purge_random": self._purge_random,
            "late_commit": self._late_commit,
            "expire_sessions": self._expire_sessions,
            "insert": self._insert,
            "update": self._update,
            "validation_rule": self._validation_rule,
            "duplicate_rule": self._duplicate_rule,
        }
        if action not in actions:
            raise KeyError(action)
        return actions[action](payload)

    def _modify_random(self, payload: dict[str, Any]) -> dict[str, Any]:
        obj, rng = self._object(payload.get("object")), self._rng_for(payload)
        ids = self.store.sample_ids(obj, _count(payload), rng)
        field = _business_field(obj)
        for record_id in ids:
            self.store.update(obj, record_id, {field.name: self._new_value(obj, field, record_id, rng)})
        return {"object": obj.name, "field": field.name, "ids": ids}

    def _late_commit(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Rows committed now but stamped ``minutes`` ago: a long transaction seen only after it commits."""
        obj, rng = self._object(payload.get("object")), self._rng_for(payload)
        minutes = payload.get("minutes")
        if not isinstance(minutes, (int, float)) or minutes <= 0:
            raise ValueError("late_commit needs a positive number of minutes")
        stamp = self.ctx.clock.now() - timedelta(minutes=minutes)
        ids = self.store.sample_ids(obj, _count(payload), rng)
        field = _business_field(obj)
        for record_id in ids:
            self.store.update(obj, record_id, {field.name: self._new_value(obj, field, record_id, rng)}, stamp=stamp)
        return {"object": obj.name, "field": field.name, "ids": ids, "stamped": stamp.isoformat()}

    def _delete_random(self, payload: dict[str, Any]) -> dict[str, Any]:
        obj = self._object(payload.get("object"))
        ids = self.store.sample_ids(obj, _count(payload), self._rng_for(payload))
        return {"object": obj.name, "ids": [i for i in ids if self.store.soft_delete(obj, i)]}

    def _purge_random(self, payload: dict[str, Any]) -> dict[str, Any]:
        obj = self._object(payload.get("object"))
        ids = self.store.sample_ids(obj, _count(payload), self._rng_for(payload))
        return {"object": obj.name, "ids": [i for i in ids if self.store.purge(obj, i)]}

    def _expire_sessions(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Now, or with ``on_route`` (a route name, e.g. ``query_more``) when the ``nth`` (default 1) next request
        on it arrives."""
        route = payload.get("on_route")
        if route is None:
            return {"expired": self.sessions.expire_all()}
        nth = payload.get("nth", 1)
        if not isinstance(route, str) or not isinstance(nth, int):
            raise ValueError("expire_sessions takes 'on_route' (a route name) and 'nth' (an integer)")
        self.sessions.expire_on(route, nth)
        return {"armed": route, "nth": nth}

    def _insert(self, payload: dict[str, Any]) -> dict[str, Any]:
        obj, records = self._object(payload.get("object")), payload.get("records")
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise ValueError("insert needs 'records': a list of objects")
        return {"object": obj.name, "ids": self.store.insert_many(obj, records)}

    def _update(self, payload: dict[str, Any]) -> dict[str, Any]:
        obj, record_id, fields = self._object(payload.get("object")), payload.get("id"), payload.get("fields")
        if not isinstance(record_id, str) or not isinstance(fields, dict):
            raise ValueError("update needs 'id' (string) and 'fields' (object)")
        if not self.store.update(obj, record_id, fields):
            raise ValueError(f"no live {obj.name} with id {record_id}")
        return {"object": obj.name, "ids": [record_id]}

    def _validation_rule(self, payload: dict[str, Any]) -> dict[str, Any]:
        """An admin's validation rule: updates setting ``field`` of ``object`` to ``equals`` fail with ``message``."""
        obj, name, message = self._object(payload.get("object")), payload.get("field"), payload.get("message")
        if not isinstance(name, str) or obj.field(name) is None or not isinstance(message, str):
            raise ValueError("validation_rule needs 'object', 'field' (one of its fields), 'equals' and 'message'")
        self.api.validation_rules.append(ValidationRule(obj.name, name, payload.get("equals"), message))
        return {"object": obj.name, "field": name, "rules": len(self.api.validation_rules)}

    def _duplicate_rule(self, payload: dict[str, Any]) -> dict[str, Any]:
        """An admin's duplicate rule blocking edits: a record matching another live one on ``field`` of ``object``
        can no longer be saved through the API (DUPLICATES_DETECTED)."""
        obj, name = self._object(payload.get("object")), payload.get("field")
        if not isinstance(name, str) or obj.field(name) is None:
            raise ValueError("duplicate_rule needs 'object' and 'field' (one of its fields)")
        rule = str(payload.get("name") or f"Standard_{obj.name}_Duplicate_Rule")
        self.api.duplicate_rules.append(DuplicateRule(obj.name, name, rule))
        return {"object": obj.name, "field": name, "rule": rule}

    # -- helpers ---------------------------------------------------------------------------------------------
    def _call(self, handler: Handler, request: Request) -> Response:
        try:
            return handler(request)
        except SfApiError as exc:
            return exc.response()

    def _count_call(self) -> tuple[int, int]:
        """Usage resets when the sandbox clock crosses midnight UTC (a rolling 24 h window in reality [?])."""
        today = self.ctx.clock.now().date()
        with self._lock:
            if today != self._usage_day:
                self._usage_day, self._usage = today, 0
                self.bulk.created_today = 0
            self._usage += 1
            return self._usage, self.ctx.faults.settings.sf_daily_api_limit

    def _rng_for(self, payload: dict[str, Any]) -> random.Random:
        seed = payload.get("seed")
        return random.Random(seed) if seed is not None else self._rng

    @staticmethod
    def _object(name: object) -> SfObject:
        obj = get_object(name) if isinstance(name, str) else None
        if obj is None:
            raise ValueError(f"unknown Salesforce object: {name!r}")
        return obj

    def _new_value(self, obj: SfObject, field: SfField, record_id: str, rng: random.Random) -> Any:
        row = self.store.get(obj, record_id)
        current = row[field.name] if row is not None else None
        if field.picklist:
            return rng.choice([v for v in field.picklist if v != current] or list(field.picklist))
        if field.type in ("double", "currency", "percent", "int"):
            return (current or 0) + 1
        return f"{current or ''} (edited)".strip()


def _business_field(obj: SfObject) -> SfField:
    """The field random modifications touch: the first updatable picklist, else the first updatable text field."""
    candidates = [f for f in obj.fields if f.updateable and f.createable and not f.reference_to and f.name != "Id"]
    for kinds in (("picklist",), ("string", "double", "currency", "int")):
        for f in candidates:
            if f.type in kinds:
                return f
    raise ValueError(f"{obj.name} has no field that random modifications can change")


def _count(payload: dict[str, Any]) -> int:
    n = payload.get("n", 1)
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError("'n' must be a non-negative integer")
    return n


def _bulk1(handler: Handler) -> Handler:
    def run(request: Request) -> Response:
        try:
            return handler(request)
        except Bulk1Error as exc:
            return error_response(exc, request)

    return run
