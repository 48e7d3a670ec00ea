"""The sandbox's fidelity, proven by connectors nobody here wrote: each peer installed under ``var/peers`` runs
unmodified against a small sandbox (reached through its public-host gateway) and extracts exactly its counts.

The suite never installs peers itself: installing them takes minutes and needs the package index (airbyte's
alone pulls well over a hundred packages), which neither CI nor a quick local run should depend on.
``.venv/bin/python bench/peers.py --install-only`` installs them; without them these tests skip and say so.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench import peers
from sandbox.server.app import Sandbox

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(seed=7, size=40, workdir=tmp_path_factory.mktemp("peers"), gateway=True) as sb:
        # tap-salesforce sleeps 20 s before polling a batch that is not yet complete.
        sb.ctx.faults.update(bulk_job_seconds=0)
        yield sb


def _driver(box: Sandbox, name: str, mode: str, workdir: Path) -> tuple[peers.Driver, dict[str, Any]]:
    if not peers.installed(name):
        pytest.skip(f"{name} is not installed in {peers.venv(name)}: run bench/peers.py --install-only")
    info = box.info()
    peers.trust(name, box.ca_path)
    driver = peers.Driver(name, mode, info, workdir)
    driver.discover()
    return driver, info


@pytest.mark.parametrize(
    ("name", "mode"),
    [
        ("tap-salesforce", "REST"),
        ("tap-salesforce", "BULK"),
        ("tap-hubspot", ""),
        ("airbyte-source-hubspot", ""),
    ],
)
def test_peer_extracts_the_sandbox_counts(box: Sandbox, name: str, mode: str, tmp_path: Path) -> None:
    driver, info = _driver(box, name, mode, tmp_path)
    run = driver.run()
    assert run.returncode == 0, run.stderr_tail
    expected = peers.expected_counts(driver, info["records"])
    # A stream with no records writes nothing, so it is absent from the output rather than counted as zero.
    assert {stream: run.counts().get(stream, 0) for stream in expected} == expected
    assert set(run.counts()) <= set(expected)
