"""``python -m sandbox``: the same command line as ``crm-loop-sandbox``."""

from sandbox.cli import main

main(prog_name="crm-loop-sandbox")
