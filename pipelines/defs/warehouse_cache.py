"""One ``Warehouse`` (one engine, one connection pool) per warehouse URL and schema per process, shared by the
steps of a run.

Opening a warehouse creates an engine and checks the control tables; done by each of a run's hundred check steps,
that was most of their cost. Dagster's in-process executor runs every step in this one process, and DuckDB
admits one writing process anyway. A small bound keeps a long-lived process (a test session, a webserver that
launches runs in-process) from piling up idle pools: the least recently used warehouse is closed first.
Everything left is closed at process exit, or by ``close_shared_warehouses`` once a caller's run has ended.

A DuckDB file is claimed for this process while its warehouse is open here (`locking.claim_duckdb_writer`), and
by ``claim_for_run`` for a whole run: another process's run is refused in one line, before it starts any step.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

from pipelines.defs.resources import WarehouseResource

if TYPE_CHECKING:
    from connectors.warehouse.warehouse import Warehouse

MAX_OPEN = 4

_open: OrderedDict[tuple[str, str], Warehouse] = OrderedDict()
_owner_pid = os.getpid()
_lock = threading.Lock()
_run_claims: list[str] = []  # URLs claimed by claim_for_run, given back by close_shared_warehouses


def claim_for_run(resource: WarehouseResource) -> None:
    """Claim ``resource``'s DuckDB file for the run about to start in this process, until
    ``close_shared_warehouses``; raises ``UserError`` (one line: who holds it, since when) if another process
    is writing to it. Nothing to claim on PostgreSQL, where concurrent runs are safe."""
    from connectors.warehouse.locking import claim_duckdb_writer

    if claim_duckdb_writer(resource.url):
        with _lock:
            _run_claims.append(resource.url)


def shared_warehouse(resource: WarehouseResource) -> Warehouse:
    """The process's warehouse for ``resource``'s URL and schema; callers must not close it."""
    from connectors.warehouse.locking import claim_duckdb_writer, release_duckdb_writer

    global _owner_pid
    key = (resource.url, resource.db_schema)
    with _lock:
        if _owner_pid != os.getpid():
            # A forked child inherits the parent's pools; closing them here would close the parent's connections.
            _open.clear()
            _run_claims.clear()
            _owner_pid = os.getpid()
        warehouse = _open.get(key)
        if warehouse is None:
            claim_duckdb_writer(resource.url)
            try:
                warehouse = _open[key] = resource.open()
            except BaseException:
                release_duckdb_writer(resource.url)
                raise
            while len(_open) > MAX_OPEN:
                _close(*_open.popitem(last=False))
        _open.move_to_end(key)
        return warehouse


@atexit.register
def close_shared_warehouses(*, keep_run_claims: bool = False) -> None:
    """Dispose every shared engine and give back the run's claims (which releases a DuckDB file for other
    processes); ``keep_run_claims`` holds those until ``release_run_claims``, for a caller that still writes
    after its run's steps (the digest, the summary)."""
    with _lock:
        if _owner_pid != os.getpid():
            _open.clear()
            _run_claims.clear()
            return
        while _open:
            _close(*_open.popitem(last=False))
        while _run_claims and not keep_run_claims:
            _release(_run_claims.pop())


def release_run_claims() -> None:
    """Give back what ``claim_for_run`` claimed."""
    with _lock:
        while _run_claims and _owner_pid == os.getpid():
            _release(_run_claims.pop())


def _close(key: tuple[str, str], warehouse: Warehouse) -> None:
    warehouse.close()
    _release(key[0])


def _release(url: str) -> None:
    # Imported here, like every step library: the code location loads this module without SQLAlchemy.
    from connectors.warehouse.locking import release_duckdb_writer

    release_duckdb_writer(url)
