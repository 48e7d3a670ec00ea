"""A digest as an e-mail: multipart/alternative, plain text first and HTML second (mail clients show the last
part they can render), with the same content as the Slack message."""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from html import escape

from checks.alerts.digest import LABELS, Digest, Finding

COLOURS = {"failed": "#c0392b", "error": "#7f1d1d", "warn": "#b7791f", "passed": "#2f855a"}


def email_message(digest: Digest, sender: str, recipients: Sequence[str], *, escalation: bool = False) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = ("[ESCALATION] " if escalation else "") + digest.title
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message.set_content(digest.text())
    message.add_alternative(html(digest), subtype="html")
    return message


def html(digest: Digest) -> str:
    run = f' <a href="{escape(digest.run_url)}">View in Dagster UI</a>' if digest.run_url else ""
    if not digest.needs_action:
        return _page(f"<p>{escape(digest.title)}{run}</p>")
    parts = [f"<h2>{escape(digest.title)}</h2>"]
    if digest.trend():
        parts.append(f"<p>{escape(digest.trend())}</p>")
    if run:
        parts.append(f"<p>{run.strip()}</p>")
    if digest.run_failure:
        parts.append(f"<p><b>Run failure:</b> {escape(digest.run_failure)}</p>")
    parts += [_finding(f) for f in digest.findings]
    if digest.escalations:
        items = "".join(
            f"<li>{escape(e.kind)} <code>{escape(e.subject)}</code>: {e.streak}</li>" for e in digest.escalations
        )
        parts.append(f"<h3>Escalated</h3><ul>{items}</ul>")
    parts.append(
        f'<p style="color:#666">run {escape(digest.run_id)} · definitions {escape(digest.definitions_hash[:12])}</p>'
    )
    return _page("\n".join(parts))


def _finding(f: Finding) -> str:
    label = f'<span style="color:{COLOURS[f.outcome]};font-weight:bold">{LABELS[f.outcome]}</span>'
    rows = [
        f"<h3>{label} {escape(f.description)} <code>{escape(f.check_name)}</code></h3>",
        f"<p>{escape(f.facts())}</p>",
        f"<p><b>What to do:</b> {escape(f.action)}</p>",
    ]
    if f.reps:
        rows.append(f"<p><b>Reps:</b> {escape(f.rep_line())}</p>")
    if f.links:
        links = ", ".join(f'<a href="{escape(link.url)}">{escape(link.label)}</a>' for link in f.links)
        rows.append(f"<p><b>Records:</b> {links}</p>")
    return "\n".join(rows)


def _page(body: str) -> str:
    return f'<!DOCTYPE html>\n<html><body style="font-family:sans-serif">\n{body}\n</body></html>\n'
