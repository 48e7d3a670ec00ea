"""`python -m sandbox serve` (the `crm-loop-sandbox` command) as a user runs it: a separate process that prints
how to connect and serves both CRMs."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import hubspot
import requests
from simple_salesforce import Salesforce


def test_serve_prints_connection_info_and_serves_both_crms(tmp_path: Path) -> None:
    info_file = tmp_path / "info.json"
    started = time.monotonic()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            "serve",
            "--size",
            "200",
            "--seed",
            "3",
            "--workdir",
            str(tmp_path / "sb"),
            "--info-file",
            str(info_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while not info_file.exists():
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() - started < 60, "the sandbox did not start within a minute"
            time.sleep(0.1)
        info = json.loads(info_file.read_text())
        sf, hs = info["salesforce"], info["hubspot"]
        assert Path(sf["ca_bundle"]).exists()

        session = requests.Session()
        session.verify, session.trust_env = sf["ca_bundle"], False
        token = session.post(
            sf["token_url"],
            data={"grant_type": "client_credentials"},
            auth=(sf["client_id"], sf["client_secret"]),
            timeout=10,
        ).json()
        client = Salesforce(instance_url=token["instance_url"], session_id=token["access_token"], session=session)
        assert client.query("SELECT COUNT() FROM Lead")["totalSize"] == info["records"]["salesforce"]["Lead"]

        contacts = hubspot.Client.create(
            access_token=hs["access_token"], host=hs["base_url"]
        ).crm.contacts.basic_api.get_page(limit=5)
        assert len(contacts.results) == 5
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    printed = json.loads(out)
    assert printed["salesforce"]["instance_url"].startswith("https://127.0.0.1:")
    assert printed["hubspot"]["base_url"].startswith("http://127.0.0.1:")
