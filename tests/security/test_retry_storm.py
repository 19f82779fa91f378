"""A retry storm: 200 concurrent repeats of one POST with one Idempotency-Key act once, and answer alike."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.api.helpers import OPERATOR, PASSWORD, make_customer, make_service, ok

REPEATS = 200


def storm(server_url: str, path: str, body: dict[str, Any], headers: dict[str, str]) -> list[httpx.Response]:
    """REPEATS threads released together, each sending the same request once."""
    barrier = threading.Barrier(REPEATS)
    responses: list[httpx.Response | BaseException] = [RuntimeError("not sent")] * REPEATS
    limits = httpx.Limits(max_connections=REPEATS, max_keepalive_connections=REPEATS)
    with httpx.Client(base_url=server_url, timeout=120, limits=limits) as client:

        def send(index: int) -> None:
            barrier.wait()
            try:
                responses[index] = client.post(path, json=body, headers=headers)
            except BaseException as error:  # pragma: no cover - reported below
                responses[index] = error

        threads = [threading.Thread(target=send, args=(n,)) for n in range(REPEATS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)
    errors = [r for r in responses if isinstance(r, BaseException)]
    assert errors == [], errors[:3]
    return [r for r in responses if isinstance(r, httpx.Response)]


def one_answer(responses: list[httpx.Response], status: int) -> dict[str, Any]:
    """Every repeat got the first answer: same status, same body; all but one are replays."""
    assert Counter(r.status_code for r in responses) == {status: REPEATS}, Counter(
        (r.status_code, r.text[:120]) for r in responses
    )
    bodies = {r.text for r in responses}
    assert len(bodies) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == REPEATS - 1
    body: dict[str, Any] = responses[0].json()
    return body


def lines_of(http: httpx.Client, account_id: str) -> list[dict[str, Any]]:
    return ok(http.get(f"/api/v1/accounts/{account_id}/charges", params={"period": "2026-06"}, headers=OPERATOR))[
        "lines"
    ]


@pytest.mark.slow
def test_a_change_request_stormed_then_its_confirmation_stormed_exist_and_charge_once(http, server_url):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    before = lines_of(http, customer.account_id)
    created = one_answer(
        storm(
            server_url,
            f"/api/v1/services/{service['id']}/change-requests",
            {"changes": {"radio": "5G"}},
            {**customer.manager, "Idempotency-Key": "storm-create"},
        ),
        201,
    )
    requests = ok(http.get("/api/v1/change-requests", params={"service_id": service["id"]}, headers=OPERATOR))
    assert [r["id"] for r in requests] == [created["id"]]
    assert lines_of(http, customer.account_id) == before  # nothing is charged before confirmation

    confirmed = one_answer(
        storm(
            server_url,
            f"/api/v1/change-requests/{created['id']}/confirm",
            {"password": PASSWORD},
            {**customer.manager, "Idempotency-Key": "storm-confirm"},
        ),
        200,
    )
    assert confirmed["id"] == created["id"]
    assert confirmed["status"] in ("completed", "provisioning")
    charged = [line for line in lines_of(http, customer.account_id) if line not in before]
    quoted = created["quote"]["charges"]
    assert len(quoted) >= 1
    assert sorted((line["kind"], line["amount"]["amount"]) for line in charged) == sorted(
        (charge["kind"], charge["amount"]["amount"]) for charge in quoted
    )
    service_now = ok(http.get(f"/api/v1/services/{service['id']}", headers=OPERATOR))
    assert service_now["radio"] == "5G"
    assert service_now["changes_left_this_month"] == 0


@pytest.mark.slow
def test_a_top_up_stormed_is_bought_and_charged_once(http, server_url):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    topup = ok(http.get("/api/v1/catalog"))["topups"][0]
    quota_before = service["quota"]["total_bytes"]
    before = lines_of(http, customer.account_id)
    bought = one_answer(
        storm(
            server_url,
            f"/api/v1/services/{service['id']}/topups",
            {"topup_id": topup["id"], "password": PASSWORD},
            {**customer.manager, "Idempotency-Key": "storm-topup"},
        ),
        201,
    )
    assert bought["pack_id"] == topup["id"]
    charged = [line for line in lines_of(http, customer.account_id) if line not in before]
    assert [(line["kind"], line["amount"]) for line in charged] == [("topup", topup["price"])]
    service_now = ok(http.get(f"/api/v1/services/{service['id']}", headers=OPERATOR))
    assert service_now["quota"]["total_bytes"] == quota_before + topup["data_bytes"]
