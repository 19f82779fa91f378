"""Isolation: every operation of the OpenAPI document, aimed at another customer's real ids, by every
kind of outsider — anonymous (401), another business account's manager and viewer (404, or 403 for the
operator's endpoints), another prepaid subscriber (404/403), and the account's own viewer for what changes
state (403/404). Never a 2xx that carries the victim's data, and afterwards nothing of the victim changed.

The walk reads the live server's /openapi.json: an operation that appears without a line in OPERATIONS or
EXCLUDED fails the test, so a new endpoint cannot slip past unchecked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bascule.persistence.tables import metadata
from tests.api.helpers import OPERATOR, PASSWORD, make_customer, make_service, ok, set_clock
from tests.support import logins as logins_of
from tests.support.logins import account_user

# Deliberately not walked, each with its reason.
EXCLUDED: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/auth/login"): "public by design (it issues tokens); throttling is tested in test_login_throttle",
    ("POST", "/api/v1/auth/otp"): "public by design; answers alike for any MSISDN (tests/api/test_line_b_auth)",
    ("POST", "/api/v1/auth/logout"): "takes no resource id: it revokes the caller's own token and nothing else",
    ("GET", "/api/v1/catalog"): "the operator's public offer, the same for everyone",
    ("GET", "/api/v1/test/clock"): "test clock: only with BASCULE_TEST_CLOCK=1, never in production",
    ("PUT", "/api/v1/test/clock"): "test clock: only with BASCULE_TEST_CLOCK=1, never in production",
    ("GET", "/healthz"): "liveness probe, no data",
    ("GET", "/readyz"): "readiness probe, no data",
    ("GET", "/metrics"): "Prometheus counters, no customer data",
    ("POST", "/ussd"): "the gateway callback: authenticated by the USSD token and the caller's phone number "
    "(tests/ussd)",
}

OPERATOR_ONLY, READ, WRITE, LIST = "operator", "read", "write", "list"


@dataclass(frozen=True)
class Op:
    kind: str  # OPERATOR_ONLY, READ (a victim's resource), WRITE (changes a victim's resource), LIST (own data)
    line: str = "a"  # "a": business accounts; "b": prepaid lines (msisdn); "ops": neither
    body: Callable[[World], Any] | None = None
    query: Callable[[World], dict[str, str]] | None = None
    service: str = "bundle"  # which of the victim's services a {service_id} names


@dataclass
class World:
    victim_account: str
    victim_manager: dict[str, str]
    victim_viewer: dict[str, str]
    attacker_manager: dict[str, str]
    attacker_viewer: dict[str, str]
    services: dict[str, str]
    awaiting_request: str
    confirmed_request: str
    invoice: dict[str, Any]
    victim_msisdn: str
    attacker_subscriber: dict[str, str]
    catalog: dict[str, Any]
    fingerprints: set[str] = field(default_factory=set)
    batch: str = ""  # a change batch of the victim's, awaiting confirmation

    def free_profiles(self) -> list[str]:
        return [p["id"] for p in self.catalog["profiles"] if p["min_consumption_last_month"] is None]


def _plan(w: World, kind: str) -> str:
    return next(p["id"] for p in w.catalog["plans"] if p["kind"] == kind)


OPERATIONS: dict[tuple[str, str], Op] = {
    # operator endpoints, aimed at the victim where they take an id
    ("GET", "/api/v1/admin/accounts"): Op(OPERATOR_ONLY),
    ("POST", "/api/v1/admin/accounts"): Op(OPERATOR_ONLY, body=lambda w: {"name": "Intrus"}),
    ("GET", "/api/v1/admin/accounts/{account_id}"): Op(OPERATOR_ONLY),
    ("PATCH", "/api/v1/admin/accounts/{account_id}"): Op(
        OPERATOR_ONLY,
        body=lambda w: {"billing_address": {"line1": "1 rue de l'Intrus", "postal_code": "75001", "city": "Paris"}},
    ),
    ("POST", "/api/v1/admin/accounts/{account_id}/users"): Op(
        OPERATOR_ONLY, body=lambda w: {"email": "intrus@example.fr", "password": "intrus-secret", "role": "manager"}
    ),
    ("POST", "/api/v1/admin/services"): Op(
        OPERATOR_ONLY,
        body=lambda w: {
            "account_id": w.victim_account,
            "plan_id": _plan(w, "bundle"),
            "network": "orange",
            "apn": "internet.pro",
            "msisdn": "+33699999999",
        },
    ),
    ("POST", "/api/v1/admin/services/{service_id}/usage"): Op(OPERATOR_ONLY, body=lambda w: {"bytes": 1000}),
    ("GET", "/api/v1/admin/audit"): Op(
        OPERATOR_ONLY, query=lambda w: {"entity_kind": "service", "entity_id": w.services["bundle"]}
    ),
    ("POST", "/api/v1/admin/bill-runs"): Op(OPERATOR_ONLY, body=lambda w: {"period": "2026-06"}),
    ("POST", "/api/v1/admin/subscribers"): Op(
        OPERATOR_ONLY, "b", body=lambda w: {"msisdn": "+2250709999999", "profile_id": w.free_profiles()[0]}
    ),
    ("POST", "/api/v1/admin/subscribers/{msisdn}/recharges"): Op(OPERATOR_ONLY, "b", body=lambda w: {"amount": "1000"}),
    ("POST", "/api/v1/admin/subscribers/{msisdn}/consumptions"): Op(
        OPERATOR_ONLY, "b", body=lambda w: {"amount": "100"}
    ),
    ("GET", "/api/v1/admin/notifications"): Op(OPERATOR_ONLY, "b", query=lambda w: {"to": w.victim_msisdn}),
    ("POST", "/simulated-networks/{network}/work-orders"): Op(
        OPERATOR_ONLY,
        "ops",
        body=lambda w: {"key": "intrus-1", "operation": "apply", "payload": {"msisdn": "+33612345678"}},
    ),
    ("GET", "/simulated-networks/{network}/work-orders"): Op(OPERATOR_ONLY, "ops"),
    ("GET", "/simulated-networks/{network}/work-orders/{work_order_id}"): Op(OPERATOR_ONLY, "ops"),
    ("PUT", "/simulated-networks/{network}/faults"): Op(OPERATOR_ONLY, "ops", body=lambda w: {"refuse": True}),
    # Line A, the victim's account, services, requests and invoices
    ("GET", "/api/v1/services"): Op(LIST, query=lambda w: {"account_id": w.victim_account}),
    ("GET", "/api/v1/services/{service_id}"): Op(READ),
    ("GET", "/api/v1/services/{service_id}/usage"): Op(READ, query=lambda w: {"period": "2026-06"}),
    ("POST", "/api/v1/services/{service_id}/quotes"): Op(READ, body=lambda w: {"changes": {"radio": "5G"}}),
    ("POST", "/api/v1/services/{service_id}/change-requests"): Op(
        WRITE, body=lambda w: {"changes": {"apn": "m2m.entreprise"}}, service="metered"
    ),
    ("POST", "/api/v1/services/{service_id}/topups"): Op(
        WRITE, body=lambda w: {"topup_id": w.catalog["topups"][0]["id"], "password": PASSWORD}
    ),
    ("POST", "/api/v1/services/{service_id}/extensions"): Op(
        WRITE,
        body=lambda w: {"extension_id": w.catalog["extensions"][0]["id"], "password": PASSWORD},
        service="metered",
    ),
    ("POST", "/api/v1/change-requests/{request_id}/confirm"): Op(WRITE, body=lambda w: {"password": PASSWORD}),
    ("POST", "/api/v1/change-requests/{request_id}/cancel"): Op(WRITE),
    ("GET", "/api/v1/change-requests"): Op(LIST, query=lambda w: {"service_id": w.services["bundle"]}),
    ("GET", "/api/v1/change-requests/{request_id}"): Op(READ),
    ("POST", "/api/v1/change-batches"): Op(
        WRITE, body=lambda w: {"service_ids": [w.services["bundle"]], "changes": {"apn": "m2m.entreprise"}}
    ),
    ("GET", "/api/v1/change-batches/{batch_id}"): Op(READ),
    ("POST", "/api/v1/change-batches/{batch_id}/confirm"): Op(WRITE, body=lambda w: {"password": PASSWORD}),
    ("POST", "/api/v1/change-batches/{batch_id}/cancel"): Op(WRITE),
    ("GET", "/api/v1/accounts/{account_id}/charges"): Op(READ, query=lambda w: {"period": "2026-06"}),
    ("GET", "/api/v1/accounts/{account_id}/invoices"): Op(READ),
    ("GET", "/api/v1/invoices/{invoice_id}"): Op(READ),
    ("GET", "/api/v1/invoices/{invoice_id}/pdf"): Op(READ),
    # Line B, the victim's prepaid line
    ("GET", "/api/v1/subscribers/{msisdn}"): Op(READ, "b"),
    ("GET", "/api/v1/subscribers/{msisdn}/profile-options"): Op(READ, "b"),
    ("POST", "/api/v1/subscribers/{msisdn}/profile-migrations"): Op(
        WRITE, "b", body=lambda w: {"profile_id": w.free_profiles()[1]}
    ),
    ("GET", "/api/v1/subscribers/{msisdn}/profile-migrations"): Op(READ, "b"),
}


def _path_values(w: World, op: Op) -> dict[str, str]:
    return {
        "account_id": w.victim_account,
        "service_id": w.services[op.service],
        "request_id": w.awaiting_request,
        "invoice_id": w.invoice["id"],
        "msisdn": w.victim_msisdn,
        "network": "orange",
        "work_order_id": "wo-1",
        "batch_id": w.batch,
    }


def build_world(http: httpx.Client) -> World:
    """Two business accounts with services, requests and an invoice; two prepaid subscribers, logged in."""
    catalog = ok(http.get("/api/v1/catalog"))
    metered = next(p["id"] for p in catalog["plans"] if p["kind"] == "metered")
    victim = make_customer(http, "Victime SA", tag="victim")
    attacker = make_customer(http, "Intrus SARL", tag="attacker")
    services = {
        "bundle": make_service(http, victim.account_id, msisdn="+33612345678")["id"],
        "metered": make_service(http, victim.account_id, plan_id=metered, msisdn="+33612345679")["id"],
    }
    attacker_service = make_service(http, attacker.account_id, msisdn="+33687654321")["id"]
    set_clock(http, "2026-07-02T08:00:00+02:00")
    ok(http.post("/api/v1/admin/bill-runs", json={"period": "2026-06"}, headers=OPERATOR), 201)
    invoices = ok(http.get(f"/api/v1/accounts/{victim.account_id}/invoices", headers=OPERATOR))
    assert len(invoices) == 1, invoices
    # tokens issued at the new instant (those of make_customer would expire during the walk)
    logins = {
        who: account_user(http, email, password)
        for who, email, password in (
            ("vm", "chef-victim@example.fr", PASSWORD),
            ("vv", "lecteur-victim@example.fr", "lecture-secret"),
            ("am", "chef-attacker@example.fr", PASSWORD),
            ("av", "lecteur-attacker@example.fr", "lecture-secret"),
        )
    }
    confirmed = ok(
        http.post(
            f"/api/v1/services/{services['metered']}/change-requests",
            json={"changes": {"apn": "vpn.entreprise"}},
            headers=logins["vm"],
        ),
        201,
    )
    ok(
        http.post(
            f"/api/v1/change-requests/{confirmed['id']}/confirm", json={"password": PASSWORD}, headers=logins["vm"]
        )
    )
    awaiting = ok(
        http.post(
            f"/api/v1/services/{services['bundle']}/change-requests",
            json={"changes": {"radio": "5G"}},
            headers=logins["vm"],
        ),
        201,
    )
    ok(
        http.post(
            f"/api/v1/services/{attacker_service}/change-requests",
            json={"changes": {"radio": "5G"}},
            headers=logins["am"],
        ),
        201,
    )
    free = [p["id"] for p in catalog["profiles"] if p["min_consumption_last_month"] is None]
    victim_msisdn, attacker_msisdn = "+2250701000001", "+2250701000002"
    for msisdn in (victim_msisdn, attacker_msisdn):
        ok(
            http.post("/api/v1/admin/subscribers", json={"msisdn": msisdn, "profile_id": free[0]}, headers=OPERATOR),
            201,
        )
        ok(http.post(f"/api/v1/admin/subscribers/{msisdn}/recharges", json={"amount": "5000"}, headers=OPERATOR), 201)
    ok(
        http.post(
            f"/api/v1/subscribers/{victim_msisdn}/profile-migrations", json={"profile_id": free[1]}, headers=OPERATOR
        ),
        201,
    )
    subscriber = logins_of.subscriber(http, attacker_msisdn)
    batch = ok(
        http.post(
            "/api/v1/change-batches",
            json={"service_ids": [services["bundle"]], "changes": {"network": "sfr"}},
            headers=logins["vm"],
        ),
        201,
    )
    world = World(
        victim.account_id,
        logins["vm"],
        logins["vv"],
        logins["am"],
        logins["av"],
        services,
        awaiting["id"],
        confirmed["id"],
        invoices[0],
        victim_msisdn,
        subscriber,
        catalog,
        batch=batch["id"],
    )
    world.fingerprints = {
        victim.account_id,
        *services.values(),
        "+33612345678",
        "+33612345679",
        awaiting["id"],
        confirmed["id"],
        invoices[0]["id"],
        invoices[0]["number"],
        victim_msisdn,
        "Victime SA",
        "chef-victim@example.fr",
        batch["id"],
        batch["items"][0]["change_request_id"],
    }
    return world


def victim_state(http: httpx.Client, w: World) -> dict[str, Any]:
    """Everything of the victim, read with the operator token."""

    def get(path: str, **params: str) -> Any:
        return ok(http.get(path, params=params, headers=OPERATOR))

    return {
        "services": get("/api/v1/services", account_id=w.victim_account),
        "requests": [get(f"/api/v1/change-requests/{i}") for i in (w.awaiting_request, w.confirmed_request)],
        "batch": get(f"/api/v1/change-batches/{w.batch}"),
        "usage": get(f"/api/v1/services/{w.services['metered']}/usage", period="2026-06"),
        "all_requests": sorted(r["id"] for r in get("/api/v1/change-requests")),
        "charges": [get(f"/api/v1/accounts/{w.victim_account}/charges", period=p) for p in ("2026-06", "2026-07")],
        "invoices": get(f"/api/v1/accounts/{w.victim_account}/invoices"),
        "subscriber": get(f"/api/v1/subscribers/{w.victim_msisdn}"),
        "migrations": get(f"/api/v1/subscribers/{w.victim_msisdn}/profile-migrations"),
        "notifications": get("/api/v1/admin/notifications", to=w.victim_msisdn),
        "accounts": get("/api/v1/admin/accounts"),
        "account": get(f"/api/v1/admin/accounts/{w.victim_account}"),
    }


def row_counts(ctx: Any) -> dict[str, int]:
    with ctx.uow(write=False) as uow:
        return {
            table.name: uow.connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
        }


def operations(http: httpx.Client) -> list[tuple[str, str]]:
    document = ok(http.get("/openapi.json"))
    return sorted(
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    )


def test_every_operation_is_walked_or_excluded_with_a_reason(http):
    served = set(operations(http))
    unlisted = sorted(served - set(OPERATIONS) - set(EXCLUDED))
    assert unlisted == [], (
        "operations neither walked nor excluded — add each to OPERATIONS (with what it "
        f"takes) or to EXCLUDED (with a reason): {unlisted}"
    )
    assert set(OPERATIONS).isdisjoint(EXCLUDED)
    stale = sorted((set(OPERATIONS) | set(EXCLUDED)) - served)
    assert stale == [], f"listed operations the server no longer serves: {stale}"


@dataclass(frozen=True)
class Role:
    name: str
    headers: Callable[[World], dict[str, str]]
    expect: Callable[[Op], set[int] | None]  # None: not walked for this role


def _outsider(op: Op) -> set[int]:
    """Another customer: the operator's endpoints are forbidden, anyone else's resources do not exist."""
    return {403} if op.kind == OPERATOR_ONLY else {404}


def _subscriber(op: Op) -> set[int]:
    if op.kind == OPERATOR_ONLY:
        return {403}
    return {404} if op.line == "b" else {403, 404}


ROLES = [
    Role("anonymous", lambda w: {}, lambda op: {401}),
    Role("other account's manager", lambda w: w.attacker_manager, _outsider),
    Role("other account's viewer", lambda w: w.attacker_viewer, _outsider),
    Role("other prepaid subscriber", lambda w: w.attacker_subscriber, _subscriber),
    Role(
        "the account's own viewer",
        lambda w: w.victim_viewer,
        lambda op: {403, 404} if op.kind in (WRITE, OPERATOR_ONLY) else None,
    ),
]


def _walk(http: httpx.Client, world: World, role: Role, served: list[tuple[str, str]]) -> tuple[int, list[str]]:
    failures: list[str] = []
    walked = 0
    for method, template in served:
        if (method, template) in EXCLUDED:
            continue
        op = OPERATIONS[(method, template)]
        expected = role.expect(op)
        if expected is None:
            continue
        walked += 1
        path = template.format(**_path_values(world, op))
        response = http.request(
            method,
            path,
            headers=role.headers(world),
            json=op.body(world) if op.body else None,
            params=op.query(world) if op.query else None,
        )
        failures += _judge(method, path, response, op, expected, world)
    return walked, failures


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES, ids=[role.name for role in ROLES])
def test_no_outsider_reaches_another_customers_data(http, ctx, role):
    served = operations(http)
    world = build_world(http)
    before, counts_before = victim_state(http, world), row_counts(ctx)
    walked, failures = _walk(http, world, role, served)
    after, counts_after = victim_state(http, world), row_counts(ctx)
    assert walked >= (len(OPERATIONS) if role.name != "the account's own viewer" else 10)
    assert failures == [], f"{role.name}:\n" + "\n".join(failures)
    assert after == before, f"{role.name} changed the victim's data"
    assert counts_after == counts_before, f"{role.name} changed the database"


def _judge(method: str, path: str, response: httpx.Response, op: Op, expected: set[int], w: World) -> list[str]:
    status = response.status_code
    if 200 <= status < 300:
        leaked = sorted(mark for mark in w.fingerprints if mark in response.text)
        if op.kind == LIST and not leaked:
            return []
        return [f"{method} {path} → {status} with the victim's data {leaked}: {response.text[:300]}"]
    if status not in expected:
        return [f"{method} {path} → {status}, expected {sorted(expected)}: {response.text[:300]}"]
    if response.headers.get("content-type", "").split(";")[0] != "application/problem+json":
        return [f"{method} {path} → {status} is not problem+json: {response.headers.get('content-type')}"]
    return []
