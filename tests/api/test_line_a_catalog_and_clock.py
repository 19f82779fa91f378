"""Line A, room 1: the public catalogue and the test clock, through HTTP."""

from __future__ import annotations

from datetime import datetime

from tests.api.helpers import GIB, expect_problem, money, ok, set_clock

MIB = 1024**2


def _by_id(items: list[dict]) -> dict[str, dict]:
    return {item["id"]: item for item in items}


def test_catalog_is_public_and_has_every_room_of_the_contract(http):
    response = http.get("/api/v1/catalog")  # no token: the catalogue is the operator's public offer
    body = ok(response)
    assert response.headers["content-type"].startswith("application/json")
    for room in ("plans", "profiles", "networks", "apns", "fees", "topups", "extensions"):
        assert isinstance(body[room], list), room
        assert body[room], room


def test_catalog_carries_the_seed_numbers(http):
    body = ok(http.get("/api/v1/catalog"))
    plans = _by_id(body["plans"])
    assert plans["data-10go-4g"] == {
        "id": "data-10go-4g",
        "name": "Data Mobile 10 Go 4G",
        "kind": "bundle",
        "radio": "4G",
        "price": money("6.00"),
        "data_bytes": 10 * GIB,
        "unit_price": None,
        "unit_bytes": None,
        "default_ceiling_bytes": None,
        "ceiling_step_bytes": None,
        "max_ceiling_bytes": None,
        "on_sale": True,
    }
    assert (plans["data-10go-5g"]["price"], plans["data-10go-5g"]["data_bytes"], plans["data-10go-5g"]["radio"]) == (
        money("8.50"),
        10 * GIB,
        "5G",
    )
    assert (plans["data-30go-4g"]["price"], plans["data-30go-4g"]["data_bytes"], plans["data-30go-4g"]["radio"]) == (
        money("9.00"),
        30 * GIB,
        "4G",
    )
    # every bundle has a volume in bytes, every metered plan a unit price, a unit and a default ceiling
    for plan in body["plans"]:
        assert plan["kind"] in ("bundle", "metered")
        assert plan["radio"] in ("4G", "5G")
        assert plan["price"]["currency"] == "EUR"
        if plan["kind"] == "bundle":
            assert isinstance(plan["data_bytes"], int), plan
            assert plan["data_bytes"] > 0, plan
        else:
            assert plan["unit_price"]["currency"] == "EUR", plan
            assert plan["unit_bytes"] > 0, plan
            assert isinstance(plan["default_ceiling_bytes"], int), plan
            assert plan["default_ceiling_bytes"] > 0, plan
    metered = plans["compteur-4g"]
    assert (
        metered["kind"],
        metered["price"],
        metered["unit_price"],
        metered["unit_bytes"],
        metered["default_ceiling_bytes"],
    ) == ("metered", money("2.00"), money("0.20"), 100 * MIB, 5 * GIB)
    assert metered["data_bytes"] is None

    assert _by_id(body["networks"]) == {
        "orange": {"id": "orange", "name": "Orange"},
        "sfr": {"id": "sfr", "name": "SFR"},
    }
    assert {"internet.pro", "m2m.entreprise", "vpn.entreprise"} <= set(_by_id(body["apns"]))
    fees = _by_id(body["fees"])
    assert fees["mno-change"]["amount"] == money("10.00")

    topups = _by_id(body["topups"])
    assert topups["recharge-5go"] == {
        "id": "recharge-5go",
        "name": "Recharge ponctuelle 5 Go",
        "data_bytes": 5 * GIB,
        "price": money("7.00"),
        "on_sale": True,
    }
    extensions = _by_id(body["extensions"])
    assert extensions["extension-1go"] == {
        "id": "extension-1go",
        "name": "Extension de plafond 1 Go",
        "data_bytes": 1 * GIB,
        "price": money("1.50"),
        "on_sale": True,
    }

    profiles = _by_id(body["profiles"])
    assert profiles["tigre"]["min_consumption_last_month"] == money("2500", "XOF")
    assert profiles["aigle"]["min_consumption_last_month"] == money("8000", "XOF")
    assert profiles["novamix"]["min_consumption_last_month"] is None
    for profile in body["profiles"]:
        assert isinstance(profile["bonuses"], list)
        assert profile["name"]
    assert body["policies"]["monthly_change_limit"] == 1
    assert body["policies"]["monthly_migration_limit"] == 3


def test_clock_starts_at_the_harness_instant(http):
    body = ok(http.get("/api/v1/test/clock"))
    assert datetime.fromisoformat(body["now"]) == datetime.fromisoformat("2026-06-16T09:00:00+02:00")
    assert datetime.fromisoformat(body["now"]).utcoffset() is not None


def test_clock_put_moves_every_time_rule_and_keeps_the_offset(http):
    moved = ok(http.put("/api/v1/test/clock", json={"now": "2026-07-01T00:30:00+02:00"}))
    assert moved == {"now": "2026-07-01T00:30:00+02:00"}
    assert ok(http.get("/api/v1/test/clock")) == {"now": "2026-07-01T00:30:00+02:00"}
    set_clock(http, "2026-06-30T22:30:00Z")
    assert datetime.fromisoformat(ok(http.get("/api/v1/test/clock"))["now"]) == datetime.fromisoformat(
        "2026-07-01T00:30:00+02:00"
    )


def test_clock_refuses_a_naive_instant_and_keeps_its_time(http):
    body = expect_problem(http.put("/api/v1/test/clock", json={"now": "2026-06-16T09:00:00"}), 422, "validation-error")
    assert body["errors"][0]["loc"] == ["body", "now"]
    expect_problem(http.put("/api/v1/test/clock", json={"now": "demain"}), 422, "validation-error")
    expect_problem(http.put("/api/v1/test/clock", json={}), 422, "validation-error")
    expect_problem(
        http.put("/api/v1/test/clock", json={"now": "2026-06-16T09:00:00+02:00", "speed": 2}), 422, "validation-error"
    )
    assert ok(http.get("/api/v1/test/clock")) == {"now": "2026-06-16T09:00:00+02:00"}


def test_unknown_path_is_a_not_found_problem(http):
    expect_problem(http.get("/api/v1/nowhere"), 404, "not-found")


def test_a_wrong_method_is_a_problem_with_a_consistent_status(http):
    response = http.delete("/api/v1/catalog")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 405
