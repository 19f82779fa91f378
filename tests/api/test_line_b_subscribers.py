"""Line B over HTTP: subscribers, recharges with their bonuses, consumptions, the subscriber's view."""

from tests.api.helpers import OPERATOR, ok
from tests.api.prepaid_helpers import (
    LAST_MONTH_DAY,
    consume,
    login,
    make_subscriber,
    money,
    problem,
    profile_needing,
    recharge,
)

MSISDN = "+2250701020304"
OTHER = "+2250709080706"
MIB = 1024**2


def test_the_operator_creates_a_subscriber_in_the_catalogue_zone_and_currency(http):
    free = profile_needing(http, None)
    created = make_subscriber(http, MSISDN, free["id"])
    assert created == {
        "msisdn": MSISDN,
        "profile_id": free["id"],
        "profile_name": free["name"],
        "timezone": "Africa/Abidjan",
        "balance": money("0"),
        "bonuses": [],
        "last_month": "2026-05",
        "consumption_last_month": money("0"),
        "migrations_left_this_month": 3,
    }


def test_a_second_subscriber_on_the_same_msisdn_is_a_conflict(http):
    free = profile_needing(http, None)
    make_subscriber(http, MSISDN, free["id"])
    problem(
        http.post("/api/v1/admin/subscribers", json={"msisdn": MSISDN, "profile_id": free["id"]}, headers=OPERATOR),
        409,
        "conflict",
    )


def test_bad_subscriber_data_is_refused(http):
    free = profile_needing(http, None)
    problem(
        http.post(
            "/api/v1/admin/subscribers", json={"msisdn": "0701020304", "profile_id": free["id"]}, headers=OPERATOR
        ),
        422,
        "validation-error",
    )
    problem(
        http.post(
            "/api/v1/admin/subscribers", json={"msisdn": MSISDN, "profile_id": "no-such-profile"}, headers=OPERATOR
        ),
        422,
        "no-such-plan",
    )
    problem(
        http.post(
            "/api/v1/admin/subscribers",
            json={"msisdn": MSISDN, "profile_id": free["id"], "timezone": "Mars/Olympus"},
            headers=OPERATOR,
        ),
        422,
        "validation-error",
    )
    problem(http.post("/api/v1/admin/subscribers", json={"msisdn": MSISDN}, headers=OPERATOR), 422, "validation-error")
    problem(
        http.post(
            "/api/v1/admin/subscribers",
            json={"msisdn": MSISDN, "profile_id": free["id"], "timezone": "Africa"},
            headers=OPERATOR,
        ),
        422,
        "validation-error",
    )


def test_subscriber_endpoints_need_a_token_and_admin_ones_the_operator(http):
    free = profile_needing(http, None)
    problem(
        http.post("/api/v1/admin/subscribers", json={"msisdn": MSISDN, "profile_id": free["id"]}),
        401,
        "unauthenticated",
    )
    make_subscriber(http, MSISDN, free["id"])
    problem(http.get(f"/api/v1/subscribers/{MSISDN}"), 401, "unauthenticated")
    problem(http.get(f"/api/v1/subscribers/{MSISDN}", headers={"Authorization": "Bearer nope"}), 401, "unauthenticated")
    own = login(http, MSISDN)
    problem(
        http.post(f"/api/v1/admin/subscribers/{MSISDN}/recharges", json={"amount": 1000}, headers=own), 403, "forbidden"
    )
    problem(http.get("/api/v1/admin/notifications", headers=own), 403, "forbidden")


def test_a_recharge_credits_the_balance_and_grants_the_profiles_bonuses(http):
    tigre = profile_needing(http, "2500")  # 50 % from 500, and 30 minutes once a month
    make_subscriber(http, MSISDN, tigre["id"])
    done = recharge(http, MSISDN, "1001")
    assert done["amount"] == money("1001")
    assert done["balance"] == money("1001")
    assert done["at"] == "2026-06-16T07:00:00Z"
    assert [(b["kind"], b.get("amount"), b.get("quantity"), b["expires_at"]) for b in done["bonuses"]] == [
        ("credit", money("501"), None, "2026-06-23T07:00:00Z"),  # 50 % of 1 001 = 500.5, rounded once, half up
        ("voice", None, 30, "2026-07-16T07:00:00Z"),
    ]
    again = recharge(http, MSISDN, 1000)  # the monthly minutes are not granted twice in June
    assert [(b["kind"], b.get("amount")) for b in again["bonuses"]] == [("credit", money("500"))]
    view = ok(http.get(f"/api/v1/subscribers/{MSISDN}", headers=OPERATOR))
    assert view["balance"] == money("2001")
    assert [(b["kind"], b.get("amount"), b.get("quantity")) for b in view["bonuses"]] == [
        ("credit", money("501"), None),
        ("credit", money("500"), None),
        ("voice", None, 30),
    ]


def test_a_data_bonus_is_shown_in_bytes(http):
    dauphin = next(
        p
        for p in profile_needing.__globals__["profiles"](http)
        if any(b["kind"] == "data" and b["trigger"] == "recharge" for b in p["bonuses"])
        and p["min_consumption_last_month"] is None
    )
    make_subscriber(http, MSISDN, dauphin["id"])
    view_bonuses = recharge(http, MSISDN, 500)["bonuses"]
    data = [b for b in view_bonuses if b["kind"] == "data"]
    assert [b["bytes"] for b in data] == [100 * MIB]


def test_consumption_takes_bonus_credit_first_then_main_credit(http):
    tigre = profile_needing(http, "2500")
    make_subscriber(http, MSISDN, tigre["id"])
    recharge(http, MSISDN, 1000)  # + 500 bonus credit
    done = consume(http, MSISDN, "700")
    assert (done["from_bonus"], done["from_main"], done["balance"]) == (money("500"), money("200"), money("800"))
    view = ok(http.get(f"/api/v1/subscribers/{MSISDN}", headers=OPERATOR))
    assert [b["kind"] for b in view["bonuses"]] == ["voice"]
    assert view["consumption_last_month"] == money("0")


def test_consuming_more_than_held_is_refused_and_changes_nothing(http):
    free = profile_needing(http, None)
    make_subscriber(http, MSISDN, free["id"])
    recharge(http, MSISDN, 1000)  # + 200 bonus credit (20 %)
    body = problem(
        http.post(f"/api/v1/admin/subscribers/{MSISDN}/consumptions", json={"amount": 1201}, headers=OPERATOR),
        409,
        "insufficient-balance",
    )
    assert body["available"] == money("1200")
    view = ok(http.get(f"/api/v1/subscribers/{MSISDN}", headers=OPERATOR))
    assert view["balance"] == money("1000")
    assert [b["amount"] for b in view["bonuses"] if b["kind"] == "credit"] == [money("200")]
    assert consume(http, MSISDN, 1200)["balance"] == money("0")


def test_bad_amounts_and_dates_are_validation_errors(http):
    free = profile_needing(http, None)
    make_subscriber(http, MSISDN, free["id"])
    url = f"/api/v1/admin/subscribers/{MSISDN}/recharges"
    for amount in ("12.5", "0", "-100", "abc", 12.5, True, None):
        problem(http.post(url, json={"amount": amount}, headers=OPERATOR), 422, "validation-error")
    problem(
        http.post(url, json={"amount": 100, "at": "2026-06-17T00:00:00+00:00"}, headers=OPERATOR),
        422,
        "validation-error",
    )
    problem(
        http.post(url, json={"amount": 100, "at": "2026-06-01T00:00:00"}, headers=OPERATOR), 422, "validation-error"
    )
    for at in ("0001-01-01T00:00:00+14:00", "2025-05-12T06:59:59+00:00"):  # absurd, or over 400 days back
        problem(http.post(url, json={"amount": 100, "at": at}, headers=OPERATOR), 422, "validation-error")
    assert recharge(http, MSISDN, 100, "2025-05-12T07:00:00+00:00")["at"] == "2025-05-12T07:00:00Z"
    problem(
        http.post(f"/api/v1/admin/subscribers/{MSISDN}/consumptions", json={"amount": "1e3"}, headers=OPERATOR),
        422,
        "validation-error",
    )


def test_unknown_lines_are_not_found(http):
    problem(http.get(f"/api/v1/subscribers/{MSISDN}", headers=OPERATOR), 404, "not-found")
    problem(
        http.post(f"/api/v1/admin/subscribers/{MSISDN}/recharges", json={"amount": 100}, headers=OPERATOR),
        404,
        "not-found",
    )
    problem(
        http.post(f"/api/v1/admin/subscribers/{MSISDN}/consumptions", json={"amount": 100}, headers=OPERATOR),
        404,
        "not-found",
    )


def test_a_subscriber_sees_its_own_line_and_no_other(http):
    free = profile_needing(http, None)
    make_subscriber(http, MSISDN, free["id"])
    make_subscriber(http, OTHER, free["id"])
    recharge(http, MSISDN, 3000, "2026-04-01T08:00:00+00:00")
    consume(http, MSISDN, 2600, LAST_MONTH_DAY)
    own = login(http, MSISDN)
    view = ok(http.get(f"/api/v1/subscribers/{MSISDN}", headers=own))
    assert (view["balance"], view["consumption_last_month"]) == (money("400"), money("2600"))
    for path in ("", "/profile-options", "/profile-migrations"):
        problem(http.get(f"/api/v1/subscribers/{OTHER}{path}", headers=own), 404, "not-found")
    problem(
        http.post(f"/api/v1/subscribers/{OTHER}/profile-migrations", json={"profile_id": free["id"]}, headers=own),
        404,
        "not-found",
    )
