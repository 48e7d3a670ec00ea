"""The CRMs the definitions file's writeback section names, connected as this deployment configures them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager

from connectors.errors import UserError
from pipelines.defs.resources import HubSpotResource, SalesforceResource
from pipelines.defs.settings import (
    HUBSPOT_REQUIRED,
    HUBSPOT_VARIABLES,
    SALESFORCE_REQUIRED,
    SALESFORCE_VARIABLES,
    salesforce_auth_mode,
)
from pipelines.funnel.model import WritebackDefs
from pipelines.writeback.targets import HubSpotTarget, SalesforceTarget, Target


def missing_variables(defs: WritebackDefs, environ: Mapping[str, str]) -> list[str]:
    """Unset variables of the CRMs that have fields to write (a CRM with none listed needs no settings)."""
    systems = {f.system for f in defs.fields}
    needed = [HUBSPOT_VARIABLES[f] for f in HUBSPOT_REQUIRED] if "hubspot" in systems else []
    if "salesforce" in systems:
        needed += [SALESFORCE_VARIABLES[f] for f in SALESFORCE_REQUIRED[salesforce_auth_mode(environ)]]
    return [v for v in needed if not environ.get(v, "").strip()]


@contextmanager
def open_targets(
    defs: WritebackDefs, hubspot: HubSpotResource, salesforce: SalesforceResource, run_id: str
) -> Iterator[list[Target]]:
    """One target per CRM with fields to write, closed on exit."""
    systems = {f.system for f in defs.fields}
    with ExitStack() as stack:
        targets: list[Target] = []
        if "hubspot" in systems:
            hs = hubspot.connect(run_id)
            stack.callback(hs.close)
            targets.append(HubSpotTarget(hs, defs.hubspot_group))
        if "salesforce" in systems:
            sf = salesforce.connect(run_id)
            stack.callback(sf.close)
            targets.append(SalesforceTarget(sf, defs))
        yield targets


def check_configured(defs: WritebackDefs, environ: Mapping[str, str]) -> None:
    missing = missing_variables(defs, environ)
    if missing:
        raise UserError(
            f"write-back needs {', '.join(missing)} (the CRMs its fields are in): export them as for crm-loop sync"
        )
