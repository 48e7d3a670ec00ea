"""Alert channels: a Slack incoming webhook, a generic JSON webhook and SMTP e-mail. Each raises on failure;
``dispatch`` catches, logs and reports, so a broken channel never fails the run or blocks the other channels."""

from __future__ import annotations

import json
import smtplib
from pathlib import Path
from typing import Protocol

import requests

from checks.alerts.config import AlertConfig, SmtpSettings
from checks.alerts.digest import Digest
from checks.alerts.mail import email_message
from checks.alerts.slack import slack_message


class Channel(Protocol):
    name: str

    def send(self, digest: Digest, *, escalation: bool) -> None: ...


class SlackChannel:
    name = "slack"

    def __init__(self, url: str, timeout_s: float) -> None:
        self.url, self.timeout_s = url, timeout_s

    def send(self, digest: Digest, *, escalation: bool) -> None:
        response = requests.post(self.url, json=slack_message(digest, escalation=escalation), timeout=self.timeout_s)
        response.raise_for_status()


class WebhookChannel:
    name = "webhook"

    def __init__(self, url: str, timeout_s: float) -> None:
        self.url, self.timeout_s = url, timeout_s

    def send(self, digest: Digest, *, escalation: bool) -> None:
        response = requests.post(self.url, json={**digest.payload(), "escalation": escalation}, timeout=self.timeout_s)
        response.raise_for_status()


class EmailChannel:
    name = "email"

    def __init__(self, smtp: SmtpSettings) -> None:
        self.smtp = smtp

    def send(self, digest: Digest, *, escalation: bool) -> None:
        s = self.smtp
        if not s.recipients:
            raise ValueError("no e-mail recipients (CRM_LOOP_SMTP_TO)")
        message = email_message(digest, s.sender, s.recipients, escalation=escalation)
        with smtplib.SMTP(s.host, s.port, timeout=s.timeout_s) as client:
            if s.starttls:
                client.starttls()
            if s.username:
                client.login(s.username, s.password)
            client.send_message(message)


class FileChannel:
    name = "file"

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def send(self, digest: Digest, *, escalation: bool) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as sink:
            sink.write(json.dumps({**digest.payload(), "escalation": escalation}, default=str) + "\n")


def channels(config: AlertConfig) -> dict[str, Channel]:
    out: dict[str, Channel] = {}
    if config.slack_webhook_url:
        out["slack"] = SlackChannel(config.slack_webhook_url, config.timeout_s)
    if config.webhook_url:
        out["webhook"] = WebhookChannel(config.webhook_url, config.timeout_s)
    if config.smtp is not None:
        out["email"] = EmailChannel(config.smtp)
    if config.file_path:
        out["file"] = FileChannel(config.file_path)
    return out
