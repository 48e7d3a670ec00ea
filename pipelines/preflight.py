"""The configuration of a run, checked before its first step: each problem found once, as one line.

Without this, a missing token, a wrong secret or an unreachable CRM is met by every extraction step in turn (each
retrying, each failing with its own traceback), and a bad warehouse URL or definitions file by whatever touches
it first. Checks go from the cheapest to the dearest: the variables (no I/O), the definitions file, the
warehouse, then one cheap authenticated request per CRM, one attempt with a short timeout: an unreachable CRM is
reported at once instead of after minutes of backoff, and refused credentials would be refused again anyway.

The Salesforce token obtained here is the run's: it is fetched through the connection a step would open, under
the same run id, so the steps reuse it instead of logging in again.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import requests
import sqlalchemy as sa
import urllib3

from connectors.api.retry import RetriesExhausted, RetryPolicy
from pipelines.defs.jobs import EXTRACTION_JOBS
from pipelines.defs.resources import HubSpotResource, SalesforceResource
from pipelines.defs.settings import (
    DEFINITIONS_VARIABLES,
    HUBSPOT_VARIABLES,
    SALESFORCE_REQUIRED,
    SALESFORCE_VARIABLES,
    WAREHOUSE_VARIABLES,
    ConfigurationError,
    check_values,
    missing_crm_variables,
    resolved,
    salesforce_auth_mode,
    warehouse_from_env,
)
from pipelines.warehouse_url import normalise

# A CRM that does not answer within this is reported, not waited for: a run's own requests wait longer.
PROBE_TIMEOUT_S = 10.0
PROBE_RETRY = RetryPolicy(max_attempts=1)
WAREHOUSE_CONNECT_TIMEOUT_S = 5
SUPPORTED_WAREHOUSES = ("duckdb", "postgresql")
URL_EXAMPLES = "duckdb:///var/crm_loop.duckdb or postgresql+psycopg2://user@host:5432/database"
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")


def check_configuration(job_name: str) -> None:
    """Raise ``ConfigurationError`` (one line) for the first setting that would stop ``job_name``'s run, short of
    asking the CRMs: the variables, the definitions file, the warehouse."""
    env = os.environ
    check_values(env)
    if job_name in EXTRACTION_JOBS:
        missing = missing_crm_variables(env)
        if missing:
            raise ConfigurationError(
                f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set: a sync reads Salesforce and "
                "HubSpot with the credentials these name (see README, Configuration)"
            )
    check_definitions()
    check_warehouse()


def check_crm_access(job_name: str, run_id: str) -> None:
    """For a job that extracts: one authenticated request per CRM, under the run's id."""
    if job_name in EXTRACTION_JOBS:
        check_salesforce(run_id)
        check_hubspot(run_id)


def check_definitions() -> None:
    from pipelines.funnel.definitions import DEFAULT_PATH, load_definitions
    from pipelines.funnel.yaml_source import DefinitionsError

    variable = DEFINITIONS_VARIABLES["path"]
    path = Path(os.environ.get(variable) or DEFAULT_PATH)
    named = variable if os.environ.get(variable) else f"the default; {variable} names another"
    try:
        load_definitions(path)
    except FileNotFoundError:
        raise ConfigurationError(f"the definitions file {path} does not exist ({named})") from None
    except OSError as error:
        raise ConfigurationError(f"cannot read the definitions file {path} ({error.strerror}; {named})") from None
    except DefinitionsError as error:
        # Every mistake of the file, each already file:line:col, on the one line.
        raise ConfigurationError("; ".join(str(p) for p in error.problems)) from error


def check_warehouse() -> None:
    """The URL parses, names a supported engine whose driver is installed, and (a server) accepts a connection.
    A DuckDB file is not opened here: the run opens it (and claims it) first thing."""
    variable = WAREHOUSE_VARIABLES["url"]
    text = normalise(warehouse_from_env().url)
    try:
        url = sa.make_url(text)
    except sa.exc.ArgumentError:
        # The value is not echoed: an unparseable URL may still hold a password.
        raise ConfigurationError(f"{variable} is not a database URL: write {URL_EXAMPLES}") from None
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() not in SUPPORTED_WAREHOUSES:
        raise ConfigurationError(f"{variable}={shown}: crm-loop writes to DuckDB or PostgreSQL: write {URL_EXAMPLES}")
    postgres = url.get_backend_name() == "postgresql"
    try:
        engine = sa.create_engine(
            url, connect_args={"connect_timeout": WAREHOUSE_CONNECT_TIMEOUT_S} if postgres else {}
        )
    except (sa.exc.NoSuchModuleError, ImportError) as error:
        raise ConfigurationError(
            f"{variable}={shown}: its driver is not installed ({_first_line(error)}): write {URL_EXAMPLES}"
        ) from None
    try:
        if postgres:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        elif url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    except sa.exc.DBAPIError as error:
        raise ConfigurationError(
            f"cannot connect to the warehouse {shown}: {_first_line(error)} ({variable})"
        ) from None
    except OSError as error:
        raise ConfigurationError(
            f"cannot create the warehouse's directory for {shown}: {error.strerror} ({variable})"
        ) from None
    finally:
        engine.dispose()


def check_salesforce(run_id: str) -> None:
    """One token request, the one the run's steps then share."""
    from simple_salesforce.exceptions import SalesforceAuthenticationFailed

    from connectors.salesforce.auth import SalesforceAuthError

    resource = resolved(SalesforceResource, SALESFORCE_VARIABLES, os.environ)
    mode = salesforce_auth_mode(os.environ)
    where = resource.token_url or f"{resource.domain}.salesforce.com"
    ca_variable = SALESFORCE_VARIABLES["ca_bundle"]
    if resource.ca_bundle and not Path(resource.ca_bundle).is_file():
        raise ConfigurationError(f"{ca_variable}={resource.ca_bundle}: no such file")
    secrets = [SALESFORCE_VARIABLES[f] for f in SALESFORCE_REQUIRED[mode] if f != "token_url"]
    conn = resource.connect(run_id)
    conn.retry = PROBE_RETRY
    conn.session.timeout_s = PROBE_TIMEOUT_S
    try:
        conn.sf  # noqa: B018 - logs in
    except (SalesforceAuthError, SalesforceAuthenticationFailed) as error:
        # A 5xx from the token endpoint is transient: it arrives as RetriesExhausted below.
        raise ConfigurationError(
            f"Salesforce refused the credentials at {where} ({_first_line(error)}): check {_and(secrets)} "
            f"({SALESFORCE_VARIABLES['auth_mode']}={mode})"
        ) from None
    except RetriesExhausted as error:
        raise _unreachable("Salesforce", where, SALESFORCE_VARIABLES["token_url"], error, ca_variable) from None
    except requests.RequestException as error:
        raise ConfigurationError(
            f"{SALESFORCE_VARIABLES['token_url']}={where} cannot be requested: {_first_line(error)}"
        ) from None
    except (ValueError, KeyError) as error:
        raise ConfigurationError(
            f"{where} did not answer with an OAuth token ({type(error).__name__}): check "
            f"{SALESFORCE_VARIABLES['token_url']} (it ends in /services/oauth2/token)"
        ) from None
    finally:
        conn.close()
        if conn.budget is not None:
            conn.budget.close()


def check_hubspot(run_id: str) -> None:
    """One owners page of one record: cheap, authenticated, and a scope every sync needs."""
    from connectors.hubspot.connection import HubSpotApiError, HubSpotAuthError

    resource = resolved(HubSpotResource, HUBSPOT_VARIABLES, os.environ)
    token = HUBSPOT_VARIABLES["access_token"]
    if not resource.base_url.startswith(("https://", "http://")):
        raise ConfigurationError(
            f"{HUBSPOT_VARIABLES['base_url']}={resource.base_url}: write a URL such as https://api.hubapi.com"
        )
    conn = resource.connect(run_id)
    conn.retry = PROBE_RETRY
    conn.timeout_s = PROBE_TIMEOUT_S
    try:
        conn.call(
            lambda: conn.owners.get_page(limit=1, _preload_content=False, _request_timeout=conn.timeout_s),
            what="HubSpot owners",
        )
    except HubSpotAuthError as error:
        raise ConfigurationError(
            f"HubSpot refused {token} at {conn.base_url} ({_first_line(error)}): check the token"
        ) from None
    except HubSpotApiError as error:
        raise ConfigurationError(
            f"HubSpot refused to list owners at {conn.base_url} ({_first_line(error)}): check {token}'s private app scopes "
            f"and {HUBSPOT_VARIABLES['base_url']}"
        ) from None
    except RetriesExhausted as error:
        raise _unreachable("HubSpot", conn.base_url, HUBSPOT_VARIABLES["base_url"], error) from None
    except urllib3.exceptions.HTTPError as error:  # a base URL urllib3 cannot request (no scheme, bad port)
        raise ConfigurationError(
            f"{HUBSPOT_VARIABLES['base_url']}={conn.base_url} cannot be requested: {_first_line(error)}"
        ) from None
    finally:
        conn.close()
        if conn.budget is not None:
            conn.budget.close()


def _unreachable(
    crm: str, where: str, variable: str, error: RetriesExhausted, ca_variable: str | None = None
) -> ConfigurationError:
    cause = error.__cause__
    status = getattr(cause, "status", None)
    if isinstance(status, int) and (status >= 500 or status == 429):
        return ConfigurationError(f"{crm} at {where} answered HTTP {status} ({_first_line(cause)}): try again later")
    reason = _network_reason(cause)
    if ca_variable and "CERTIFICATE_VERIFY_FAILED" in str(cause):
        return ConfigurationError(f"{crm}'s TLS certificate at {where} is not trusted: check {ca_variable}")
    return ConfigurationError(f"cannot reach {crm} at {where} ({reason}): check {variable} and the network")


def _network_reason(error: BaseException | None) -> str:
    text = str(error)
    if "timed out" in text.lower() or "timeout" in type(error).__name__.lower():
        return f"no answer within {PROBE_TIMEOUT_S:.0f} s"
    match = _ERRNO.search(text)
    return match.group(1).strip() if match else type(error).__name__


def _first_line(error: BaseException | None) -> str:
    message = str(getattr(error, "orig", None) or error).strip()
    return message.splitlines()[0].strip() if message else type(error).__name__


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
