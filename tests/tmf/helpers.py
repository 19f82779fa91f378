"""Builders for the TMF facade's tests: orders as TMF clients send them, read back until settled."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.api.helpers import OPERATOR, ok

ORDERING = "/tmf-api/productOrderingManagement/v4"
INVENTORY = "/tmf-api/productInventory/v4"
JSON_TYPE = "application/json;charset=utf-8"


def order_body(product_id: str, offering_id: str | None = None, **characteristics: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"id": "1", "action": "modify", "product": {"id": product_id}}
    if offering_id is not None:
        item["productOffering"] = {"id": offering_id}
    if characteristics:
        item["product"]["productCharacteristic"] = [
            {"name": name, "value": value} for name, value in characteristics.items()
        ]
    return {"productOrderItem": [item]}


def place(http: httpx.Client, body: dict[str, Any], headers: dict[str, str] = OPERATOR) -> httpx.Response:
    return http.post(f"{ORDERING}/productOrder", json=body, headers=headers)


def settled_order(
    http: httpx.Client, order: dict[str, Any], headers: dict[str, str] = OPERATOR, seconds: float = 15.0
) -> dict[str, Any]:
    """The order once the networks have answered (`inProgress` until then)."""
    deadline = time.monotonic() + seconds
    while order["state"] == "inProgress" and time.monotonic() < deadline:
        time.sleep(0.05)
        order = ok(http.get(f"{ORDERING}/productOrder/{order['id']}", headers=headers))
    return order


def tmf_error(response: httpx.Response, status: int, code: str, reason: str, message: str) -> None:
    """A TMF error body, exactly."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == JSON_TYPE
    expected = {"code": code, "reason": reason, "message": message, "status": str(status), "@type": "Error"}
    assert response.json() == expected, response.text
