"""Other people's connectors against the sandbox: fidelity (do they run and extract its counts?) and a
side-by-side benchmark with crm-loop's extraction and the bare paging loop.

Usage: .venv/bin/python bench/peers.py [--people 2000] [--reps 3] [--peers tap-salesforce,tap-hubspot,...]
       .venv/bin/python bench/peers.py --install-only

Peers are installed from the package index into their own virtual environments under ``var/peers/`` (never
into crm-loop's dependencies) and run unmodified. They hard-code the CRMs' public hosts (api.hubapi.com,
login.salesforce.com), so each is pointed at the sandbox through environment variables its HTTP library
(requests) honours: ``HTTPS_PROXY`` names the sandbox's gateway, which answers for those hosts, and the sandbox
CA is trusted. Two of them send requests through ``Session.send``, which reads only certifi's bundle, so the
sandbox CA is appended to the bundle of each peer's own environment (as one installs a corporate CA).

Each repetition runs every runner once, interleaved: crm-loop (Salesforce, HubSpot), the bare loop (same), and
each peer (tap-salesforce in REST and BULK mode, tap-hubspot, airbyte-source-hubspot). Peer discovery runs once
per sandbox, untimed. The sandbox completes Bulk jobs at once (``bulk_job_seconds=0``) for every runner alike:
tap-salesforce otherwise sleeps 20 s before its first batch poll. After the repetitions the sandbox data change
(modified, soft-deleted and late-committed rows; archived HubSpot records) and each peer runs again from the
state its last run wrote: the table tells which changes its incremental run carried.
Prints ``name: value unit`` lines; the last line is a one-line ``peers:`` summary.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connectors.salesforce.catalog import OBJECTS  # noqa: E402

PEERS_DIR = ROOT / "var" / "peers"
START_DATE = "2000-01-01T00:00:00Z"


@dataclass(frozen=True)
class Peer:
    """One installable connector: its package (pinned: the versions this bench was checked with), entry point,
    the CRM it reads and the streams of it that the sandbox's objects cover."""

    package: str
    version: str
    entry: str
    crm: str
    streams: tuple[str, ...]
    protocol: str  # singer | airbyte


SF_OBJECTS = OBJECTS  # the peers' Salesforce streams the sandbox covers: crm-loop's own objects
ENGAGEMENTS = ("calls", "emails", "meetings", "notes", "tasks")
PEERS: dict[str, Peer] = {
    "tap-salesforce": Peer("tap-salesforce", "2.8.1", "tap-salesforce", "salesforce", SF_OBJECTS, "singer"),
    "tap-hubspot": Peer(
        "tap-hubspot",
        "4.5.0",
        "tap-hubspot",
        "hubspot",
        ("contacts", "companies", "deals", "owners", "engagements", "deal_pipelines"),
        "singer",
    ),
    "airbyte-source-hubspot": Peer(
        "airbyte-source-hubspot",
        "5.7.0",
        "source-hubspot",
        "hubspot",
        (
            "contacts",
            "companies",
            "deals",
            "owners",
            "engagements",
            *(f"engagements_{e}" for e in ENGAGEMENTS),
            "deal_pipelines",
        ),
        "airbyte",
    ),
}
# Record keys per (peer, stream): what identifies a record in each peer's output.
_ID_KEYS = {"companies": "companyId", "deals": "dealId", "engagements": "engagement_id"}


# -- installation and trust -----------------------------------------------------------------------------------
def venv(name: str) -> Path:
    return PEERS_DIR / name


def installed(name: str) -> bool:
    return (venv(name) / "bin" / PEERS[name].entry).exists()


def install(name: str) -> None:
    """A fresh virtual environment per peer: their pins conflict with each other and with crm-loop's."""
    peer, env = PEERS[name], venv(name)
    if installed(name):
        return
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(env)], check=True)
    subprocess.run(
        [str(env / "bin" / "pip"), "install", "-q", f"{peer.package}=={peer.version}"],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def trust(name: str, ca_path: Path) -> None:
    """Append the sandbox CA to the certifi bundle inside the peer's environment (the pristine bundle is kept
    beside it, so each sandbox's CA replaces the previous one)."""
    where = subprocess.run(
        [str(venv(name) / "bin" / "python"), "-c", "import certifi; print(certifi.where())"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    bundle, pristine = Path(where), Path(where + ".orig")
    if not pristine.exists():
        pristine.write_bytes(bundle.read_bytes())
    bundle.write_bytes(pristine.read_bytes() + b"\n" + ca_path.read_bytes())


def peer_env(info: dict[str, Any]) -> dict[str, str]:
    ca, gateway = info["salesforce"]["ca_bundle"], info["gateway_url"]
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    no_proxy = "127.0.0.1,localhost"
    env.update(
        HTTPS_PROXY=gateway,
        https_proxy=gateway,
        NO_PROXY=no_proxy,
        no_proxy=no_proxy,
        REQUESTS_CA_BUNDLE=ca,
        CURL_CA_BUNDLE=ca,
        SSL_CERT_FILE=ca,
    )
    return env


# -- configs, catalogs, runs ----------------------------------------------------------------------------------
@dataclass
class PeerRun:
    seconds: float
    records: dict[str, list[dict[str, Any]]]
    state: Any
    returncode: int
    stderr_tail: str

    def counts(self) -> dict[str, int]:
        return {stream: len(rows) for stream, rows in self.records.items()}


@dataclass
class Driver:
    """Runs one peer (in one mode) against one sandbox: config, discovered catalog, sync with optional state."""

    name: str
    mode: str  # "REST" | "BULK" for tap-salesforce, "" otherwise
    info: dict[str, Any]
    workdir: Path
    catalog: Path = field(init=False)

    @property
    def peer(self) -> Peer:
        return PEERS[self.name]

    @property
    def label(self) -> str:
        return f"{self.name}-{self.mode.lower()}" if self.mode else self.name

    def _bin(self) -> str:
        return str(venv(self.name) / "bin" / self.peer.entry)

    def config(self) -> Path:
        path = self.workdir / f"{self.label}.config.json"
        if self.name == "tap-salesforce":
            sf = self.info["salesforce"]
            cfg: dict[str, Any] = {
                "refresh_token": sf["refresh_token"],
                "client_id": sf["client_id"],
                "client_secret": sf["client_secret"],
                "start_date": START_DATE,
                "api_type": self.mode,
                "select_fields_by_default": True,
            }
        elif self.name == "tap-hubspot":
            cfg = {"api_key": self.info["hubspot"]["access_token"], "start_date": START_DATE}
        else:
            cfg = {
                "credentials": {
                    "credentials_title": "Private App Credentials",
                    "access_token": self.info["hubspot"]["access_token"],
                },
                "start_date": START_DATE,
            }
        path.write_text(json.dumps(cfg))
        return path

    def discover(self) -> None:
        args = (
            ["--config", str(self.config()), "--discover"]
            if self.peer.protocol == "singer"
            else [
                "discover",
                "--config",
                str(self.config()),
            ]
        )
        proc = subprocess.run([self._bin(), *args], env=peer_env(self.info), capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{self.label} discovery failed: {proc.stderr[-2000:] or proc.stdout[-2000:]}")
        self.catalog = self.workdir / f"{self.label}.catalog.json"
        if self.peer.protocol == "singer":
            discovered = json.loads(proc.stdout)
            for stream in discovered["streams"]:
                for entry in stream["metadata"]:
                    if entry["breadcrumb"] != []:
                        continue
                    meta = entry["metadata"]
                    meta["selected"] = stream["tap_stream_id"] in self.peer.streams
                    # As a user configures an incremental stream; without it tap-salesforce reads FULL_TABLE.
                    keys = meta.get("valid-replication-keys") or []
                    if keys and "forced-replication-method" not in meta:
                        meta.update({"replication-method": "INCREMENTAL", "replication-key": keys[0]})
            self.catalog.write_text(json.dumps(discovered))
            return
        streams = next(m["catalog"]["streams"] for m in _messages(proc.stdout) if m["type"] == "CATALOG")
        configured = []
        for s in streams:
            if s["name"] not in self.peer.streams:
                continue
            incremental = "incremental" in s["supported_sync_modes"]
            entry = {"stream": s, "sync_mode": "incremental" if incremental else "full_refresh"}
            entry["destination_sync_mode"] = "append"
            if incremental:
                entry["cursor_field"] = s.get("default_cursor_field", [])
            configured.append(entry)
        self.catalog.write_text(json.dumps({"streams": configured}))

    def run(self, state: Any = None) -> PeerRun:
        state_args: list[str] = []
        if state is not None:
            state_path = self.workdir / f"{self.label}.state.json"
            state_path.write_text(json.dumps(state))
            state_args = ["--state", str(state_path)]
        if self.peer.protocol == "singer":
            args = ["--config", str(self.config()), "--properties", str(self.catalog), *state_args]
        else:
            args = ["read", "--config", str(self.config()), "--catalog", str(self.catalog), *state_args]
        started = time.perf_counter()
        proc = subprocess.run([self._bin(), *args], env=peer_env(self.info), capture_output=True, text=True)
        seconds = time.perf_counter() - started
        records: dict[str, list[dict[str, Any]]] = {}
        singer_state: Any = None
        airbyte_state: dict[str, Any] = {}
        for m in _messages(proc.stdout):
            if self.peer.protocol == "singer":
                if m["type"] == "RECORD":
                    records.setdefault(m["stream"], []).append(m["record"])
                elif m["type"] == "STATE":
                    singer_state = m["value"]
            elif m["type"] == "RECORD":
                records.setdefault(m["record"]["stream"], []).append(m["record"]["data"])
            elif m["type"] == "STATE" and m["state"].get("type") == "STREAM":
                airbyte_state[m["state"]["stream"]["stream_descriptor"]["name"]] = m["state"]
        failed = proc.returncode != 0 or (self.peer.protocol == "airbyte" and _airbyte_error(proc.stdout))
        return PeerRun(
            seconds,
            records,
            singer_state if self.peer.protocol == "singer" else list(airbyte_state.values()),
            1 if failed else 0,
            (_airbyte_error(proc.stdout) if self.peer.protocol == "airbyte" else proc.stderr)[-1500:],
        )


def _messages(stdout: str) -> Iterable[dict[str, Any]]:
    for line in stdout.splitlines():
        if line.startswith("{"):
            try:
                yield json.loads(line)
            except ValueError:
                continue


def _airbyte_error(stdout: str) -> str:
    for m in _messages(stdout):
        if m.get("type") == "TRACE" and m["trace"].get("type") == "ERROR":
            return str(m["trace"]["error"].get("message"))
    return ""


def drivers(names: Iterable[str], info: dict[str, Any], workdir: Path) -> list[Driver]:
    out: list[Driver] = []
    for name in names:
        modes = ("REST", "BULK") if name == "tap-salesforce" else ("",)
        out.extend(Driver(name, mode, info, workdir) for mode in modes)
    return out


def expected_counts(driver: Driver, sandbox_counts: dict[str, dict[str, int]]) -> dict[str, int]:
    """What each selected stream should hold: the sandbox's live records (engagements: all five types)."""
    sf, hs = sandbox_counts["salesforce"], sandbox_counts["hubspot"]
    if driver.peer.crm == "salesforce":
        return {o: sf[o] for o in driver.peer.streams}
    out: dict[str, int] = {}
    for stream in driver.peer.streams:
        if stream == "engagements":
            out[stream] = sum(hs[e] for e in ENGAGEMENTS)
        elif stream.startswith("engagements_"):
            out[stream] = hs[stream.removeprefix("engagements_")]
        elif stream == "deal_pipelines":
            out[stream] = 1
        else:
            out[stream] = hs[stream]
    return out


def record_id(driver: Driver, stream: str, record: dict[str, Any]) -> str:
    if driver.peer.crm == "salesforce":
        return str(record.get("Id"))
    if driver.name == "tap-hubspot":
        return str(record.get(_ID_KEYS.get(stream, "id")))
    return str(record.get("id"))


# -- the benchmark --------------------------------------------------------------------------------------------
@dataclass
class Timed:
    seconds: float
    requests: int
    records: dict[str, int]


def _timed(control: Any, crm: str, fn: Callable[[], dict[str, int]]) -> Timed:
    control.reset_requests()
    started = time.perf_counter()
    records = fn()
    seconds = time.perf_counter() - started
    return Timed(seconds, len(control.requests_served(crm)), records)


def crm_loop_runner(info: dict[str, Any], crm: str, workdir: Path, rep: int) -> Callable[[], dict[str, int]]:
    from bench.extract import sync_objects
    from connectors.warehouse.warehouse import Warehouse

    def run() -> dict[str, int]:
        wh = Warehouse.from_url(f"duckdb:///{workdir}/crm_loop_{crm}_{rep}.duckdb")
        try:
            return sync_objects(info, crm, wh, workdir / f"pacer_{rep}.sqlite3", "full")
        finally:
            wh.close()

    return run


def bare_runner(info: dict[str, Any], crm: str, workdir: Path) -> Callable[[], dict[str, int]]:
    from bench import bare_loop
    from connectors.hubspot.catalog import OBJECT_TYPES
    from connectors.salesforce.catalog import OBJECTS

    def run() -> dict[str, int]:
        with (workdir / f"bare_{crm}.jsonl").open("w") as out:
            if crm == "salesforce":
                return {o: bare_loop.salesforce(info["salesforce"], [o], out) for o in OBJECTS}
            return {t: bare_loop.hubspot(info["hubspot"], [t], out) for t in OBJECT_TYPES}

    return run


def mutate(control: Any, newest_seen: datetime) -> dict[str, dict[str, list[str]]]:
    """The changes a live org goes through between two syncs; returns the ids touched per kind and object.

    Late-committed rows are stamped a minute before ``newest_seen``, a change the first runs already read: a
    long transaction that commits after a sync has moved its bookmark past the rows' stamps."""
    late_minutes = (datetime.now(UTC) - newest_seen).total_seconds() / 60 + 1
    sf = {
        "modified": control.action("salesforce", "modify_random", object="Lead", n=5, seed=11)["ids"],
        "deleted": control.action("salesforce", "delete_random", object="Lead", n=3, seed=12)["ids"],
        "late_commit": control.action("salesforce", "late_commit", object="Lead", n=3, minutes=late_minutes, seed=13)[
            "ids"
        ],
    }
    hs = {
        "modified": [
            f"{t}:{i}"
            for t, n in (("contacts", 5), ("companies", 3), ("deals", 3), ("calls", 3))
            for i in control.action("hubspot", "modify_random", type=t, n=n)["ids"]
        ],
        "archived": [f"contacts:{i}" for i in control.action("hubspot", "archive_random", type="contacts", n=2)["ids"]],
    }
    return {"salesforce": sf, "hubspot": hs}


_HS_STREAM = {
    "tap-hubspot": {"calls": "engagements"},
    "airbyte-source-hubspot": {"calls": "engagements_calls"},
}


def incremental_verdicts(driver: Driver, run: PeerRun, changes: dict[str, list[str]]) -> dict[str, tuple[int, int]]:
    """(carried, expected) per kind of change: a modified or late row must come again, a soft-deleted one must
    come flagged IsDeleted, an archived HubSpot record must come flagged archived."""
    out: dict[str, tuple[int, int]] = {}
    if driver.peer.crm == "salesforce":
        rows = {str(r.get("Id")): r for r in run.records.get("Lead", [])}
        for kind, ids in changes.items():
            carried = [
                i for i in ids if i in rows and (kind != "deleted" or rows[i].get("IsDeleted") in (True, "true"))
            ]
            out[kind] = (len(carried), len(ids))
        return out
    seen: dict[str, dict[str, dict[str, Any]]] = {
        stream: {record_id(driver, stream, r): r for r in records} for stream, records in run.records.items()
    }
    for kind, keys in changes.items():
        n = 0
        for key in keys:
            object_type, rid = key.split(":")
            stream = _HS_STREAM.get(driver.name, {}).get(object_type, object_type)
            row = seen.get(stream, {}).get(rid)
            if row is not None and (kind != "archived" or row.get("archived") in (True, "true")):
                n += 1
        out[kind] = (n, len(keys))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--peers", default=",".join(PEERS), help="comma-separated subset of " + ", ".join(PEERS))
    parser.add_argument("--install-only", action="store_true", help="install the peers into var/peers and stop")
    args = parser.parse_args()
    names = [n for n in args.peers.split(",") if n]
    unknown = set(names) - set(PEERS)
    if unknown:
        parser.error(f"unknown peers {sorted(unknown)}; known: {', '.join(PEERS)}")
    for name in names:
        install(name)
    if args.install_only:
        print(f"peers_installed: {len(names)} peers in {PEERS_DIR}")
        return

    from sandbox.control import Control
    from sandbox.server.app import Sandbox

    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
        work = Path(tmp)
        # Anchored at the real now: peers cap their bookmarks with the real clock, so sandbox time must agree.
        anchor = datetime.now(UTC).replace(microsecond=0)
        with Sandbox(seed=args.seed, size=args.people, anchor=anchor, workdir=work / "sandbox", gateway=True) as box:
            control = Control(box.control_url)
            control.faults(bulk_job_seconds=0)
            info = box.info()
            counts = info["records"]
            for name in names:
                trust(name, box.ca_path)
            peers = drivers(names, info, work)
            for d in peers:
                d.discover()
            # A change just before the first runs, so their bookmarks reach the present (see ``mutate``).
            control.action("salesforce", "modify_random", object="Lead", n=1, seed=10)
            newest_seen = datetime.now(UTC)
            timings: dict[str, list[Timed]] = {}
            last_runs: dict[str, PeerRun] = {}
            for rep in range(args.reps):
                runners = [
                    *((f"crm-loop-{c}", c, crm_loop_runner(info, c, work, rep)) for c in ("salesforce", "hubspot")),
                    *((f"bare-{c}", c, bare_runner(info, c, work)) for c in ("salesforce", "hubspot")),
                ]
                for label, crm, fn in runners:
                    timings.setdefault(label, []).append(_timed(control, crm, fn))
                for d in peers:

                    def peer_fn(d: Driver = d) -> dict[str, int]:
                        last_runs[d.label] = d.run()
                        return last_runs[d.label].counts()

                    timings.setdefault(d.label, []).append(_timed(control, d.peer.crm, peer_fn))
            changes = mutate(control, newest_seen)
            second = {d.label: d.run(last_runs[d.label].state) for d in peers}

    report(timings, peers, last_runs, second, changes, counts, args)


def report(
    timings: dict[str, list[Timed]],
    peers: list[Driver],
    last_runs: dict[str, PeerRun],
    second: dict[str, PeerRun],
    changes: dict[str, dict[str, list[str]]],
    counts: dict[str, dict[str, int]],
    args: argparse.Namespace,
) -> None:
    medians: dict[str, float] = {}
    for label, runs in timings.items():
        seconds = [r.seconds for r in runs]
        medians[label] = statistics.median(seconds)
        print(f"{label}_wall_min: {min(seconds):.3f} s")
        print(f"{label}_wall_median: {medians[label]:.3f} s")
        print(f"{label}_requests_median: {statistics.median(r.requests for r in runs):.0f} requests")
    print("# records per object: runner  object  extracted / sandbox")
    fidelity_ok = True
    for d in peers:
        run = last_runs[d.label]
        expected, got = expected_counts(d, counts), run.counts()
        for stream, want in expected.items():
            have = got.get(stream, 0)
            fidelity_ok &= have == want and run.returncode == 0
            print(f"records_{d.label}_{stream}: {have} / {want} {'ok' if have == want else 'MISMATCH'}")
        if run.returncode:
            print(f"error_{d.label}: {run.stderr_tail.strip().splitlines()[-1] if run.stderr_tail.strip() else '?'}")
    for crm in ("salesforce", "hubspot"):
        got = timings[f"crm-loop-{crm}"][-1].records
        for obj, have in got.items():
            want = counts[crm].get(obj, 0)
            print(f"records_crm-loop-{crm}_{obj}: {have} / {want}")
    for crm in ("salesforce", "hubspot"):
        loop = medians[f"crm-loop-{crm}"]
        print(f"ratio_crm-loop_{crm}_over_bare: {loop / medians[f'bare-{crm}']:.3f} x")
        for d in peers:
            if d.peer.crm == crm:
                print(f"ratio_crm-loop_{crm}_over_{d.label}: {loop / medians[d.label]:.3f} x")
    print("# incremental (second) run after modified / deleted / late-committed / archived rows: carried / expected")
    for d in peers:
        verdicts = incremental_verdicts(d, second[d.label], changes[d.peer.crm])
        again, first = sum(second[d.label].counts().values()), sum(last_runs[d.label].counts().values())
        print(f"incremental_{d.label}_records: {again} records (first run {first})")
        for kind, (carried, want) in verdicts.items():
            print(f"incremental_{d.label}_{kind}: {carried} / {want} {'ok' if carried == want else 'MISSED'}")
        if second[d.label].returncode:
            print(f"incremental_{d.label}_error: {second[d.label].stderr_tail.strip()[-300:]}")
    print(
        f"peers: people={args.people} reps={args.reps} fidelity={'ok' if fidelity_ok else 'MISMATCH'} "
        + " ".join(f"{d.label}_s={medians[d.label]:.2f}" for d in peers)
        + f" crm_loop_sf_s={medians['crm-loop-salesforce']:.2f} crm_loop_hs_s={medians['crm-loop-hubspot']:.2f}"
    )


if __name__ == "__main__":
    main()
