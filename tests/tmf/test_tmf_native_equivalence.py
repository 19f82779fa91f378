"""The facade is a thin adapter: the same change ordered through TMF622 and through API v1 gives the same
charges, quota and audit trail (only the channel differs)."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.api.helpers import OPERATOR, make_customer, make_service, ok, settled
from tests.tmf.helpers import order_body, place, settled_order

ID = re.compile(r"^(svc|chr|bkt|acc|job|usr)_[0-9a-f]+$")


def _anonymous(value: Any) -> Any:
    """Ids replaced by their kind, so that two services' histories compare."""
    if isinstance(value, dict):
        return {key: _anonymous(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_anonymous(item) for item in value]
    if isinstance(value, str) and ID.match(value):
        return value.split("_")[0]
    return value


def _history(http: httpx.Client, account_id: str, service_id: str, request_id: str) -> dict[str, Any]:
    service = ok(http.get(f"/api/v1/services/{service_id}", headers=OPERATOR))
    charges = ok(http.get(f"/api/v1/accounts/{account_id}/charges", headers=OPERATOR))["lines"]
    audit = [
        event
        for kind, entity in (("service", service_id), ("change_request", request_id))
        for event in ok(
            http.get("/api/v1/admin/audit", params={"entity_kind": kind, "entity_id": entity}, headers=OPERATOR)
        )
    ]
    request = ok(http.get(f"/api/v1/change-requests/{request_id}", headers=OPERATOR))
    return {
        "plan_and_quota": _anonymous({k: v for k, v in service.items() if k not in ("id", "msisdn")}),
        "charges": _anonymous(
            [
                {k: v for k, v in line.items() if k != "service_id"}
                for line in charges
                if line["service_id"] == service_id
            ]
        ),
        "audit": _anonymous([{k: v for k, v in event.items() if k not in ("channel", "entity_id")} for event in audit]),
        "channels": sorted(
            {
                event["channel"]
                for event in audit  # what the change wrote, not the set-up
                if event["entity_kind"] == "change_request" or event["action"] == "service.changed"
            }
        ),
        "request": _anonymous({k: v for k, v in request.items() if k not in ("id", "service_id", "channel")}),
    }


def test_a_tmf_order_and_a_native_change_request_leave_the_same_trace(http: httpx.Client) -> None:
    customer = make_customer(http)
    native = make_service(http, customer.account_id, plan_id="data-10go-4g", msisdn="+33612345601")
    tmf = make_service(http, customer.account_id, plan_id="data-10go-4g", msisdn="+33612345602")
    ok(http.post(f"/api/v1/admin/services/{native['id']}/usage", json={"bytes": 3 * 1024**3}, headers=OPERATOR))
    ok(http.post(f"/api/v1/admin/services/{tmf['id']}/usage", json={"bytes": 3 * 1024**3}, headers=OPERATOR))
    changes = {"plan_id": "data-30go-5g", "network": "sfr"}

    created = ok(
        http.post(f"/api/v1/services/{native['id']}/change-requests", json={"changes": changes}, headers=OPERATOR), 201
    )
    confirmed = settled(
        http, ok(http.post(f"/api/v1/change-requests/{created['id']}/confirm", json={}, headers=OPERATOR)), OPERATOR
    )
    order = settled_order(http, ok(place(http, order_body(tmf["id"], "data-30go-5g", network="sfr")), 201))

    assert (confirmed["status"], order["state"]) == ("completed", "completed")
    by_api = _history(http, customer.account_id, native["id"], created["id"])
    by_tmf = _history(http, customer.account_id, tmf["id"], order["id"])
    # the networks' answers are the provisioning worker's (channel `system`), whoever ordered
    assert [c for c in by_api["channels"] if c != "system"] == ["api"]
    assert [c for c in by_tmf["channels"] if c != "system"] == ["tmf"]
    for part in ("plan_and_quota", "charges", "audit", "request"):
        assert by_tmf[part] == by_api[part], part
    assert [line["kind"] for line in by_tmf["charges"]] == ["recurring", "proration", "fee"]
    assert len(by_tmf["audit"]) >= 4
