"""Identity resolution as set-based SQL plus two vectorised graph steps (``pipelines.closed_loop.identity``).

The warehouse numbers the records, builds the edges (trusted: converted Lead -> Contact, merged-away HubSpot
contact -> survivor; cross-CRM links) and the conflicts; ``scipy``'s connected components group the records
(twice: all edges, to find ``link_disagreement`` groups, then trusted edges plus the links of agreeing groups).

E-mail matching: the reference walks e-mails in sorted order and merges two groups when the e-mail is on
exactly those two, one holding only HubSpot records, the other only Salesforce records. A merged group holds
both CRMs, so it never merges again: the merges are a greedy matching over the candidate e-mails in e-mail
order (an e-mail merges its pair unless an earlier e-mail already merged one of the two). That matching is
computed in vectorised rounds (each round accepts every candidate that is the earliest remaining one at both
its groups, then drops the candidates touching a merged group) and gives exactly the reference's merges; the
rounds needed grow with the longest chain of candidates each earlier than the next along shared groups (a
handful on real data; an adversarial chain of n candidates needs about n/2 rounds, still exact). The number
of people an e-mail is shared by when its turn comes is its groups minus the pairs merged by earlier e-mails.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from connectors.warehouse.catalog.harmonised import CANONICAL_PEOPLE, IDENTITY_CONFLICTS
from pipelines.closed_loop.sql.context import SqlContext

NODES = "idn_nodes"
# (column, system, object) of the cross-CRM ids, as the reference lists them.
_LINKS = (
    ("linked_salesforce_lead_id", "salesforce", "lead"),
    ("linked_salesforce_contact_id", "salesforce", "contact"),
    ("linked_hubspot_contact_id", "hubspot", "contact"),
)
_PRIMARY_ORDER = (
    "CASE WHEN source_system = 'hubspot' AND source_object = 'contact' THEN 0 "
    "WHEN source_system = 'salesforce' AND source_object = 'lead' THEN 1 "
    "WHEN source_system = 'salesforce' AND source_object = 'contact' THEN 2 ELSE 9 END"
)


def resolve_sql(ctx: SqlContext, people: str) -> tuple[str, str]:
    """(SELECT of canonical_people with ``person_key`` filled, SELECT of identity_conflicts) for the relation
    ``people`` (canonical_people rows, person_key ignored; a table, or a parenthesised subquery without alias,
    read twice, so it must be stable). Rows are unique on (source_system, source_object, source_id), the
    catalog's key. Creates ``idn_*`` temp tables on the connection; run both SELECTs before the next call."""
    _create_nodes(ctx, people)
    _create_edges(ctx)
    # fetchall: DuckDB refuses an Arrow fetch while a scalar()'s result is still open on the connection.
    count = int(ctx.rows(f"SELECT COUNT(*) FROM {NODES}")[0][0])
    _load_labels(ctx, "idn_full", "SELECT a, b FROM idn_edges", count)
    _create_disagreements(ctx)
    # A link edge's two records are in one group of all edges: both conflicted or neither.
    _load_labels(
        ctx,
        "idn_grp",
        "SELECT e.a, e.b FROM idn_edges e LEFT JOIN idn_conflicted c ON c.node = e.a WHERE e.trusted OR c.node IS NULL",
        count,
    )
    _match_emails(ctx)
    _create_persons(ctx)
    return _people_select(ctx, people), _conflicts_select(ctx)


def _create_nodes(ctx: SqlContext, people: str) -> None:
    """Every record numbered 0..n-1 (scipy's node ids; any order: labels only name groups) with the facts the
    rules read; blanks count as absent, as the reference's truthiness tests treat them."""
    ctx.temp(
        NODES,
        f"""
        SELECT CAST(ROW_NUMBER() OVER () - 1 AS BIGINT) AS node,
               source_system, source_object, source_id,
               source_system || ':' || source_object || ':' || source_id AS rkey,
               NOT COALESCE(is_deleted, FALSE) AS live,
               (source_system = 'hubspot' AND merged_into_source_id IS NOT NULL) AS alias,
               COALESCE(is_converted, FALSE) AS converted,
               NULLIF(email_normalized, '') AS email,
               NULLIF(merged_into_source_id, '') AS merged_into,
               NULLIF(converted_contact_id, '') AS converted_contact_id,
               {", ".join(f"NULLIF({c}, '') AS {c}" for c, _, _ in _LINKS)}
        FROM {people} p
        """,
    )


def _target(alias: str, system: str, obj: str, source_id: str) -> str:
    """Join condition: ``alias`` is the live (or merged-away) record ``system:obj:source_id``."""
    return (
        f"{alias}.source_system = '{system}' AND {alias}.source_object = '{obj}' "
        f"AND {alias}.source_id = {source_id} AND ({alias}.live OR {alias}.alias)"
    )


def _create_edges(ctx: SqlContext) -> None:
    """``idn_links``: every cross-CRM id of a live record, ``target`` NULL when it points at an absent or deleted
    record; ``idn_edges`` (a, b, trusted): the trusted edges and the links that found their target."""
    links = " UNION ALL ".join(
        f"""
        SELECT n.node, n.rkey, n.source_system, n.source_object, n.source_id,
               '{column}' AS link_column, '{system}' AS target_system, '{obj}' AS target_object,
               n.{column} AS target_id, t.node AS target
        FROM {NODES} n LEFT JOIN {NODES} t ON {_target("t", system, obj, f"n.{column}")}
        WHERE n.live AND NOT n.alias AND n.{column} IS NOT NULL
        """
        for column, system, obj in _LINKS
    )
    ctx.temp("idn_links", links)
    ctx.temp(
        "idn_edges",
        f"""
        SELECT n.node AS a, t.node AS b, TRUE AS trusted
        FROM {NODES} n JOIN {NODES} t ON {_target("t", "hubspot", "contact", "n.merged_into")}
        WHERE n.alias
        UNION ALL
        SELECT n.node, t.node, TRUE
        FROM {NODES} n JOIN {NODES} t ON {_target("t", "salesforce", "contact", "n.converted_contact_id")}
        WHERE n.live AND NOT n.alias AND n.source_system = 'salesforce' AND n.source_object = 'lead'
        UNION ALL
        SELECT node, target, FALSE FROM idn_links WHERE target IS NOT NULL
        """,
    )


def _load_labels(ctx: SqlContext, name: str, edges_sql: str, count: int) -> None:
    """Temp table ``name`` (node, label): the connected components of the edges in ``edges_sql``."""
    edges = ctx.fetch_arrow(edges_sql)
    a = edges.column(0).to_numpy(zero_copy_only=False).astype(np.int64)
    b = edges.column(1).to_numpy(zero_copy_only=False).astype(np.int64)
    if count:
        graph = coo_matrix((np.ones(len(a), dtype=np.int32), (a, b)), shape=(count, count)).tocsr()
        _, labels = connected_components(graph, directed=False)
    else:
        labels = np.zeros(0, dtype=np.int64)
    table = pa.table({"node": np.arange(count, dtype=np.int64), "label": labels.astype(np.int64)})
    ctx.load_arrow(name, table, {"node": "integer", "label": "integer"})


def _create_disagreements(ctx: SqlContext) -> None:
    """``idn_disagree`` (label): groups of all edges holding two live non-merged-away records of one kind
    (HubSpot contact, Salesforce Contact, unconverted Lead); ``idn_conflicted`` (node): their members."""
    ctx.temp(
        "idn_disagree",
        f"""
        SELECT DISTINCT label FROM (
            SELECT f.label
            FROM {NODES} n JOIN idn_full f ON f.node = n.node
            WHERE n.live AND NOT n.alias AND NOT (n.source_object = 'lead' AND n.converted)
            GROUP BY f.label, n.source_system, n.source_object
            HAVING COUNT(*) > 1
        ) k
        """,
    )
    ctx.temp("idn_conflicted", "SELECT f.node FROM idn_full f JOIN idn_disagree d ON d.label = f.label")


def _match_emails(ctx: SqlContext) -> None:
    """``idn_email`` (per e-mail on several groups: whether it merged, how many people share it at its turn) and
    ``idn_pairs`` (group -> the partner it merged with by e-mail, and that e-mail's rank)."""
    ctx.temp(
        "idn_systems",
        f"""
        SELECT g.label, MIN(n.source_system) AS sole_system, MIN(n.source_system) = MAX(n.source_system) AS single
        FROM {NODES} n JOIN idn_grp g ON g.node = n.node
        WHERE n.live
        GROUP BY g.label
        """,
    )
    ctx.temp(
        "idn_eligible",
        f"""
        SELECT n.node, n.email, g.label
        FROM {NODES} n JOIN idn_grp g ON g.node = n.node LEFT JOIN idn_conflicted c ON c.node = n.node
        WHERE n.live AND n.email IS NOT NULL AND c.node IS NULL
        """,
    )
    # Only e-mails on two or more groups matter; ranking and counting just those keeps the work small.
    ctx.temp(
        "idn_ranked",
        f"""
        SELECT email, ROW_NUMBER() OVER (ORDER BY {ctx.sortable("email")}) AS email_rank
        FROM (SELECT email FROM idn_eligible GROUP BY email HAVING MIN(label) < MAX(label)) s
        """,
    )
    ctx.temp(
        "idn_inc",
        "SELECT DISTINCT r.email_rank, e.label FROM idn_eligible e JOIN idn_ranked r ON r.email = e.email",
    )
    ctx.temp(
        "idn_shared",
        "SELECT email_rank, COUNT(*) AS groups_, MIN(label) AS g1, MAX(label) AS g2 FROM idn_inc GROUP BY email_rank",
    )
    candidates = ctx.fetch_arrow(
        """
        SELECT s.email_rank, s.g1, s.g2
        FROM idn_shared s JOIN idn_systems x ON x.label = s.g1 JOIN idn_systems y ON y.label = s.g2
        WHERE s.groups_ = 2 AND x.single AND y.single AND x.sole_system <> y.sole_system
        """
    )
    ranks, g1, g2 = (candidates.column(i).to_numpy(zero_copy_only=False).astype(np.int64) for i in range(3))
    merged = _greedy_matching(ranks, g1, g2)
    ctx.load_arrow(
        "idn_merges",
        pa.table({"email_rank": ranks[merged], "g1": g1[merged], "g2": g2[merged]}),
        {"email_rank": "integer", "g1": "integer", "g2": "integer"},
    )
    ctx.temp(
        "idn_pairs",
        "SELECT g1 AS label, g2 AS partner, email_rank FROM idn_merges "
        "UNION ALL SELECT g2, g1, email_rank FROM idn_merges",
    )
    # Each pair merged by an earlier e-mail and both of whose groups carry this e-mail is one person by now.
    ctx.temp(
        "idn_email",
        """
        SELECT s.email_rank, r.email, s.groups_ - COALESCE(c.collapsed, 0) AS roots,
               m.email_rank IS NOT NULL AS merged
        FROM idn_shared s JOIN idn_ranked r ON r.email_rank = s.email_rank
        LEFT JOIN (
            SELECT i.email_rank, COUNT(*) AS collapsed
            FROM idn_inc i
            JOIN idn_pairs p ON p.label = i.label AND p.label < p.partner AND p.email_rank < i.email_rank
            JOIN idn_inc j ON j.email_rank = i.email_rank AND j.label = p.partner
            GROUP BY i.email_rank
        ) c ON c.email_rank = s.email_rank
        LEFT JOIN idn_merges m ON m.email_rank = s.email_rank
        """,
    )


def _greedy_matching(ranks: np.ndarray, g1: np.ndarray, g2: np.ndarray) -> np.ndarray:
    """Mask of the candidates the sequential walk in ``ranks`` order merges: a candidate merges when neither
    of its groups merged at an earlier one. Each round accepts the candidates that come first at both their
    groups among those left, exactly what the walk does with them, and drops the ones they exclude."""
    accepted = np.zeros(len(ranks), dtype=bool)
    if not len(ranks):
        return accepted
    size = int(max(g1.max(), g2.max())) + 1
    done = np.zeros(size, dtype=bool)
    left = np.arange(len(ranks))
    while len(left):
        first = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, g1[left], ranks[left])
        np.minimum.at(first, g2[left], ranks[left])
        wins = left[(ranks[left] == first[g1[left]]) & (ranks[left] == first[g2[left]])]
        accepted[wins] = True
        done[g1[wins]] = True
        done[g2[wins]] = True
        left = left[~done[g1[left]] & ~done[g2[left]]]
    return accepted


def _create_persons(ctx: SqlContext) -> None:
    """``idn_person`` (node, person_key): the group's primary live record (HubSpot contact, Lead, Contact; lowest
    id first), none for a group without live records."""
    ctx.temp(
        "idn_final",
        f"""
        SELECT n.node, n.rkey, n.live, n.source_id, {_PRIMARY_ORDER} AS priority,
               CASE WHEN p.partner IS NOT NULL AND p.partner < g.label THEN p.partner ELSE g.label END AS person
        FROM {NODES} n JOIN idn_grp g ON g.node = n.node LEFT JOIN idn_pairs p ON p.label = g.label
        """,
    )
    ctx.temp(
        "idn_primary",
        f"""
        SELECT person, rkey FROM (
            SELECT person, rkey, ROW_NUMBER() OVER (
                PARTITION BY person
                ORDER BY priority, LENGTH(source_id), {ctx.sortable("source_id")}, {ctx.sortable("rkey")}
            ) AS pick
            FROM idn_final WHERE live
        ) r WHERE pick = 1
        """,
    )
    ctx.temp(
        "idn_person",
        "SELECT f.node, p.rkey AS person_key FROM idn_final f LEFT JOIN idn_primary p ON p.person = f.person",
    )


def _people_select(ctx: SqlContext, people: str) -> str:
    columns = ", ".join("r.person_key" if c == "person_key" else f"p.{c}" for c in CANONICAL_PEOPLE.column_names)
    return (
        f"SELECT {columns} FROM {people} p "
        f"JOIN {NODES} n ON n.source_system = p.source_system AND n.source_object = p.source_object "
        "AND n.source_id = p.source_id JOIN idn_person r ON r.node = n.node"
    )


def _mismatched_links() -> str:
    """(hubspot_node, salesforce_node) of the applied cross-CRM links (their group agrees) between two live
    records with different e-mails, once per pair whichever side named the other ("hubspot:" sorts first)."""
    return f"""
        SELECT DISTINCT CASE WHEN n.source_system = 'hubspot' THEN n.node ELSE t.node END AS hubspot_node,
               CASE WHEN n.source_system = 'hubspot' THEN t.node ELSE n.node END AS salesforce_node
        FROM idn_links l JOIN {NODES} n ON n.node = l.node JOIN {NODES} t ON t.node = l.target
        LEFT JOIN idn_conflicted c ON c.node = l.node
        WHERE c.node IS NULL AND t.live AND NOT t.alias AND n.email <> t.email
    """


def _conflicts_select(ctx: SqlContext) -> str:
    """One row per conflict. A missing link target is absent, or deleted and not merged away, so it has no
    person: those conflicts (the many) need no aggregation. The others aggregate their records (``idn_cmembers``),
    sorted as Python sorts text. An e-mail mismatch is one pair of one person, HubSpot's record first."""
    ctx.temp(
        "idn_cmembers",
        f"""
        SELECT 'link_disagreement' AS kind, f.label AS cid, n.node, n.rkey
        FROM {NODES} n JOIN idn_full f ON f.node = n.node JOIN idn_disagree d ON d.label = f.label
        WHERE n.live
        UNION ALL
        SELECT 'shared_email', e.email_rank, i.node, n.rkey
        FROM idn_email e JOIN idn_ranked r ON r.email_rank = e.email_rank
        JOIN idn_eligible i ON i.email = r.email JOIN {NODES} n ON n.node = i.node
        WHERE e.roots > 1 AND NOT e.merged
        """,
    )
    rkey = ctx.sortable("rkey")
    source, target = ctx.sortable("l.rkey"), ctx.sortable("l.target_key")
    columns = ", ".join(IDENTITY_CONFLICTS.column_names)
    return f"""
        SELECT {columns} FROM (
            SELECT 'link_target_missing|' || record_keys AS conflict_key, 'link_target_missing' AS kind,
                   CAST(NULL AS VARCHAR) AS email_normalized, record_keys, person_keys, detail
            FROM (
                SELECT CASE WHEN {source} < {target} THEN l.rkey || ',' || l.target_key
                            WHEN {source} > {target} THEN l.target_key || ',' || l.rkey
                            ELSE l.rkey END AS record_keys,
                       COALESCE(r.person_key, '') AS person_keys,
                       l.source_system || ' ' || l.source_object || ' ' || l.source_id || ': ' || l.link_column
                       || ' ' || l.target_id || ' is not a live ' || l.target_system || ' ' || l.target_object
                       AS detail
                FROM (
                    SELECT m.*, target_system || ':' || target_object || ':' || target_id AS target_key
                    FROM idn_links m WHERE target IS NULL
                ) l
                JOIN idn_person r ON r.node = l.node
            ) missing
            UNION ALL
            SELECT 'email_mismatch|' || h.rkey || ',' || f.rkey, 'email_mismatch', h.email, h.rkey || ',' || f.rkey,
                   COALESCE(r.person_key, ''),
                   h.rkey || ' has ' || h.email || ', ' || f.rkey || ' has ' || f.email || '; linked by id, both kept'
            FROM ({_mismatched_links()}) x
            JOIN {NODES} h ON h.node = x.hubspot_node JOIN {NODES} f ON f.node = x.salesforce_node
            JOIN idn_person r ON r.node = x.hubspot_node
            UNION ALL
            SELECT k.kind || '|' || k.record_keys, k.kind, e.email, k.record_keys, COALESCE(p.person_keys, ''),
                   CASE WHEN k.kind = 'link_disagreement' THEN 'cross-CRM ids would make one person of ' || k.spaced
                        ELSE CAST(e.roots AS VARCHAR) || ' people share ' || e.email || '; not merged' END
            FROM (
                SELECT kind, cid, {ctx.string_agg("rkey", ",", rkey)} AS record_keys,
                       {ctx.string_agg("rkey", ", ", rkey)} AS spaced
                FROM idn_cmembers GROUP BY kind, cid
            ) k
            LEFT JOIN idn_email e ON k.kind = 'shared_email' AND e.email_rank = k.cid
            LEFT JOIN (
                SELECT kind, cid, {ctx.string_agg("person_key", ",", ctx.sortable("person_key"))} AS person_keys
                FROM (
                    SELECT DISTINCT m.kind, m.cid, r.person_key
                    FROM idn_cmembers m JOIN idn_person r ON r.node = m.node
                    WHERE r.person_key IS NOT NULL
                ) d
                GROUP BY kind, cid
            ) p ON p.kind = k.kind AND p.cid = k.cid
        ) c
    """
