"""Line A, room 5: quotes and change requests ("demandes d'évolution") — PRODUCT.md Line A rules 1–4, 6–8."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import text

from tests.api.helpers import (
    GIB,
    OPERATOR,
    PASSWORD,
    add_user,
    expect_problem,
    line_a_state,
    make_service,
    money,
    ok,
    set_clock,
    settled,
)
from tests.support.logins import account_user

REBOOT = (
    "Les modifications sont immédiates. Pour qu'elles soient prises en compte sur la carte SIM, "
    "redémarrez votre équipement."
)


@dataclass
class World:
    account_id: str
    manager_id: str
    manager: dict[str, str]
    viewer: dict[str, str]
    service: dict[str, Any]
    tag: str = "a"

    def move_clock(self, http, instant: str) -> None:
        """Move the test clock, then log in again: tokens live twelve hours."""
        set_clock(http, instant)
        self.manager = account_user(http, f"chef-{self.tag}@example.fr", PASSWORD)
        self.viewer = account_user(http, f"lecteur-{self.tag}@example.fr", "lecture-secret")


def world(
    http, plan_id: str = "data-10go-4g", tag: str = "a", msisdn: str = "+33612345678", activated_on: str = "2026-01-01"
) -> World:
    account = ok(http.post("/api/v1/admin/accounts", json={"name": f"Compte {tag}"}, headers=OPERATOR), 201)
    manager_id, manager = add_user(http, account["id"], f"chef-{tag}@example.fr")
    _, viewer = add_user(http, account["id"], f"lecteur-{tag}@example.fr", role="viewer", password="lecture-secret")
    service = make_service(http, account["id"], plan_id=plan_id, msisdn=msisdn, activated_on=activated_on)
    return World(account["id"], manager_id, manager, viewer, service, tag)


def quote(http, w: World, changes: dict, headers: dict | None = None):
    return http.post(
        f"/api/v1/services/{w.service['id']}/quotes", json={"changes": changes}, headers=headers or w.manager
    )


def create(http, w: World, changes: dict, headers: dict | None = None):
    return http.post(
        f"/api/v1/services/{w.service['id']}/change-requests", json={"changes": changes}, headers=headers or w.manager
    )


def confirm(http, request_id: str, headers: dict, password: str | None = PASSWORD):
    body = {} if password is None else {"password": password}
    return http.post(f"/api/v1/change-requests/{request_id}/confirm", json=body, headers=headers)


def apply_change(http, w: World, changes: dict) -> dict:
    created = ok(create(http, w, changes), 201)
    done = ok(confirm(http, created["id"], w.manager))
    assert done["status"] in ("completed", "provisioning"), done
    done = settled(http, done, w.manager)
    assert done["status"] == "completed", done
    return done


def service_of(http, w: World) -> dict:
    return ok(http.get(f"/api/v1/services/{w.service['id']}", headers=OPERATOR))


def charges_of(http, w: World, period: str = "2026-06") -> dict:
    return ok(http.get(f"/api/v1/accounts/{w.account_id}/charges", params={"period": period}, headers=OPERATOR))


def line(kind: str, description: str, amount: str) -> dict:
    return {"kind": kind, "description": description, "amount": money(amount)}


def expect_invalid_state(response, status_word: str) -> dict:
    """409 invalid-state. The body's `status` member is checked by its own test (it is clobbered, see below)."""
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "invalid-state"
    assert body["detail"] == f"Cette demande ne peut plus être modifiée (statut : {status_word})."
    return body


def same_instant(text: str | None, expected: str) -> bool:
    return text is not None and datetime.fromisoformat(text) == datetime.fromisoformat(expected)


# --- quotes ---------------------------------------------------------------------------------------


def test_a_quote_prices_the_seed_upgrade_and_stores_nothing(http):
    w = world(http)
    ok(http.post(f"/api/v1/admin/services/{w.service['id']}/usage", json={"bytes": 8 * GIB}, headers=OPERATOR))
    before = line_a_state(http, w.account_id)
    body = ok(quote(http, w, {"plan_id": "data-30go-4g"}))
    assert body == {
        "charges": [line("proration", "Prorata Data Mobile 30 Go 4G, 15/30 jours", "4.50")],
        "total": money("4.50"),
        "quota_after_bytes": 32 * GIB,
        "notice": REBOOT + " Votre forfait actuel (6,00 € HT) reste facturé en entier pour ce cycle ; le reste de votre"
        " quota s'ajoute au nouveau jusqu'à la fin du cycle.",
    }
    again = ok(quote(http, w, {"plan_id": "data-30go-4g"}))
    assert again == body
    assert line_a_state(http, w.account_id) == before
    assert before["requests"] == []


def test_a_quote_on_a_turned_month_opens_nothing_either(http, ctx):
    w = world(http)
    w.move_clock(http, "2026-07-25T10:00:00+02:00")
    body = ok(quote(http, w, {"radio": "5G"}))
    assert body["charges"] == [line("proration", "Prorata passage 4G → 5G (Data Mobile 10 Go 5G), 7/31 jours", "0.56")]
    # every HTTP read would open July itself, so look in the database: the quote left no July line behind
    with ctx.engine.connect() as connection:
        july = connection.execute(text("SELECT count(*) FROM charges WHERE period = '2026-07'")).scalar()
    assert july == 0


# --- create, confirm ------------------------------------------------------------------------------


def test_create_answers_201_awaiting_confirmation_with_its_location(http):
    w = world(http)
    response = create(http, w, {"plan_id": "data-30go-4g"})
    body = ok(response, 201)
    assert response.headers["location"] == f"/api/v1/change-requests/{body['id']}"
    assert body["status"] == "awaiting_confirmation"
    assert (body["service_id"], body["account_id"], body["channel"]) == (w.service["id"], w.account_id, "api")
    assert body["changes"] == {"plan_id": "data-30go-4g"}
    assert body["quote"]["charges"] == [line("proration", "Prorata Data Mobile 30 Go 4G, 15/30 jours", "4.50")]
    assert body["quote"]["total"] == money("4.50")
    assert body["quote"]["quota_after_bytes"] == 40 * GIB
    assert same_instant(body["created_at"], "2026-06-16T09:00:00+02:00")
    assert (body["confirmed_at"], body["completed_at"]) == (None, None)
    # nothing is applied nor charged before confirmation
    assert service_of(http, w)["plan_id"] == "data-10go-4g"
    assert [entry["kind"] for entry in charges_of(http, w)["lines"]] == ["recurring"]
    assert ok(http.get(response.headers["location"], headers=w.viewer))["id"] == body["id"]


@pytest.mark.parametrize("password", ["mauvais-secret", "", None, "lecture-secret"])
def test_confirm_without_the_right_password_changes_nothing(http, password):
    w = world(http)
    request = ok(create(http, w, {"plan_id": "data-30go-4g", "network": "sfr"}), 201)
    before = line_a_state(http, w.account_id)
    response = confirm(http, request["id"], w.manager, password)
    body = expect_problem(response, 401, "identity-not-confirmed")
    assert body["detail"] == "Identité non confirmée : mot de passe incorrect."
    assert response.headers["www-authenticate"] == "Bearer"
    assert line_a_state(http, w.account_id) == before
    assert (
        ok(http.get(f"/api/v1/change-requests/{request['id']}", headers=w.manager))["status"] == "awaiting_confirmation"
    )


def test_confirm_with_no_body_at_all_is_identity_not_confirmed(http):
    w = world(http)
    request = ok(create(http, w, {"apn": "vpn.entreprise"}), 201)
    before = line_a_state(http, w.account_id)
    expect_problem(
        http.post(f"/api/v1/change-requests/{request['id']}/confirm", headers=w.manager), 401, "identity-not-confirmed"
    )
    assert line_a_state(http, w.account_id) == before


def test_confirm_applies_charges_and_completes_the_seed_upgrade(http):
    w = world(http)
    ok(http.post(f"/api/v1/admin/services/{w.service['id']}/usage", json={"bytes": 8 * GIB}, headers=OPERATOR))
    request = ok(create(http, w, {"plan_id": "data-30go-4g"}), 201)
    done = settled(http, ok(confirm(http, request["id"], w.manager)), w.manager)
    assert done["status"] == "completed"
    assert same_instant(done["confirmed_at"], "2026-06-16T09:00:00+02:00")
    assert same_instant(done["completed_at"], "2026-06-16T09:00:00+02:00")
    assert done["quote"] == request["quote"]
    after = service_of(http, w)
    assert (after["plan_id"], after["plan_name"], after["radio"], after["status"]) == (
        "data-30go-4g",
        "Data Mobile 30 Go 4G",
        "4G",
        "active",
    )
    assert after["quota"] == {"total_bytes": 32 * GIB, "used_bytes": 0, "remaining_bytes": 32 * GIB}
    assert after["changes_left_this_month"] == 0
    charges = charges_of(http, w)
    assert [
        (c["kind"], c["description"], c["amount"], c["service_id"], c["change_request_id"]) for c in charges["lines"]
    ] == [
        ("recurring", "Data Mobile 10 Go 4G, juin 2026", money("6.00"), w.service["id"], None),
        ("proration", "Prorata Data Mobile 30 Go 4G, 15/30 jours", money("4.50"), w.service["id"], request["id"]),
    ]
    assert charges["total"] == money("10.50")
    # the carried-over data is drawn first and ends with the cycle; from July the new plan only
    ok(http.post(f"/api/v1/admin/services/{w.service['id']}/usage", json={"bytes": 3 * GIB}, headers=OPERATOR))
    assert service_of(http, w)["quota"]["remaining_bytes"] == 29 * GIB
    w.move_clock(http, "2026-07-01T00:00:00+02:00")
    assert service_of(http, w)["quota"] == {"total_bytes": 30 * GIB, "used_bytes": 0, "remaining_bytes": 30 * GIB}
    assert [(c["kind"], c["description"], c["amount"]) for c in charges_of(http, w, "2026-07")["lines"]] == [
        ("recurring", "Data Mobile 30 Go 4G, juillet 2026", money("9.00"))
    ]


def test_an_upgrade_lifts_the_bar_of_an_exhausted_bundle(http):
    w = world(http)
    ok(http.post(f"/api/v1/admin/services/{w.service['id']}/usage", json={"bytes": 10 * GIB}, headers=OPERATOR))
    assert service_of(http, w)["status"] == "barred"
    assert ok(quote(http, w, {"plan_id": "data-30go-4g"}))["quota_after_bytes"] == 30 * GIB
    apply_change(http, w, {"plan_id": "data-30go-4g"})
    after = service_of(http, w)
    assert after["status"] == "active"
    assert after["quota"] == {"total_bytes": 30 * GIB, "used_bytes": 0, "remaining_bytes": 30 * GIB}


# --- the rules, with exact amounts ----------------------------------------------------------------


def test_radio_upgrade_on_the_first_day_of_the_month_in_paris_pays_the_full_difference(http):
    w = world(http)
    w.move_clock(http, "2026-07-01T00:30:00+02:00")  # 30 June in UTC; the account's zone makes it July
    done = apply_change(http, w, {"radio": "5G"})
    assert done["quote"] == {
        "charges": [line("proration", "Prorata passage 4G → 5G (Data Mobile 10 Go 5G), 31/31 jours", "2.50")],
        "total": money("2.50"),
        "quota_after_bytes": 10 * GIB,
        "notice": REBOOT,
    }
    after = service_of(http, w)
    assert (after["plan_id"], after["radio"], after["quota"]["total_bytes"]) == ("data-10go-5g", "5G", 10 * GIB)
    july = charges_of(http, w, "2026-07")
    assert [(c["kind"], c["amount"], c["change_request_id"]) for c in july["lines"]] == [
        ("recurring", money("6.00"), None),
        ("proration", money("2.50"), done["id"]),
    ]
    assert july["total"] == money("8.50")
    assert [c["kind"] for c in charges_of(http, w, "2026-06")["lines"]] == ["recurring"]


def test_radio_upgrade_with_7_of_31_days_left_is_rounded_once(http):
    w = world(http)
    w.move_clock(http, "2026-07-25T10:00:00+02:00")
    done = apply_change(http, w, {"radio": "5G"})
    assert done["quote"]["charges"] == [
        line("proration", "Prorata passage 4G → 5G (Data Mobile 10 Go 5G), 7/31 jours", "0.56")
    ]
    assert done["quote"]["total"] == money("0.56")
    assert charges_of(http, w, "2026-07")["total"] == money("6.56")


def test_radio_downgrade_gives_a_prorated_credit(http):
    w = world(http, plan_id="data-10go-5g")
    w.move_clock(http, "2026-07-25T10:00:00+02:00")
    done = apply_change(http, w, {"radio": "4G"})
    assert done["quote"]["charges"] == [
        line("proration", "Avoir prorata passage 5G → 4G (Data Mobile 10 Go 4G), 7/31 jours", "-0.56")
    ]
    assert done["quote"]["total"] == money("-0.56")
    july = charges_of(http, w, "2026-07")
    assert [(c["kind"], c["amount"]) for c in july["lines"]] == [
        ("recurring", money("8.50")),
        ("proration", money("-0.56")),
    ]
    assert july["total"] == money("7.94")
    assert service_of(http, w)["plan_id"] == "data-10go-4g"


@pytest.mark.parametrize(
    ("plan_id", "changes", "expected"),
    [
        (
            "data-10go-4g",
            {"radio": "5G"},
            line("proration", "Prorata passage 4G → 5G (Data Mobile 10 Go 5G), 7/28 jours", "0.63"),
        ),  # 0.625 half up
        (
            "data-10go-5g",
            {"radio": "4G"},
            line("proration", "Avoir prorata passage 5G → 4G (Data Mobile 10 Go 4G), 7/28 jours", "-0.63"),
        ),  # away from 0
        (
            "data-10go-4g",
            {"plan_id": "data-30go-5g"},
            line("proration", "Prorata Data Mobile 30 Go 5G, 7/28 jours", "2.88"),
        ),  # 11.50 × 7/28 = 2.875
    ],
)
def test_half_a_cent_rounds_half_up_in_a_28_day_february(http, plan_id, changes, expected):
    set_clock(http, "2027-02-22T12:00:00+01:00")
    w = world(http, plan_id=plan_id, activated_on="2027-01-01")
    assert ok(quote(http, w, changes))["charges"] == [expected]


def test_a_radio_change_through_plan_id_is_a_radio_change(http):
    w = world(http)
    body = ok(quote(http, w, {"plan_id": "data-10go-5g"}))
    assert body["charges"] == [line("proration", "Prorata passage 4G → 5G (Data Mobile 10 Go 5G), 15/30 jours", "1.25")]
    assert body["quota_after_bytes"] == 10 * GIB


def test_mno_change_costs_the_fee_and_moves_the_line(http):
    w = world(http)
    done = apply_change(http, w, {"network": "sfr"})
    assert done["quote"] == {
        "charges": [line("fee", "Changement d'opérateur support (Orange → SFR)", "10.00")],
        "total": money("10.00"),
        "quota_after_bytes": 10 * GIB,
        "notice": REBOOT,
    }
    assert service_of(http, w)["network"] == "sfr"
    lines = charges_of(http, w)["lines"]
    assert [(c["kind"], c["amount"], c["change_request_id"]) for c in lines] == [
        ("recurring", money("6.00"), None),
        ("fee", money("10.00"), done["id"]),
    ]


def test_apn_change_alone_is_free(http):
    w = world(http)
    done = apply_change(http, w, {"apn": "m2m.entreprise"})
    assert done["quote"] == {"charges": [], "total": money("0.00"), "quota_after_bytes": 10 * GIB, "notice": REBOOT}
    after = service_of(http, w)
    assert (after["apn"], after["plan_id"], after["network"]) == ("m2m.entreprise", "data-10go-4g", "orange")
    charges = charges_of(http, w)
    assert [c["kind"] for c in charges["lines"]] == ["recurring"]
    assert charges["total"] == money("6.00")


def test_several_items_in_one_request_give_a_proration_and_one_fee(http):
    w = world(http)
    done = apply_change(http, w, {"plan_id": "data-30go-5g", "network": "sfr", "apn": "vpn.entreprise"})
    assert done["quote"]["charges"] == [
        line("proration", "Prorata Data Mobile 30 Go 5G, 15/30 jours", "5.75"),
        line("fee", "Changement d'opérateur support (Orange → SFR)", "10.00"),
    ]
    assert done["quote"]["total"] == money("15.75")
    assert done["quote"]["quota_after_bytes"] == 40 * GIB
    after = service_of(http, w)
    assert (after["plan_id"], after["radio"], after["network"], after["apn"]) == (
        "data-30go-5g",
        "5G",
        "sfr",
        "vpn.entreprise",
    )
    assert after["quota"]["total_bytes"] == 40 * GIB
    charges = charges_of(http, w)
    assert charges["total"] == money("21.75")
    assert sorted(c["change_request_id"] or "-" for c in charges["lines"]) == sorted(["-", done["id"], done["id"]])


def test_metered_ceiling_change_is_applied(http):
    w = world(http, plan_id="compteur-4g")
    ok(http.post(f"/api/v1/admin/services/{w.service['id']}/usage", json={"bytes": 5 * GIB}, headers=OPERATOR))
    assert service_of(http, w)["status"] == "barred"
    done = apply_change(http, w, {"ceiling_bytes": 10 * GIB})
    assert done["quote"] == {"charges": [], "total": money("0.00"), "quota_after_bytes": 10 * GIB, "notice": REBOOT}
    after = service_of(http, w)
    assert (after["ceiling_bytes"], after["status"]) == (10 * GIB, "active")
    assert after["quota"] == {"total_bytes": 10 * GIB, "used_bytes": 5 * GIB, "remaining_bytes": 5 * GIB}
    w.move_clock(http, "2026-07-01T00:00:00+02:00")  # the new ceiling holds for the next cycles
    assert service_of(http, w)["quota"]["total_bytes"] == 10 * GIB


def test_metered_radio_change_with_a_ceiling(http):
    w = world(http, plan_id="compteur-4g")
    done = apply_change(http, w, {"radio": "5G", "ceiling_bytes": 20 * GIB})
    assert done["quote"]["charges"] == [
        line("proration", "Prorata passage 4G → 5G (Data Mobile au Compteur 5G), 15/30 jours", "0.50")
    ]
    after = service_of(http, w)
    assert (after["plan_id"], after["ceiling_bytes"], after["quota"]["total_bytes"]) == (
        "compteur-5g",
        20 * GIB,
        20 * GIB,
    )


# --- refusals, each leaving everything as it was --------------------------------------------------


REFUSALS = [
    (
        "data-10go-4g",
        {"ceiling_bytes": 10 * GIB},
        422,
        "not-applicable",
        "Le plafond ne s'applique qu'aux offres au compteur.",
    ),
    (
        "data-10go-4g",
        {"plan_id": "compteur-4g"},
        422,
        "not-applicable",
        "Cette offre n'est pas du même type que le service (forfait ou compteur).",
    ),
    (
        "compteur-4g",
        {"plan_id": "data-30go-4g"},
        422,
        "not-applicable",
        "Cette offre n'est pas du même type que le service (forfait ou compteur).",
    ),
    ("data-10go-4g", {"plan_id": "data-12go-4g"}, 422, "no-such-plan", "Cette offre n'existe pas au catalogue."),
    ("data-10go-4g", {"plan_id": "data-30go-4g", "radio": "5G"}, 422, "validation-error", None),
    ("data-10go-4g", {"plan_id": "data-10go-4g"}, 422, "validation-error", "La demande ne change rien au service."),
    (
        "data-10go-4g",
        {"radio": "4G", "network": "orange"},
        422,
        "validation-error",
        "La demande ne change rien au service.",
    ),
    ("data-10go-4g", {"network": "bouygues"}, 422, "validation-error", "Réseau inconnu : bouygues."),
    ("data-10go-4g", {"apn": "internet.perso"}, 422, "validation-error", "APN inconnu : internet.perso."),
    ("data-10go-4g", {"radio": "3G"}, 422, "validation-error", None),
    ("data-10go-4g", {}, 422, "validation-error", "Indiquez au moins un élément à changer."),
    ("data-10go-4g", {"plan_id": None}, 422, "validation-error", "Indiquez au moins un élément à changer."),
    ("data-10go-4g", {"volume": "30 Go"}, 422, "validation-error", None),
    ("compteur-4g", {"ceiling_bytes": 10 * GIB + 1}, 422, "validation-error", None),
    ("compteur-4g", {"ceiling_bytes": 201 * GIB}, 422, "validation-error", None),
    ("compteur-4g", {"ceiling_bytes": 0}, 422, "validation-error", None),
    ("compteur-4g", {"ceiling_bytes": 5 * GIB}, 422, "validation-error", "La demande ne change rien au service."),
    ("compteur-4g", {"ceiling_bytes": "10 GB"}, 422, "validation-error", None),
]


@pytest.mark.parametrize(("plan_id", "changes", "status", "code", "detail"), REFUSALS)
def test_refused_changes_neither_quote_nor_create_and_change_nothing(http, plan_id, changes, status, code, detail):
    w = world(http, plan_id=plan_id)
    before = line_a_state(http, w.account_id)
    for response in (quote(http, w, changes), create(http, w, changes)):
        body = expect_problem(response, status, code)
        if detail:
            assert body["detail"] == detail
    assert line_a_state(http, w.account_id) == before


def test_a_ceiling_below_what_was_already_used_is_refused(http):
    w = world(http, plan_id="compteur-4g")
    ok(http.post(f"/api/v1/admin/services/{w.service['id']}/usage", json={"bytes": 3 * GIB + 5}, headers=OPERATOR))
    before = line_a_state(http, w.account_id)
    body = expect_problem(create(http, w, {"ceiling_bytes": 3 * GIB}), 422, "validation-error")
    assert body["detail"] == "Le plafond ne peut être inférieur à la consommation déjà faite ce mois-ci."
    assert line_a_state(http, w.account_id) == before


@pytest.mark.parametrize(
    "body", [{}, {"changes": None}, {"changes": {"radio": "5G"}, "comment": "vite"}, {"plan_id": "data-30go-4g"}]
)
def test_a_malformed_body_is_a_validation_error(http, body):
    w = world(http)
    before = line_a_state(http, w.account_id)
    for path in ("quotes", "change-requests"):
        expect_problem(
            http.post(f"/api/v1/services/{w.service['id']}/{path}", json=body, headers=w.manager),
            422,
            "validation-error",
        )
    assert line_a_state(http, w.account_id) == before


# --- one request per service per month -------------------------------------------------------------


def test_a_second_request_in_the_month_is_refused_with_the_next_possible_day(http):
    w = world(http)
    apply_change(http, w, {"radio": "5G"})
    before = line_a_state(http, w.account_id)
    response = create(http, w, {"apn": "vpn.entreprise"})
    body = expect_problem(response, 409, "monthly-limit-reached")
    assert body["next_possible_on"] == "2026-07-01"
    assert body["detail"] == (
        "Limite atteinte : 1 demande d'évolution par mois. Nouvelle demande possible à partir du 1er juillet 2026."
    )
    assert line_a_state(http, w.account_id) == before
    # the next month, a new request is allowed, on the same service
    w.move_clock(http, "2026-07-01T00:00:00+02:00")
    done = apply_change(http, w, {"apn": "vpn.entreprise"})
    assert service_of(http, w)["apn"] == "vpn.entreprise"
    assert done["quote"]["total"] == money("0.00")


def test_a_confirmation_charges_the_quote_the_customer_saw_or_is_refused(http):
    w = world(http)
    w.move_clock(http, "2026-06-30T20:00:00+02:00")
    request = ok(create(http, w, {"plan_id": "data-30go-4g"}), 201)
    assert request["quote"]["total"] == money("0.30")  # 9.00 × 1/30
    w.move_clock(http, "2026-07-01T08:00:00+02:00")
    response = confirm(http, request["id"], w.manager)
    if response.status_code == 200:
        charged = [
            c["amount"] for c in charges_of(http, w, "2026-07")["lines"] if c["change_request_id"] == request["id"]
        ]
        assert charged == [c["amount"] for c in request["quote"]["charges"]]
    else:
        assert response.status_code == 409


def test_two_requests_awaiting_confirmation_only_one_can_be_confirmed(http):
    w = world(http)
    first = ok(create(http, w, {"plan_id": "data-30go-4g"}), 201)
    second = ok(create(http, w, {"network": "sfr"}), 201)
    ok(confirm(http, first["id"], w.manager))
    before = line_a_state(http, w.account_id)
    body = expect_problem(confirm(http, second["id"], w.manager), 409, "monthly-limit-reached")
    assert body["next_possible_on"] == "2026-07-01"
    assert line_a_state(http, w.account_id) == before
    assert (
        ok(http.get(f"/api/v1/change-requests/{second['id']}", headers=w.manager))["status"] == "awaiting_confirmation"
    )


def test_the_limit_is_per_service(http):
    w = world(http)
    other = make_service(http, w.account_id, msisdn="+33612345679")
    apply_change(http, w, {"radio": "5G"})
    created = ok(
        http.post(
            f"/api/v1/services/{other['id']}/change-requests", json={"changes": {"radio": "5G"}}, headers=w.manager
        ),
        201,
    )
    assert settled(http, ok(confirm(http, created["id"], w.manager)), w.manager)["status"] == "completed"


# --- cancel ---------------------------------------------------------------------------------------


def test_cancel_then_confirm_or_cancel_again_is_an_invalid_state(http):
    w = world(http)
    request = ok(create(http, w, {"network": "sfr"}), 201)
    cancelled = ok(http.post(f"/api/v1/change-requests/{request['id']}/cancel", headers=w.manager))
    assert cancelled["status"] == "cancelled"
    assert same_instant(cancelled["cancelled_at"], "2026-06-16T09:00:00+02:00")
    assert (cancelled["confirmed_at"], cancelled["completed_at"]) == (None, None)
    before = line_a_state(http, w.account_id)
    expect_invalid_state(confirm(http, request["id"], w.manager), "cancelled")
    expect_invalid_state(http.post(f"/api/v1/change-requests/{request['id']}/cancel", headers=w.manager), "cancelled")
    expect_invalid_state(confirm(http, request["id"], OPERATOR, None), "cancelled")
    assert line_a_state(http, w.account_id) == before
    assert service_of(http, w)["network"] == "orange"


def test_a_completed_request_can_be_neither_confirmed_again_nor_cancelled(http):
    w = world(http)
    done = apply_change(http, w, {"network": "sfr"})
    before = line_a_state(http, w.account_id)
    expect_invalid_state(confirm(http, done["id"], w.manager), "completed")
    expect_invalid_state(http.post(f"/api/v1/change-requests/{done['id']}/cancel", headers=w.manager), "completed")
    assert line_a_state(http, w.account_id) == before
    assert [c["kind"] for c in charges_of(http, w)["lines"]] == ["recurring", "fee"]


def test_an_invalid_state_problem_keeps_its_http_status_member(http):
    w = world(http)
    request = ok(create(http, w, {"network": "sfr"}), 201)
    ok(http.post(f"/api/v1/change-requests/{request['id']}/cancel", headers=w.manager))
    expect_problem(confirm(http, request["id"], w.manager), 409, "invalid-state")
    expect_problem(
        http.post(f"/api/v1/change-requests/{request['id']}/cancel", headers=w.manager), 409, "invalid-state"
    )


def test_a_cancelled_request_leaves_the_months_slot_free(http):
    w = world(http)
    first = ok(create(http, w, {"plan_id": "data-30go-4g"}), 201)
    ok(http.post(f"/api/v1/change-requests/{first['id']}/cancel", headers=w.manager))
    assert service_of(http, w)["changes_left_this_month"] == 1
    second = ok(create(http, w, {"network": "sfr"}), 201)
    assert settled(http, ok(confirm(http, second["id"], w.manager)), w.manager)["status"] == "completed"
    assert service_of(http, w)["changes_left_this_month"] == 0


# --- who may do what ------------------------------------------------------------------------------


def test_a_viewer_can_read_but_neither_create_confirm_nor_cancel(http):
    w = world(http)
    request = ok(create(http, w, {"network": "sfr"}), 201)
    before = line_a_state(http, w.account_id)
    forbidden = [
        create(http, w, {"radio": "5G"}, headers=w.viewer),
        confirm(http, request["id"], w.viewer, "lecture-secret"),
        confirm(http, request["id"], w.viewer, PASSWORD),
        http.post(f"/api/v1/change-requests/{request['id']}/cancel", headers=w.viewer),
    ]
    for response in forbidden:
        body = expect_problem(response, 403, "forbidden")
        assert body["detail"] == "Un lecteur peut consulter mais pas modifier."
    assert line_a_state(http, w.account_id) == before
    assert (
        ok(http.get(f"/api/v1/change-requests/{request['id']}", headers=w.viewer))["status"] == "awaiting_confirmation"
    )
    assert [r["id"] for r in ok(http.get("/api/v1/change-requests", headers=w.viewer))] == [request["id"]]
    ok(http.get(f"/api/v1/accounts/{w.account_id}/charges", headers=w.viewer))


def test_the_operator_token_creates_and_confirms_without_a_password(http):
    w = world(http)
    request = ok(create(http, w, {"network": "sfr"}, headers=OPERATOR), 201)
    assert request["channel"] == "api"
    done = settled(http, ok(confirm(http, request["id"], OPERATOR, None)), OPERATOR)
    assert done["status"] == "completed"
    assert service_of(http, w)["network"] == "sfr"
    events = ok(
        http.get(
            "/api/v1/admin/audit",
            params={"entity_kind": "change_request", "entity_id": request["id"]},
            headers=OPERATOR,
        )
    )
    # the operator did everything it could; only the network's acknowledgement may be the system's
    assert {(e["actor_kind"], e["actor_id"]) for e in events if e["action"] != "change_request.completed"} == {
        ("operator", "operator")
    }
    assert events[-1]["action"] == "change_request.completed"


def test_a_manager_may_confirm_a_request_created_by_the_operator(http):
    w = world(http)
    request = ok(create(http, w, {"apn": "vpn.entreprise"}, headers=OPERATOR), 201)
    assert settled(http, ok(confirm(http, request["id"], w.manager)), w.manager)["status"] == "completed"


# --- reading requests -----------------------------------------------------------------------------


def test_requests_are_listed_and_filtered_by_service_and_status(http):
    w = world(http)
    other = make_service(http, w.account_id, msisdn="+33612345679")
    cancelled = ok(create(http, w, {"network": "sfr"}), 201)
    ok(http.post(f"/api/v1/change-requests/{cancelled['id']}/cancel", headers=w.manager))
    completed = apply_change(http, w, {"radio": "5G"})
    waiting = ok(
        http.post(
            f"/api/v1/services/{other['id']}/change-requests",
            json={"changes": {"apn": "vpn.entreprise"}},
            headers=w.manager,
        ),
        201,
    )

    def ids(**params: str) -> set[str]:
        return {r["id"] for r in ok(http.get("/api/v1/change-requests", params=params, headers=w.manager))}

    assert ids() == {cancelled["id"], completed["id"], waiting["id"]}
    assert ids(service_id=w.service["id"]) == {cancelled["id"], completed["id"]}
    assert ids(service_id=other["id"]) == {waiting["id"]}
    assert ids(status="completed") == {completed["id"]}
    assert ids(status="cancelled") == {cancelled["id"]}
    assert ids(status="awaiting_confirmation") == {waiting["id"]}
    assert ids(service_id=w.service["id"], status="awaiting_confirmation") == set()
    assert ids(status="failed") == set()
    expect_problem(
        http.get("/api/v1/change-requests", params={"status": "done"}, headers=w.manager), 422, "validation-error"
    )
    one = ok(http.get(f"/api/v1/change-requests/{completed['id']}", headers=w.manager))
    assert one == completed | {
        "created_at": one["created_at"],
        "confirmed_at": one["confirmed_at"],
        "completed_at": one["completed_at"],
    }
    for field in (
        "id",
        "service_id",
        "status",
        "changes",
        "quote",
        "channel",
        "created_at",
        "confirmed_at",
        "completed_at",
    ):
        assert field in one
    assert same_instant(one["completed_at"], "2026-06-16T09:00:00+02:00")


def test_the_audit_trail_of_a_confirmed_request(http):
    w = world(http)
    done = apply_change(http, w, {"plan_id": "data-30go-4g"})
    events = ok(
        http.get(
            "/api/v1/admin/audit", params={"entity_kind": "change_request", "entity_id": done["id"]}, headers=OPERATOR
        )
    )
    assert [(e["action"], e["actor_kind"], e["actor_id"], e["channel"]) for e in events][:2] == [
        ("change_request.created", "user", w.manager_id, "api"),
        ("change_request.provisioning", "user", w.manager_id, "api"),
    ]
    # completion is the networks' acknowledgement: the user's own act, or the system's once the network answers
    assert events[2]["action"] == "change_request.completed"
    assert (events[2]["actor_kind"], events[2]["actor_id"]) in (("user", w.manager_id), ("system", "system"))
    assert len(events) == 3
    assert events[0]["after"]["status"] == "awaiting_confirmation"
    assert events[0]["after"]["changes"] == {"plan_id": "data-30go-4g"}
    assert (events[1]["before"], events[1]["after"]) == (
        {"status": "awaiting_confirmation"},
        {"status": "provisioning"},
    )
    assert (events[2]["before"], events[2]["after"]) == ({"status": "provisioning"}, {"status": "completed"})
    for event in events:
        assert same_instant(event["at"], "2026-06-16T09:00:00+02:00")
    service_events = ok(
        http.get(
            "/api/v1/admin/audit", params={"entity_kind": "service", "entity_id": w.service["id"]}, headers=OPERATOR
        )
    )
    changed = [e for e in service_events if e["action"] == "service.changed"]
    assert len(changed) == 1
    assert (changed[0]["actor_kind"], changed[0]["actor_id"], changed[0]["channel"]) == ("user", w.manager_id, "api")
    assert (changed[0]["before"]["plan_id"], changed[0]["after"]["plan_id"]) == ("data-10go-4g", "data-30go-4g")
