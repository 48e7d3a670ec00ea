"""The ``crm_loop_writeback`` Dagster job: a dry run by default, an applying run with ``apply: true``; the sensor
that applies after the nightly build is registered and off until switched on."""

from __future__ import annotations

from dagster import DefaultSensorStatus

from connectors.hubspot.connection import HubSpotConnection
from connectors.salesforce.connection import SalesforceConnection
from connectors.warehouse.warehouse import Warehouse
from pipelines.definitions import build_definitions
from pipelines.defs.funnel import FunnelDefinitionsResource
from pipelines.defs.resources import HubSpotResource, SalesforceResource, WarehouseResource
from pipelines.defs.writeback.job import WRITEBACK, writeback_job
from sandbox.server.app import Sandbox
from tests.writeback.conftest import contact_ids, lead, salesforce_ids, set_leads


def test_job_dry_run_then_apply(
    sandbox: Sandbox, warehouse: Warehouse, hubspot: HubSpotConnection, salesforce: SalesforceConnection
) -> None:
    ids = contact_ids(hubspot, 1)
    set_leads(warehouse, [lead(0, ids[0], salesforce_lead_id=salesforce_ids(salesforce, "Lead", 1)[0])])
    url = str(warehouse.engine.url)
    warehouse.close()
    info = sandbox.info()
    resources = {
        "warehouse": WarehouseResource(url=url, db_schema=""),
        "hubspot": HubSpotResource(access_token=info["hubspot"]["access_token"], base_url=info["hubspot"]["base_url"]),
        "salesforce": SalesforceResource(
            auth_mode="client_credentials",
            token_url=info["salesforce"]["token_url"],
            client_id=info["salesforce"]["client_id"],
            client_secret=info["salesforce"]["client_secret"],
            ca_bundle=info["salesforce"]["ca_bundle"],
        ),
        "funnel_definitions": FunnelDefinitionsResource(),
    }
    dry = writeback_job.execute_in_process(resources=resources)
    applied = writeback_job.execute_in_process(
        resources=resources, run_config={"ops": {"writeback_op": {"config": {"apply": True}}}}
    )
    assert dry.success and applied.success
    wh = Warehouse.from_url(url)
    try:
        with wh.engine.connect() as conn:
            query = "SELECT run_id, string_agg(DISTINCT result, ',') FROM writeback_audit GROUP BY 1"
            rows = {run_id: results for run_id, results in conn.exec_driver_sql(query)}
    finally:
        wh.close()
    assert rows == {dry.run_id: "planned", applied.run_id: "written"}


def test_sensor_is_registered_and_off() -> None:
    repo = build_definitions({"CRM_LOOP_DEPLOYMENT": "local"}).get_repository_def()
    sensor = repo.get_sensor_def("writeback_after_nightly")
    assert sensor.default_status == DefaultSensorStatus.STOPPED
    assert repo.get_job(WRITEBACK).name == WRITEBACK
