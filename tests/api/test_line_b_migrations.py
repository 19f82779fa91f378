"""Line B profile changes over HTTP: options with reasons, migrations, refusals and the monthly limit."""

from tests.api.helpers import OPERATOR, ok
from tests.api.prepaid_helpers import (
    free_profiles,
    login,
    problem,
    profile_needing,
    recharge,
    with_last_month_consumption,
)

MSISDN = "+2250701020304"
NBSP = "\u202f"


def test_profile_options_show_each_profile_with_its_reason(http):
    start = profile_needing(http, None)
    with_last_month_consumption(http, MSISDN, start["id"], 2500)
    tigre, aigle = profile_needing(http, "2500"), profile_needing(http, "8000")
    own = login(http, MSISDN)
    options = {o["profile_id"]: o for o in ok(http.get(f"/api/v1/subscribers/{MSISDN}/profile-options", headers=own))}
    assert len(options) == 4
    assert options[start["id"]] == {
        "profile_id": start["id"],
        "name": start["name"],
        "eligible": False,
        "current": True,
        "code": "same-profile",
        "reason": f"Vous avez déjà le profil {start['name']}.",
    }
    assert options[tigre["id"]] == {
        "profile_id": tigre["id"],
        "name": tigre["name"],
        "eligible": True,
        "current": False,
    }
    assert options[aigle["id"]] == {
        "profile_id": aigle["id"],
        "name": aigle["name"],
        "eligible": False,
        "current": False,
        "code": "not-eligible",
        "reason": f"Il faut avoir consommé au moins 8{NBSP}000 F CFA le mois passé (vous : 2{NBSP}500 F CFA).",
    }


def test_a_subscriber_migrates_and_keeps_its_bonuses(http):
    start = profile_needing(http, None)
    with_last_month_consumption(http, MSISDN, start["id"], 8000)
    recharge(http, MSISDN, 1000)
    own = login(http, MSISDN)
    before = ok(http.get(f"/api/v1/subscribers/{MSISDN}", headers=own))
    aigle = profile_needing(http, "8000")
    created = http.post(
        f"/api/v1/subscribers/{MSISDN}/profile-migrations", json={"profile_id": aigle["id"]}, headers=own
    )
    body = ok(created, 201)
    assert created.headers["location"] == f"/api/v1/subscribers/{MSISDN}/profile-migrations"
    assert {k: body[k] for k in ("msisdn", "from_profile_id", "to_profile_id", "at", "channel")} == {
        "msisdn": MSISDN,
        "from_profile_id": start["id"],
        "to_profile_id": aigle["id"],
        "at": "2026-06-16T07:00:00Z",
        "channel": "api",
    }
    after = ok(http.get(f"/api/v1/subscribers/{MSISDN}", headers=own))
    assert after["profile_id"] == aigle["id"]
    assert after["bonuses"] == before["bonuses"]
    assert after["migrations_left_this_month"] == 2
    listed = ok(http.get(f"/api/v1/subscribers/{MSISDN}/profile-migrations", headers=own))
    assert listed == [body]
    audit = ok(
        http.get("/api/v1/admin/audit", params={"entity_kind": "subscriber", "entity_id": MSISDN}, headers=OPERATOR)
    )
    migrated = [e for e in audit if e["action"] == "profile.migrated"]
    assert [
        (e["actor_kind"], e["actor_id"], e["channel"], e["before"], e["after"]["profile_id"]) for e in migrated
    ] == [("subscriber", MSISDN, "api", {"profile_id": start["id"]}, aigle["id"])]


def test_not_eligible_says_why_in_french_and_takes_no_slot(http):
    with_last_month_consumption(http, MSISDN, profile_needing(http, None)["id"], 2499)
    tigre = profile_needing(http, "2500")
    body = problem(
        http.post(
            f"/api/v1/subscribers/{MSISDN}/profile-migrations", json={"profile_id": tigre["id"]}, headers=OPERATOR
        ),
        422,
        "not-eligible",
    )
    assert body["detail"] == (
        f"Il faut avoir consommé au moins 2{NBSP}500 F CFA le mois passé (vous : 2{NBSP}499 F CFA)."
    )
    assert (body["required"], body["consumed"]) == (
        {"amount": "2500", "currency": "XOF"},
        {"amount": "2499", "currency": "XOF"},
    )
    assert ok(http.get(f"/api/v1/subscribers/{MSISDN}", headers=OPERATOR))["migrations_left_this_month"] == 3
    assert ok(http.get("/api/v1/admin/notifications", params={"to": MSISDN}, headers=OPERATOR)) == []


def test_the_same_profile_is_refused_and_takes_no_slot(http):
    start = profile_needing(http, None)
    with_last_month_consumption(http, MSISDN, start["id"], 0)
    problem(
        http.post(
            f"/api/v1/subscribers/{MSISDN}/profile-migrations", json={"profile_id": start["id"]}, headers=OPERATOR
        ),
        409,
        "same-profile",
    )
    assert ok(http.get(f"/api/v1/subscribers/{MSISDN}", headers=OPERATOR))["migrations_left_this_month"] == 3
    assert ok(http.get(f"/api/v1/subscribers/{MSISDN}/profile-migrations", headers=OPERATOR)) == []


def test_the_fourth_migration_of_the_month_is_refused(http):
    first, second = free_profiles(http)[:2]
    with_last_month_consumption(http, MSISDN, first["id"], 0)
    url = f"/api/v1/subscribers/{MSISDN}/profile-migrations"
    for target in (second, first, second):
        ok(http.post(url, json={"profile_id": target["id"]}, headers=OPERATOR), 201)
    body = problem(http.post(url, json={"profile_id": first["id"]}, headers=OPERATOR), 409, "monthly-limit-reached")
    assert body["next_possible_on"] == "2026-07-01"
    assert body["detail"] == (
        "Limite atteinte : 3 changements de profil par mois. Nouvelle demande possible à partir du 1er juillet 2026."
    )
    listed = ok(http.get(url, headers=OPERATOR))
    assert [m["to_profile_id"] for m in listed] == [second["id"], first["id"], second["id"]]
    assert ok(http.get(f"/api/v1/subscribers/{MSISDN}", headers=OPERATOR))["migrations_left_this_month"] == 0


def test_a_keyed_fourth_migration_is_refused_with_its_key_and_its_retry_replays_the_refusal(http):
    """With an Idempotency-Key (PostgreSQL: the slot and the profile go in the statement that stores the answer),
    the fourth migration is refused as without one, nothing of it is kept, and its retry gets the refusal again."""
    first, second = free_profiles(http)[:2]
    with_last_month_consumption(http, MSISDN, first["id"], 0)
    url = f"/api/v1/subscribers/{MSISDN}/profile-migrations"
    for n, target in enumerate((second, first, second)):
        ok(http.post(url, json={"profile_id": target["id"]}, headers=OPERATOR | {"Idempotency-Key": f"m-{n}"}), 201)
    headers = OPERATOR | {"Idempotency-Key": "m-fourth"}
    refused = http.post(url, json={"profile_id": first["id"]}, headers=headers)
    body = problem(refused, 409, "monthly-limit-reached")
    assert body["next_possible_on"] == "2026-07-01"
    again = http.post(url, json={"profile_id": first["id"]}, headers=headers)
    assert (again.status_code, again.json(), again.headers["idempotent-replayed"]) == (409, body, "true")
    listed = ok(http.get(url, headers=OPERATOR))
    assert [m["to_profile_id"] for m in listed] == [second["id"], first["id"], second["id"]]
    view = ok(http.get(f"/api/v1/subscribers/{MSISDN}", headers=OPERATOR))
    assert (view["profile_id"], view["migrations_left_this_month"]) == (second["id"], 0)
    sms = ok(http.get("/api/v1/admin/notifications", params={"to": MSISDN}, headers=OPERATOR))
    assert len(sms) == 3  # one per migration made, none for the refused one


def test_bad_migration_requests(http):
    with_last_month_consumption(http, MSISDN, profile_needing(http, None)["id"], 0)
    url = f"/api/v1/subscribers/{MSISDN}/profile-migrations"
    problem(http.post(url, json={}, headers=OPERATOR), 422, "validation-error")
    problem(http.post(url, json={"profile_id": "no-such-profile"}, headers=OPERATOR), 422, "no-such-plan")
    problem(http.post(url, json={"profile_id": profile_needing(http, None)["id"]}), 401, "unauthenticated")
    problem(
        http.post(
            "/api/v1/subscribers/+2250700000000/profile-migrations",
            json={"profile_id": profile_needing(http, None)["id"]},
            headers=OPERATOR,
        ),
        404,
        "not-found",
    )


def test_a_repeated_migration_with_the_same_idempotency_key_happens_once(http):
    first, second = free_profiles(http)[:2]
    with_last_month_consumption(http, MSISDN, first["id"], 0)
    url = f"/api/v1/subscribers/{MSISDN}/profile-migrations"
    headers = OPERATOR | {"Idempotency-Key": "migr-1"}
    one = ok(http.post(url, json={"profile_id": second["id"]}, headers=headers), 201)
    two = http.post(url, json={"profile_id": second["id"]}, headers=headers)
    assert (two.status_code, two.json(), two.headers["idempotent-replayed"]) == (201, one, "true")
    assert ok(http.get(f"/api/v1/subscribers/{MSISDN}", headers=OPERATOR))["migrations_left_this_month"] == 2
