"""The crm-loop-sandbox distribution lists its packages by hand (its root is the package): the list must stay whole."""

from __future__ import annotations

import tomllib
from pathlib import Path

SANDBOX = Path(__file__).resolve().parents[2] / "sandbox"


def test_every_sandbox_subpackage_is_distributed() -> None:
    config = tomllib.loads((SANDBOX / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {
        ".".join(("sandbox", *init.parent.relative_to(SANDBOX).parts))
        for init in SANDBOX.rglob("__init__.py")
        if "build" not in init.relative_to(SANDBOX).parts
    }
    assert set(config["packages"]) == on_disk
