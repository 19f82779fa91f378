"""Line A, room 6: Idempotency-Key on every POST — a retry returns the first answer and changes nothing more."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import httpx
import pytest

from tests.api.helpers import (
    OPERATOR,
    PASSWORD,
    expect_problem,
    line_a_state,
    make_customer,
    make_service,
    money,
    ok,
    set_clock,
)
from tests.support.logins import account_user


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return headers | {"Idempotency-Key": key}


def test_the_same_create_twice_returns_the_first_answer_and_creates_one_request(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    path = f"/api/v1/services/{service['id']}/change-requests"
    body = {"changes": {"plan_id": "data-30go-4g"}}
    first = http.post(path, json=body, headers=keyed(customer.manager, "creer-1"))
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    state = line_a_state(http, customer.account_id)
    again = http.post(path, json=body, headers=keyed(customer.manager, "creer-1"))
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == "application/json"
    assert again.headers["location"] == first.headers["location"] == f"/api/v1/change-requests/{first.json()['id']}"
    assert again.content == first.content
    assert line_a_state(http, customer.account_id) == state
    assert len(state["requests"]) == 1


def test_the_same_confirmation_twice_charges_once(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    request = ok(
        http.post(
            f"/api/v1/services/{service['id']}/change-requests",
            json={"changes": {"network": "sfr"}},
            headers=customer.manager,
        ),
        201,
    )
    path = f"/api/v1/change-requests/{request['id']}/confirm"
    first = http.post(path, json={"password": PASSWORD}, headers=keyed(customer.manager, "ok-1"))
    assert first.status_code == 200
    assert first.json()["status"] in ("completed", "provisioning")
    state = line_a_state(http, customer.account_id)
    again = http.post(path, json={"password": PASSWORD}, headers=keyed(customer.manager, "ok-1"))
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert line_a_state(http, customer.account_id) == state
    fees = [line for line in state["charges"]["lines"] if line["kind"] == "fee"]
    assert [(line["amount"], line["change_request_id"]) for line in fees] == [(money("10.00"), request["id"])]
    assert state["charges"]["total"] == money("16.00")
    # without the key, a second confirmation is a plain invalid-state refusal
    assert http.post(path, json={"password": PASSWORD}, headers=customer.manager).status_code == 409


def test_the_same_key_with_another_body_is_refused_and_changes_nothing(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    path = f"/api/v1/services/{service['id']}/change-requests"
    ok(http.post(path, json={"changes": {"plan_id": "data-30go-4g"}}, headers=keyed(customer.manager, "k")), 201)
    state = line_a_state(http, customer.account_id)
    body = expect_problem(
        http.post(path, json={"changes": {"plan_id": "data-50go-4g"}}, headers=keyed(customer.manager, "k")),
        422,
        "idempotency-key-reused",
    )
    assert body["detail"] == "Cette clé d'idempotence a déjà servi pour une autre demande."
    # the same key on another path is another request too
    expect_problem(
        http.post(
            f"/api/v1/services/{service['id']}/quotes",
            json={"changes": {"plan_id": "data-30go-4g"}},
            headers=keyed(customer.manager, "k"),
        ),
        422,
        "idempotency-key-reused",
    )
    assert line_a_state(http, customer.account_id) == state
    assert [r["changes"] for r in state["requests"]] == [{"plan_id": "data-30go-4g"}]


def test_the_key_belongs_to_its_caller(http):
    first = make_customer(http, "Premier", tag="a")
    second = make_customer(http, "Second", tag="b")
    third = make_customer(http, "Troisieme", tag="c")
    mine = make_service(http, first.account_id, msisdn="+33612345678")
    theirs = make_service(http, second.account_id, msisdn="+33698765432")
    body = {"changes": {"radio": "5G"}}
    created = ok(
        http.post(
            f"/api/v1/services/{mine['id']}/change-requests", json=body, headers=keyed(first.manager, "partagee")
        ),
        201,
    )
    # on their own service the same key runs for them, independently
    response = http.post(
        f"/api/v1/services/{theirs['id']}/change-requests", json=body, headers=keyed(second.manager, "partagee")
    )
    assert response.status_code == 201
    assert "idempotent-replayed" not in response.headers
    assert response.json()["id"] != created["id"]
    assert response.json()["service_id"] == theirs["id"]
    # another customer's identical key, path and body: not my stored answer, but not-found
    state = line_a_state(http, first.account_id)
    leak = http.post(
        f"/api/v1/services/{mine['id']}/change-requests", json=body, headers=keyed(third.manager, "partagee")
    )
    expect_problem(leak, 404, "not-found")
    assert "idempotent-replayed" not in leak.headers
    assert line_a_state(http, first.account_id) == state
    assert [r["id"] for r in ok(http.get("/api/v1/change-requests", headers=first.manager))] == [created["id"]]
    assert [r["id"] for r in ok(http.get("/api/v1/change-requests", headers=second.manager))] == [response.json()["id"]]


def test_a_refusal_is_replayed_as_it_was_even_once_the_month_has_turned(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    path = f"/api/v1/services/{service['id']}/change-requests"
    done = ok(http.post(path, json={"changes": {"radio": "5G"}}, headers=OPERATOR), 201)
    ok(http.post(f"/api/v1/change-requests/{done['id']}/confirm", headers=OPERATOR))
    body = {"changes": {"apn": "vpn.entreprise"}}
    refused = http.post(path, json=body, headers=keyed(OPERATOR, "encore"))
    problem = expect_problem(refused, 409, "monthly-limit-reached")
    state = line_a_state(http, customer.account_id)
    replay = http.post(path, json=body, headers=keyed(OPERATOR, "encore"))
    assert replay.headers["idempotent-replayed"] == "true"
    assert expect_problem(replay, 409, "monthly-limit-reached") == problem
    assert line_a_state(http, customer.account_id) == state
    set_clock(http, "2026-07-01T08:00:00+02:00")
    replay = http.post(path, json=body, headers=keyed(OPERATOR, "encore"))
    assert expect_problem(replay, 409, "monthly-limit-reached")["next_possible_on"] == "2026-07-01"
    assert replay.headers["idempotent-replayed"] == "true"
    assert ok(http.post(path, json=body, headers=keyed(OPERATOR, "juillet")), 201)["status"] == "awaiting_confirmation"


def test_a_wrong_password_is_replayed_too(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    request = ok(
        http.post(
            f"/api/v1/services/{service['id']}/change-requests",
            json={"changes": {"network": "sfr"}},
            headers=customer.manager,
        ),
        201,
    )
    path = f"/api/v1/change-requests/{request['id']}/confirm"
    expect_problem(
        http.post(path, json={"password": "faux"}, headers=keyed(customer.manager, "c")), 401, "identity-not-confirmed"
    )
    replay = http.post(path, json={"password": "faux"}, headers=keyed(customer.manager, "c"))
    expect_problem(replay, 401, "identity-not-confirmed")
    assert replay.headers["idempotent-replayed"] == "true"
    # the right password is another body: the key is spent, a new key is needed
    expect_problem(
        http.post(path, json={"password": PASSWORD}, headers=keyed(customer.manager, "c")),
        422,
        "idempotency-key-reused",
    )
    assert ok(http.post(path, json={"password": PASSWORD}, headers=keyed(customer.manager, "c2")))["status"] in (
        "completed",
        "provisioning",
    )


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_an_empty_or_overlong_key_is_a_validation_error(http, key):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    state = line_a_state(http, customer.account_id)
    expect_problem(
        http.post(
            f"/api/v1/services/{service['id']}/change-requests",
            json={"changes": {"radio": "5G"}},
            headers=keyed(customer.manager, key),
        ),
        422,
        "validation-error",
    )
    assert line_a_state(http, customer.account_id) == state


def test_a_key_of_255_characters_is_accepted(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    ok(
        http.post(
            f"/api/v1/services/{service['id']}/change-requests",
            json={"changes": {"radio": "5G"}},
            headers=keyed(customer.manager, "x" * 255),
        ),
        201,
    )


def test_two_racing_retries_with_one_key_create_one_request(http, server_url):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    start = Barrier(4)

    def post(_: int) -> httpx.Response:
        with httpx.Client(base_url=server_url, timeout=60) as client:
            start.wait()
            return client.post(
                f"/api/v1/services/{service['id']}/change-requests",
                json={"changes": {"network": "sfr"}},
                headers=keyed(customer.manager, "course"),
            )

    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(post, range(4)))
    assert [r.status_code for r in responses] == [201] * 4
    assert len({r.content for r in responses}) == 1
    assert sorted(r.headers.get("idempotent-replayed", "") for r in responses) == ["", "true", "true", "true"]
    assert len(ok(http.get("/api/v1/change-requests", headers=customer.manager))) == 1


def test_the_same_user_retrying_after_a_new_login_is_not_charged_twice(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    path = f"/api/v1/services/{service['id']}/topups"
    body = {"topup_id": "recharge-1go", "password": PASSWORD}
    first = http.post(path, json=body, headers=keyed(customer.manager, "achat-1"))
    assert first.status_code == 201
    again_token = account_user(http, "chef-a@example.fr", PASSWORD)
    retry = http.post(path, json=body, headers=keyed(again_token, "achat-1"))
    topups = [line for line in line_a_state(http, customer.account_id)["charges"]["lines"] if line["kind"] == "topup"]
    assert len(topups) == 1
    assert retry.headers.get("idempotent-replayed") == "true"
