"""Dagster resources: configuration (secrets through ``EnvVar``) turned into live connections.

The connectors (simple-salesforce, hubspot-api-client, SQLAlchemy) are imported by the methods that use them:
the code location builds these resources when it loads, and must load without those libraries.
"""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from dagster import ConfigurableResource
from pydantic import Field

from connectors.api.budget import ApiBudget, BudgetPolicy, SharedTally
from connectors.hubspot.pacing import PacingPolicy, PortalPacer
from pipelines.warehouse_settings import DEFAULT_SCHEMA, DEFAULT_URL

if TYPE_CHECKING:
    from connectors.hubspot.associations import AssociationSyncConfig
    from connectors.hubspot.connection import HubSpotConnection
    from connectors.hubspot.sync import ObjectSyncConfig as HubSpotObjectSyncConfig
    from connectors.salesforce.connection import SalesforceConnection
    from connectors.salesforce.sync import ObjectSyncConfig
    from connectors.warehouse.warehouse import Warehouse


def _state_dir() -> Path:
    """Where cross-process run state (the API tally) lives: beside Dagster's own, else a temp dir."""
    home = os.environ.get("DAGSTER_HOME")
    return Path(home) / ".crm_loop" if home else Path(tempfile.gettempdir()) / "crm_loop"


class WarehouseResource(ConfigurableResource):
    """The analytics warehouse: an embedded DuckDB file by default, PostgreSQL (or any SQLAlchemy URL) in production."""

    url: str = Field(default=DEFAULT_URL, description="SQLAlchemy URL, e.g. postgresql+psycopg2://user@host/db")
    db_schema: str = Field(
        default=DEFAULT_SCHEMA, description="Schema for every crm-loop table (created if absent); empty = the default"
    )

    def open(self) -> Warehouse:
        from connectors.warehouse.warehouse import Warehouse
        from pipelines.warehouse_url import normalise

        url = normalise(self.url)  # a driver-less postgresql:// means the driver crm-loop installs
        if url.startswith("duckdb:///"):
            Path(url.removeprefix("duckdb:///")).parent.mkdir(parents=True, exist_ok=True)
        return Warehouse.from_url(url, schema=self.db_schema or None)


class SalesforceResource(ConfigurableResource):
    """A Salesforce org. Secrets come from the environment (``EnvVar``), never from files in the repo."""

    auth_mode: str = Field(
        default="client_credentials", description="client_credentials | refresh_token | password | soap_password"
    )
    token_url: str = Field(
        default="",
        description="OAuth2 token endpoint, e.g. https://<my-domain>.my.salesforce.com/services/oauth2/token",
    )
    client_id: str = ""
    client_secret: str = ""
    refresh_token: str = ""
    username: str = ""
    password: str = ""
    security_token: str = ""
    domain: str = Field(default="login", description="soap_password only: login, test or a My Domain")
    api_version: str = "59.0"
    ca_bundle: str = Field(
        default="", description="CA bundle to verify TLS against (the sandbox's CA); empty = system CAs"
    )
    run_share: float = Field(default=0.25, description="Largest share of the org's daily API allowance one run may use")
    org_ceiling: float = Field(default=0.80, description="Stop before the org's total daily API use passes this share")
    lookback_minutes: int = Field(
        default=10, description="Re-read this much before the cursor, for rows committed late"
    )
    bulk_threshold: int = Field(default=50_000, description="Windows with more rows than this use Bulk API 2.0")
    bulk_poll_seconds: float = 1.0
    reconcile_every_days: float = Field(
        default=7.0, description="How often the Id-set reconciliation looks for purged rows"
    )
    deleted_every_hours: float = Field(
        default=24.0, description="How often getDeleted is asked for purged rows (at most 15 days apart)"
    )
    include_fields: dict[str, list[str]] = Field(default_factory=dict, description="Per object: only these fields")
    exclude_fields: dict[str, list[str]] = Field(default_factory=dict, description="Per object: never these fields")

    def connect(self, run_id: str) -> SalesforceConnection:
        from connectors.salesforce.auth import SalesforceCredentials
        from connectors.salesforce.connection import SalesforceConnection

        creds = SalesforceCredentials(
            mode=self.auth_mode,  # type: ignore[arg-type]
            token_url=self.token_url,
            client_id=self.client_id,
            client_secret=self.client_secret,
            refresh_token=self.refresh_token,
            username=self.username,
            password=self.password,
            security_token=self.security_token,
            domain=self.domain,
        )
        org = self.token_url or f"{self.domain}:{self.username}"
        budget = ApiBudget(
            SharedTally(_state_dir() / "api_tally.sqlite3"),
            org=org,
            run=run_id,
            policy=BudgetPolicy(self.run_share, self.org_ceiling),
        )
        # run_id: every step of the run in this process shares one access token.
        return SalesforceConnection(
            creds, api_version=self.api_version, ca_bundle=self.ca_bundle or None, budget=budget, run_id=run_id
        )

    def sync_config(self, object_name: str, *, full_refresh: bool) -> ObjectSyncConfig:
        from connectors.salesforce.sync import ObjectSyncConfig

        return ObjectSyncConfig(
            include=tuple(self.include_fields.get(object_name, ())),
            exclude=tuple(self.exclude_fields.get(object_name, ())),
            lookback=timedelta(minutes=self.lookback_minutes),
            bulk_threshold=self.bulk_threshold,
            bulk_poll_s=self.bulk_poll_seconds,
            reconcile_every=timedelta(days=self.reconcile_every_days),
            deleted_every=timedelta(hours=self.deleted_every_hours),
            full_refresh=full_refresh,
        )


class HubSpotResource(ConfigurableResource):
    """A HubSpot portal reached with a private-app token (``EnvVar``); ``base_url`` points at the sandbox in tests."""

    access_token: str = Field(
        default="", description="Private app access token (secret: pass EnvVar('HUBSPOT_ACCESS_TOKEN'))"
    )
    base_url: str = Field(
        default="https://api.hubapi.com", description="API host; the sandbox's http://127.0.0.1:PORT in tests"
    )
    portal_id: str = Field(default="", description="Names the shared pacer and budget; defaults to the base URL")
    ten_second_limit: int = Field(
        default=100, description="Requests per rolling 10 s (the portal's X-HubSpot-RateLimit-Max wins when lower)"
    )
    search_per_second: int = Field(default=4, description="Search requests per second, under HubSpot's 5")
    run_share: float = Field(default=0.25, description="Largest share of the portal's daily allowance one run may use")
    org_ceiling: float = Field(default=0.80, description="Stop before the portal's daily use passes this share")
    lookback_minutes: int = Field(
        default=10, description="Re-search this much before the cursor (search indexing lags)"
    )
    lag_seconds: int = Field(default=30, description="Windows end this far behind the portal's clock")
    reconcile_every_days: float = Field(
        default=7.0, description="How often live ids are compared with HubSpot's, to catch permanent (GDPR) deletes"
    )
    properties_every_hours: float = Field(
        default=24.0, description="How often each type's property list is re-read (new properties appear within this)"
    )
    association_full_refresh_hours: float = Field(
        default=24.0,
        description="How often every record's associations are re-read, on HubSpot's clock (its Date header); "
        "association-only changes land up to this late (0 = every run)",
    )
    include_properties: dict[str, list[str]] = Field(
        default_factory=dict, description="Per object type: only these properties"
    )
    exclude_properties: dict[str, list[str]] = Field(
        default_factory=dict, description="Per object type: never these properties"
    )

    def connect(self, run_id: str) -> HubSpotConnection:
        from connectors.hubspot.connection import HubSpotConnection

        portal = self.portal_id or self.base_url
        state = _state_dir()
        pacer = PortalPacer(
            state / "hubspot_pacer.sqlite3",
            portal,
            PacingPolicy(ten_second_limit=self.ten_second_limit, search_per_second=self.search_per_second),
        )
        budget = ApiBudget(
            SharedTally(state / "api_tally.sqlite3"),
            org=f"hubspot:{portal}",
            run=run_id,
            policy=BudgetPolicy(self.run_share, self.org_ceiling),
        )
        return HubSpotConnection(self.access_token, base_url=self.base_url, pacer=pacer, budget=budget)

    def sync_config(self, object_type: str, *, full_refresh: bool) -> HubSpotObjectSyncConfig:
        from connectors.hubspot.sync import ObjectSyncConfig as HubSpotObjectSyncConfig

        return HubSpotObjectSyncConfig(
            include=tuple(self.include_properties.get(object_type, ())),
            exclude=tuple(self.exclude_properties.get(object_type, ())),
            lookback=timedelta(minutes=self.lookback_minutes),
            lag=timedelta(seconds=self.lag_seconds),
            reconcile_every=timedelta(days=self.reconcile_every_days),
            properties_every=timedelta(hours=self.properties_every_hours),
            full_refresh=full_refresh,
        )

    def association_config(self) -> AssociationSyncConfig:
        from connectors.hubspot.associations import AssociationSyncConfig

        return AssociationSyncConfig(full_every=timedelta(hours=self.association_full_refresh_hours))
