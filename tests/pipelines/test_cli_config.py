"""Bad configuration ends ``crm-loop sync`` before its first step, with one line naming the cause and the variable
or file, exit code 1, and (for the CRMs) at most one request each: the real CLI as a subprocess, against the
sandbox or a closed local port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.demo import sandbox_environment
from sandbox.control import Control
from sandbox.server.app import Sandbox
from tests.conftest import dagster_home

CLI = Path(sys.executable).with_name("crm-loop")
OWN_PREFIXES = ("CRM_LOOP_", "SALESFORCE_", "HUBSPOT_")
# A wrong setting is found within seconds; most of this is the interpreter and Dagster loading, on a busy machine.
SECONDS = 30


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    workdir = tmp_path_factory.mktemp("config_sandbox")
    with Sandbox(seed=5, size=20, anchor=datetime(2026, 11, 2, 14, tzinfo=UTC), workdir=workdir) as box:
        yield box


@pytest.fixture
def control(sandbox: Sandbox) -> Control:
    """The sandbox's control API, its request log emptied: each test counts the requests it caused."""
    control = Control(sandbox.control_url)
    control.reset_requests()
    return control


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sync(tmp_path: Path, settings: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``crm-loop [args] sync`` with only ``settings`` of crm-loop's variables set (none inherited)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_PREFIXES)}
    env |= {"DAGSTER_HOME": str(dagster_home(tmp_path / "dagster_home")), **settings}
    return subprocess.run(
        [str(CLI), *args, "sync"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=SECONDS
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.splitlines()
    assert result.returncode == 1, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("crm-loop: "), result.stderr[-3000:]
    return lines[0]


def sandbox_settings(sandbox: Sandbox, tmp_path: Path, **overrides: str) -> dict[str, str]:
    return {**sandbox_environment(sandbox.info(), f"duckdb:///{tmp_path}/wh.duckdb"), **overrides}


def test_no_crm_variables_lists_them_all_and_calls_nobody(tmp_path: Path) -> None:
    line = one_line_error(sync(tmp_path, {}))
    for variable in (
        "SALESFORCE_TOKEN_URL",
        "SALESFORCE_CLIENT_ID",
        "SALESFORCE_CLIENT_SECRET",
        "HUBSPOT_ACCESS_TOKEN",
    ):
        assert variable in line
    assert not (tmp_path / "var").exists(), "nothing is created before the configuration is known to work"


def test_wrong_salesforce_secret_is_one_refused_token_request(
    sandbox: Sandbox, control: Control, tmp_path: Path
) -> None:
    line = one_line_error(sync(tmp_path, sandbox_settings(sandbox, tmp_path, SALESFORCE_CLIENT_SECRET="wrong")))
    assert "Salesforce refused the credentials" in line and "SALESFORCE_CLIENT_SECRET" in line, line
    assert "wrong" not in line, "a secret never reaches the output"
    served = control.requests_served("salesforce")
    assert [r["path"] for r in served] == ["/services/oauth2/token"], "one request, never retried"
    assert control.requests_served("hubspot") == [], "the run ends at the first problem"


def test_wrong_hubspot_token_is_one_refused_request(sandbox: Sandbox, control: Control, tmp_path: Path) -> None:
    line = one_line_error(sync(tmp_path, sandbox_settings(sandbox, tmp_path, HUBSPOT_ACCESS_TOKEN="pat-wrong")))
    assert "HubSpot refused HUBSPOT_ACCESS_TOKEN" in line, line
    assert "pat-wrong" not in line
    assert len(control.requests_served("hubspot")) == 1, "one request, never retried"


def test_unreachable_crm_is_reported_at_once(sandbox: Sandbox, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    started = time.monotonic()
    line = one_line_error(sync(tmp_path, sandbox_settings(sandbox, tmp_path, HUBSPOT_BASE_URL=url)))
    assert f"cannot reach HubSpot at {url}" in line and "HUBSPOT_BASE_URL" in line, line
    assert time.monotonic() - started < SECONDS / 2


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "CRM_LOOP_WAREHOUSE_URL is not a database URL"),
        ("mysql://someone@somewhere/db", "crm-loop writes to DuckDB or PostgreSQL"),
        # A driver-less URL is accepted (the installed driver): it gets as far as connecting.
        ("postgresql://postgres:s3cret@127.0.0.1:{port}/test", "cannot connect to the warehouse"),
    ],
)
def test_bad_warehouse_url(sandbox: Sandbox, tmp_path: Path, url: str, expected: str) -> None:
    settings = sandbox_settings(sandbox, tmp_path, CRM_LOOP_WAREHOUSE_URL=url.format(port=closed_port()))
    line = one_line_error(sync(tmp_path, settings))
    assert expected in line and "s3cret" not in line, line


def test_missing_definitions_file_names_the_file_and_the_variable(sandbox: Sandbox, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "definitions.yaml"
    line = one_line_error(sync(tmp_path, sandbox_settings(sandbox, tmp_path, CRM_LOOP_DEFINITIONS=str(missing))))
    assert str(missing) in line and "CRM_LOOP_DEFINITIONS" in line, line


def test_broken_definitions_file_is_its_file_line_col_message(sandbox: Sandbox, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nindustries: [\n")
    settings = sandbox_settings(sandbox, tmp_path, CRM_LOOP_DEFINITIONS=str(broken))
    line = one_line_error(sync(tmp_path, settings))
    assert line.startswith("crm-loop: broken.yaml:3:1: not valid YAML"), line
    debug = sync(tmp_path, settings, "--debug")
    assert debug.returncode == 1 and "Traceback" in debug.stderr, "--debug shows where it came from"
