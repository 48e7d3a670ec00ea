"""Map each CRM's disqualification / rejection values onto the agreed reason list.

Blank means "no reason given" (``None``); a value the definitions file does not map gives ``UNMAPPED`` so
audits can count it separately from a missing reason. Values match ignoring case and surrounding spaces.
HubSpot: the ``disqualification_reason`` property wins; without it a lead status that implies a reason
(``BAD_TIMING`` -> ``bad_timing``) is used.
"""

from __future__ import annotations

from functools import lru_cache

from pipelines.funnel.model import FunnelDefinitions

UNMAPPED = "unmapped"


@lru_cache(maxsize=8)
def _index(defs: FunnelDefinitions) -> dict[str, dict[str, str]]:
    """Per source, folded raw value -> reason key; the CRM fields also accept the canonical key itself."""
    index: dict[str, dict[str, str]] = {"salesforce": {}, "hubspot": {}, "hubspot_lead_status": {}}
    for key, reason in defs.reasons.items():
        index["salesforce"].update({_fold(v): key for v in (key, *reason.salesforce)})
        index["hubspot"].update({_fold(v): key for v in (key, *reason.hubspot)})
        index["hubspot_lead_status"].update({_fold(v): key for v in reason.hubspot_lead_status})
    return index


def _fold(value: str) -> str:
    return value.strip().casefold()


def _lookup(source: str, value: str | None, defs: FunnelDefinitions) -> str | None:
    if value is None or value.strip() == "":
        return None
    return _index(defs)[source].get(_fold(value), UNMAPPED)


def salesforce_reason(value: str | None, defs: FunnelDefinitions) -> str | None:
    """From Lead ``Disqualification_Reason__c``."""
    return _lookup("salesforce", value, defs)


def hubspot_reason(disqualification_reason: str | None, lead_status: str | None, defs: FunnelDefinitions) -> str | None:
    """From contact ``disqualification_reason``, else what ``hs_lead_status`` implies (other statuses: ``None``)."""
    reason = _lookup("hubspot", disqualification_reason, defs)
    if reason is not None:
        return reason
    if lead_status is None or lead_status.strip() == "":
        return None
    return _index(defs)["hubspot_lead_status"].get(_fold(lead_status))
