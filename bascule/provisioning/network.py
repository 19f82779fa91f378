"""The one interface towards every network (host MNOs, the prepaid charging system), and its adapters.

Operator APIs are asynchronous: a submission returns a work-order id at once, and the work order is
done later. Submissions carry an idempotency key (our job id), so a repeated submission — after a
lost answer or a crashed worker — returns the same work order instead of doing the work twice.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol

import httpx


class TransientNetworkError(Exception):
    """Try again later: timeouts, 5xx, the operator's own back-pressure."""


class PermanentNetworkError(Exception):
    """Retrying will not help: the operator refused the work."""


class WorkOrderState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class NetworkAdapter(Protocol):
    def submit(self, key: str, operation: str, payload: dict[str, Any]) -> str:
        """The work-order id for this key (the same one if the key was seen before)."""
        ...

    def state(self, work_order_id: str) -> WorkOrderState: ...


class HttpOperatorAdapter:
    """An operator's work-order API over HTTP (the simulator speaks the same protocol)."""

    def __init__(self, base_url: str, network: str, timeout: float = 5.0, token: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(base_url=f"{base_url.rstrip('/')}/{network}", timeout=timeout, headers=headers)

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise TransientNetworkError(f"{type(error).__name__}: {error}") from None
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientNetworkError(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise PermanentNetworkError(f"HTTP {response.status_code}: {response.text[:200]}")
        body: dict[str, Any] = response.json()
        return body

    def submit(self, key: str, operation: str, payload: dict[str, Any]) -> str:
        body = {"key": key, "operation": operation, "payload": payload}
        return str(self._call("POST", "/work-orders", json=body)["id"])

    def state(self, work_order_id: str) -> WorkOrderState:
        return WorkOrderState(self._call("GET", f"/work-orders/{work_order_id}")["state"])


class Networks:
    """Adapters by network name."""

    def __init__(self, adapters: dict[str, NetworkAdapter]) -> None:
        self._adapters = adapters

    def __getitem__(self, network: str) -> NetworkAdapter:
        try:
            return self._adapters[network]
        except KeyError:
            raise PermanentNetworkError(f"no adapter for network {network!r}") from None

    def names(self) -> list[str]:
        return sorted(self._adapters)
