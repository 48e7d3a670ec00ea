"""canonical_owners as SQL: Salesforce Users and HubSpot owners, one row each, matched by normalised e-mail
(``pipelines.closed_loop.owners``).

Team, activity and the two CRM ids are decided per owner_key: the owner's rows are ranked Salesforce first, then
by source_id (code-point order, as Python sorts), and the first row gives team and is_active, as the catalog says
(Salesforce Team__c, else the HubSpot primary team). That is what ``owners._resolve`` does under pandas 3: its
"first non-empty team" filter keeps the first row's missing team, a NaN in a string column, which is truthy.
A HubSpot owner's team is its primary team, else its first: the ``teams`` JSON array is unnested into one row
per team with its position (DuckDB JSON and PostgreSQL JSONB differ, see ``_team_elements``).
"""

from __future__ import annotations

from connectors.hubspot import catalog as hubspot
from connectors.salesforce import catalog as salesforce
from pipelines.closed_loop.sql.context import SqlContext, Want
from pipelines.closed_loop.sql.people import normalized_email

# values.normalize_email: a well-formed e-mail, once trimmed and lower-cased.
_HS_OWNERS = "own_hs"
_HS_TEAMS = "own_hs_team"
_ROWS = "own_rows"


def owners_sql(ctx: SqlContext) -> str:
    """SELECT of canonical_owners' columns (temp tables ``own_*`` are created first)."""
    _create_hubspot_owners(ctx)
    _create_rows(ctx)
    sid = ctx.sortable("source_id")
    ranked = (
        f"SELECT owner_key, source_system, source_id, team_, active_, "
        f"ROW_NUMBER() OVER (PARTITION BY owner_key ORDER BY system_rank, {sid}) AS rn "
        f"FROM {_ROWS}"
    )
    resolved = (
        "SELECT owner_key, "
        "MAX(CASE WHEN rn = 1 THEN team_ END) AS team, "
        "MAX(CASE WHEN rn = 1 THEN CASE WHEN active_ THEN 1 ELSE 0 END END) = 1 AS is_active, "
        f"MIN(CASE WHEN source_system = 'salesforce' THEN {sid} END) AS salesforce_user_id, "
        f"MIN(CASE WHEN source_system = 'hubspot' THEN {sid} END) AS hubspot_owner_id "
        f"FROM ({ranked}) r GROUP BY owner_key"
    )
    return (
        "SELECT o.source_system, o.source_id, o.owner_key, o.email, o.name, k.team, k.is_active, o.title, "
        "k.salesforce_user_id, k.hubspot_owner_id, o.created_at, o.updated_at, o.is_deleted "
        f"FROM {_ROWS} o JOIN ({resolved}) k ON k.owner_key = o.owner_key"
    )


def _create_rows(ctx: SqlContext) -> None:
    """One row per owner record with its private team and activity (``_team``, ``_active``)."""
    users = ctx.raw(
        salesforce.raw_table_name("user"),
        {
            "id": "text",
            "email": "text",
            "name": "text",
            "firstname": "text",
            "lastname": "text",
            "team__c": "text",
            "isactive": "boolean",
            "title": "text",
            "createddate": "timestamp",
            "lastmodifieddate": "timestamp",
            "_is_deleted": "boolean",
        },
    )
    sf = (
        "SELECT 'salesforce' AS source_system, 0 AS system_rank, id AS source_id, email, "
        f"COALESCE({normalized_email(ctx, 'email')}, 'salesforce:' || id) AS owner_key, "
        "COALESCE(name, NULLIF(CONCAT_WS(' ', firstname, lastname), '')) AS name, "
        "team__c AS team_, "
        "COALESCE(isactive, FALSE) AND NOT COALESCE(_is_deleted, FALSE) AS active_, "
        "title, createddate AS created_at, lastmodifieddate AS updated_at, "
        f"COALESCE(_is_deleted, FALSE) AS is_deleted FROM {users} u"
    )
    hs = (
        "SELECT 'hubspot' AS source_system, 1 AS system_rank, h.id AS source_id, h.email, "
        f"COALESCE({normalized_email(ctx, 'h.email')}, 'hubspot:' || h.id) AS owner_key, "
        "NULLIF(CONCAT_WS(' ', h.first_name, h.last_name), '') AS name, "
        "t.name AS team_, NOT h.deleted AS active_, CAST(NULL AS VARCHAR) AS title, "
        f"h.created_at, h.updated_at, h.deleted AS is_deleted FROM {_HS_OWNERS} h "
        f"LEFT JOIN (SELECT row_id, name, ROW_NUMBER() OVER (PARTITION BY row_id "
        f"ORDER BY CASE WHEN is_primary THEN 0 ELSE 1 END, pos) AS rn FROM {_HS_TEAMS}) t "
        "ON t.row_id = h.row_id AND t.rn = 1"
    )
    ctx.temp(_ROWS, f"{sf} UNION ALL {hs}")


def _create_hubspot_owners(ctx: SqlContext) -> None:
    """HubSpot owners staged with a row id and their ``teams`` as the engine's JSON type, then their teams."""
    table = hubspot.raw_table_name("owners")
    types = ctx.source_types(table)
    columns: dict[str, Want] = {
        "id": "text",
        "email": "text",
        "first_name": "text",
        "last_name": "text",
        "created_at": "timestamp",
        "updated_at": "timestamp",
        "_is_deleted": "boolean",
        "archived": "boolean",
    }
    parts = [f"{ctx.convert(c, types.get(c), want)} AS {c}" for c, want in columns.items()]
    json_type = "JSONB" if ctx.dialect == "postgresql" else "JSON"
    teams = (
        f"CAST(NULLIF(TRIM(CAST(\"teams\" AS VARCHAR)), '') AS {json_type})"
        if "teams" in types
        else f"CAST(NULL AS {json_type})"
    )
    source = f"FROM {ctx.table(table)}" if types else "WHERE 1 = 0"
    staged = f"SELECT ROW_NUMBER() OVER () AS row_id, {', '.join(parts)}, {teams} AS teams {source}"
    ctx.temp(
        _HS_OWNERS,
        "SELECT row_id, id, email, first_name, last_name, created_at, updated_at, teams, "
        f"COALESCE(_is_deleted, FALSE) OR COALESCE(archived, FALSE) AS deleted FROM ({staged}) s",
    )
    ctx.temp(_HS_TEAMS, _team_elements(ctx))


def _team_elements(ctx: SqlContext) -> str:
    """(row_id, pos, is_primary, name) per element of each owner's ``teams`` array. ``is_primary`` is Python's
    truthiness of the element's "primary" value (true, a non-zero number, a non-empty string or container)."""
    if ctx.dialect == "postgresql":
        kind, value, name = "jsonb_typeof(e.elem -> 'primary')", "e.elem ->> 'primary'", "e.elem ->> 'name'"
        kinds: dict[str, tuple[str, ...]] = {
            "boolean": ("'boolean'",),
            "number": ("'number'",),
            "string": ("'string'",),
        }
        elements = (
            f"SELECT h.row_id, e.pos, e.elem FROM {_HS_OWNERS} h CROSS JOIN LATERAL jsonb_array_elements("
            "CASE WHEN jsonb_typeof(h.teams) = 'array' THEN h.teams ELSE CAST('[]' AS JSONB) END"
            ") WITH ORDINALITY AS e(elem, pos)"
        )
    else:
        kind, value, name = "json_type(e.elem, '$.primary')", "e.elem ->> '$.primary'", "e.elem ->> '$.name'"
        kinds = {
            "boolean": ("'BOOLEAN'",),
            "number": ("'BIGINT'", "'UBIGINT'", "'DOUBLE'"),
            "string": ("'VARCHAR'",),
        }
        # Two UNNESTs in one SELECT walk their lists in step, so each element keeps its position.
        elements = (
            "SELECT row_id, UNNEST(arr) AS elem, generate_subscripts(arr, 1) AS pos FROM "
            f"(SELECT row_id, json_extract(teams, '$[*]') AS arr FROM {_HS_OWNERS} WHERE teams IS NOT NULL) a"
        )
    truthy = (
        f"CASE WHEN {kind} IN ({', '.join(kinds['boolean'])}) THEN {value} = 'true' "
        f"WHEN {kind} IN ({', '.join(kinds['number'])}) THEN CAST({value} AS DOUBLE PRECISION) <> 0 "
        f"WHEN {kind} IN ({', '.join(kinds['string'])}) THEN {value} <> '' "
        f"WHEN {value} IS NULL OR {kind} IN ('null', 'NULL') THEN FALSE "
        f"ELSE {value} NOT IN ('[]', '{{}}') END"
    )
    return f"SELECT e.row_id, e.pos, {truthy} AS is_primary, {ctx.clean(name)} AS name FROM ({elements}) e"
