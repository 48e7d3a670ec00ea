"""Harmonised warehouse tables built from both CRMs' raw tables: canonical people, accounts, opportunities,
activities and owners; identity resolution with its conflict report; the closed-loop lead table; analyst views.

Modules, one job each: ``tables`` (the documented column specs of every output), ``inputs`` (the names of the
raw tables read, light enough for the Dagster code location to declare dependencies), ``raw`` (reading raw tables,
the only I/O on the way in), ``owners``/``accounts``/``people``/``identity``/``opportunities``/``activities``
(pure builders of the canonical tables), ``bundles`` + ``leads`` (pure: one closed-loop row per person),
``write`` (replacing an output table), ``views`` (portable analyst SQL), ``dictionary`` (the data dictionary),
``build`` (wires reading, building and writing together for the Dagster assets).
"""
