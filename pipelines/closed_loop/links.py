"""Lookups shared by the builders: person records -> person_key, and live HubSpot association edges."""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from pipelines.closed_loop.raw import Frames
from pipelines.closed_loop.values import record_key


def person_index(people: pd.DataFrame) -> dict[str, str | None]:
    """record key (<system>:<object>:<id>) -> person_key."""
    if people.empty:
        return {}
    keys = [
        record_key(s, o, i) for s, o, i in zip(people["source_system"], people["source_object"], people["source_id"])
    ]
    return dict(zip(keys, people["person_key"]))


def hubspot_edges(raw: Frames, from_type: str, to_type: str) -> dict[str, list[str]]:
    """Live edges from_id -> to_ids (sorted numerically), read from the associations table."""
    edges = raw.hs("associations")
    if edges.empty:
        return {}
    live = edges[(edges["from_type"] == from_type) & (edges["to_type"] == to_type) & ~edges["_is_deleted"].astype(bool)]
    out: dict[str, set[str]] = defaultdict(set)
    for a, b in zip(live["from_id"].astype(str), live["to_id"].astype(str)):
        out[a].add(b)
    return {k: sorted(v, key=lambda x: (len(x), x)) for k, v in out.items()}
