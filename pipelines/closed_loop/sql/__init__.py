"""The harmonisation and the closed loop as set-based SQL that the warehouse runs (DuckDB or PostgreSQL).

Models are functions of a ``SqlContext`` that return a SELECT; the context stages the raw tables (absent
tables and columns read as NULL, values converted as ``pipelines.closed_loop.values`` converts them), writes
the definitions as small mapping tables and materialises results. The pandas builders beside this package
are the specification: the equivalence tests hold every SQL model equal to them, row by row.
"""
