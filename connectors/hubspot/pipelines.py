"""Deal pipelines and their stages (``/crm/v3/pipelines/deals``): a small listing, read whole every run.

Deals carry only a stage id in ``dealstage``; which stages are closed, won or lost lives here.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from connectors.api.results import ListingSyncResult
from connectors.hubspot.catalog import DEAL_PIPELINE_STAGES, SOURCE
from connectors.hubspot.connection import HubSpotConnection
from connectors.hubspot.rows import pipeline_stage_rows
from connectors.warehouse.validate import split_records
from connectors.warehouse.warehouse import Warehouse

STREAM = "deal_pipelines"


def sync_deal_pipelines(conn: HubSpotConnection, wh: Warehouse, *, sync_id: str) -> ListingSyncResult:
    started = time.monotonic()
    requests_before = conn.stats.requests
    result = ListingSyncResult(DEAL_PIPELINE_STAGES.name, columns=tuple(DEAL_PIPELINE_STAGES.columns))
    wh.ensure_table(DEAL_PIPELINE_STAGES)
    extracted_at = datetime.now(UTC)
    body = conn.call(
        lambda: conn.pipelines.get_all("deals", _preload_content=False, _request_timeout=conn.timeout_s),
        what="deal pipelines",
    )
    rows = [row for pipeline in body.get("results") or [] for row in pipeline_stage_rows(pipeline)]
    split = split_records(DEAL_PIPELINE_STAGES, rows, sync_id=sync_id, source=SOURCE, object=STREAM)
    listed = {str(r["id"]) for r in rows}
    with wh.batch() as b:
        b.upsert(DEAL_PIPELINE_STAGES, split.rows, sync_id=sync_id, extracted_at=extracted_at)
        b.quarantine(split.quarantine)
        # The listing is complete: a stage it no longer has was deleted in HubSpot.
        result.deleted = b.mark_deleted(
            DEAL_PIPELINE_STAGES,
            sorted(wh.live_ids(DEAL_PIPELINE_STAGES) - listed),
            deleted_at=extracted_at,
            sync_id=sync_id,
        )
    result.extracted, result.loaded, result.quarantined = len(rows), len(split.rows), split.quarantined_records
    result.requests = conn.stats.requests - requests_before
    result.elapsed_s = round(time.monotonic() - started, 3)
    wh.record_sync(result.audit(sync_id=sync_id, source=SOURCE, object=STREAM, started_at=extracted_at))
    return result
