"""Line A fleets: change batches — one change asked of many lines, each line its own change request."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from threading import Barrier
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bascule.evolutions import batch_usecases
from bascule.identity.model import OPERATOR as OPERATOR_PRINCIPAL
from bascule.identity.model import Channel
from bascule.persistence import tables as t
from tests.api.helpers import (
    OPERATOR,
    PASSWORD,
    expect_problem,
    line_a_state,
    make_customer,
    make_service,
    money,
    ok,
)

CHANGES = {"radio": "5G", "network": "sfr"}
LIMIT_DETAIL = (
    "Limite atteinte : 1 demande d'évolution par mois. Nouvelle demande possible à partir du 1er juillet 2026."
)


@dataclass
class Fleet:
    customer: Any
    bundle: str  # data-10go-4g on Orange: 2.50 × 15/30 + the 10.00 fee = 11.25
    metered: str  # compteur-4g on Orange: 1.00 × 15/30 + the 10.00 fee = 10.50
    used_up: str  # data-10go-4g whose month's change is already confirmed


@pytest.fixture
def fleet(http) -> Fleet:
    customer = make_customer(http)
    bundle = make_service(http, customer.account_id, msisdn="+33600000001")["id"]
    metered = make_service(http, customer.account_id, plan_id="compteur-4g", msisdn="+33600000002")["id"]
    used_up = make_service(http, customer.account_id, msisdn="+33600000003")["id"]
    confirm_request(http, customer, create_request(http, customer, used_up, {"apn": "vpn.entreprise"}))
    return Fleet(customer, bundle, metered, used_up)


def create_request(http: httpx.Client, customer: Any, service_id: str, changes: dict[str, Any]) -> str:
    return ok(
        http.post(
            f"/api/v1/services/{service_id}/change-requests", json={"changes": changes}, headers=customer.manager
        ),
        201,
    )["id"]


def confirm_request(http: httpx.Client, customer: Any, request_id: str) -> httpx.Response:
    return http.post(
        f"/api/v1/change-requests/{request_id}/confirm", json={"password": PASSWORD}, headers=customer.manager
    )


def create_batch(
    http: httpx.Client, headers: dict[str, str], service_ids: list[str], changes: dict[str, Any] | None = None
) -> httpx.Response:
    return http.post(
        "/api/v1/change-batches", json={"service_ids": service_ids, "changes": changes or CHANGES}, headers=headers
    )


def confirm_batch(
    http: httpx.Client, headers: dict[str, str], batch_id: str, password: str | None = PASSWORD
) -> httpx.Response:
    return http.post(f"/api/v1/change-batches/{batch_id}/confirm", json={"password": password}, headers=headers)


def settled_batch(http: httpx.Client, batch: Any, headers: dict[str, str], seconds: float = 15.0) -> Any:
    deadline = time.monotonic() + seconds
    while batch["status"] == "provisioning" and time.monotonic() < deadline:
        time.sleep(0.05)
        batch = ok(http.get(f"/api/v1/change-batches/{batch['id']}", headers=headers))
    return batch


def charges_of(http: httpx.Client, account_id: str, requests: list[str]) -> list[tuple[str, str, str, str]]:
    """(service, kind, amount, request) of every charge of these change requests this month."""
    lines = ok(http.get(f"/api/v1/accounts/{account_id}/charges", params={"period": "2026-06"}, headers=OPERATOR))[
        "lines"
    ]
    return sorted(
        (line["service_id"], line["kind"], line["amount"]["amount"], line["change_request_id"])
        for line in lines
        if line["change_request_id"] in requests
    )


def requests_of(batch: Any) -> list[str]:
    return [item["change_request_id"] for item in batch["items"] if "change_request_id" in item]


def row_counts(ctx: Any) -> dict[str, int]:
    with ctx.uow(write=False) as uow:
        return {
            table.name: uow.connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (
                t.change_batches,
                t.change_batch_items,
                t.change_requests,
                t.charges,
                t.monthly_slots,
                t.audit_events,
            )
        }


def quote(*lines: tuple[str, str, str], total: str, quota_after: int) -> dict[str, Any]:
    return {
        "charges": [
            {"kind": kind, "description": description, "amount": money(amount)} for kind, description, amount in lines
        ],
        "total": money(total),
        "quota_after_bytes": quota_after,
        "notice": (
            "Les modifications sont immédiates. Pour qu'elles soient prises en compte sur la carte SIM, "
            "redémarrez votre équipement."
        ),
    }


MNO_FEE = ("fee", "Changement d'opérateur support (Orange → SFR)", "10.00")
BUNDLE_QUOTE = quote(
    ("proration", "Prorata passage 4G → 5G (Data Mobile 10 Go 5G), 15/30 jours", "1.25"),
    MNO_FEE,
    total="11.25",
    quota_after=10 * 1024**3,
)
METERED_QUOTE = quote(
    ("proration", "Prorata passage 4G → 5G (Data Mobile au Compteur 5G), 15/30 jours", "0.50"),
    MNO_FEE,
    total="10.50",
    quota_after=5 * 1024**3,
)


def test_a_batch_quotes_each_line_as_its_own_request_and_refuses_the_one_that_cannot_change(http, fleet, ctx):
    before = row_counts(ctx)
    response = create_batch(http, fleet.customer.manager, [fleet.bundle, fleet.used_up, fleet.metered])
    batch = ok(response, 201)
    assert response.headers["location"] == f"/api/v1/change-batches/{batch['id']}"
    bundle_item, _, metered_item = batch["items"]
    assert batch == {
        "id": batch["id"],
        "account_id": fleet.customer.account_id,
        "status": "awaiting_confirmation",
        "changes": CHANGES,
        "created_at": batch["created_at"],
        "total": money("21.75"),
        "items": [
            {
                "service_id": fleet.bundle,
                "status": "quoted",
                "change_request_id": bundle_item["change_request_id"],
                "quote": BUNDLE_QUOTE,
            },
            {"service_id": fleet.used_up, "status": "refused", "code": "monthly-limit-reached", "detail": LIMIT_DETAIL},
            {
                "service_id": fleet.metered,
                "status": "quoted",
                "change_request_id": metered_item["change_request_id"],
                "quote": METERED_QUOTE,
            },
        ],
    }
    # each quoted line is a change request of its own, awaiting confirmation; nothing is charged yet
    for item in (bundle_item, metered_item):
        request = ok(http.get(f"/api/v1/change-requests/{item['change_request_id']}", headers=fleet.customer.viewer))
        assert (request["service_id"], request["status"], request["quote"]) == (
            item["service_id"],
            "awaiting_confirmation",
            item["quote"],
        )
    assert ok(http.get(f"/api/v1/change-batches/{batch['id']}", headers=fleet.customer.viewer)) == batch
    after = row_counts(ctx)
    assert {name: after[name] - before[name] for name in after} == {
        "change_batches": 1,
        "change_batch_items": 3,
        "change_requests": 2,
        "charges": 0,
        "monthly_slots": 0,
        "audit_events": 3,
    }  # the batch's and each request's
    # a single request on the refused line gets the same answer
    body = expect_problem(
        http.post(
            f"/api/v1/services/{fleet.used_up}/change-requests",
            json={"changes": CHANGES},
            headers=fleet.customer.manager,
        ),
        409,
        "monthly-limit-reached",
    )
    assert body["detail"] == LIMIT_DETAIL


def test_confirming_completes_each_line_once_and_charges_exactly_its_quote(http, fleet):
    batch = ok(create_batch(http, fleet.customer.manager, [fleet.bundle, fleet.used_up, fleet.metered]), 201)
    done = settled_batch(http, ok(confirm_batch(http, fleet.customer.manager, batch["id"])), fleet.customer.manager)
    assert done["status"] == "partial"  # two lines changed, one refused when the batch was made
    assert [(item["service_id"], item["status"]) for item in done["items"]] == [
        (fleet.bundle, "completed"),
        (fleet.used_up, "refused"),
        (fleet.metered, "completed"),
    ]
    assert done["total"] == money("21.75")
    requests = {item["service_id"]: item["change_request_id"] for item in batch["items"] if item["status"] == "quoted"}
    for service_id, request_id in requests.items():
        assert (
            ok(http.get(f"/api/v1/change-requests/{request_id}", headers=fleet.customer.manager))["status"]
            == "completed"
        )
        line = ok(http.get(f"/api/v1/services/{service_id}", headers=fleet.customer.manager))
        assert (line["radio"], line["network"], line["changes_left_this_month"]) == ("5G", "sfr", 0)
    assert charges_of(http, fleet.customer.account_id, list(requests.values())) == sorted(
        [
            (fleet.bundle, "proration", "1.25", requests[fleet.bundle]),
            (fleet.bundle, "fee", "10.00", requests[fleet.bundle]),
            (fleet.metered, "proration", "0.50", requests[fleet.metered]),
            (fleet.metered, "fee", "10.00", requests[fleet.metered]),
        ]
    )
    assert ok(http.get(f"/api/v1/change-batches/{batch['id']}", headers=fleet.customer.viewer)) == done
    # a batch confirmed is confirmed once
    state = line_a_state(http, fleet.customer.account_id)
    expect_problem(confirm_batch(http, fleet.customer.manager, batch["id"]), 409, "invalid-state")
    expect_problem(
        http.post(f"/api/v1/change-batches/{batch['id']}/cancel", headers=fleet.customer.manager), 409, "invalid-state"
    )
    assert line_a_state(http, fleet.customer.account_id) == state


def test_a_batch_whose_every_line_changes_is_completed(http, fleet):
    batch = ok(create_batch(http, fleet.customer.manager, [fleet.metered, fleet.bundle]), 201)
    assert batch["total"] == money("21.75")
    done = settled_batch(http, ok(confirm_batch(http, fleet.customer.manager, batch["id"])), fleet.customer.manager)
    assert (done["status"], [item["status"] for item in done["items"]]) == ("completed", ["completed", "completed"])
    assert [item["service_id"] for item in done["items"]] == [fleet.metered, fleet.bundle]  # as asked
    audit = ok(
        http.get(
            "/api/v1/admin/audit", params={"entity_kind": "change_batch", "entity_id": batch["id"]}, headers=OPERATOR
        )
    )
    assert [(event["action"], event["actor_kind"], event["channel"]) for event in audit] == [
        ("change_batch.created", "user", "api"),
        ("change_batch.confirmed", "user", "api"),
    ]


def test_a_line_whose_slot_was_taken_meanwhile_is_refused_at_confirmation_and_charged_nothing(http, fleet):
    batch = ok(create_batch(http, fleet.customer.manager, [fleet.bundle, fleet.metered]), 201)
    batch_request = batch["items"][0]["change_request_id"]
    alone = create_request(http, fleet.customer, fleet.bundle, {"apn": "m2m.entreprise"})
    assert ok(confirm_request(http, fleet.customer, alone))["status"] in ("completed", "provisioning")
    done = settled_batch(http, ok(confirm_batch(http, fleet.customer.manager, batch["id"])), fleet.customer.manager)
    assert done["status"] == "partial"
    assert done["items"][0] == {
        "service_id": fleet.bundle,
        "status": "refused",
        "change_request_id": batch_request,
        "code": "monthly-limit-reached",
        "detail": LIMIT_DETAIL,
    }
    assert done["items"][1]["status"] == "completed"
    assert done["total"] == money("10.50")  # the metered line's only
    assert (
        ok(http.get(f"/api/v1/change-requests/{batch_request}", headers=fleet.customer.manager))["status"]
        == "cancelled"
    )
    assert charges_of(http, fleet.customer.account_id, [batch_request]) == []
    line = ok(http.get(f"/api/v1/services/{fleet.bundle}", headers=fleet.customer.manager))
    assert (line["apn"], line["radio"], line["network"], line["changes_left_this_month"]) == (
        "m2m.entreprise",
        "4G",
        "orange",
        0,
    )


def test_a_service_of_another_account_makes_the_batch_not_found_and_creates_nothing(http, fleet, ctx):
    other = make_customer(http, "Voisins SA", tag="b")
    theirs = make_service(http, other.account_id, msisdn="+33699999999")["id"]
    before = (row_counts(ctx), line_a_state(http, fleet.customer.account_id), line_a_state(http, other.account_id))
    for service_ids in ([fleet.bundle, theirs], [theirs], [fleet.bundle, "svc_nope"]):
        expect_problem(create_batch(http, fleet.customer.manager, service_ids), 404, "not-found")
    # the operator sees both accounts, but a batch is one account's
    body = expect_problem(create_batch(http, OPERATOR, [fleet.bundle, theirs]), 422, "validation-error")
    assert body["detail"] == "Les lignes d'un lot appartiennent toutes au même compte."
    after = (row_counts(ctx), line_a_state(http, fleet.customer.account_id), line_a_state(http, other.account_id))
    assert after == before


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"service_ids": [], "changes": CHANGES}, None),
        ({"service_ids": ["svc_a"] * 2, "changes": CHANGES}, "Chaque ligne ne peut figurer qu'une fois dans un lot."),
        ({"service_ids": [f"svc_{n}" for n in range(1001)], "changes": CHANGES}, None),
        ({"service_ids": ["svc_a"], "changes": {}}, "Indiquez au moins un élément à changer."),
        ({"service_ids": ["svc_a"]}, None),
        ({"service_ids": "svc_a", "changes": CHANGES}, None),
        ({"service_ids": ["svc a"], "changes": CHANGES}, None),
        ({"service_ids": ["svc_a"], "changes": CHANGES, "comment": "vite"}, None),
    ],
)
def test_duplicates_empty_or_too_many_lines_are_validation_errors_and_create_nothing(http, fleet, ctx, body, detail):
    before = (row_counts(ctx), line_a_state(http, fleet.customer.account_id))
    problem = expect_problem(
        http.post("/api/v1/change-batches", json=body, headers=fleet.customer.manager), 422, "validation-error"
    )
    if detail:
        assert problem["detail"] == detail
    assert (row_counts(ctx), line_a_state(http, fleet.customer.account_id)) == before


def test_a_duplicate_among_real_lines_is_refused_before_anything_is_quoted(http, fleet, ctx):
    before = (row_counts(ctx), line_a_state(http, fleet.customer.account_id))
    body = expect_problem(
        create_batch(http, fleet.customer.manager, [fleet.bundle, fleet.metered, fleet.bundle]), 422, "validation-error"
    )
    assert body["detail"] == "Chaque ligne ne peut figurer qu'une fois dans un lot."
    assert (row_counts(ctx), line_a_state(http, fleet.customer.account_id)) == before


def test_another_accounts_batch_is_not_found_and_untouched(http, fleet, ctx):
    batch = ok(create_batch(http, fleet.customer.manager, [fleet.bundle]), 201)
    other = make_customer(http, "Voisins SA", tag="b")
    before = (row_counts(ctx), line_a_state(http, fleet.customer.account_id))
    for headers in (other.manager, other.viewer):
        for response in (
            http.get(f"/api/v1/change-batches/{batch['id']}", headers=headers),
            confirm_batch(http, headers, batch["id"], "gestion-secret"),
            http.post(f"/api/v1/change-batches/{batch['id']}/cancel", headers=headers),
        ):
            assert expect_problem(response, 404, "not-found")["detail"] == "Élément introuvable."
    expect_problem(http.get("/api/v1/change-batches/chb_nope", headers=OPERATOR), 404, "not-found")
    assert (row_counts(ctx), line_a_state(http, fleet.customer.account_id)) == before
    assert ok(http.get(f"/api/v1/change-batches/{batch['id']}", headers=fleet.customer.manager)) == batch


def test_a_viewer_reads_a_batch_but_neither_creates_confirms_nor_cancels(http, fleet, ctx):
    batch = ok(create_batch(http, fleet.customer.manager, [fleet.bundle]), 201)
    before = (row_counts(ctx), line_a_state(http, fleet.customer.account_id))
    viewer = fleet.customer.viewer
    for response in (
        create_batch(http, viewer, [fleet.metered]),
        confirm_batch(http, viewer, batch["id"]),
        http.post(f"/api/v1/change-batches/{batch['id']}/cancel", headers=viewer),
    ):
        expect_problem(response, 403, "forbidden")
    assert (row_counts(ctx), line_a_state(http, fleet.customer.account_id)) == before
    assert ok(http.get(f"/api/v1/change-batches/{batch['id']}", headers=viewer)) == batch


@pytest.mark.parametrize("password", [None, "", "mauvais-secret"])
def test_a_wrong_password_confirms_nothing(http, fleet, ctx, password):
    batch = ok(create_batch(http, fleet.customer.manager, [fleet.bundle, fleet.metered]), 201)
    before = (row_counts(ctx), line_a_state(http, fleet.customer.account_id))
    expect_problem(confirm_batch(http, fleet.customer.manager, batch["id"], password), 401, "identity-not-confirmed")
    assert (row_counts(ctx), line_a_state(http, fleet.customer.account_id)) == before
    assert ok(http.get(f"/api/v1/change-batches/{batch['id']}", headers=fleet.customer.manager)) == batch


def test_the_operator_confirms_without_a_password(http, fleet):
    batch = ok(create_batch(http, OPERATOR, [fleet.bundle]), 201)
    done = settled_batch(
        http, ok(http.post(f"/api/v1/change-batches/{batch['id']}/confirm", headers=OPERATOR)), OPERATOR
    )
    assert (done["status"], done["total"]) == ("completed", money("11.25"))


def test_cancelling_cancels_every_line_not_confirmed_and_charges_nothing(http, fleet, ctx):
    batch = ok(create_batch(http, fleet.customer.manager, [fleet.bundle, fleet.used_up, fleet.metered]), 201)
    before = row_counts(ctx)
    cancelled = ok(http.post(f"/api/v1/change-batches/{batch['id']}/cancel", headers=fleet.customer.manager))
    assert (cancelled["status"], [item["status"] for item in cancelled["items"]], cancelled["total"]) == (
        "cancelled",
        ["cancelled", "refused", "cancelled"],
        money("0.00"),
    )
    after = row_counts(ctx)
    assert {name: after[name] - before[name] for name in after} == {
        "change_batches": 0,
        "change_batch_items": 0,
        "change_requests": 0,
        "charges": 0,
        "monthly_slots": 0,
        "audit_events": 3,
    }  # each request's cancellation and the batch's
    for item in (cancelled["items"][0], cancelled["items"][2]):
        assert (
            ok(http.get(f"/api/v1/change-requests/{item['change_request_id']}", headers=fleet.customer.manager))[
                "status"
            ]
            == "cancelled"
        )
    state = line_a_state(http, fleet.customer.account_id)
    expect_problem(confirm_batch(http, fleet.customer.manager, batch["id"]), 409, "invalid-state")
    expect_problem(
        http.post(f"/api/v1/change-batches/{batch['id']}/cancel", headers=fleet.customer.manager), 409, "invalid-state"
    )
    assert line_a_state(http, fleet.customer.account_id) == state
    # the lines are free to change this month
    assert ok(create_batch(http, fleet.customer.manager, [fleet.bundle, fleet.metered]), 201)["total"] == money("21.75")


def test_a_line_confirmed_on_its_own_stays_confirmed_when_the_batch_is_cancelled(http, fleet):
    batch = ok(create_batch(http, fleet.customer.manager, [fleet.bundle, fleet.metered]), 201)
    ok(confirm_request(http, fleet.customer, batch["items"][1]["change_request_id"]))
    cancelled = settled_batch(
        http,
        ok(http.post(f"/api/v1/change-batches/{batch['id']}/cancel", headers=fleet.customer.manager)),
        fleet.customer.manager,
    )
    assert (cancelled["status"], [item["status"] for item in cancelled["items"]], cancelled["total"]) == (
        "partial",
        ["cancelled", "completed"],
        money("10.50"),
    )


# --- Idempotency-Key ----------------------------------------------------------------------------------------


def test_a_repeated_create_and_confirm_answer_as_the_first_time_and_charge_once(http, fleet, ctx):
    keyed = fleet.customer.manager | {"Idempotency-Key": "lot-1"}
    first = create_batch(http, keyed, [fleet.bundle, fleet.metered])
    assert first.status_code == 201
    counts = row_counts(ctx)
    again = create_batch(http, keyed, [fleet.bundle, fleet.metered])
    assert (again.status_code, again.headers["idempotent-replayed"], again.content) == (201, "true", first.content)
    assert again.headers["location"] == first.headers["location"]
    assert row_counts(ctx) == counts
    batch_id = first.json()["id"]
    confirmed = confirm_batch(http, fleet.customer.manager | {"Idempotency-Key": "ok-lot-1"}, batch_id)
    assert confirmed.status_code == 200
    requests = requests_of(first.json())
    charged, counts = charges_of(http, fleet.customer.account_id, requests), row_counts(ctx)
    replay = confirm_batch(http, fleet.customer.manager | {"Idempotency-Key": "ok-lot-1"}, batch_id)
    assert (replay.status_code, replay.headers["idempotent-replayed"], replay.json()) == (200, "true", confirmed.json())
    assert (charges_of(http, fleet.customer.account_id, requests), row_counts(ctx)) == (charged, counts)
    assert sorted(amount for _, _, amount, _ in charged) == ["0.50", "1.25", "10.00", "10.00"]


# --- a confirmation that stops half-way ---------------------------------------------------------------------


def test_a_confirmation_stopped_half_way_tells_the_truth_and_finishes_when_confirmed_again(
    http, fleet, ctx, monkeypatch
):
    batch = ok(create_batch(http, fleet.customer.manager, [fleet.bundle, fleet.metered]), 201)
    real = batch_usecases.confirm_in
    done: list[str] = []

    def stop_after_the_first(ctx: Any, uow: Any, actor: Any, channel: Any, request_id: str, now: Any) -> Any:
        if done:
            raise RuntimeError("the process stops here")
        done.append(request_id)
        return real(ctx, uow, actor, channel, request_id, now)

    monkeypatch.setattr(batch_usecases, "CONFIRM_GROUP", 1)  # each line its own transaction: the first commits
    monkeypatch.setattr(batch_usecases, "confirm_in", stop_after_the_first)
    with pytest.raises(RuntimeError, match="the process stops here"):
        batch_usecases.confirm_change_batch(ctx, OPERATOR_PRINCIPAL, Channel.API, batch["id"], None)
    monkeypatch.undo()
    halfway = settled_batch(
        http,
        ok(http.get(f"/api/v1/change-batches/{batch['id']}", headers=fleet.customer.manager)),
        fleet.customer.manager,
    )
    # the first line is confirmed (no worker runs beside this test server, so the networks have not answered)
    assert (halfway["status"], [item["status"] for item in halfway["items"]]) == (
        "confirming",
        ["provisioning", "quoted"],
    )
    # its jobs were written leased to the process that stopped; once the lease has run out, they are anyone's
    held = select(t.provisioning_jobs.c.status, t.provisioning_jobs.c.locked_until).where(
        t.provisioning_jobs.c.change_request_id == halfway["items"][0]["change_request_id"]
    )
    with ctx.engine.connect() as connection:
        jobs = connection.execute(held).all()
    assert {(status, locked_until - ctx.clock.now()) for status, locked_until in jobs} == {
        ("running", timedelta(seconds=60))
    }
    ctx.clock.set(ctx.clock.now() + timedelta(seconds=61))
    finished = settled_batch(http, ok(confirm_batch(http, fleet.customer.manager, batch["id"])), fleet.customer.manager)
    assert (finished["status"], [item["status"] for item in finished["items"]]) == (
        "completed",
        ["completed", "completed"],
    )
    assert finished["confirmed_at"] == halfway["confirmed_at"]
    requests = requests_of(batch)
    assert charges_of(http, fleet.customer.account_id, requests) == sorted(
        [
            (fleet.bundle, "proration", "1.25", requests[0]),
            (fleet.bundle, "fee", "10.00", requests[0]),
            (fleet.metered, "proration", "0.50", requests[1]),
            (fleet.metered, "fee", "10.00", requests[1]),
        ]
    )


def test_a_confirmation_stopped_inside_a_group_leaves_the_whole_group_awaiting(http, fleet, ctx, monkeypatch):
    batch = ok(create_batch(http, fleet.customer.manager, [fleet.bundle, fleet.metered]), 201)
    real = batch_usecases.confirm_in
    done: list[str] = []

    def stop_after_the_first(ctx: Any, uow: Any, actor: Any, channel: Any, request_id: str, now: Any) -> Any:
        if done:
            raise RuntimeError("the process stops here")
        done.append(request_id)
        return real(ctx, uow, actor, channel, request_id, now)

    monkeypatch.setattr(batch_usecases, "confirm_in", stop_after_the_first)  # both lines in one group
    with pytest.raises(RuntimeError, match="the process stops here"):
        batch_usecases.confirm_change_batch(ctx, OPERATOR_PRINCIPAL, Channel.API, batch["id"], None)
    monkeypatch.undo()
    halfway = ok(http.get(f"/api/v1/change-batches/{batch['id']}", headers=fleet.customer.manager))
    assert (halfway["status"], [item["status"] for item in halfway["items"]]) == ("confirming", ["quoted", "quoted"])
    assert charges_of(http, fleet.customer.account_id, requests_of(batch)) == []
    for line in (fleet.bundle, fleet.metered):
        assert ok(http.get(f"/api/v1/services/{line}", headers=fleet.customer.manager))["changes_left_this_month"] == 1
    finished = settled_batch(http, ok(confirm_batch(http, fleet.customer.manager, batch["id"])), fleet.customer.manager)
    assert (finished["status"], [item["status"] for item in finished["items"]]) == (
        "completed",
        ["completed", "completed"],
    )
    assert len(charges_of(http, fleet.customer.account_id, requests_of(batch))) == 4


# --- the month's slot, raced --------------------------------------------------------------------------------


@pytest.mark.parametrize("attempt", range(5))
def test_a_batch_and_a_single_request_racing_on_a_line_take_its_slot_once(http, fleet, server_url, attempt):
    batch = ok(create_batch(http, fleet.customer.manager, [fleet.metered, fleet.bundle]), 201)
    batch_request = batch["items"][1]["change_request_id"]
    alone = create_request(http, fleet.customer, fleet.bundle, {"apn": "m2m.entreprise"})
    together = Barrier(2)

    def post(path: str) -> httpx.Response:
        with httpx.Client(base_url=server_url, timeout=60) as client:
            together.wait()
            return client.post(path, json={"password": PASSWORD}, headers=fleet.customer.manager)

    with ThreadPoolExecutor(max_workers=2) as pool:
        batch_answer, alone_answer = pool.map(
            post, [f"/api/v1/change-batches/{batch['id']}/confirm", f"/api/v1/change-requests/{alone}/confirm"]
        )
    done = settled_batch(http, ok(batch_answer), fleet.customer.manager)
    bundle_item = done["items"][1]
    assert done["items"][0]["status"] == "completed"
    statuses = {
        r["id"]: r["status"]
        for r in ok(
            http.get("/api/v1/change-requests", params={"service_id": fleet.bundle}, headers=fleet.customer.manager)
        )
    }
    if alone_answer.status_code == 200:  # the single request took the slot
        assert bundle_item == {
            "service_id": fleet.bundle,
            "status": "refused",
            "change_request_id": batch_request,
            "code": "monthly-limit-reached",
            "detail": LIMIT_DETAIL,
        }
        assert done["status"] == "partial"
        assert statuses == {alone: "completed", batch_request: "cancelled"}
    else:
        assert expect_problem(alone_answer, 409, "monthly-limit-reached")["detail"] == LIMIT_DETAIL
        assert (done["status"], bundle_item["status"]) == ("completed", "completed")
        assert statuses == {alone: "awaiting_confirmation", batch_request: "completed"}
    # the batch's request is charged only if it took the slot; the single one (an APN change) is free
    expected = (
        []
        if statuses[batch_request] == "cancelled"
        else [(fleet.bundle, "fee", "10.00", batch_request), (fleet.bundle, "proration", "1.25", batch_request)]
    )
    assert charges_of(http, fleet.customer.account_id, [batch_request, alone]) == expected
    assert (
        ok(http.get(f"/api/v1/services/{fleet.bundle}", headers=fleet.customer.manager))["changes_left_this_month"] == 0
    )
