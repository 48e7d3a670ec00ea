"""A digest as a Slack Block Kit message for an incoming webhook: ``{"text", "blocks"}``, the arguments
dagster-slack passes to ``chat_postMessage`` (``text`` is the notification and the fallback). As dagster-slack
does, the run is a "View in Dagster UI" button when the webserver's URL is known.

Slack rejects a message that breaks Block Kit's limits, so the message is cut to fit them: findings that do not
fit are named in one closing section instead of being dropped silently.
"""

from __future__ import annotations

from typing import Any

from checks.alerts.digest import LABELS, Digest, Finding
from checks.model import Outcome

# docs.slack.dev/reference/block-kit: 50 blocks per message; section text 3,000 characters; header 150; button
# text 75 and URL 3,000; context 10 elements. Slack also refuses messages whose blocks total somewhat over
# 13,000 characters (msg_blocks_too_long, seen from 13,172 on: slackapi/bolt-js#2509): keep well under that.
MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_URL = 3000
MAX_TOTAL_TEXT = 12000

EMOJI: dict[Outcome, str] = {
    "failed": ":red_circle:",
    "error": ":x:",
    "warn": ":warning:",
    "passed": ":white_check_mark:",
}


def escape(text: str) -> str:
    """Slack's mrkdwn control characters (docs.slack.dev, "Formatting text": escape &, < and >)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters; a cut falls at a line end where there is one, so that no link or escape is
    cut in half."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    return (cut[: cut.rfind("\n")] if "\n" in cut else cut) + "…"


def _link(url: str, label: str) -> str:
    return f"<{url}|{escape(label).replace('|', '/')}>" if len(url) <= MAX_URL else escape(label)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION)}}


def finding_text(f: Finding) -> str:
    lines = [f"{EMOJI[f.outcome]} *{escape(f.description)}*  `{f.check_name}` · {LABELS[f.outcome]}"]
    if f.facts():
        lines.append(escape(f.facts()))
    lines.append(f"*What to do:* {escape(f.action)}")
    if f.reps:
        lines.append(f"*Reps:* {escape(f.rep_line())}")
    if f.links:
        lines.append("*Records:* " + ", ".join(_link(link.url, link.label) for link in f.links))
    return "\n".join(lines)


def slack_message(digest: Digest, *, escalation: bool = False) -> dict[str, Any]:
    prefix = "[ESCALATION] " if escalation else ""
    run = _link(digest.run_url, f"run {digest.short_run_id}") if digest.run_url else f"run {digest.short_run_id}"
    if not digest.needs_action:
        line = f"{EMOJI['passed']} crm-loop: all {digest.tally.total} checks passed · {run}"
        return {"text": prefix + digest.title, "blocks": [_section(prefix + line)]}
    header_text = prefix + (
        f"crm-loop run {digest.short_run_id} failed" if digest.run_failure else f"crm-loop: {digest.tally.summary()}"
    )
    head: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(header_text, MAX_HEADER), "emoji": True}},
        _section(
            "\n".join(
                line
                for line in (
                    f"*{escape(digest.tally.summary() if digest.tally.total else 'no check ran')}* ({run})",
                    escape(digest.trend()),
                    f"*Run failure:* {escape(digest.run_failure)}" if digest.run_failure else "",
                )
                if line
            )
        ),
    ]
    if digest.run_url and len(digest.run_url) <= MAX_URL:
        head.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "View in Dagster UI"},
                        "url": digest.run_url,
                    }
                ],
            }
        )
    tail: list[dict[str, Any]] = []
    if digest.escalations:
        tail.append(
            _section(
                "*Escalated* (in breach run after run):\n"
                + "\n".join(f"• {e.kind} `{escape(e.subject)}`: {e.streak}" for e in digest.escalations)
            )
        )
    tail.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"run `{digest.run_id}`"
                    + (f" · definitions `{digest.definitions_hash[:12]}`" if digest.definitions_hash else ""),
                }
            ],
        }
    )
    blocks = [*head, {"type": "divider"}, *_findings(digest, head, tail), *tail]
    return {"text": prefix + digest.title, "blocks": blocks}


def _findings(digest: Digest, head: list[dict[str, Any]], tail: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One section per finding while they fit; the rest named in one last section."""
    room = MAX_BLOCKS - len(head) - len(tail) - 2  # the divider, and the overflow section if needed
    budget = MAX_TOTAL_TEXT - sum(len(text) for block in (*head, *tail) for text in block_texts(block)) - MAX_SECTION
    out: list[dict[str, Any]] = []
    for i, finding in enumerate(digest.findings):
        section = _section(finding_text(finding))
        size = len(section["text"]["text"])
        if len(out) == room or size > budget:
            rest = digest.findings[i:]
            names = ", ".join(f"`{f.check_name}`" for f in rest)
            where = "the run in Dagster" if digest.run_url else "table check_results"
            out.append(_section(f"…and {len(rest)} more (see {where}): {names}"))
            break
        out.append(section)
        budget -= size
    return out


def block_texts(block: Any) -> list[str]:
    """Every text a block carries (for the total size Slack accepts)."""
    if isinstance(block, dict):
        own = [block["text"]] if isinstance(block.get("text"), str) else []
        return own + [
            t for key, value in block.items() if key != "text" or not isinstance(value, str) for t in block_texts(value)
        ]
    if isinstance(block, list):
        return [t for item in block for t in block_texts(item)]
    return []
