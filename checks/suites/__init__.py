"""GX suites as code: one module per family of tables, each a pure function of the definitions and ``as_of``."""
