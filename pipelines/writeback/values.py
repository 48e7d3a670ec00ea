"""The value each listed CRM field should hold, from one closed_loop_leads row, as the text the CRMs store.

Pure: rows in, values out. Values are compared in the same normal form they are written in, so a CRM that
echoes ``42.50`` for ``42.5`` or ``2026-01-02T03:04:05.000+0000`` for the same instant is not a change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from pipelines.funnel.model import (
    HUBSPOT_WRITEBACK_VALUES,
    SALESFORCE_WRITEBACK_VALUES,
    WritebackDefs,
    WritebackKind,
)

RecordKey = tuple[str, str, str]  # (system, object, record id)

# closed_loop_leads columns the values need (besides the record ids).
SOURCE_COLUMNS: tuple[str, ...] = tuple(
    sorted({c for c, _ in (*HUBSPOT_WRITEBACK_VALUES.values(), *SALESFORCE_WRITEBACK_VALUES.values())} | {"outcome"})
)
ID_COLUMNS: tuple[str, ...] = ("hubspot_contact_id", "salesforce_lead_id", "salesforce_contact_id")


def targets(row: Mapping[str, Any]) -> list[RecordKey]:
    """The CRM records one person's values go to: the HubSpot contact, and the Salesforce Contact when the Lead
    was converted (a converted Lead can no longer be updated), else the Lead."""
    out: list[RecordKey] = []
    if row.get("hubspot_contact_id"):
        out.append(("hubspot", "contacts", str(row["hubspot_contact_id"])))
    if row.get("salesforce_contact_id"):
        out.append(("salesforce", "Contact", str(row["salesforce_contact_id"])))
    elif row.get("salesforce_lead_id"):
        out.append(("salesforce", "Lead", str(row["salesforce_lead_id"])))
    return out


def desired_values(defs: WritebackDefs, rows: Sequence[Mapping[str, Any]]) -> dict[RecordKey, dict[str, str | None]]:
    """Record -> field -> value for every listed field of every record the rows reach (None = empty)."""
    out: dict[RecordKey, dict[str, str | None]] = {}
    for row in rows:
        for key in targets(row):
            system, object, _ = key
            values = HUBSPOT_WRITEBACK_VALUES if system == "hubspot" else SALESFORCE_WRITEBACK_VALUES
            fields = out.setdefault(key, {})
            for f in defs.of(system, object):
                column, kind = values[f.value]
                raw = row.get(column)
                if f.value == "amount_won" and row.get("outcome") != "won":
                    raw = None
                fields[f.field] = formatted(kind, raw)
    return out


def formatted(kind: WritebackKind, value: Any) -> str | None:
    """A warehouse value as the text written to the CRM."""
    if value is None or value == "":
        return None
    if kind == "number":
        text = format(round(float(value), 2), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if kind in ("date", "datetime"):
        moment = value if isinstance(value, (datetime, date)) else _parse_moment(str(value))
        if moment is None:
            return str(value)
        if kind == "date":
            return moment.strftime("%Y-%m-%d")
        if isinstance(moment, datetime):
            utc = moment.astimezone(UTC) if moment.tzinfo else moment
            return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"
        return moment.strftime("%Y-%m-%dT00:00:00.000+0000")
    return str(value)


def normalised(kind: WritebackKind, value: str | None) -> str | None:
    """A value as the CRM reports it, in the form ``formatted`` writes (unparseable text is kept as is)."""
    if value is None or value == "":
        return None
    if kind == "number":
        try:
            return formatted("number", float(value))
        except ValueError:
            return value
    if kind in ("date", "datetime"):
        return formatted(kind, value)
    return value


def _parse_moment(text: str) -> datetime | None:
    cleaned = text.strip().replace("Z", "+00:00")
    if len(cleaned) > 5 and cleaned[-5] in "+-" and cleaned[-3] != ":":
        cleaned = cleaned[:-2] + ":" + cleaned[-2:]  # Salesforce's +0000
    try:
        return datetime.fromisoformat(cleaned)
    except ValueError:
        return None
