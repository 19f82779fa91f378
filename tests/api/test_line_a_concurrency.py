"""Two clicks racing must not slip a second change past the monthly limit (PRODUCT.md Line A, rule 6)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import httpx
import pytest

from tests.api.helpers import OPERATOR, make_customer, make_service, ok

PARALLEL = 50


@pytest.mark.slow
def test_fifty_parallel_confirmations_on_one_service_complete_exactly_one(http, server_url):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    targets = ["data-30go-4g", "data-50go-4g", "data-5go-4g", "data-100go-4g"]
    request_ids = [
        ok(
            http.post(
                f"/api/v1/services/{service['id']}/change-requests",
                json={"changes": {"plan_id": targets[i % len(targets)]}},
                headers=customer.manager,
            ),
            201,
        )["id"]
        for i in range(PARALLEL)
    ]
    start_together = Barrier(PARALLEL)

    def confirm(request_id: str) -> httpx.Response:
        with httpx.Client(base_url=server_url, timeout=120) as client:
            start_together.wait()
            return client.post(
                f"/api/v1/change-requests/{request_id}/confirm",
                json={"password": customer.manager_password},
                headers=customer.manager,
            )

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        responses = list(pool.map(confirm, request_ids))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [409] * (PARALLEL - 1)
    refusals = [r.json() for r in responses if r.status_code == 409]
    assert {r["code"] for r in refusals} == {"monthly-limit-reached"}
    winner = next(r.json() for r in responses if r.status_code == 200)
    assert winner["status"] == "completed"

    requests = ok(http.get("/api/v1/change-requests", params={"service_id": service["id"]}, headers=customer.manager))
    by_status: dict[str, int] = {}
    for request in requests:
        by_status[request["status"]] = by_status.get(request["status"], 0) + 1
    assert by_status == {"completed": 1, "awaiting_confirmation": PARALLEL - 1}

    charges = ok(
        http.get(f"/api/v1/accounts/{customer.account_id}/charges", params={"period": "2026-06"}, headers=OPERATOR)
    )
    change_lines = [line for line in charges["lines"] if line["change_request_id"] is not None]
    assert {line["change_request_id"] for line in change_lines} == {winner["id"]}
    after = ok(http.get(f"/api/v1/services/{service['id']}", headers=customer.manager))
    assert after["plan_id"] == winner["changes"]["plan_id"]
    assert after["changes_left_this_month"] == 0
