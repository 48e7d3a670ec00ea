"""The ``crm-loop-sandbox`` command line (also ``python -m sandbox``): serve the sandbox as its own process."""

from __future__ import annotations

import json
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path

import click


@click.group()
def main() -> None:
    """The local CRM sandbox (Salesforce + HubSpot wire formats on 127.0.0.1)."""


@main.command("serve")
@click.option("--seed", default=7, show_default=True, help="Generator seed: same seed, same data.")
@click.option("--size", default=2_000, show_default=True, help="Number of people (HubSpot contacts) to generate.")
@click.option(
    "--fixture",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Load exactly these records instead of generating.",
)
@click.option(
    "--now",
    "anchor",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"]),
    help="Sandbox clock start (UTC if no offset); data lies before it.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--salesforce-port", default=0, show_default=True, help="0 picks a free port.")
@click.option("--hubspot-port", default=0, show_default=True)
@click.option("--control-port", default=0, show_default=True)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the TLS files, state and manifest go (default: a temp dir).",
)
@click.option(
    "--info-file", type=click.Path(dir_okay=False, path_type=Path), help="Also write the connection info as JSON here."
)
@click.option(
    "--gateway",
    is_flag=True,
    help="Also answer for api.hubapi.com and login.salesforce.com as an HTTPS proxy (for connectors with fixed hosts).",
)
def serve(
    seed: int,
    size: int,
    fixture: Path | None,
    anchor: datetime | None,
    host: str,
    salesforce_port: int,
    hubspot_port: int,
    control_port: int,
    workdir: Path | None,
    info_file: Path | None,
    gateway: bool,
) -> None:
    """Serve the sandbox until interrupted; prints both base URLs, credentials and the CA bundle path."""
    # Imported here so `--help` answers without loading the generator and both CRM sides.
    from sandbox.server.app import Sandbox

    if anchor is not None and anchor.tzinfo is None:
        anchor = anchor.replace(tzinfo=UTC)
    box = Sandbox(
        seed=seed,
        size=size,
        fixture=fixture,
        anchor=anchor,
        host=host,
        salesforce_port=salesforce_port,
        hubspot_port=hubspot_port,
        control_port=control_port,
        workdir=workdir,
        gateway=gateway,
    )
    click.echo(f"seeding the sandbox (seed {seed}, size {size})…", err=True)
    box.start()
    info = box.info()
    if info_file is not None:
        write_info(info_file, json.dumps(info, indent=2))
    click.echo(json.dumps(info, indent=2))
    click.echo("sandbox credentials are fixed test values: the sandbox holds only generated data", err=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        box.stop()


def write_info(path: Path, text: str) -> None:
    # Callers poll for this file to know the sandbox is up: rename into place so they never read half of it.
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text)
    partial.replace(path)
