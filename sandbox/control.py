"""A client for the sandbox's control API, over HTTP like any other client (tests, bench and demos share it)."""

from __future__ import annotations

from typing import Any

import requests


class Control:
    """The sandbox's control API, over HTTP like any other client."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def action(self, side: str, action: str, **payload: Any) -> dict[str, Any]:
        response = requests.post(f"{self.base_url}/_sandbox/{side}/{action}", json=payload, timeout=60)
        response.raise_for_status()
        return response.json()

    def faults(self, **settings: Any) -> dict[str, Any]:
        response = requests.post(f"{self.base_url}/_sandbox/faults", json=settings, timeout=10)
        response.raise_for_status()
        return response.json()

    def reset_faults(self) -> None:
        requests.delete(f"{self.base_url}/_sandbox/faults", timeout=10).raise_for_status()

    def advance_clock(self, seconds: float) -> None:
        requests.post(
            f"{self.base_url}/_sandbox/clock/advance", json={"seconds": seconds}, timeout=10
        ).raise_for_status()

    def requests_served(self, server: str | None = None) -> list[dict[str, Any]]:
        params = {"records": "1", **({"server": server} if server else {})}
        response = requests.get(f"{self.base_url}/_sandbox/requests", params=params, timeout=30)
        response.raise_for_status()
        return list(response.json()["records"])

    def reset_requests(self) -> None:
        requests.delete(f"{self.base_url}/_sandbox/requests", timeout=10).raise_for_status()
