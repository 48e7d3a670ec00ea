"""canonical_owners: Salesforce Users and HubSpot owners, one row each, matched by normalised e-mail.

Team and activity are decided per matched owner (owner_key): Salesforce is the system of record for the
sales org, so its Team__c and IsActive win; a HubSpot-only owner takes its primary team and archived flag.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from connectors.warehouse.catalog.harmonised import CANONICAL_OWNERS
from pipelines.closed_loop.raw import Frames
from pipelines.closed_loop.values import flag, normalize_email, records, text


def _primary_team(teams: Any) -> str | None:
    if isinstance(teams, str):
        teams = json.loads(teams) if teams.strip() else []
    if not teams:
        return None
    primary = [t for t in teams if t.get("primary")] or list(teams)
    return text(primary[0].get("name"))


def build_owners(raw: Frames) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for u in records(raw.sf("user")):
        email, _ = normalize_email(u.get("email"))
        rows.append(
            {
                "source_system": "salesforce",
                "source_id": text(u["id"]),
                "email": text(u.get("email")),
                "owner_key": email or f"salesforce:{u['id']}",
                "name": text(u.get("name"))
                or " ".join(p for p in (text(u.get("firstname")), text(u.get("lastname"))) if p),
                "_team": text(u.get("team__c")),
                "_active": bool(flag(u.get("isactive"))) and not flag(u.get("_is_deleted")),
                "title": text(u.get("title")),
                "created_at": u.get("createddate"),
                "updated_at": u.get("lastmodifieddate"),
                "is_deleted": bool(flag(u.get("_is_deleted"))),
            }
        )
    for o in records(raw.hs("owners")):
        email, _ = normalize_email(o.get("email"))
        deleted = bool(flag(o.get("_is_deleted"))) or bool(flag(o.get("archived")))
        rows.append(
            {
                "source_system": "hubspot",
                "source_id": text(o["id"]),
                "email": text(o.get("email")),
                "owner_key": email or f"hubspot:{o['id']}",
                "name": " ".join(p for p in (text(o.get("first_name")), text(o.get("last_name"))) if p) or None,
                "_team": _primary_team(o.get("teams")),
                "_active": not deleted,
                "title": None,
                "created_at": o.get("created_at"),
                "updated_at": o.get("updated_at"),
                "is_deleted": deleted,
            }
        )
    frame = pd.DataFrame(rows, columns=[*CANONICAL_OWNERS.column_names, "_team", "_active"])
    if frame.empty:
        return frame[CANONICAL_OWNERS.column_names]
    resolved = {key: _resolve(group) for key, group in frame.groupby("owner_key", sort=False)}
    for column in ("team", "is_active", "salesforce_user_id", "hubspot_owner_id"):
        frame[column] = [resolved[k][column] for k in frame["owner_key"]]
    return frame[CANONICAL_OWNERS.column_names]


def _resolve(group: pd.DataFrame) -> dict[str, Any]:
    sf = group[group["source_system"] == "salesforce"].sort_values("source_id")
    hs = group[group["source_system"] == "hubspot"].sort_values("source_id")
    preferred = sf if not sf.empty else hs
    teams = [t for t in (*sf["_team"], *hs["_team"]) if t]
    return {
        "team": teams[0] if teams else None,
        "is_active": bool(preferred["_active"].iloc[0]),
        "salesforce_user_id": sf["source_id"].iloc[0] if not sf.empty else None,
        "hubspot_owner_id": hs["source_id"].iloc[0] if not hs.empty else None,
    }
