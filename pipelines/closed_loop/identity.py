"""Identity resolution: which person records (HubSpot contact, Salesforce Lead/Contact) are one person.

Rules, in order:
  1. Salesforce's and HubSpot's own facts always join records: a Lead joins the Contact it was converted into
     (ConvertedContactId); a HubSpot contact merged into another joins its survivor.
  2. Cross-CRM ids join records: HubSpot ``salesforceleadid`` / ``salesforcecontactid`` and Salesforce
     ``HubSpot_Contact_Id__c``. An id pointing at a record that is absent or deleted joins nothing and is
     reported (``link_target_missing``). When the ids of a group disagree, i.e. they would put two live HubSpot
     contacts, two Salesforce Contacts or two unconverted Leads into one person, none of that group's
     cross-CRM ids are applied and the group is reported (``link_disagreement``). An applied id joining two
     live records whose e-mails differ is reported too (``email_mismatch``): they are one person by id, and
     both e-mails are kept (closed_loop_leads ``email`` and ``email_other_crm``), not one silently dropped.
  3. Normalised e-mail joins what the ids left apart, only across CRMs: when exactly two groups share an
     e-mail and one holds only HubSpot records, the other only Salesforce records. Any other sharing (two
     HubSpot contacts, two Leads, three groups…) is a possible duplicate: reported (``shared_email``), not merged.
Deleted/archived records (other than merged-away HubSpot contacts) take part in nothing and get no person.
The person_key is the record key of the group's primary record: its HubSpot contact, else its Lead, else its
Contact (lowest id first), so it stays stable while the group only grows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from connectors.warehouse.catalog.harmonised import IDENTITY_CONFLICTS
from pipelines.closed_loop.values import record_key, records

_PRIMARY_ORDER = {("hubspot", "contact"): 0, ("salesforce", "lead"): 1, ("salesforce", "contact"): 2}


class _UnionFind:
    def __init__(self, nodes: Iterable[str]) -> None:
        self.parent = {n: n for n in nodes}

    def find(self, node: str) -> str:
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:
            self.parent[node], node = root, self.parent[node]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The smaller key wins as root, so the result does not depend on edge order.
            lo, hi = sorted((ra, rb))
            self.parent[hi] = lo

    def groups(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for node in self.parent:
            out[self.find(node)].append(node)
        return out


@dataclass(frozen=True)
class _Record:
    key: str
    system: str
    obj: str
    source_id: str
    live: bool
    alias: bool  # merged away into another HubSpot contact: follows it, never counts on its own
    converted: bool
    email: str | None


def _natural(source_id: str) -> tuple[int, str]:
    return len(source_id), source_id


def resolve(people: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(people with ``person_key`` filled in, identity_conflicts rows)."""
    if people.empty:
        return people.assign(person_key=pd.Series(dtype=object)), pd.DataFrame(columns=IDENTITY_CONFLICTS.column_names)
    rows = list(records(people))
    recs: dict[str, _Record] = {}
    for r in rows:
        key = record_key(r["source_system"], r["source_object"], r["source_id"])
        alias = r["source_system"] == "hubspot" and r.get("merged_into_source_id") is not None
        recs[key] = _Record(
            key,
            r["source_system"],
            r["source_object"],
            r["source_id"],
            not r["is_deleted"],
            alias,
            bool(r.get("is_converted")),
            r.get("email_normalized"),
        )
    conflicts: dict[str, dict[str, Any]] = {}

    def report(kind: str, keys: Iterable[str], detail: str, email: str | None = None) -> None:
        ordered = sorted(set(keys))
        conflicts.setdefault(
            f"{kind}|{','.join(ordered)}",
            {"kind": kind, "email_normalized": email, "record_keys": ",".join(ordered), "detail": detail},
        )

    def target(system: str, obj: str, source_id: str | None) -> str | None:
        key = record_key(system, obj, source_id) if source_id else None
        if key is None or key not in recs:
            return None
        rec = recs[key]
        return key if rec.live or rec.alias else None

    trusted: list[tuple[str, str]] = []
    links: list[tuple[str, str]] = []
    for r in rows:
        key = record_key(r["source_system"], r["source_object"], r["source_id"])
        rec = recs[key]
        if rec.alias:
            survivor = target("hubspot", "contact", r["merged_into_source_id"])
            if survivor:
                trusted.append((key, survivor))
            continue
        if not rec.live:
            continue
        if rec.system == "salesforce" and rec.obj == "lead" and r.get("converted_contact_id"):
            contact = target("salesforce", "contact", r["converted_contact_id"])
            if contact:
                trusted.append((key, contact))
        for column, system, obj in (
            ("linked_salesforce_lead_id", "salesforce", "lead"),
            ("linked_salesforce_contact_id", "salesforce", "contact"),
            ("linked_hubspot_contact_id", "hubspot", "contact"),
        ):
            linked = r.get(column)
            if not linked:
                continue
            found = target(system, obj, linked)
            if found is None:
                report(
                    "link_target_missing",
                    (key, record_key(system, obj, linked)),
                    f"{rec.system} {rec.obj} {rec.source_id}: {column} {linked} is not a live {system} {obj}",
                )
            else:
                links.append((key, found))

    conflicted = _apply_links(recs, trusted, links, report)
    _report_email_mismatches(recs, links, conflicted, report)
    uf = _UnionFind(recs)
    for a, b in trusted:
        uf.union(a, b)
    for a, b in links:
        if a not in conflicted and b not in conflicted:
            uf.union(a, b)
    _match_emails(recs, uf, conflicted, report)

    person_of: dict[str, str | None] = {}
    for members in uf.groups().values():
        counted = [recs[m] for m in members if recs[m].live]
        if not counted:
            person_of.update({m: None for m in members})
            continue
        primary = min(counted, key=lambda x: (_PRIMARY_ORDER.get((x.system, x.obj), 9), _natural(x.source_id)))
        person_of.update({m: primary.key for m in members})
    out = people.copy()
    out["person_key"] = [
        person_of[record_key(s, o, i)] for s, o, i in zip(out["source_system"], out["source_object"], out["source_id"])
    ]
    report_rows = []
    for conflict_key, c in sorted(conflicts.items()):
        persons = sorted({p for k in c["record_keys"].split(",") if (p := person_of.get(k))})
        report_rows.append({"conflict_key": conflict_key, **c, "person_keys": ",".join(persons)})
    return out, pd.DataFrame(report_rows, columns=IDENTITY_CONFLICTS.column_names)


def _too_many(members: Iterable[_Record]) -> bool:
    """Two live HubSpot contacts, two Salesforce Contacts or two unconverted Leads cannot be one person."""
    counts: dict[tuple[str, str, bool], int] = defaultdict(int)
    for m in members:
        if m.live and not m.alias:
            counts[(m.system, m.obj, m.converted if m.obj == "lead" else False)] += 1
    return any(n > 1 for (system, obj, converted), n in counts.items() if not (obj == "lead" and converted))


def _apply_links(
    recs: dict[str, _Record], trusted: list[tuple[str, str]], links: list[tuple[str, str]], report: Any
) -> set[str]:
    """Records whose group's cross-CRM ids disagree (those ids are then not applied)."""
    uf = _UnionFind(recs)
    for a, b in (*trusted, *links):
        uf.union(a, b)
    conflicted: set[str] = set()
    for members in uf.groups().values():
        group = [recs[m] for m in members]
        if len(group) > 1 and _too_many(group):
            keys = [m.key for m in group if m.live]
            report("link_disagreement", keys, "cross-CRM ids would make one person of " + ", ".join(sorted(keys)))
            conflicted.update(members)
    return conflicted


def _report_email_mismatches(
    recs: dict[str, _Record], links: list[tuple[str, str]], conflicted: set[str], report: Any
) -> None:
    """Applied cross-CRM links (always HubSpot <-> Salesforce) between live records with different e-mails."""
    for a, b in links:
        ra, rb = recs[a], recs[b]
        if a in conflicted or not (ra.live and rb.live) or ra.alias or rb.alias:
            continue
        if ra.email and rb.email and ra.email != rb.email:
            hs, sf = (ra, rb) if ra.system == "hubspot" else (rb, ra)
            report(
                "email_mismatch",
                (a, b),
                f"{hs.key} has {hs.email}, {sf.key} has {sf.email}; linked by id, both kept",
                hs.email,
            )


def _match_emails(recs: dict[str, _Record], uf: _UnionFind, conflicted: set[str], report: Any) -> None:
    by_email: dict[str, set[str]] = defaultdict(set)
    for rec in recs.values():
        if rec.live and rec.email and rec.key not in conflicted:
            by_email[rec.email].add(rec.key)
    systems: dict[str, set[str]] = defaultdict(set)  # group root -> CRMs of its live records
    for rec in recs.values():
        if rec.live:
            systems[uf.find(rec.key)].add(rec.system)
    for email in sorted(by_email):
        roots = sorted({uf.find(k) for k in by_email[email]})
        if len(roots) < 2:
            continue
        a, b = (systems[r] for r in roots[:2])
        if len(roots) == 2 and len(a) == 1 and len(b) == 1 and a != b:
            merged = a | b
            uf.union(roots[0], roots[1])
            systems[uf.find(roots[0])] = merged
            continue
        report("shared_email", by_email[email], f"{len(roots)} people share {email}; not merged", email)
