"""HubSpot's legacy read endpoints (companies v2, deals v1, engagements v1, pipelines, properties v1/v2) and the
custom-object schema list, on the same store, clock, rate limits and faults as v3.

Connectors that nobody here wrote still read these: tap-hubspot takes companies from ``/companies/v2``, deals
from ``/deals/v1`` and engagements from ``/engagements/v1``; airbyte-source-hubspot discovers properties through
``/properties/v2`` and pipelines through ``/crm-pipelines/v1``. Each endpoint pages its own way (``has-more`` and
a record-id ``offset`` for companies, ``hasMore``/``offset`` for deals and engagements).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sandbox.model.hubspot import ENGAGEMENT_TYPES, LAST_MODIFIED_PROPERTY, PROPERTIES
from sandbox.server.context import SandboxContext
from sandbox.server.http import Request, Response, Router, json_response
from sandbox.server.hubspot import legacy_render as render
from sandbox.server.hubspot.api import (
    ASSOC_BATCH_MAX_INPUTS,
    _batch_error,
    _bool_arg,
    _guard,
    _inputs,
    _int_arg,
    _json_object,
    _object_type,
)
from sandbox.server.hubspot.errors import HubSpotError, validation_error
from sandbox.server.hubspot.render import property_definition as v3_property
from sandbox.server.hubspot.store import LIVE, HubSpotStore, col, table
from sandbox.server.hubspot.values import iso_ms

PAGED_DEFAULT_LIMIT, PAGED_MAX_LIMIT = 100, 250  # companies, deals and engagements /paged
RECENT_DEFAULT_COUNT, RECENT_MAX_COUNT = 20, 100
RECENT_MAX_OFFSET = 10_000  # the recent-engagements endpoint serves the 10,000 most recent only
MODIFIED_AFTER_MAX_LIMIT = 250  # [?] not documented; tap-hubspot asks for 190 by default
# Standard objects every portal has but the sandbox holds none of: their properties exist, their lists are empty.
EMPTY_OBJECTS = (
    "tickets",
    "products",
    "line_items",
    "quotes",
    "deal_splits",
    "leads",
    "goal_targets",
    "feedback_submissions",
    "forms",
)
_EMPTY = "|".join(f"{t}|{t[:-1]}" for t in EMPTY_OBJECTS)


_SYSTEM = tuple(p for p in PROPERTIES["deals"] if p.group == "system")


class LegacyApi:
    def __init__(self, ctx: SandboxContext, store: HubSpotStore, portal_created_ms: int) -> None:
        self.ctx = ctx
        self.store = store
        self.portal_id = ctx.credentials.hs_portal_id
        self.created_ms = portal_created_ms

    def register(self, router: Router) -> None:
        add = lambda method, pattern, name, fn: router.add(method, pattern, name, _guard(fn))  # noqa: E731
        add("GET", r"/crm/v3/schemas/?", "schemas_list", self.schemas)
        add("GET", rf"/crm/v3/properties/(?P<type>{_EMPTY})", "properties_list", self.empty_properties)
        add("GET", rf"/crm/v[34]/objects/(?P<type>{_EMPTY})", "objects_list", self.empty_list)
        add(
            "GET",
            rf"/crm/v4/objects/(?P<from>[^/]+)/(?P<id>[^/]+)/associations/(?P<to>{_EMPTY})",
            "associations_list",
            self.empty_list,
        )
        add(
            "POST",
            rf"/crm/v4/associations/(?P<from>[^/]+)/(?P<to>{_EMPTY})/batch/read",
            "associations_batch_read",
            self.empty_associations,
        )
        add("GET", r"/properties/v[12]/(?P<type>[^/]+)/properties/?", "legacy_properties", self.properties)
        add("GET", r"/companies/v2/properties/?", "companies_v2_properties", self.company_properties)
        add("GET", r"/companies/v2/companies/paged", "companies_v2_paged", self.companies_paged)
        add("GET", r"/companies/v2/companies/(?P<id>\d+)", "companies_v2_get", self.company)
        add("GET", r"/deals/v1/deal/paged", "deals_v1_paged", self.deals_paged)
        add("GET", r"/deals/v1/deal/(?P<id>\d+)", "deals_v1_get", self.deal)
        add("GET", r"/deals/v1/pipelines/?", "deals_v1_pipelines", self.deal_pipelines)
        add("GET", r"/crm-pipelines/v1/pipelines/(?P<type>[^/]+)", "crm_pipelines_v1", self.crm_pipelines)
        add("GET", r"/engagements/v1/engagements/paged", "engagements_v1_paged", self.engagements_paged)
        add("GET", r"/engagements/v1/engagements/recent/modified", "engagements_v1_recent", self.engagements_recent)
        add(
            "GET",
            r"/engagements/v1/engagements/modified/after",
            "engagements_v1_modified_after",
            self.engagements_modified_after,
        )

    # -- schemas and properties ------------------------------------------------------------------------------
    def schemas(self, _: Request) -> Response:
        """The portal defines no custom objects: the list a real portal without any answers."""
        return json_response(200, {"results": []})

    def empty_properties(self, req: Request) -> Response:
        """The system properties every object carries [?]: enough for a connector to build its schema."""
        return json_response(200, {"results": [v3_property(req.params["type"], p, self.created_ms) for p in _SYSTEM]})

    def empty_list(self, _: Request) -> Response:
        return json_response(200, {"results": []})

    def empty_associations(self, req: Request) -> Response:
        """No record is associated with an object type the portal holds none of: every input is reported as
        NO_ASSOCIATIONS_FOUND (a 207), as for records without associations."""
        started = iso_ms(self.store.now_ms())
        inputs = _inputs(_json_object(req), ASSOC_BATCH_MAX_INPUTS)
        errors = [
            _batch_error(
                "OBJECT_NOT_FOUND",
                f"No {req.params['to'].rstrip('s')} is associated with {req.params['from'].rstrip('s')} {i.get('id')}.",
                {"fromObjectId": [str(i.get("id", ""))]},
                subCategory="crm.associations.NO_ASSOCIATIONS_FOUND",
            )
            for i in inputs
        ]
        body: dict[str, Any] = {"status": "COMPLETE", "results": []}
        if errors:
            body.update(numErrors=len(errors), errors=errors)
        body.update(startedAt=started, completedAt=iso_ms(self.store.now_ms()))
        return json_response(207 if errors else 200, body)

    def properties(self, req: Request) -> Response:
        name = req.params["type"].lower()
        if name in EMPTY_OBJECTS or f"{name}s" in EMPTY_OBJECTS:
            return json_response(200, [render.property_definition(name, p, self.created_ms) for p in _SYSTEM])
        object_type = _object_type(name)
        defs = [render.property_definition(object_type, p, self.created_ms) for p in PROPERTIES[object_type]]
        return json_response(200, defs)

    def company_properties(self, _: Request) -> Response:
        defs = [render.property_definition("companies", p, self.created_ms) for p in PROPERTIES["companies"]]
        return json_response(200, defs)

    # -- companies v2 ----------------------------------------------------------------------------------------
    def companies_paged(self, req: Request) -> Response:
        """No properties unless asked for (``properties``/``propertiesWithHistory``), as the v2 list does."""
        rows, more = self._page("companies", req)
        body = {
            "companies": self._records("companies", rows, req, id_key="companyId"),
            "has-more": more,
            "offset": int(rows[-1]["id"]) if rows else _offset(req),
        }
        return json_response(200, body)

    def company(self, req: Request) -> Response:
        row = self.store.get("companies", int(req.params["id"]))
        if row is None:
            raise HubSpotError(404, "OBJECT_NOT_FOUND", f"resource not found: company {req.params['id']}")
        names = [p.name for p in PROPERTIES["companies"]]
        return json_response(200, self._record("companies", row, names, True, "companyId"))

    # -- deals v1 --------------------------------------------------------------------------------------------
    def deals_paged(self, req: Request) -> Response:
        rows, more = self._page("deals", req)
        records = self._records("deals", rows, req, id_key="dealId")
        if _bool_arg(req, "includeAssociations"):
            ids = [int(r["id"]) for r in rows]
            links = {to: self.store.associations("deals", ids, to) for to in ("contacts", "companies")}
            for record, row in zip(records, rows, strict=True):
                rid = int(row["id"])
                record["associations"] = {
                    "associatedVids": _ids(links["contacts"].get(rid)),
                    "associatedCompanyIds": _ids(links["companies"].get(rid)),
                    "associatedDealIds": [],
                    "associatedTicketIds": [],
                }
        body = {"deals": records, "hasMore": more, "offset": int(rows[-1]["id"]) if rows else _offset(req)}
        return json_response(200, body)

    def deal(self, req: Request) -> Response:
        row = self.store.get("deals", int(req.params["id"]))
        if row is None:
            raise HubSpotError(404, "OBJECT_NOT_FOUND", f"Deal {req.params['id']} does not exist")
        names = [p.name for p in PROPERTIES["deals"]]
        return json_response(200, self._record("deals", row, names, True, "dealId"))

    def deal_pipelines(self, _: Request) -> Response:
        return json_response(200, [render.deal_pipeline_v1(self.created_ms)])

    def crm_pipelines(self, req: Request) -> Response:
        """Deals have the default pipeline; [?] other object types answer an empty list."""
        object_type = req.params["type"].lower()
        results = [render.deal_pipeline_crm(self.created_ms)] if object_type in ("deals", "deal") else []
        return json_response(200, {"results": results})

    # -- engagements v1 --------------------------------------------------------------------------------------
    def engagements_paged(self, req: Request) -> Response:
        limit = _limit(req, "limit", PAGED_DEFAULT_LIMIT, PAGED_MAX_LIMIT)
        keys = self.store.db.query(
            f"SELECT t, id FROM ({_engagement_union()}) WHERE id > ? ORDER BY id LIMIT ?", (_offset(req), limit + 1)
        )
        more, keys = len(keys) > limit, keys[:limit]
        body = {
            "results": self._engagements(keys),
            "hasMore": more,
            "offset": int(keys[-1]["id"]) if keys else _offset(req),
        }
        return json_response(200, body)

    def engagements_recent(self, req: Request) -> Response:
        """Most recently modified first, since ``since`` (ms); ``offset`` counts records already served."""
        count = _limit(req, "count", RECENT_DEFAULT_COUNT, RECENT_MAX_COUNT)
        since, offset = _int_arg(req, "since", 0), _offset(req)
        if offset >= RECENT_MAX_OFFSET:
            raise validation_error(f"offset {offset} is past the {RECENT_MAX_OFFSET} records this endpoint serves.")
        union = _engagement_union()
        total = int(self.store.db.scalar(f"SELECT COUNT(*) FROM ({union}) WHERE lu >= ?", (since,)))
        keys = self.store.db.query(
            f"SELECT t, id FROM ({union}) WHERE lu >= ? ORDER BY lu DESC, id DESC LIMIT ? OFFSET ?",
            (since, count, offset),
        )
        served = offset + len(keys)
        body = {
            "results": self._engagements(keys),
            "hasMore": served < min(total, RECENT_MAX_OFFSET),
            "offset": served,
            "total": total,
        }
        return json_response(200, body)

    def engagements_modified_after(self, req: Request) -> Response:
        """[?] Modified-since paging as tap-hubspot reads it: ``after`` is a millisecond epoch on the first call,
        then the opaque cursor the previous page returned ("<lastUpdated>_<id>"); ascending (lastUpdated, id)."""
        limit = _limit(req, "limit", 100, MODIFIED_AFTER_MAX_LIMIT)
        raw = (req.arg("after") or "0").strip()
        stamp, _, last_id = raw.partition("_")
        if not stamp.lstrip("-").isdigit() or (last_id and not last_id.isdigit()):
            raise validation_error(f"Invalid after cursor: {raw!r}.")
        params: tuple[int, ...]
        if last_id:
            where, params = "(lu > ? OR (lu = ? AND id > ?))", (int(stamp), int(stamp), int(last_id))
        else:
            where, params = "lu >= ?", (int(stamp),)
        keys = self.store.db.query(
            f"SELECT t, id, lu FROM ({_engagement_union()}) WHERE {where} ORDER BY lu, id LIMIT ?", (*params, limit + 1)
        )
        more, keys = len(keys) > limit, keys[:limit]
        cursor = f"{int(keys[-1]['lu'])}_{int(keys[-1]['id'])}" if keys else raw
        return json_response(200, {"results": self._engagements(keys), "hasMore": more, "after": cursor})

    # -- helpers ---------------------------------------------------------------------------------------------
    def _page(self, object_type: str, req: Request) -> tuple[list[sqlite3.Row], bool]:
        limit = _limit(req, "limit", PAGED_DEFAULT_LIMIT, PAGED_MAX_LIMIT)
        rows = self.store.page(object_type, _offset(req) + 1, limit + 1, archived=False)
        return rows[:limit], len(rows) > limit

    def _records(self, object_type: str, rows: list[sqlite3.Row], req: Request, id_key: str) -> list[dict[str, Any]]:
        plain, with_history = req.args("properties"), req.args("propertiesWithHistory")
        names = list(dict.fromkeys([*plain, *with_history]))
        history = self.store.history(object_type, [int(r["id"]) for r in rows], names) if names else {}
        out = []
        for row in rows:
            props = render.properties_block(self.store, object_type, row, plain, history, with_history=False)
            props.update(render.properties_block(self.store, object_type, row, with_history, history, True))
            out.append(self._envelope(object_type, row, props, id_key))
        return out

    def _record(self, object_type: str, row: sqlite3.Row, names: list[str], with_history: bool, id_key: str) -> Any:
        history = self.store.history(object_type, [int(row["id"])], names)
        props = render.properties_block(self.store, object_type, row, names, history, with_history)
        return self._envelope(object_type, row, props, id_key)

    def _envelope(self, object_type: str, row: sqlite3.Row, props: dict[str, Any], id_key: str) -> dict[str, Any]:
        out: dict[str, Any] = {"portalId": self.portal_id, id_key: int(row["id"]), "isDeleted": False}
        out["properties"] = props
        if object_type == "companies":
            out.update({"additionalDomains": [], "stateChanges": [], "mergeAudits": []})
        else:
            out.update({"imports": [], "stateChanges": []})
        return out

    def _engagements(self, keys: list[sqlite3.Row]) -> list[dict[str, Any]]:
        by_type: dict[str, list[int]] = {}
        for k in keys:
            by_type.setdefault(k["t"], []).append(int(k["id"]))
        rendered: dict[int, dict[str, Any]] = {}
        for object_type, ids in by_type.items():
            rows = self.store.db.query(
                f"SELECT * FROM {table(object_type)} WHERE id IN ({', '.join('?' * len(ids))})", ids
            )
            links = {to: self.store.associations(object_type, ids, to) for to in ("contacts", "companies", "deals")}
            for row in rows:
                rid = int(row["id"])
                assoc = {to: _ids(found.get(rid)) for to, found in links.items()}
                rendered[rid] = render.engagement(object_type, row, self.portal_id, assoc)
        return [rendered[int(k["id"])] for k in keys if int(k["id"]) in rendered]


def _engagement_union() -> str:
    """Every live engagement as (type, id, lastUpdated ms): v1 serves the five engagement objects as one list."""
    return " UNION ALL ".join(
        f"SELECT '{t}' AS t, id, COALESCE({col(LAST_MODIFIED_PROPERTY[t])}, updated_at) AS lu FROM {table(t)} "
        f"WHERE {LIVE}"
        for t in ENGAGEMENT_TYPES
    )


def _ids(rows: list[sqlite3.Row] | None) -> list[int]:
    return list(dict.fromkeys(int(r["to_id"]) for r in rows or []))


def _offset(req: Request) -> int:
    offset = _int_arg(req, "offset", 0)
    if offset < 0:
        raise validation_error(f"offset must not be negative, got {offset}.")
    return offset


def _limit(req: Request, name: str, default: int, maximum: int) -> int:
    """Legacy endpoints clamp an oversized page to their maximum rather than refuse it [?]."""
    value = _int_arg(req, name, default)
    if value < 1:
        raise validation_error(f"{name} must be positive, got {value}.")
    return min(value, maximum)
