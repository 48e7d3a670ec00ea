"""Digests reach real local receivers (HTTP webhooks, SMTP) once per run with the right counts; escalation
after N failing runs goes to the second channel; a broken channel is reported and never loses the others."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from checks.alerts.config import alert_config_from_env
from checks.alerts.dispatch import send_run_digest
from checks.history import CheckHistory, CheckRecord, RunStamp
from connectors.warehouse.warehouse import Warehouse
from pipelines.funnel.model import Escalation
from sandbox.server.http import free_port
from tests.checks.helpers import AS_OF
from tests.checks.receivers import http_receiver, smtp_receiver


def _record(
    status: str, name: str = "raw_salesforce__lead__keys", severity: str = "ERROR", bad: int = 2
) -> CheckRecord:
    return CheckRecord(
        name,
        "raw_salesforce__lead",
        "quality",
        status,
        severity,
        10,
        2,
        0 if status == "passed" else 1,
        0 if status == "passed" else bad,
        () if status == "passed" else ("00Qa", "00Qb"),
    )


def _run(history: CheckHistory, run_id: str, n: int, records: list[CheckRecord]) -> None:
    history.record(RunStamp(run_id, AS_OF + timedelta(days=n), AS_OF + timedelta(days=n), "v1", "h" * 64), records)


def test_one_digest_per_run_reaches_every_channel(warehouse_factory: Callable[[], Warehouse]) -> None:
    wh = warehouse_factory()
    history = CheckHistory(wh.engine, wh.schema)
    _run(
        history,
        "run-1",
        0,
        [
            _record("failed"),
            _record("passed", "a__values", "WARN"),
            _record("failed", "b__values", "WARN", bad=5),
            _record("passed", "c__keys"),
        ],
    )
    with http_receiver() as (base, posts), smtp_receiver() as (port, inbox):
        env = {
            "CRM_LOOP_SLACK_WEBHOOK_URL": f"{base}/slack",
            "CRM_LOOP_ALERT_WEBHOOK_URL": f"{base}/hook",
            "CRM_LOOP_SMTP_HOST": "127.0.0.1",
            "CRM_LOOP_SMTP_PORT": str(port),
            "CRM_LOOP_SMTP_TO": "revops@example.com",
            "CRM_LOOP_ALERT_CHANNELS": "slack,webhook,email",
            "CRM_LOOP_DAGSTER_URL": "http://dagster.local",
        }
        config = alert_config_from_env(Escalation(3, "email"), env)
        report = send_run_digest(wh.engine, wh.schema, "run-1", config)
    assert [d.ok for d in report.deliveries] == [True, True, True]
    assert sorted(path for path, _ in posts) == ["/hook", "/slack"], "one message per channel, not one per row"
    hook = next(body for path, body in posts if path == "/hook")
    assert hook["counts"] == {"failed": 2, "passed": 2, "checks": 4}
    assert hook["run_url"] == "http://dagster.local/runs/run-1"
    assert [f["check_name"] for f in hook["failing"]] == ["raw_salesforce__lead__keys", "b__values"], "ERROR first"
    assert hook["failing"][0]["sample_ids"] == ["00Qa", "00Qb"] and hook["escalations"] == []
    slack = next(body for path, body in posts if path == "/slack")
    assert "2 failed, 0 errors, 2 passed of 4" in slack["text"] and "http://dagster.local/runs/run-1" in slack["text"]
    assert len(inbox) == 1 and "2 failed" in inbox[0]["Subject"] and inbox[0]["To"] == "revops@example.com"
    assert "b__values (raw_salesforce__lead): failed, 5 offending" in inbox[0].get_content()


def test_broken_channel_is_reported_and_the_others_still_deliver(warehouse_factory: Callable[[], Warehouse]) -> None:
    wh = warehouse_factory()
    _run(CheckHistory(wh.engine, wh.schema), "run-1", 0, [_record("failed")])
    with http_receiver() as (base, posts):
        env = {
            "CRM_LOOP_SLACK_WEBHOOK_URL": f"http://127.0.0.1:{free_port()}/dead",
            "CRM_LOOP_SMTP_HOST": "127.0.0.1",
            "CRM_LOOP_SMTP_PORT": str(free_port()),
            "CRM_LOOP_SMTP_TO": "a@b.co",
            "CRM_LOOP_ALERT_WEBHOOK_URL": f"{base}/hook",
            "CRM_LOOP_ALERT_CHANNELS": "slack,email,webhook",
        }
        report = send_run_digest(wh.engine, wh.schema, "run-1", alert_config_from_env(None, env))
    assert {d.channel: d.ok for d in report.deliveries} == {"slack": False, "email": False, "webhook": True}
    assert all(d.error for d in report.failed)
    assert [path for path, _ in posts] == ["/hook"]


def test_a_check_failing_n_runs_in_a_row_escalates_to_the_second_channel(
    warehouse_factory: Callable[[], Warehouse],
) -> None:
    wh = warehouse_factory()
    history = CheckHistory(wh.engine, wh.schema)
    with http_receiver() as (base, posts), smtp_receiver() as (port, inbox):
        env = {
            "CRM_LOOP_ALERT_WEBHOOK_URL": f"{base}/hook",
            "CRM_LOOP_SMTP_HOST": "127.0.0.1",
            "CRM_LOOP_SMTP_PORT": str(port),
            "CRM_LOOP_SMTP_TO": "vp-sales@example.com",
        }
        config = alert_config_from_env(Escalation(3, "email"), env)
        assert config.primary == ("webhook",), "the escalation channel is kept for escalations"
        for n, status in enumerate(["failed", "passed", "failed", "failed", "failed"]):
            _run(history, f"run-{n}", n, [_record(status)])
            report = send_run_digest(wh.engine, wh.schema, f"run-{n}", config)
            escalated = [e.subject for e in report.digest.escalations] if report.digest else []
            assert escalated == (["raw_salesforce__lead__keys"] if n == 4 else []), n
    assert len(posts) == 5 and posts[-1][1]["escalations"] == [
        {"kind": "check", "subject": "raw_salesforce__lead__keys", "runs": 3}
    ]
    assert len(inbox) == 1 and inbox[0]["Subject"].strip().startswith("[ESCALATION]")
    assert "ESCALATION: check raw_salesforce__lead__keys in breach 3 runs in a row" in inbox[0].get_content()
