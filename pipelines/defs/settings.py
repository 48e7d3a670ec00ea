"""Resource configuration from the environment: secrets as ``EnvVar`` (resolved at run time, never stored)."""
from __future__ import annotations

import os

from dagster import EnvVar

from pipelines.defs.resources import DEFAULT_WAREHOUSE_URL, HubSpotResource, SalesforceResource, WarehouseResource


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def _secret(name: str) -> EnvVar | str:
    """An ``EnvVar`` reference when the variable is set, so Dagster resolves it at run time and never stores it."""
    return EnvVar(name) if name in os.environ else ""


def warehouse_from_env() -> WarehouseResource:
    return WarehouseResource(
        url=_env("CRM_LOOP_WAREHOUSE_URL", DEFAULT_WAREHOUSE_URL), db_schema=_env("CRM_LOOP_WAREHOUSE_SCHEMA")
    )


def salesforce_from_env() -> SalesforceResource:
    return SalesforceResource(
        auth_mode=_env("SALESFORCE_AUTH_MODE", "client_credentials"),
        token_url=_env("SALESFORCE_TOKEN_URL"),
        client_id=_env("SALESFORCE_CLIENT_ID"),
        client_secret=_secret("SALESFORCE_CLIENT_SECRET"),
        refresh_token=_secret("SALESFORCE_REFRESH_TOKEN"),
        username=_env("SALESFORCE_USERNAME"),
        password=_secret("SALESFORCE_PASSWORD"),
        security_token=_secret("SALESFORCE_SECURITY_TOKEN"),
        domain=_env("SALESFORCE_DOMAIN", "login"),
        ca_bundle=_env("SALESFORCE_CA_BUNDLE"),
        bulk_threshold=int(_env("SALESFORCE_BULK_THRESHOLD", "10000")),
        lookback_minutes=int(_env("SALESFORCE_LOOKBACK_MINUTES", "10")),
    )


def hubspot_from_env() -> HubSpotResource:
    return HubSpotResource(
        access_token=_secret("HUBSPOT_ACCESS_TOKEN"),
        base_url=_env("HUBSPOT_BASE_URL", "https://api.hubapi.com"),
        portal_id=_env("HUBSPOT_PORTAL_ID"),
        lookback_minutes=int(_env("HUBSPOT_LOOKBACK_MINUTES", "10")),
    )
