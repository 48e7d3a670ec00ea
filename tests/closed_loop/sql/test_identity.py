"""``resolve_sql`` equals the reference ``identity.resolve`` row by row, on DuckDB and PostgreSQL: hand-made
records covering every rule and randomised records dense in shared e-mails (the order-dependent e-mail walk).
Whole sandboxes are test_equivalence's: canonical_people and identity_conflicts there come from ``resolve_sql``."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import numpy as np
import pandas as pd
import pytest

from connectors.warehouse.catalog.harmonised import CANONICAL_PEOPLE, IDENTITY_CONFLICTS
from connectors.warehouse.spec import TableSpec
from connectors.warehouse.warehouse import Warehouse
from pipelines.closed_loop.identity import resolve
from pipelines.closed_loop.sql.context import SqlContext
from pipelines.closed_loop.sql.identity import _greedy_matching, resolve_sql
from pipelines.closed_loop.write import Row, replace_table, to_rows

PEOPLE_INPUT = dataclasses.replace(CANONICAL_PEOPLE, name="idn_test_people")


def person(system: str, obj: str, source_id: str, **values: Any) -> dict[str, Any]:
    return {"source_system": system, "source_object": obj, "source_id": source_id, "is_deleted": False, **values}


def hs(source_id: str, **values: Any) -> dict[str, Any]:
    return person("hubspot", "contact", source_id, **values)


def lead(source_id: str, **values: Any) -> dict[str, Any]:
    return person("salesforce", "lead", source_id, **values)


def contact(source_id: str, **values: Any) -> dict[str, Any]:
    return person("salesforce", "contact", source_id, **values)


HAND_MADE = [
    # Converted Lead -> its Contact; a HubSpot contact linked to the Lead joins them and is the primary.
    lead("00Q1", is_converted=True, converted_contact_id="0031", email_normalized="ann@a.com"),
    contact("0031", email_normalized="ann@a.com"),
    hs("101", linked_salesforce_lead_id="00Q1"),
    # Merged-away HubSpot contacts follow their survivor; a live one counts for the primary (shortest id).
    hs("9", merged_into_source_id="1000", email_normalized="nine@b.com"),
    hs("1000", email_normalized="thousand@b.com"),
    hs("77", merged_into_source_id="1000", is_deleted=True),
    hs("78", merged_into_source_id="4040", is_deleted=True),
    # Links to a deleted and to an absent record.
    hs("200", linked_salesforce_contact_id="0039"),
    contact("0039", is_deleted=True),
    lead("00Q5", linked_hubspot_contact_id="999999"),
    # Two unconverted Leads linked to one HubSpot contact: no link of the group applies, nor its e-mails.
    hs("300", email_normalized="zed@c.com"),
    lead("00Q2", linked_hubspot_contact_id="300", email_normalized="zed@c.com"),
    lead("00Q3", linked_hubspot_contact_id="300"),
    hs("301", email_normalized="zed@c.com"),
    # Two Contacts through a converted Lead and a HubSpot link: the trusted edge still applies.
    lead("00Q4", is_converted=True, converted_contact_id="0034"),
    contact("0034"),
    contact("0035"),
    hs("400", linked_salesforce_lead_id="00Q4", linked_salesforce_contact_id="0035"),
    # One e-mail on three people.
    hs("500", email_normalized="tri@d.com"),
    hs("501", email_normalized="tri@d.com"),
    lead("00Q6", email_normalized="tri@d.com"),
    # A HubSpot-only and a Salesforce-only person with one e-mail: merged.
    hs("600", email_normalized="pair@e.com"),
    contact("0036", email_normalized="pair@e.com"),
    # A chain walked in e-mail order: p1 merges 700+00Q7, p2 then finds a merged person (reported), p3 merges.
    hs("700", email_normalized="p2@f.com"),
    hs("701", merged_into_source_id="700", email_normalized="p1@f.com"),
    lead("00Q7", email_normalized="p1@f.com"),
    lead("00Q8", is_converted=True, converted_contact_id="0038", email_normalized="p2@f.com"),
    contact("0038", email_normalized="p3@f.com"),
    hs("702", email_normalized="p3@f.com"),
    # Two e-mails on the same pair: the second finds one person and is silent.
    hs("800", email_normalized="q1@g.com"),
    hs("801", merged_into_source_id="800", email_normalized="q2@g.com"),
    lead("00Q9", is_converted=True, converted_contact_id="0040", email_normalized="q1@g.com"),
    contact("0040", email_normalized="q2@g.com"),
    # Linked by id both ways with different e-mails: one person, one email_mismatch, both e-mails kept.
    hs("900", linked_salesforce_lead_id="00QB", email_normalized="old@h.com"),
    lead("00QB", linked_hubspot_contact_id="900", email_normalized="new@h.com"),
    # Deleted records take part in nothing and get no person.
    lead("00QA", is_deleted=True, email_normalized="pair@e.com", linked_hubspot_contact_id="600"),
]


def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows).reindex(columns=CANONICAL_PEOPLE.column_names).astype(object)


def resolved_by_sql(wh: Warehouse, people: pd.DataFrame) -> tuple[list[Row], list[Row]]:
    replace_table(wh, PEOPLE_INPUT, people)
    with wh.engine.begin() as conn:
        ctx = SqlContext(conn, wh.schema)
        people_sql, conflicts_sql = resolve_sql(ctx, ctx.table(PEOPLE_INPUT.name))
        return rows_of(conn, people_sql, CANONICAL_PEOPLE), rows_of(conn, conflicts_sql, IDENTITY_CONFLICTS)


def rows_of(conn: Any, sql: str, spec: TableSpec) -> list[Row]:
    result = conn.exec_driver_sql(sql)
    return to_rows(pd.DataFrame(result.fetchall(), columns=list(result.keys())), spec)


def assert_same_as_reference(wh: Warehouse, people: pd.DataFrame) -> tuple[list[Row], list[Row]]:
    """Both sides through ``to_rows``; returns the SQL rows for further checks."""
    expected_people, expected_conflicts = resolve(people)
    got_people, got_conflicts = resolved_by_sql(wh, people)
    for spec, expected, got in (
        (CANONICAL_PEOPLE, to_rows(expected_people, CANONICAL_PEOPLE), got_people),
        (IDENTITY_CONFLICTS, to_rows(expected_conflicts, IDENTITY_CONFLICTS), got_conflicts),
    ):
        assert len(got) == len(expected), spec.name
        for want, have in zip(expected, got):
            assert have == want, spec.name
    return got_people, got_conflicts


def test_every_rule_matches_the_reference(warehouse: Warehouse) -> None:
    people, conflicts = assert_same_as_reference(warehouse, frame(HAND_MADE))
    key = {r["source_id"]: r["person_key"] for r in people}
    assert key["00Q1"] == key["0031"] == "hubspot:contact:101"
    assert key["9"] == key["1000"] == key["77"] == "hubspot:contact:9"
    assert key["78"] is None and key["0039"] is None and key["00QA"] is None
    assert len({key["300"], key["00Q2"], key["00Q3"]}) == 3
    assert key["00Q4"] == key["0034"] != key["400"] != key["0035"]
    assert key["600"] == key["0036"] == "hubspot:contact:600"
    assert key["700"] == key["701"] == key["00Q7"] and key["702"] == key["00Q8"] == key["0038"] != key["700"]
    assert key["800"] == key["801"] == key["00Q9"] == key["0040"]
    assert key["900"] == key["00QB"] == "hubspot:contact:900"
    by_key = {r["conflict_key"]: r for r in conflicts}
    assert set(by_key) == {
        "link_target_missing|hubspot:contact:200,salesforce:contact:0039",
        "link_target_missing|hubspot:contact:999999,salesforce:lead:00Q5",
        "link_disagreement|hubspot:contact:300,salesforce:lead:00Q2,salesforce:lead:00Q3",
        "link_disagreement|hubspot:contact:400,salesforce:contact:0034,salesforce:contact:0035,salesforce:lead:00Q4",
        "shared_email|hubspot:contact:500,hubspot:contact:501,salesforce:lead:00Q6",
        "shared_email|hubspot:contact:700,salesforce:lead:00Q8",
        "email_mismatch|hubspot:contact:900,salesforce:lead:00QB",
    }
    assert by_key["shared_email|hubspot:contact:700,salesforce:lead:00Q8"]["detail"] == (
        "2 people share p2@f.com; not merged"
    )
    mismatch = by_key["email_mismatch|hubspot:contact:900,salesforce:lead:00QB"]
    assert (mismatch["email_normalized"], mismatch["person_keys"], mismatch["detail"]) == (
        "old@h.com",
        "hubspot:contact:900",
        "hubspot:contact:900 has old@h.com, salesforce:lead:00QB has new@h.com; linked by id, both kept",
    )


def random_people(seed: int, size: int) -> pd.DataFrame:
    """Few e-mails, many ids: e-mails are shared by several people and chains of candidate merges form."""
    rng = random.Random(seed)
    emails = [f"e{i}@x.com" for i in range(2 * size)]
    ids = {obj: [str(rng.randint(1, size * 4)) for _ in range(size)] for obj in ("hs", "lead", "contact")}

    def some(values: list[str], chance: float) -> str | None:
        return rng.choice(values) if rng.random() < chance else None

    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for obj, maker in (("hs", hs), ("lead", lead), ("contact", contact)):
        for source_id in ids[obj]:
            values: dict[str, Any] = {"is_deleted": rng.random() < 0.05, "email_normalized": some(emails, 0.8)}
            if obj == "hs":
                values |= {
                    "merged_into_source_id": some(ids["hs"], 0.3),
                    "linked_salesforce_lead_id": some(ids["lead"], 0.1),
                    "linked_salesforce_contact_id": some(ids["contact"], 0.05),
                }
            elif obj == "lead":
                converted = rng.random() < 0.6
                values |= {
                    "is_converted": converted,
                    "converted_contact_id": some(ids["contact"], 1.0) if converted else None,
                    "linked_hubspot_contact_id": some(ids["hs"], 0.1),
                }
            else:
                values["linked_hubspot_contact_id"] = some(ids["hs"], 0.05)
            row = maker(source_id, **values)
            rows[(obj, source_id)] = row
    return frame(list(rows.values()))


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_dense_shared_emails_match_the_reference(warehouse: Warehouse, seed: int) -> None:
    _, conflicts = assert_same_as_reference(warehouse, random_people(seed, 300))
    assert {"shared_email", "link_disagreement", "email_mismatch"} <= {r["kind"] for r in conflicts}


@pytest.mark.parametrize("seed", range(20))
def test_matching_rounds_equal_the_sequential_walk(seed: int) -> None:
    """Candidates between few groups, so long chains of each-earlier-than-the-next candidates form."""
    rng = np.random.default_rng(seed)
    count = 400
    ranks = rng.permutation(count).astype(np.int64)
    hubspot = rng.integers(0, 60, count)
    salesforce = rng.integers(60, 120, count)
    done: set[int] = set()
    expected = np.zeros(count, dtype=bool)
    for i in np.argsort(ranks):
        if hubspot[i] not in done and salesforce[i] not in done:
            expected[i] = True
            done |= {int(hubspot[i]), int(salesforce[i])}
    assert expected.sum() > 30
    assert (_greedy_matching(ranks, hubspot, salesforce) == expected).all()


def test_no_people(warehouse: Warehouse) -> None:
    people, conflicts = assert_same_as_reference(warehouse, frame([hs("1", is_deleted=True)]))
    assert [r["person_key"] for r in people] == [None] and conflicts == []
