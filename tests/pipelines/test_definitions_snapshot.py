"""The whole Dagster graph as a reviewed snapshot: asset keys with their groups, kinds, owners, freshness
policies, descriptions and dependencies, asset checks, jobs, schedules and sensors. An unintended change to the graph fails here and shows
in review as a diff of ``definitions_snapshot.json``; an intended one is recorded with
``CRM_LOOP_UPDATE_SNAPSHOT=1 ./run test tests/pipelines/test_definitions_snapshot.py``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pipelines.definitions import build_definitions

SNAPSHOT = Path(__file__).with_name("definitions_snapshot.json")
# A fixed environment: the snapshot must not depend on the machine's variables.
ENVIRON = {"CRM_LOOP_DEPLOYMENT": "local"}


def graph() -> dict[str, Any]:
    defs = build_definitions(ENVIRON)
    assets = {
        spec.key.to_user_string(): {
            "group": spec.group_name,
            "kinds": sorted(spec.kinds),
            "description": spec.description,
            "deps": sorted(d.asset_key.to_user_string() for d in spec.deps),
            "partitioned": spec.partitions_def is not None,
            "owners": list(spec.owners),
            "freshness": repr(spec.freshness_policy) if spec.freshness_policy else None,
        }
        for spec in defs.resolve_all_asset_specs()
    }
    graph_ = defs.resolve_asset_graph()
    checks = {
        f"{key.asset_key.to_user_string()}:{key.name}": {
            "blocking": graph_.get_check_spec(key).blocking,
            "description": graph_.get_check_spec(key).description,
        }
        for key in graph_.asset_check_keys
    }
    repo = defs.get_repository_def()
    return {
        "assets": dict(sorted(assets.items())),
        "asset_checks": dict(sorted(checks.items())),
        "jobs": {
            j.name: j.description
            for j in sorted(repo.get_all_jobs(), key=lambda j: j.name)
            if not j.name.startswith("__")
        },
        "schedules": {
            s.name: {
                "cron": s.cron_schedule,
                "timezone": s.execution_timezone,
                "job": s.job_name,
                "description": s.description,
            }
            for s in sorted(repo.schedule_defs, key=lambda s: s.name)
        },
        "sensors": {s.name: s.description for s in sorted(repo.sensor_defs, key=lambda s: s.name)},
    }


def test_definitions_match_the_reviewed_snapshot() -> None:
    current = json.loads(json.dumps(graph(), default=str))
    if os.environ.get("CRM_LOOP_UPDATE_SNAPSHOT") == "1":
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    recorded = json.loads(SNAPSHOT.read_text())
    for section in ("assets", "asset_checks", "jobs", "schedules", "sensors"):
        added = sorted(set(current[section]) - set(recorded[section]))
        removed = sorted(set(recorded[section]) - set(current[section]))
        changed = sorted(
            k for k in set(current[section]) & set(recorded[section]) if current[section][k] != recorded[section][k]
        )
        assert not (added or removed or changed), (
            f"{section}: added {added}, removed {removed}, changed {changed}; if intended, record it with "
            "CRM_LOOP_UPDATE_SNAPSHOT=1"
        )
    assert len(current["assets"]) > 30 and len(current["asset_checks"]) > 80  # the graph really was read
