"""One ``Warehouse`` (one engine, one connection pool) per warehouse URL and schema per process, shared by the
steps of a run.

Opening a warehouse creates an engine and checks the control tables; done by each of a run's hundred check steps,
that was most of their cost. Dagster's in-process executor runs every step in this one process, and DuckDB
admits one writing process anyway. A small bound keeps a long-lived process (a test session, a webserver that
launches runs in-process) from piling up idle pools: the least recently used warehouse is closed first.
Everything left is closed at process exit, or by ``close_shared_warehouses`` once a caller's run has ended.
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


def shared_warehouse(resource: WarehouseResource) -> Warehouse:
    """The process's warehouse for ``resource``'s URL and schema; callers must not close it."""
    global _owner_pid
    key = (resource.url, resource.db_schema)
    with _lock:
        if _owner_pid != os.getpid():
            # A forked child inherits the parent's pools; closing them here would close the parent's connections.
            _open.clear()
            _owner_pid = os.getpid()
        warehouse = _open.get(key)
        if warehouse is None:
            warehouse = _open[key] = resource.open()
            while len(_open) > MAX_OPEN:
                _open.popitem(last=False)[1].close()
        _open.move_to_end(key)
        return warehouse


@atexit.register
def close_shared_warehouses() -> None:
    """Dispose every shared engine (which releases a DuckDB file for other processes)."""
    with _lock:
        if _owner_pid != os.getpid():
            _open.clear()
            return
        while _open:
            _open.popitem(last=False)[1].close()
