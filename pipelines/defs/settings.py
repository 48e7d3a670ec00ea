"""Configuration from the environment, in one place: which variable sets which resource field, and the
schedule settings. Defaults live only on the resources' fields and on ``ScheduleSettings``.

Every environment-backed field is passed as a Dagster ``EnvVar`` (resolved when a run starts, never stored in
run config or event logs); a variable that is not set leaves the field at its default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from dagster import ConfigurableResource, EnvVar

from connectors.errors import UserError
from pipelines.defs.funnel import FunnelDefinitionsResource
from pipelines.defs.quality.resource import ChecksResource
from pipelines.defs.resources import HubSpotResource, SalesforceResource, WarehouseResource
from pipelines.warehouse_settings import SCHEMA_VARIABLE, URL_VARIABLE

Deployment = Literal["local", "production"]
DEPLOYMENT_VARIABLE = "CRM_LOOP_DEPLOYMENT"

WAREHOUSE_VARIABLES = {"url": URL_VARIABLE, "db_schema": SCHEMA_VARIABLE}
SALESFORCE_VARIABLES = {
    "auth_mode": "SALESFORCE_AUTH_MODE",
    "token_url": "SALESFORCE_TOKEN_URL",
    "client_id": "SALESFORCE_CLIENT_ID",
    "client_secret": "SALESFORCE_CLIENT_SECRET",
    "refresh_token": "SALESFORCE_REFRESH_TOKEN",
    "username": "SALESFORCE_USERNAME",
    "password": "SALESFORCE_PASSWORD",
    "security_token": "SALESFORCE_SECURITY_TOKEN",
    "domain": "SALESFORCE_DOMAIN",
    "ca_bundle": "SALESFORCE_CA_BUNDLE",
    "bulk_threshold": "SALESFORCE_BULK_THRESHOLD",
    "lookback_minutes": "SALESFORCE_LOOKBACK_MINUTES",
}
HUBSPOT_VARIABLES = {
    "access_token": "HUBSPOT_ACCESS_TOKEN",
    "base_url": "HUBSPOT_BASE_URL",
    "portal_id": "HUBSPOT_PORTAL_ID",
    "lookback_minutes": "HUBSPOT_LOOKBACK_MINUTES",
}
DEFINITIONS_VARIABLES = {"path": "CRM_LOOP_DEFINITIONS"}
CHECKS_VARIABLES = {"definitions_path": "CRM_LOOP_DEFINITIONS"}

R = TypeVar("R", bound=ConfigurableResource)


# What each Salesforce auth mode cannot do without; the other secrets are optional (a security token) or unused.
SALESFORCE_REQUIRED: dict[str, tuple[str, ...]] = {
    "client_credentials": ("token_url", "client_id", "client_secret"),
    "refresh_token": ("token_url", "client_id", "refresh_token"),
    "password": ("token_url", "client_id", "client_secret", "username", "password"),
    "soap_password": ("username", "password"),
}
HUBSPOT_REQUIRED = ("access_token",)


class ConfigurationError(UserError, ValueError):
    """A setting that cannot work; the message (one line) names the variable and what to change."""


def from_environment(cls: type[R], variables: Mapping[str, str], environ: Mapping[str, str]) -> R:
    """``cls`` with an ``EnvVar`` for every variable that is set; unset ones keep the field's default."""
    kwargs: dict[str, Any] = {}
    for field, variable in variables.items():
        if variable in environ:
            kwargs[field] = EnvVar.int(variable) if cls.model_fields[field].annotation is int else EnvVar(variable)
    return cls(**kwargs)


def deployment(environ: Mapping[str, str]) -> Deployment:
    value = environ.get(DEPLOYMENT_VARIABLE, "local")
    if value not in ("local", "production"):
        raise ConfigurationError(f"{DEPLOYMENT_VARIABLE}={value!r}: expected local or production")
    return value  # type: ignore[return-value]


def _check_deployment(environ: Mapping[str, str]) -> None:
    if deployment(environ) == "production" and WAREHOUSE_VARIABLES["url"] not in environ:
        raise ConfigurationError(
            f"{WAREHOUSE_VARIABLES['url']} is not set: a production deployment writes to the warehouse it names"
        )


def salesforce_auth_mode(environ: Mapping[str, str]) -> str:
    mode = environ.get(SALESFORCE_VARIABLES["auth_mode"]) or str(SalesforceResource.model_fields["auth_mode"].default)
    if mode not in SALESFORCE_REQUIRED:
        raise ConfigurationError(
            f"{SALESFORCE_VARIABLES['auth_mode']}={mode!r}: expected one of {', '.join(SALESFORCE_REQUIRED)}"
        )
    return mode


def missing_crm_variables(environ: Mapping[str, str]) -> list[str]:
    """The variables a sync of both CRMs needs that are unset or empty, in the README's order."""
    needed = [SALESFORCE_VARIABLES[f] for f in SALESFORCE_REQUIRED[salesforce_auth_mode(environ)]]
    needed += [HUBSPOT_VARIABLES[f] for f in HUBSPOT_REQUIRED]
    return [variable for variable in needed if not environ.get(variable, "").strip()]


def check_values(environ: Mapping[str, str]) -> None:
    """Refuse values no run could use (a deployment name, a number that is not one) before anything starts:
    Dagster would only find them when a step resolves its resource, as a traceback."""
    _check_deployment(environ)
    for cls, variables in (
        (WarehouseResource, WAREHOUSE_VARIABLES),
        (SalesforceResource, SALESFORCE_VARIABLES),
        (HubSpotResource, HUBSPOT_VARIABLES),
    ):
        for field, variable in variables.items():
            value = environ.get(variable)
            if value is not None and cls.model_fields[field].annotation is int:
                try:
                    int(value)
                except ValueError:
                    raise ConfigurationError(f"{variable}={value!r}: expected a whole number") from None


def resources(environ: Mapping[str, str] | None = None) -> dict[str, ConfigurableResource]:
    """The resources of this deployment. ``local`` (the default) may fall back to the embedded DuckDB file;
    ``production`` must name its warehouse, so a missing variable cannot silently write to a local file."""
    env = os.environ if environ is None else environ
    _check_deployment(env)
    return {
        "warehouse": from_environment(WarehouseResource, WAREHOUSE_VARIABLES, env),
        "salesforce": from_environment(SalesforceResource, SALESFORCE_VARIABLES, env),
        "hubspot": from_environment(HubSpotResource, HUBSPOT_VARIABLES, env),
        "funnel_definitions": from_environment(FunnelDefinitionsResource, DEFINITIONS_VARIABLES, env),
        "checks": from_environment(ChecksResource, CHECKS_VARIABLES, env),
    }


def resolved(cls: type[R], variables: Mapping[str, str], environ: Mapping[str, str]) -> R:
    """``cls`` with the values set in ``environ`` now (no ``EnvVar``), for code outside a Dagster run (the CLI, its
    configuration checks, sensors): Dagster's own resolution builds an ephemeral instance, seconds of start-up."""
    kwargs: dict[str, Any] = {}
    for field, variable in variables.items():
        if variable in environ:
            value = environ[variable]
            kwargs[field] = int(value) if cls.model_fields[field].annotation is int else value
    return cls(**kwargs)


def warehouse_from_env(environ: Mapping[str, str] | None = None) -> WarehouseResource:
    """The warehouse as configured now, resolved (for code outside a Dagster run: the CLI, sensors)."""
    return resolved(WarehouseResource, WAREHOUSE_VARIABLES, os.environ if environ is None else environ)


@dataclass(frozen=True)
class ScheduleSettings:
    nightly_cron: str = "0 2 * * *"
    timezone: str = "America/New_York"
    snapshot_start: str = "2026-01-01"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ScheduleSettings:
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            nightly_cron=env.get("CRM_LOOP_NIGHTLY_CRON", defaults.nightly_cron),
            timezone=env.get("CRM_LOOP_TIMEZONE", defaults.timezone),
            snapshot_start=env.get("CRM_LOOP_SNAPSHOT_START", defaults.snapshot_start),
        )
