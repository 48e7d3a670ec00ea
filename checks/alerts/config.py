"""Where alerts go. Channels and secrets come from the environment only; the escalation policy (after how many
breaches in a row, to which channel) comes from the shared definitions file's ``sla.escalation``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from checks.alerts.links import CrmAddresses
from pipelines.funnel.model import Escalation


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    username: str = ""
    password: str = ""
    starttls: bool = False
    timeout_s: float = 10.0


@dataclass(frozen=True)
class AlertConfig:
    slack_webhook_url: str = ""
    webhook_url: str = ""
    smtp: SmtpSettings | None = None
    file_path: str = ""  # append each digest as a JSON line here (the demo's sink; also handy for log shippers)
    primary: tuple[str, ...] = ()  # channels every digest goes to
    escalation: Escalation | None = None
    dagster_url: str = ""  # the webserver's base URL, for links to the run
    crm: CrmAddresses = CrmAddresses()  # for links to the offending records
    timeout_s: float = 10.0

    def configured(self) -> tuple[str, ...]:
        return tuple(
            name
            for name, ok in (
                ("slack", bool(self.slack_webhook_url)),
                ("email", self.smtp is not None),
                ("webhook", bool(self.webhook_url)),
                ("file", bool(self.file_path)),
            )
            if ok
        )

    def run_url(self, run_id: str) -> str:
        return f"{self.dagster_url.rstrip('/')}/runs/{run_id}" if self.dagster_url else ""


def alert_config_from_env(escalation: Escalation | None, env: Mapping[str, str] | None = None) -> AlertConfig:
    """``CRM_LOOP_ALERT_CHANNELS`` (comma-separated) picks the primary channels; unset = every configured one
    except the escalation channel, which is kept for escalations so they stand out."""
    e = os.environ if env is None else env
    smtp = None
    if e.get("CRM_LOOP_SMTP_HOST"):
        smtp = SmtpSettings(
            host=e["CRM_LOOP_SMTP_HOST"],
            port=int(e.get("CRM_LOOP_SMTP_PORT", "25")),
            sender=e.get("CRM_LOOP_SMTP_FROM", "crm-loop@localhost"),
            recipients=tuple(r.strip() for r in e.get("CRM_LOOP_SMTP_TO", "").split(",") if r.strip()),
            username=e.get("CRM_LOOP_SMTP_USER", ""),
            password=e.get("CRM_LOOP_SMTP_PASSWORD", ""),
            starttls=e.get("CRM_LOOP_SMTP_STARTTLS", "").lower() in ("1", "true", "yes"),
        )
    config = AlertConfig(
        slack_webhook_url=e.get("CRM_LOOP_SLACK_WEBHOOK_URL", ""),
        webhook_url=e.get("CRM_LOOP_ALERT_WEBHOOK_URL", ""),
        smtp=smtp,
        escalation=escalation,
        file_path=e.get("CRM_LOOP_ALERT_FILE", ""),
        dagster_url=e.get("CRM_LOOP_DAGSTER_URL", ""),
        crm=CrmAddresses(salesforce_url(e), e.get("HUBSPOT_PORTAL_ID", "")),
    )
    chosen = e.get("CRM_LOOP_ALERT_CHANNELS")
    if chosen:
        primary = tuple(c.strip() for c in chosen.split(",") if c.strip())
    else:
        reserved = escalation.channel if escalation else None
        primary = tuple(c for c in config.configured() if c != reserved) or config.configured()
    return AlertConfig(**{**config.__dict__, "primary": primary})


def salesforce_url(env: Mapping[str, str]) -> str:
    """The org's address for record links: ``CRM_LOOP_SALESFORCE_URL``, else a My Domain given as
    ``SALESFORCE_DOMAIN`` (``login``/``test`` name the login server, not the org: no links then)."""
    if env.get("CRM_LOOP_SALESFORCE_URL"):
        url = env["CRM_LOOP_SALESFORCE_URL"].rstrip("/")
        return url if url.startswith(("https://", "http://")) else f"https://{url}"
    domain = env.get("SALESFORCE_DOMAIN", "")
    return f"https://{domain}" if domain.endswith(".my.salesforce.com") else ""
