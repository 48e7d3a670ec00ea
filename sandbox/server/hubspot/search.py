"""``POST /crm/v3/objects/{type}/search`` bodies compiled to SQL over the ``hs_<type>`` tables.

Filters AND within a group, groups OR; datetimes and numbers (including ``hs_object_id``) compare numerically,
text case-insensitively. Limits and the 10,000-result window follow the real API, since connectors that page
past it, or that compare ids as strings, are exactly what the sandbox must expose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.model.hubspot import DEFAULT_PROPERTIES, QUERY_FIELDS, HsProperty, property_map
from sandbox.server.hubspot.errors import validation_error
from sandbox.server.hubspot.store import col
from sandbox.server.hubspot.values import parse_instant, parse_number

MAX_BODY_CHARS = 3_000
MAX_GROUPS, MAX_FILTERS_PER_GROUP, MAX_FILTERS = 5, 6, 18
DEFAULT_LIMIT, MAX_LIMIT = 10, 200
MAX_RESULT_WINDOW = 10_000
OPERATORS = frozenset(
    {
        "EQ",
        "NEQ",
        "LT",
        "LTE",
        "GT",
        "GTE",
        "BETWEEN",
        "IN",
        "NOT_IN",
        "HAS_PROPERTY",
        "NOT_HAS_PROPERTY",
        "CONTAINS_TOKEN",
        "NOT_CONTAINS_TOKEN",
    }
)
_COMPARE = {"EQ": "=", "LT": "<", "LTE": "<=", "GT": ">", "GTE": ">="}
# What splits a text value into tokens for CONTAINS_TOKEN [?]: HubSpot does not document its tokenizer.
_TOKEN_SEPARATORS = "@,;/():!?\"'\t\n"


@dataclass(frozen=True)
class SearchPlan:
    where: str
    params: tuple[Any, ...]
    order_by: str
    limit: int
    offset: int
    properties: tuple[str, ...]


def compile_search(object_type: str, body: Any, raw_length: int) -> SearchPlan:
    if raw_length > MAX_BODY_CHARS:
        raise validation_error(f"Search request body is {raw_length} characters; the limit is {MAX_BODY_CHARS}.")
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise validation_error("Search request body must be a JSON object.")
    props = property_map(object_type)
    clauses: list[str] = []
    params: list[Any] = []
    where, where_params = _filter_groups(props, body.get("filterGroups") or [])
    if where:
        clauses.append(where)
        params.extend(where_params)
    # A top-level ``filters`` list is accepted too, its filters ANDed (HubSpot/hubspot-api-nodejs#491; Airbyte's
    # HubSpot source searches so). [?] Alongside filterGroups it is ANDed with them; only the overall filter
    # limit bounds it.
    flat = body.get("filters")
    if flat:
        if not isinstance(flat, list):
            raise validation_error("filters must be a list.")
        if len(flat) > MAX_FILTERS:
            raise validation_error(f"Too many filters: {len(flat)}; the limit is {MAX_FILTERS}.")
        for f in flat:
            sql, fparams = _filter(props, f)
            clauses.append(f"({sql})")
            params.extend(fparams)
    query = body.get("query")
    if query:
        q_sql, q_params = _free_text(object_type, str(query))
        clauses.append(q_sql)
        params.extend(q_params)
    limit = _int_field(body, "limit", DEFAULT_LIMIT)
    if not 0 < limit <= MAX_LIMIT:
        raise validation_error(f"limit must be between 1 and {MAX_LIMIT}, got {limit}.")
    offset = _int_field(body, "after", 0)
    if offset < 0:
        raise validation_error(f"after must be a non-negative offset, got {offset}.")
    if offset + limit > MAX_RESULT_WINDOW:
        # The real API refuses to page past its 10,000-result window instead of returning a short page.
        raise validation_error(
            f"Paging beyond {MAX_RESULT_WINDOW} results is not supported (after={offset}, limit={limit}). "
            "Narrow the search, for example with a tighter date range."
        )
    requested = body.get("properties") or list(DEFAULT_PROPERTIES[object_type])
    if not isinstance(requested, list):
        raise validation_error("properties must be a list of property names.")
    return SearchPlan(
        where=" AND ".join(f"({c})" for c in clauses) or "1 = 1",
        params=tuple(params),
        order_by=_order_by(props, body.get("sorts") or []),
        limit=limit,
        offset=offset,
        properties=tuple(str(p) for p in requested),
    )


def _int_field(body: dict[str, Any], name: str, default: int) -> int:
    value = body.get(name)
    if value is None or value == "":
        return default
    try:
        return int(str(value))
    except ValueError:
        raise validation_error(f"{name} must be an integer, got {value!r}.") from None


def _filter_groups(props: dict[str, HsProperty], groups: Any) -> tuple[str, list[Any]]:
    if not isinstance(groups, list):
        raise validation_error("filterGroups must be a list.")
    if len(groups) > MAX_GROUPS:
        raise validation_error(f"Too many filterGroups: {len(groups)}; the limit is {MAX_GROUPS}.")
    total = 0
    ors: list[str] = []
    params: list[Any] = []
    for group in groups:
        filters = group.get("filters") or [] if isinstance(group, dict) else None
        if not isinstance(filters, list):
            raise validation_error("each filterGroup must be an object with a filters list.")
        if len(filters) > MAX_FILTERS_PER_GROUP:
            raise validation_error(
                f"Too many filters in a group: {len(filters)}; the limit is {MAX_FILTERS_PER_GROUP}."
            )
        total += len(filters)
        if total > MAX_FILTERS:
            raise validation_error(f"Too many filters: the limit is {MAX_FILTERS} across all filterGroups.")
        ands: list[str] = []
        for f in filters:
            sql, fparams = _filter(props, f)
            ands.append(f"({sql})")
            params.extend(fparams)
        if ands:
            ors.append(" AND ".join(ands))
    return " OR ".join(f"({o})" for o in ors), params


def _filter(props: dict[str, HsProperty], f: Any) -> tuple[str, list[Any]]:
    if not isinstance(f, dict):
        raise validation_error("each filter must be an object.")
    name = f.get("propertyName")
    operator = str(f.get("operator") or "").upper()
    if operator not in OPERATORS:
        raise validation_error(f"Unknown filter operator {f.get('operator')!r}.")
    prop = props.get(str(name))
    if prop is None:
        # [?] The real API's answer to an unknown property varies by portal; refusing is the safer emulation.
        raise validation_error(f"Property {name!r} does not exist.")
    text = prop.type in ("string", "enumeration")
    column = f"lower({col(prop.name)})" if text else col(prop.name)
    raw = col(prop.name)
    if operator == "HAS_PROPERTY":
        return (f"{raw} IS NOT NULL AND {raw} != ''" if text else f"{raw} IS NOT NULL"), []
    if operator == "NOT_HAS_PROPERTY":
        return (f"{raw} IS NULL OR {raw} = ''" if text else f"{raw} IS NULL"), []
    if operator in ("IN", "NOT_IN"):
        values = f.get("values")
        if not isinstance(values, list) or not values:
            raise validation_error(f"{operator} on {prop.name} needs a non-empty values list.")
        marks = ", ".join("?" * len(values))
        converted = [_operand(prop, v) for v in values]
        if operator == "IN":
            return f"{column} IN ({marks})", converted
        return f"{raw} IS NULL OR {column} NOT IN ({marks})", converted
    value = f.get("value")
    if value is None:
        raise validation_error(f"{operator} on {prop.name} needs a value.")
    if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        sql, tparams = _token_match(raw, str(value))
        return (sql, tparams) if operator == "CONTAINS_TOKEN" else (f"{raw} IS NULL OR NOT ({sql})", tparams)
    operand = _operand(prop, value)
    if operator == "BETWEEN":
        high = f.get("highValue")
        if high is None:
            raise validation_error(f"BETWEEN on {prop.name} needs value and highValue.")
        return f"{column} BETWEEN ? AND ?", [operand, _operand(prop, high)]
    if operator == "NEQ":
        # [?] NEQ also matches records without a value, as NOT_IN does.
        return f"{raw} IS NULL OR {column} != ?", [operand]
    return f"{column} {_COMPARE[operator]} ?", [operand]


def _operand(prop: HsProperty, value: Any) -> Any:
    text = str(value)
    try:
        if prop.type in ("datetime", "date"):
            return parse_instant(text)
        if prop.type == "number":
            return parse_number(text, prop.name)
    except ValueError as exc:
        raise validation_error(f"Invalid value for {prop.name}: {exc}") from None
    if prop.type == "bool":
        lowered = text.strip().lower()
        if lowered not in ("true", "false"):
            raise validation_error(f"Invalid boolean for {prop.name}: {text!r}")
        return 1 if lowered == "true" else 0
    return text.lower()


def _token_match(column: str, value: str) -> tuple[str, list[Any]]:
    """Whole-token match; ``*`` is a wildcard (``*@example.com``) as HubSpot's CONTAINS_TOKEN allows."""
    if "*" in value:
        pattern = _escape_like(value.lower()).replace("*", "%")
        return f"lower({column}) LIKE ? ESCAPE '\\'", [pattern]
    normalised = f"lower({column})"
    for sep in _TOKEN_SEPARATORS:
        normalised = f"replace({normalised}, {_sql_literal(sep)}, ' ')"
    token = " ".join(_normalise_tokens(value.lower()).split())
    return f"(' ' || {normalised} || ' ') LIKE ? ESCAPE '\\'", [f"% {_escape_like(token)} %"]


def _normalise_tokens(text: str) -> str:
    for sep in _TOKEN_SEPARATORS:
        text = text.replace(sep, " ")
    return text


def _free_text(object_type: str, query: str) -> tuple[str, list[Any]]:
    """Every term of ``query`` must occur in one of the type's default text fields [?]."""
    fields = [col(name) for name in QUERY_FIELDS[object_type]]
    clauses: list[str] = []
    params: list[Any] = []
    for term in query.lower().split():
        pattern = f"%{_escape_like(term)}%"
        clauses.append(" OR ".join(f"lower({f}) LIKE ? ESCAPE '\\'" for f in fields))
        params.extend([pattern] * len(fields))
    return " AND ".join(f"({c})" for c in clauses) or "1 = 1", params


def _order_by(props: dict[str, HsProperty], sorts: Any) -> str:
    """One sort, as the real API allows; ties and unsorted searches fall back to ascending id [?]."""
    if not isinstance(sorts, list):
        raise validation_error("sorts must be a list.")
    if len(sorts) > 1:
        raise validation_error("Only one sort is supported per search request.")
    if not sorts:
        return "id ASC"
    sort = sorts[0]
    if isinstance(sort, str):
        name, direction = (sort[1:], "DESCENDING") if sort.startswith("-") else (sort, "ASCENDING")
    elif isinstance(sort, dict):
        name, direction = str(sort.get("propertyName")), str(sort.get("direction") or "ASCENDING").upper()
    else:
        raise validation_error("each sort must be a property name or {propertyName, direction}.")
    if name not in props:
        raise validation_error(f"Cannot sort by unknown property {name!r}.")
    if direction not in ("ASCENDING", "DESCENDING"):
        raise validation_error(f"Sort direction must be ASCENDING or DESCENDING, got {direction!r}.")
    column = col(name)
    sql_dir = "ASC" if direction == "ASCENDING" else "DESC"
    # Records without a value sort last either way [?].
    return f"{column} IS NULL, {column} {sql_dir}, id ASC"


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _sql_literal(text: str) -> str:
    if text == "\t":
        return "char(9)"
    if text == "\n":
        return "char(10)"
    return "'" + text.replace("'", "''") + "'"
