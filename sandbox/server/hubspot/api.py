"""The HubSpot CRM v3/v4 endpoints the connectors use, on the sandbox router.

Paths, parameter encodings and status codes follow what hubspot-api-client 12 sends and deserialises (it
only decodes the statuses it expects, e.g. 200/207 for batch reads), so the real client works unmodified.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlencode

from sandbox.model.hubspot import ASSOCIATION_TYPES, HsProperty, resolve_object_type
from sandbox.server.context import SandboxContext
from sandbox.server.http import Request, Response, Router, json_response
from sandbox.server.hubspot import render
from sandbox.server.hubspot.errors import HubSpotError, error_body, validation_error
from sandbox.server.hubspot.search import compile_search
from sandbox.server.hubspot.store import HubSpotStore
from sandbox.server.hubspot.values import iso_ms, to_storage

LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT, HISTORY_MAX_LIMIT = 10, 100, 50
BATCH_MAX_INPUTS = 100
ASSOC_DEFAULT_LIMIT = ASSOC_MAX_LIMIT = 500
ASSOC_BATCH_MAX_INPUTS = 1_000  # every portal since 2025-02-10 (changelog: Batch Read Limit for Associations API)
OWNERS_DEFAULT_LIMIT, OWNERS_MAX_LIMIT = 100, 500
# Values HubSpot computes itself: writes to them are refused, as the real API marks them read-only.
READ_ONLY = frozenset(
    {"hs_object_id", "hs_createdate", "createdate", "lastmodifieddate", "hs_lastmodifieddate", "hs_merged_object_ids"}
)


class HubSpotApi:
    def __init__(self, ctx: SandboxContext, store: HubSpotStore) -> None:
        self.ctx = ctx
        self.store = store

    def register(self, router: Router) -> None:
        add = lambda method, pattern, name, fn: router.add(method, pattern, name, _guard(fn))  # noqa: E731
        obj = r"/crm/v3/objects/(?P<type>[^/]+)"
        add("POST", obj + r"/search", "search", self.search)
        add("POST", obj + r"/batch/read", "batch_read", self.batch_read)
        add("POST", obj + r"/batch/update", "batch_update", self.batch_update)
        add("POST", obj + r"/batch/archive", "batch_archive", self.batch_archive)
        add("GET", obj, "objects_list", self.list_objects)
        add("POST", obj, "objects_create", self.create)
        add("GET", obj + r"/(?P<id>[^/]+)", "objects_get", self.get_object)
        add("PATCH", obj + r"/(?P<id>[^/]+)", "objects_update", self.update)
        add("DELETE", obj + r"/(?P<id>[^/]+)", "objects_archive", self.archive)
        add("GET", r"/crm/v3/properties/(?P<type>[^/]+)", "properties_list", self.properties)
        add("GET", r"/crm/v3/properties/(?P<type>[^/]+)/groups/?", "property_groups_list", self.property_groups)
        add("POST", r"/crm/v3/properties/(?P<type>[^/]+)/groups/?", "property_groups_create", self.create_group)
        add("GET", r"/crm/v3/properties/(?P<type>[^/]+)/(?P<name>[^/]+)", "properties_get", self.property)
        add("POST", r"/crm/v3/properties/(?P<type>[^/]+)/?", "properties_create", self.create_property)
        add("GET", r"/crm/v3/pipelines/(?P<type>[^/]+)", "pipelines_list", self.pipelines)
        add("GET", r"/crm/v3/owners/?", "owners_list", self.owners)
        add("GET", r"/crm/v3/owners/(?P<id>[^/]+)", "owners_get", self.owner)
        add(
            "GET",
            r"/crm/v4/objects/(?P<from>[^/]+)/(?P<id>[^/]+)/associations/(?P<to>[^/]+)",
            "associations_list",
            self.associations,
        )
        add(
            "POST",
            r"/crm/v4/associations/(?P<from>[^/]+)/(?P<to>[^/]+)/batch/read",
            "associations_batch_read",
            self.associations_batch,
        )

    # -- objects ---------------------------------------------------------------------------------------------
    def list_objects(self, req: Request) -> Response:
        object_type = _object_type(req.params["type"])
        limit = _int_arg(req, "limit", LIST_DEFAULT_LIMIT)
        if not 0 < limit <= LIST_MAX_LIMIT:
            raise validation_error(f"limit must be between 1 and {LIST_MAX_LIMIT}, got {limit}.")
        with_history = req.args("propertiesWithHistory")
        # [?] With history the real API returns at most 50 records per page; it shortens the page, not refuses.
        page_size = min(limit, HISTORY_MAX_LIMIT) if with_history else limit
        after = _cursor(req.arg("after"))
        rows = self.store.page(object_type, after, page_size + 1, _bool_arg(req, "archived"))
        more, rows = len(rows) > page_size, rows[:page_size]
        body: dict[str, Any] = {
            "results": render.records(
                self.store,
                object_type,
                rows,
                req.args("properties"),
                with_history,
                _association_types(req.args("associations")),
            )
        }
        if more:
            next_after = str(int(rows[-1]["id"]) + 1)
            body["paging"] = {"next": {"after": next_after, "link": self._link(req, next_after)}}
        return json_response(200, body)

    def get_object(self, req: Request) -> Response:
        object_type = _object_type(req.params["type"])
        row = self._find(object_type, req.params["id"], req.arg("idProperty"), _bool_arg(req, "archived"))
        if row is None:
            raise HubSpotError(
                404,
                "OBJECT_NOT_FOUND",
                "Object not found.  objectId are usually numeric.",
                context={"id": [req.params["id"]]},
            )
        result = render.records(
            self.store,
            object_type,
            [row],
            req.args("properties"),
            req.args("propertiesWithHistory"),
            _association_types(req.args("associations")),
        )[0]
        return json_response(200, result)

    def create(self, req: Request) -> Response:
        object_type = _object_type(req.params["type"])
        body = _json_object(req)
        values = self._writable(object_type, body.get("properties") or {})
        links = [self._association_input(object_type, a) for a in body.get("associations") or []]
        new_id = self.store.insert(object_type, values)
        for to_type, to_id in links:
            self.store.associate(object_type, new_id, to_type, to_id)
        row = self.store.get(object_type, new_id)
        assert row is not None
        return json_response(201, render.records(self.store, object_type, [row], list(values))[0])

    def update(self, req: Request) -> Response:
        object_type = _object_type(req.params["type"])
        row = self._find(object_type, req.params["id"], req.arg("idProperty"), False)
        values = self._writable(object_type, _json_object(req).get("properties") or {})
        if row is None or self.store.update(object_type, int(row["id"]), values) is None:
            raise HubSpotError(
                404,
                "OBJECT_NOT_FOUND",
                "Object not found.  objectId are usually numeric.",
                context={"id": [req.params["id"]]},
            )
        fresh = self.store.get(object_type, int(row["id"]))
        assert fresh is not None
        return json_response(200, render.records(self.store, object_type, [fresh], list(values))[0])

    def archive(self, req: Request) -> Response:
        object_type = _object_type(req.params["type"])
        if req.params["id"].isdigit():
            self.store.archive(object_type, [int(req.params["id"])])
        return Response(204)

    # -- batch -----------------------------------------------------------------------------------------------
    def batch_read(self, req: Request) -> Response:
        object_type = _object_type(req.params["type"])
        started = self._now()
        body = _json_object(req)
        inputs = _inputs(body, BATCH_MAX_INPUTS)
        id_property = body.get("idProperty")
        archived = _bool_arg(req, "archived")
        found: dict[int, Any] = {}
        missing: list[str] = []
        for item in inputs:
            key = str(item.get("id", ""))
            row = self._find(object_type, key, id_property, archived)
            if row is None:
                missing.append(key)
            else:
                found.setdefault(int(row["id"]), row)
        results = render.records(
            self.store,
            object_type,
            list(found.values()),
            body.get("properties") or [],
            body.get("propertiesWithHistory") or [],
        )
        errors = []
        if missing:
            errors.append(
                _batch_error(
                    "OBJECT_NOT_FOUND",
                    f"Could not get some {object_type[:-1].upper()} objects, they may be deleted or not exist. Check that ids are valid.",
                    {"ids": missing},
                )
            )
        return self._batch_response(results, errors, started)

    def batch_update(self, req: Request) -> Response:
        object_type = _object_type(req.params["type"])
        started = self._now()
        body = _json_object(req)
        inputs = _inputs(body, BATCH_MAX_INPUTS)
        planned = [
            (str(i.get("id", "")), i.get("idProperty"), self._writable(object_type, i.get("properties") or {}))
            for i in inputs
        ]
        results, missing = [], []
        for key, id_property, values in planned:
            row = self._find(object_type, key, id_property, False)
            if row is None or self.store.update(object_type, int(row["id"]), values) is None:
                missing.append(key)
                continue
            fresh = self.store.get(object_type, int(row["id"]))
            assert fresh is not None
            results.extend(render.records(self.store, object_type, [fresh], list(values)))
        errors = (
            [
                _batch_error(
                    "OBJECT_NOT_FOUND",
                    f"Could not update some {object_type[:-1].upper()} objects: they do not exist.",
                    {"ids": missing},
                )
            ]
            if missing
            else []
        )
        return self._batch_response(results, errors, started)

    def batch_archive(self, req: Request) -> Response:
        object_type = _object_type(req.params["type"])
        inputs = _inputs(_json_object(req), BATCH_MAX_INPUTS)
        self.store.archive(object_type, [int(i["id"]) for i in inputs if str(i.get("id", "")).isdigit()])
        return Response(204)

    # -- search ----------------------------------------------------------------------------------------------
    def search(self, req: Request) -> Response:
        object_type = _object_type(req.params["type"])
        plan = compile_search(object_type, _json_body(req), len(req.body))
        total = self.store.count(object_type, plan.where, plan.params)
        rows = self.store.select(object_type, plan.where, plan.params, plan.order_by, plan.limit, plan.offset)
        body: dict[str, Any] = {
            "total": total,
            "results": render.records(self.store, object_type, rows, plan.properties),
        }
        if plan.offset + len(rows) < total:
            body["paging"] = {"next": {"after": str(plan.offset + len(rows))}}
        return json_response(200, body)

    # -- properties and owners -------------------------------------------------------------------------------
    def properties(self, req: Request) -> Response:
        object_type = _object_type(req.params["type"])
        created = self._portal_created_ms()
        wanted = set(req.args("properties"))
        props = (
            []
            if _bool_arg(req, "archived")
            else [p for p in self.store.properties(object_type).values() if not wanted or p.name in wanted]
        )
        return json_response(200, {"results": [render.property_definition(object_type, p, created) for p in props]})

    def property(self, req: Request) -> Response:
        object_type = _object_type(req.params["type"])
        prop = self.store.prop(object_type, req.params["name"])
        if prop is None:
            raise HubSpotError(
                404, "OBJECT_NOT_FOUND", f"Unable to find property {req.params['name']} for object type {object_type}"
            )
        return json_response(200, render.property_definition(object_type, prop, self._portal_created_ms()))

    def create_property(self, req: Request) -> Response:
        """POST /crm/v3/properties/{type}: 201 with the definition; 409 when the name is taken, 400 on a bad
        name, type/fieldType pair or unknown group (the real API's checks a client meets first)."""
        object_type = _object_type(req.params["type"])
        body = _json_object(req)
        name, group = str(body.get("name") or ""), str(body.get("groupName") or "")
        kind, field_type = str(body.get("type") or ""), str(body.get("fieldType") or "")
        if not _PROPERTY_NAME.fullmatch(name):
            raise validation_error(
                f"Property name '{name}' is invalid: use lower-case letters, digits and underscores, starting with a letter."
            )
        if self.store.prop(object_type, name) is not None:
            raise HubSpotError(
                409, "OBJECT_ALREADY_EXISTS", f"Object already exists: A property named '{name}' already exists."
            )
        if field_type not in _FIELD_TYPES.get(kind, ()):
            raise validation_error(f"Property type '{kind}' with fieldType '{field_type}' is not a valid combination.")
        if group not in self.store.groups(object_type):
            raise validation_error(f"Property group '{group}' does not exist.")
        options = tuple(str(o.get("value")) for o in body.get("options") or [] if isinstance(o, dict))
        if kind == "enumeration" and not options:
            raise validation_error(f"Property '{name}' of type enumeration needs at least one option.")
        label = str(body.get("label") or name)
        prop = HsProperty(name, kind, field_type, label, group, options, hubspot_defined=False)
        self.store.create_property(object_type, prop)
        return json_response(201, render.property_definition(object_type, prop, self.store.now_ms()))

    def property_groups(self, req: Request) -> Response:
        object_type = _object_type(req.params["type"])
        groups = self.store.groups(object_type)
        return json_response(
            200,
            {
                "results": [
                    {"name": n, "label": label, "displayOrder": -1, "archived": False} for n, label in groups.items()
                ]
            },
        )

    def create_group(self, req: Request) -> Response:
        object_type = _object_type(req.params["type"])
        body = _json_object(req)
        name = str(body.get("name") or "")
        if not _PROPERTY_NAME.fullmatch(name):
            raise validation_error(f"Property group name '{name}' is invalid.")
        if name in self.store.groups(object_type):
            raise HubSpotError(
                409, "OBJECT_ALREADY_EXISTS", f"Object already exists: A property group named '{name}' already exists."
            )
        label = str(body.get("label") or name)
        self.store.create_group(object_type, name, label)
        order = body.get("displayOrder", -1)
        return json_response(201, {"name": name, "label": label, "displayOrder": order, "archived": False})

    def pipelines(self, req: Request) -> Response:
        """Deals have the one default pipeline; [?] other object types answer an empty list."""
        object_type = _object_type(req.params["type"])
        if object_type != "deals":
            return json_response(200, {"results": []})
        return json_response(200, {"results": [render.deal_pipeline(self.ctx.clock.anchor)]})

    def owners(self, req: Request) -> Response:
        limit = _int_arg(req, "limit", OWNERS_DEFAULT_LIMIT)
        if not 0 < limit <= OWNERS_MAX_LIMIT:
            raise validation_error(f"limit must be between 1 and {OWNERS_MAX_LIMIT}, got {limit}.")
        rows = self.store.owners(_cursor(req.arg("after")), limit + 1, _bool_arg(req, "archived"), req.arg("email"))
        body: dict[str, Any] = {"results": [render.owner(r) for r in rows[:limit]]}
        if len(rows) > limit:
            next_after = str(int(rows[limit - 1]["id"]) + 1)
            body["paging"] = {"next": {"after": next_after, "link": self._link(req, next_after)}}
        return json_response(200, body)

    def owner(self, req: Request) -> Response:
        key = req.params["id"]
        archived = _bool_arg(req, "archived")
        row = None
        if key.isdigit():
            if (req.arg("idProperty") or "id") == "userId":
                matches = [r for r in self.store.owners(0, 1_000_000, archived, None) if r["user_id"] == int(key)]
                row = matches[0] if matches else None
            else:
                row = self.store.owner(int(key), archived)
        if row is None:
            raise HubSpotError(404, "OBJECT_NOT_FOUND", f"Owner {key} not found")
        return json_response(200, render.owner(row))

    # -- associations v4 -------------------------------------------------------------------------------------
    def associations(self, req: Request) -> Response:
        from_type, to_type = _object_type(req.params["from"]), _object_type(req.params["to"])
        limit = _int_arg(req, "limit", ASSOC_DEFAULT_LIMIT)
        if not 0 < limit <= ASSOC_MAX_LIMIT:
            raise validation_error(f"limit must be between 1 and {ASSOC_MAX_LIMIT}, got {limit}.")
        key = req.params["id"]
        # [?] An unknown record answers an empty list rather than 404, as association lookups do in HubSpot.
        targets = self._targets(from_type, int(key), to_type) if key.isdigit() else []
        page, next_after = _page_targets(targets, _cursor(req.arg("after")), limit)
        body: dict[str, Any] = {"results": page}
        if next_after is not None:
            body["paging"] = {"next": {"after": next_after, "link": self._link(req, next_after)}}
        return json_response(200, body)

    def associations_batch(self, req: Request) -> Response:
        from_type, to_type = _object_type(req.params["from"]), _object_type(req.params["to"])
        started = self._now()
        inputs = _inputs(_json_object(req), ASSOC_BATCH_MAX_INPUTS)
        results, errors = [], []
        for item in inputs:
            key = str(item.get("id", ""))
            targets = self._targets(from_type, int(key), to_type) if key.isdigit() else []
            if not targets:
                # The real API reports ids without associations (or unknown ids) as errors: a 207.
                errors.append(
                    _batch_error(
                        "OBJECT_NOT_FOUND",
                        f"No {to_type[:-1]} is associated with {from_type[:-1]} {key}.",
                        {"fromObjectId": [key]},
                        subCategory="crm.associations.NO_ASSOCIATIONS_FOUND",
                    )
                )
                continue
            page, next_after = _page_targets(targets, _cursor(item.get("after")), ASSOC_MAX_LIMIT)
            entry: dict[str, Any] = {"from": {"id": key}, "to": page}
            if next_after is not None:
                entry["paging"] = {"next": {"after": next_after}}
            results.append(entry)
        return self._batch_response(results, errors, started)

    # -- helpers ---------------------------------------------------------------------------------------------
    def _targets(self, from_type: str, from_id: int, to_type: str) -> list[dict[str, Any]]:
        return render.association_targets(self.store.associations(from_type, [from_id], to_type).get(from_id, []))

    def _find(self, object_type: str, key: str, id_property: str | None, archived: bool) -> Any:
        if id_property and id_property != "hs_object_id":
            prop = self.store.prop(object_type, id_property)
            if prop is None:
                raise validation_error(f"Property {id_property!r} does not exist and cannot be used as idProperty.")
            return self.store.get_by_property(object_type, id_property, _storage(prop, key), archived)
        return self.store.get(object_type, int(key), archived) if key.isdigit() else None

    def _writable(self, object_type: str, properties: Any) -> dict[str, Any]:
        if not isinstance(properties, dict):
            raise validation_error("properties must be an object of property name to value.")
        values: dict[str, Any] = {}
        problems: list[dict[str, Any]] = []
        for name, value in properties.items():
            prop = self.store.prop(object_type, name)
            if prop is None:
                problems.append(
                    {
                        "isValid": False,
                        "message": f'Property "{name}" does not exist',
                        "error": "PROPERTY_DOESNT_EXIST",
                        "name": name,
                    }
                )
                continue
            if name in READ_ONLY or prop.calculated:
                problems.append(
                    {
                        "isValid": False,
                        "message": f'"{name}" is a read only property; its value cannot be set.',
                        "error": "READ_ONLY_VALUE",
                        "name": name,
                    }
                )
                continue
            try:
                stored = to_storage(prop, value)
            except ValueError as exc:
                problems.append({"isValid": False, "message": str(exc), "error": "INVALID_VALUE", "name": name})
                continue
            bad = [v for v in str(stored or "").split(";") if v] if prop.type == "enumeration" and prop.options else []
            if any(v not in prop.options for v in bad):
                problems.append(
                    {
                        "isValid": False,
                        "message": f"{value} was not one of the allowed options: {list(prop.options)}",
                        "error": "INVALID_OPTION",
                        "name": name,
                    }
                )
                continue
            values[name] = stored
        if problems:
            raise validation_error(
                f"Property values were not valid: {json.dumps(problems)}",
                errors=[
                    {"message": p["message"], "code": p["error"], "context": {"propertyName": [p["name"]]}}
                    for p in problems
                ],
            )
        return values

    def _association_input(self, from_type: str, item: Any) -> tuple[str, int]:
        try:
            to_id = int(item["to"]["id"])
            type_id = int(item["types"][0]["associationTypeId"])
        except (KeyError, IndexError, TypeError, ValueError):
            raise validation_error("associations need to.id and types[].associationTypeId") from None
        for (src, dst), tid in ASSOCIATION_TYPES.items():
            if src == from_type and tid == type_id:
                if self.store.get(dst, to_id) is None:
                    raise validation_error(f"{dst} {to_id} does not exist")
                return dst, to_id
        raise validation_error(f"{type_id} is not a valid association type id for {from_type}")

    def _batch_response(self, results: list[Any], errors: list[dict[str, Any]], started: str) -> Response:
        body: dict[str, Any] = {"status": "COMPLETE", "results": results}
        if errors:
            body["numErrors"] = len(errors)
            body["errors"] = errors
        body["startedAt"] = started
        body["completedAt"] = self._now()
        return json_response(207 if errors else 200, body)

    def _link(self, req: Request, after: str) -> str:
        query = [(k, v) for k, values in req.query.items() if k != "after" for v in values]
        return f"{self.ctx.hubspot_url}{req.path}?{urlencode([*query, ('after', after)])}"

    def _now(self) -> str:
        return iso_ms(int(self.ctx.clock.now().timestamp() * 1000))

    def _portal_created_ms(self) -> int:
        # Property definitions date from the portal's creation: a fixed instant keeps them stable per dataset.
        return int(datetime(2019, 1, 1, tzinfo=UTC).timestamp() * 1000)


_PROPERTY_NAME = re.compile(r"[a-z][a-z0-9_]{0,99}")
# The type / fieldType pairs HubSpot accepts for new properties (its docs' table, the common ones).
_FIELD_TYPES: dict[str, tuple[str, ...]] = {
    "string": ("text", "textarea", "html", "phonenumber"),
    "number": ("number",),
    "date": ("date",),
    "datetime": ("date",),
    "enumeration": ("select", "radio", "checkbox", "booleancheckbox"),
    "bool": ("booleancheckbox",),
}


def _guard(fn: Callable[[Request], Response]) -> Callable[[Request], Response]:
    def handler(req: Request) -> Response:
        # The client percent-encodes path parameters (an e-mail used with idProperty): decode them once here.
        req.params = {k: unquote(v) for k, v in req.params.items()}
        try:
            return fn(req)
        except HubSpotError as exc:
            return exc.response()

    return handler


def _object_type(name: str) -> str:
    object_type = resolve_object_type(name)
    if object_type is None:
        raise validation_error(f"Unable to infer object type from: {name}")
    return object_type


def _association_types(names: list[str]) -> list[str]:
    """Requested association types; unknown ones are ignored, as the list endpoint documents."""
    return [t for t in dict.fromkeys(resolve_object_type(n) for n in names) if t is not None]


def _int_arg(req: Request, name: str, default: int) -> int:
    raw = req.arg(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise validation_error(f"{name} must be an integer, got {raw!r}.") from None


def _bool_arg(req: Request, name: str) -> bool:
    # The Python client sends booleans as ``True``/``False``.
    return (req.arg(name) or "").strip().lower() == "true"


def _cursor(raw: Any) -> int:
    if raw is None or raw == "":
        return 0
    text = str(raw)
    if not text.isdigit():
        raise validation_error(f"Invalid paging cursor: {text!r}.")
    return int(text)


def _json_body(req: Request) -> Any:
    try:
        return req.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise validation_error(f"Invalid input JSON: {exc}") from None


def _json_object(req: Request) -> dict[str, Any]:
    body = _json_body(req)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise validation_error("Request body must be a JSON object.")
    return body


def _inputs(body: dict[str, Any], maximum: int) -> list[dict[str, Any]]:
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
        raise validation_error("inputs must be a list of objects.")
    if len(inputs) > maximum:
        raise validation_error(f"Too many inputs: {len(inputs)}; the limit is {maximum}.")
    return inputs


def _storage(prop: Any, value: str) -> Any:
    try:
        return to_storage(prop, value)
    except ValueError as exc:
        raise validation_error(str(exc)) from None


def _page_targets(targets: list[dict[str, Any]], after: int, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    remaining = [t for t in targets if t["toObjectId"] >= after]
    page = remaining[:limit]
    next_after = str(page[-1]["toObjectId"] + 1) if len(remaining) > limit else None
    return page, next_after


def _batch_error(category: str, message: str, context: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """One entry of a 207's ``errors``; the client's model requires ``errors`` and ``links`` too."""
    body = error_body(category, message, context=context, errors=[], links={}, **extra)
    body.pop("correlationId")
    return body
