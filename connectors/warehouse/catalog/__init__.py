"""The warehouse catalog: every table and view crm-loop itself defines, with grain, keys and column docs.

Raw CRM tables are catalogued by their connectors (``connectors.salesforce.catalog``,
``connectors.hubspot.catalog``); the DDL (``schema.table_for``), the Dagster column schemas and the data
dictionary all derive from these specs.
"""

from connectors.warehouse.catalog.control import CONTROL_TABLES
from connectors.warehouse.catalog.harmonised import HARMONISED_TABLES
from connectors.warehouse.catalog.quality import QUALITY_TABLES
from connectors.warehouse.catalog.views import VIEWS, ViewSpec
from connectors.warehouse.catalog.writeback import WRITEBACK_AUDIT
from connectors.warehouse.spec import TableSpec

TABLES: tuple[TableSpec, ...] = (*CONTROL_TABLES, *HARMONISED_TABLES, *QUALITY_TABLES, WRITEBACK_AUDIT)

__all__ = ["TABLES", "VIEWS", "TableSpec", "ViewSpec"]
