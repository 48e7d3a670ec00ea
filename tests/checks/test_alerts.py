"""Digests reach real local receivers (HTTP webhooks, SMTP) once per run: Slack as Block Kit within Slack's limits
(a golden payload), e-mail as text + HTML; each finding says what it means, how many rows, since when, what to do,
with links to the records and the reps behind an SLA breach; escalation after N failing runs goes to the second
channel; a broken channel is reported and never loses the others."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pandas as pd

from checks.alerts.config import alert_config_from_env
from checks.alerts.context import CheckHistoryNote, Rep, RunContext
from checks.alerts.describe import check_catalog
from checks.alerts.digest import Digest, Escalated, build_digest
from checks.alerts.dispatch import send_run_digest
from checks.alerts.links import CrmAddresses
from checks.alerts.mail import email_message
from checks.alerts.slack import MAX_BLOCKS, slack_message
from checks.history import CheckHistory, CheckRecord, RunStamp
from checks.sla.store import SlaStore
from connectors.warehouse.warehouse import Warehouse
from pipelines.funnel.definitions import load_definitions
from pipelines.funnel.model import Escalation
from sandbox.server.http import free_port
from tests.checks.helpers import AS_OF, land
from tests.checks.receivers import http_receiver, smtp_receiver

GOLDEN = Path(__file__).parent / "golden" / "slack_digest.json"
CATALOG = check_catalog(load_definitions())


# --- Block Kit, as Slack documents it (docs.slack.dev/reference/block-kit) -----------------------------------

LINK = re.compile(r"<(https?://[^|<>\s]+)\|([^<>]*)>")


def block_kit_errors(message: Mapping[str, Any]) -> list[str]:
    """What Slack would reject: block types and counts, text lengths, unescaped mrkdwn control characters."""
    errors: list[str] = []
    if not isinstance(message.get("text"), str) or not message["text"]:
        errors.append("no top-level text (the notification and fallback)")
    blocks = message.get("blocks", [])
    if not 1 <= len(blocks) <= 50:
        errors.append(f"{len(blocks)} blocks; Slack takes 1 to 50")
    total = 0

    def text(obj: Any, where: str, limit: int, types: tuple[str, ...] = ("mrkdwn", "plain_text")) -> None:
        nonlocal total
        if not isinstance(obj, dict) or obj.get("type") not in types or not isinstance(obj.get("text"), str):
            errors.append(f"{where}: a text object of type {types} expected, got {obj!r:.80}")
            return
        value = obj["text"]
        total += len(value)
        if not 1 <= len(value) <= limit:
            errors.append(f"{where}: {len(value)} characters; limit {limit}")
        if obj["type"] == "mrkdwn" and re.search(r"[<>]|&(?!amp;|lt;|gt;)", LINK.sub("", value)):
            errors.append(f"{where}: unescaped &, < or > outside a link: {value!r:.120}")

    for i, block in enumerate(blocks):
        kind = block.get("type")
        if len(block.get("block_id", "")) > 255:
            errors.append(f"block {i}: block_id over 255 characters")
        if kind == "header":
            text(block.get("text"), f"block {i} header", 150, ("plain_text",))
        elif kind == "section":
            if "text" in block:
                text(block["text"], f"block {i} section", 3000)
            fields = block.get("fields", [])
            if len(fields) > 10:
                errors.append(f"block {i}: {len(fields)} fields; limit 10")
            for j, field in enumerate(fields):
                text(field, f"block {i} field {j}", 2000)
            if "text" not in block and not fields:
                errors.append(f"block {i}: a section needs text or fields")
        elif kind == "context":
            elements = block.get("elements", [])
            if not 1 <= len(elements) <= 10:
                errors.append(f"block {i}: {len(elements)} context elements; 1 to 10")
            for j, element in enumerate(elements):
                text(element, f"block {i} context {j}", 3000)
        elif kind == "actions":
            elements = block.get("elements", [])
            if not 1 <= len(elements) <= 25:
                errors.append(f"block {i}: {len(elements)} actions; 1 to 25")
            for j, button in enumerate(elements):
                if button.get("type") != "button":
                    errors.append(f"block {i} action {j}: only buttons are sent")
                text(button.get("text"), f"block {i} button {j}", 75, ("plain_text",))
                if not str(button.get("url", "")).startswith("http") or len(button["url"]) > 3000:
                    errors.append(f"block {i} button {j}: URL missing or over 3,000 characters")
        elif kind != "divider":
            errors.append(f"block {i}: unexpected block type {kind!r}")
    if total > 12000:
        errors.append(f"{total} characters of block text: Slack refuses messages near 13,000 (msg_blocks_too_long)")
    return errors


# --- A fixed night: the golden digest ------------------------------------------------------------------------

RUN_ID = "1f0c2a9e-7b3d-4c55-9a10-5e2f3c4d5e6f"
CRM = CrmAddresses("https://acme.my.salesforce.com", "4711")


def _row(name: str, status: str, severity: str, rows: int = 0, bad: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "check_name": name,
        "asset": extra.pop("asset", name.rsplit("__", 1)[0]),
        "kind": "sla" if name.startswith("sla__") else "quality",
        "status": status,
        "severity": severity,
        "rows_checked": rows,
        "unexpected_count": bad,
        "sample_ids": extra.pop("samples", []),
        "details": extra.pop("details", []),
        "error": extra.pop("error", None),
        "definitions_hash": "9c1e5a7b3d2f" + "0" * 52,
    }


def _detail(expectation: str, column: str) -> dict[str, Any]:
    return {"expectation": expectation, "column": column}


NIGHT = [
    _row(
        "raw_salesforce__lead__keys",
        "failed",
        "ERROR",
        2000,
        2,
        samples=["00Q5g00000AbCdEAAV", "00Q5g00000AbCdFAAV"],
        details=[_detail("expect_column_values_to_be_unique", "id")],
    ),
    _row(
        "raw_salesforce__lead__freshness",
        "error",
        "ERROR",
        error="ProgrammingError: column systemmodstamp does not exist",
    ),
    _row(
        "raw_hubspot__contacts__values",
        "failed",
        "WARN",
        1500,
        37,
        samples=["501", "502", "503", "504", "505", "506", "507"],
        details=[
            _detail("expect_column_values_to_match_regex", "email"),
            _detail("expect_column_values_to_be_in_set", "hs_lead_status"),
        ],
    ),
    _row(
        "canonical_people__unmatched_across_crms",
        "failed",
        "WARN",
        3400,
        3,
        samples=["salesforce|lead|00Q5g00000XyZaBAAV", "hubspot|contact|9001", "salesforce|contact|0035g00000QrStUAAV"],
        details=[_detail("expect_column_values_to_be_in_set", "matched")],
    ),
    _row(
        "sla__first_touch",
        "failed",
        "WARN",
        140,
        12,
        asset="closed_loop_leads",
        samples=["p-1", "p-2", "p-3"],
        details=[{"met": 120, "breached": 12, "pending": 8}],
    ),
    _row("sla__mql_commitment", "failed", "WARN", 11, 1, asset="closed_loop_leads", samples=["2026-10"]),
    _row(
        "raw_hubspot__contacts__stage_order",
        "failed",
        "WARN",
        1500,
        1,
        asset="raw_hubspot__contacts",
        samples=["510"],
        details=[_detail("expect_column_pair_values_a_to_be_greater_than_b", "mql_date,lead_date")],
    ),
    _row("raw_salesforce__lead__values", "passed", "WARN", 2000),
    _row("raw_salesforce__opportunity__orphans", "passed", "WARN", 800),
    _row("closed_loop_leads__keys", "passed", "ERROR", 3100),
]
NIGHT_CONTEXT = RunContext(
    history={
        "raw_salesforce__lead__keys": CheckHistoryNote("passed", 0, datetime(2026, 11, 30, 7, tzinfo=UTC), 1),
        "raw_hubspot__contacts__values": CheckHistoryNote("warn", 31, datetime(2026, 11, 27, 7, tzinfo=UTC), 4),
        "sla__first_touch": CheckHistoryNote("warn", 15, datetime(2026, 11, 20, 7, tzinfo=UTC), 11),
        "sla__mql_commitment": CheckHistoryNote("warn", 1, datetime(2026, 11, 1, 7, tzinfo=UTC), 30),
        "raw_salesforce__opportunity__orphans": CheckHistoryNote("warn", 4),
        "raw_salesforce__lead__values": CheckHistoryNote("passed", 0),
    },
    reps={"sla__first_touch": (Rep("Dana Whitfield", 5), Rep("Sam Ortiz", 4), Rep("unassigned", 2))},
    reps_in_breach={"sla__first_touch": 4},
    people={
        "p-1": [("salesforce", "lead", "00Q5g00000PqRsTAAV"), ("hubspot", "contacts", "601")],
        "p-2": [("hubspot", "contacts", "602")],
        "p-3": [],
    },
)


def night_digest(**overrides: Any) -> Digest:
    arguments: dict[str, Any] = {
        "context": NIGHT_CONTEXT,
        "catalog": CATALOG,
        "crm": CRM,
        "escalations": [Escalated("check", "raw_hubspot__contacts__values", 3)],
        **overrides,
    }
    return build_digest(RUN_ID, f"http://dagster.example:3000/runs/{RUN_ID}", NIGHT, **arguments)


def test_slack_digest_matches_the_golden_payload_and_block_kit() -> None:
    message = slack_message(night_digest())
    if os.environ.get("UPDATE_GOLDEN"):  # after a deliberate change of the message: UPDATE_GOLDEN=1 pytest ...
        GOLDEN.write_text(json.dumps(message, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert message == json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert block_kit_errors(message) == []
    header, summary, actions, divider, *sections = message["blocks"]
    assert header["text"]["text"] == "crm-loop: 1 failed, 1 could not run, 5 warnings, 3 passed of 10 checks"
    assert (
        "Since the last run: 4 new, 3 still failing (the oldest since 2026-11-01), 1 fixed." in summary["text"]["text"]
    )
    assert actions["elements"][0]["url"] == f"http://dagster.example:3000/runs/{RUN_ID}"
    texts = [s["text"]["text"] for s in sections if s["type"] == "section"]
    assert texts[0].startswith(":red_circle: *id present and unique*  `raw_salesforce__lead__keys` · FAILED")
    assert "<https://acme.my.salesforce.com/lightning/r/Lead/00Q5g00000AbCdEAAV/view|00Q5g00000AbCdEAAV>" in texts[0]
    contacts = next(t for t in texts if "raw_hubspot__contacts__values" in t)
    assert contacts.count("https://app.hubspot.com/contacts/4711/record/0-1/") == 5, "at most five links"
    assert "37 of 1,500 rows · failing since 2026-11-27 (4 runs), +6 since the last run" in contacts
    sla = next(t for t in texts if "sla__first_touch" in t)
    assert "*Reps:* Dana Whitfield (5), Sam Ortiz (4), unassigned (2) and 1 more" in sla
    assert "Lead/00Q5g00000PqRsTAAV/view" in sla and "record/0-1/602" in sla
    order = next(t for t in texts if "raw_hubspot__contacts__stage_order" in t)
    assert "*created &lt;= lead &lt;= MQL" in order, "mrkdwn's control characters are escaped"
    assert "correct the stage dates: mql_date + lead_date are out of funnel order" in order
    assert "*Escalated*" in texts[-1]


def test_a_huge_night_still_fits_block_kit_and_names_every_check() -> None:
    rows = [
        _row(f"raw_salesforce__lead__check_{i:03}", "failed", "WARN", 10**6, i, samples=[f"00Q5g00000AbC{i:03}AAV"])
        for i in range(120)
    ] + [_row("raw_salesforce__lead__check_999", "error", "ERROR", error="OperationalError: " + "x" * 5000)]
    catalog = {r["check_name"]: CATALOG["raw_salesforce__lead__values"] for r in rows}
    digest = build_digest(RUN_ID, "", rows, catalog=catalog, crm=CRM)
    message = slack_message(digest)
    assert block_kit_errors(message) == []
    assert len(message["blocks"]) <= MAX_BLOCKS
    last = message["blocks"][-2]["text"]["text"]
    assert last.startswith("…and ") and "see table check_results" in last
    shown = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    findings = [t for t in shown if "· WARN" in t or "· COULD NOT RUN" in t]
    assert findings[0].startswith(":x: ") and len(findings[0]) < 1000, "the error first, quoted in part"
    assert int(last.split()[1]) + len(findings) == len(rows), "every check shown or named in the last section"


def test_a_night_that_needs_no_action_is_one_line_everywhere() -> None:
    rows = [r for r in NIGHT if r["status"] == "passed"]
    digest = build_digest(RUN_ID, f"http://dagster.example:3000/runs/{RUN_ID}", rows, catalog=CATALOG)
    assert not digest.needs_action
    message = slack_message(digest)
    assert block_kit_errors(message) == [] and len(message["blocks"]) == 1
    assert "\n" not in message["blocks"][0]["text"]["text"] and "all 3 checks passed" in message["text"]
    assert digest.text() == f"crm-loop: all 3 checks passed (run 1f0c2a9e) http://dagster.example:3000/runs/{RUN_ID}"
    mail = email_message(digest, "a@b.co", ["c@d.co"])
    assert mail.get_body(("plain",)).get_content().strip() == digest.text()  # type: ignore[union-attr]


def test_a_run_that_failed_before_any_check_says_so() -> None:
    digest = build_digest(RUN_ID, "", [], run_failure="raw_salesforce__user: SalesforceAuthError: invalid_client")
    message = slack_message(digest)
    assert block_kit_errors(message) == []
    assert message["text"] == "crm-loop run 1f0c2a9e FAILED; before any check ran"
    summary = message["blocks"][1]["text"]["text"]
    assert (
        summary
        == "*no check ran* (run 1f0c2a9e)\n*Run failure:* raw_salesforce__user: SalesforceAuthError: invalid_client"
    )


def test_email_is_text_and_html_with_the_same_findings() -> None:
    mail = email_message(night_digest(), "crm-loop@example.com", ["revops@example.com"])
    assert mail.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for name in ("raw_salesforce__lead__keys", "raw_hubspot__contacts__values", "sla__first_touch"):
        assert name in text and name in html
    assert "What to do: merge or delete the duplicate records (same id)" in text
    assert '<a href="https://acme.my.salesforce.com/lightning/r/Lead/00Q5g00000AbCdEAAV/view">' in html
    assert "Dana Whitfield (5)" in html and "&lt;=" not in text


# --- Through the warehouse and real receivers ----------------------------------------------------------------


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
        () if status == "passed" else ("00Q5g00000AbCdEAAV", "00Q5g00000AbCdFAAV"),
        [] if status == "passed" else [{"expectation": "expect_column_values_to_be_unique", "column": "id"}],
    )


def _run(history: CheckHistory, run_id: str, n: int, records: list[CheckRecord]) -> None:
    history.record(RunStamp(run_id, AS_OF + timedelta(days=n), AS_OF + timedelta(days=n), "v1", "h" * 64), records)


def _plain(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]


def test_one_digest_per_run_reaches_every_channel(warehouse_factory: Callable[[], Warehouse]) -> None:
    wh = warehouse_factory()
    history = CheckHistory(wh.engine, wh.schema)
    _run(
        history,
        "0a1b2c3d-night",
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
            "SALESFORCE_DOMAIN": "acme.my.salesforce.com",
        }
        config = alert_config_from_env(Escalation(3, "email"), env)
        report = send_run_digest(wh.engine, wh.schema, "0a1b2c3d-night", config)
    assert [d.ok for d in report.deliveries] == [True, True, True]
    assert sorted(path for path, _ in posts) == ["/hook", "/slack"], "one message per channel, not one per row"
    hook = next(body for path, body in posts if path == "/hook")
    assert hook["counts"] == {"failed": 1, "error": 0, "warn": 1, "passed": 2, "checks": 4}
    assert hook["run_url"] == "http://dagster.local/runs/0a1b2c3d-night"
    assert [f["check_name"] for f in hook["failing"]] == ["raw_salesforce__lead__keys", "b__values"], "ERROR first"
    keys = hook["failing"][0]
    assert keys["sample_ids"] == ["00Q5g00000AbCdEAAV", "00Q5g00000AbCdFAAV"] and hook["escalations"] == []
    assert keys["description"] == "id present and unique" and keys["previous_outcome"] is None
    assert keys["links"][0]["url"] == "https://acme.my.salesforce.com/lightning/r/Lead/00Q5g00000AbCdEAAV/view"
    slack = next(body for path, body in posts if path == "/slack")
    assert block_kit_errors(slack) == []
    assert slack["text"] == "crm-loop: 1 failed, 1 warning, 2 passed of 4 checks (run 0a1b2c3d)"
    assert slack["blocks"][2]["elements"][0]["url"] == "http://dagster.local/runs/0a1b2c3d-night"
    assert len(inbox) == 1 and inbox[0]["Subject"] == slack["text"] and inbox[0]["To"] == "revops@example.com"
    assert inbox[0].get_content_type() == "multipart/alternative"
    assert "WARN  b: values (b__values)\n  5 of 10 rows · first run of this check" in _plain(inbox[0])


def test_the_digest_says_since_when_who_and_where(warehouse_factory: Callable[[], Warehouse]) -> None:
    """History (previous result, streak, fixes), reps from sla_compliance and records from closed_loop_leads,
    all read from the warehouse."""
    wh = warehouse_factory()
    history = CheckHistory(wh.engine, wh.schema)
    sla = CheckRecord(
        "sla__first_touch", "closed_loop_leads", "sla", "failed", "WARN", 40, 1, 1, 3, ("p-1", "p-2", "p-3")
    )
    nights = [
        [_record("passed"), _record("failed", "b__values", "WARN", bad=4), _record("failed", "c__keys")],
        [_record("failed", bad=2), _record("failed", "b__values", "WARN", bad=5), _record("failed", "c__keys")],
        [_record("failed", bad=3), _record("failed", "b__values", "WARN", bad=5), _record("passed", "c__keys"), sla],
    ]
    for n, records in enumerate(nights):
        _run(history, f"run-{n}", n, records)
    land(
        wh,
        "closed_loop_leads",
        [
            {"id": "p-1", "person_key": "p-1", "salesforce_lead_id": "00Q5g00000PqRsTAAV", "hubspot_contact_id": "601"},
            {"id": "p-2", "person_key": "p-2", "salesforce_lead_id": None, "hubspot_contact_id": "602"},
            {"id": "p-9", "person_key": "p-9", "salesforce_contact_id": "0035g00000QrStUAAV"},
        ],
        audit=False,
    )
    land(wh, "canonical_owners", [{"id": "1", "owner_key": "dana@acme.com", "name": "Dana Whitfield"}], audit=False)
    rollups = pd.DataFrame(
        [
            ("owner", "first_touch", "dana@acme.com", 20, 15, 2, 3, 0.88),
            ("owner", "first_touch", "(none)", 5, 4, 1, 0, 0.8),
            ("owner", "first_touch", "sam@acme.com", 15, 15, 0, 0, 1.0),
            ("team", "first_touch", "East", 40, 34, 3, 3, 0.92),
        ],
        columns=["dimension", "rule", "member", "leads", "met", "breached", "pending", "compliance"],
    )
    SlaStore(wh.engine, wh.schema).record("run-2", AS_OF + timedelta(days=2), "h" * 64, rollups)
    with http_receiver() as (base, posts):
        env = {
            "CRM_LOOP_ALERT_WEBHOOK_URL": f"{base}/hook",
            "CRM_LOOP_SALESFORCE_URL": "https://acme.my.salesforce.com",
            "HUBSPOT_PORTAL_ID": "4711",
        }
        report = send_run_digest(wh.engine, wh.schema, "run-2", alert_config_from_env(None, env))
    assert report.digest is not None and [d.ok for d in report.deliveries] == [True]
    ((_, hook),) = posts
    assert hook["fixed"] == ["c__keys"]
    assert hook["trend"] == "Since the last run: 1 new, 2 still failing (the oldest since 2026-11-02), 1 fixed."
    failing = {f["check_name"]: f for f in hook["failing"]}
    keys, values, first_touch = failing["raw_salesforce__lead__keys"], failing["b__values"], failing["sla__first_touch"]
    assert (keys["previous_outcome"], keys["previous_unexpected_count"], keys["failing_runs"]) == ("failed", 2, 2)
    assert keys["failing_since"].startswith("2026-11-03")
    assert (values["previous_outcome"], values["failing_runs"], values["failing_since"][:10]) == (
        "warn",
        3,
        "2026-11-02",
    )
    assert [(r["name"], r["leads"]) for r in first_touch["reps"]] == [("Dana Whitfield", 2), ("unassigned", 1)]
    assert [link["url"] for link in first_touch["links"]] == [
        "https://acme.my.salesforce.com/lightning/r/Lead/00Q5g00000PqRsTAAV/view",
        "https://app.hubspot.com/contacts/4711/record/0-1/602",
    ]
    assert first_touch["previous_outcome"] is None and first_touch["description"].startswith("every MQL is first")


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
    assert posts[1][1]["needs_action"] is False and posts[1][1]["fixed"] == ["raw_salesforce__lead__keys"]
    assert len(inbox) == 1 and inbox[0]["Subject"].strip().startswith("[ESCALATION]")
    assert "ESCALATION: check raw_salesforce__lead__keys in breach 3 runs in a row" in _plain(inbox[0])
    assert "failing since 2026-11-04 (3 runs)" in _plain(inbox[0])
