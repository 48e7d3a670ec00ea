"""Shared funnel definitions (ICP, lead score, stages, reasons, SLA policy) and the pure logic that applies them.

No I/O beyond reading the definitions file, no Dagster, no SQL: the pipeline's assets call these functions
on plain rows. One module per job: ``definitions`` (load + validate), ``icp``, ``scoring``, ``stages``,
``reasons``, ``touches``, ``business_time``, ``sla``.
"""
