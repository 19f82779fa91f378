"""`model_json` sends the bytes `JSONResponse(model.model_dump(mode="json"))` sent, value for value."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from starlette.responses import JSONResponse

from bascule.channels.rest.mappers import request_out
from bascule.channels.rest.responses import model_json
from bascule.channels.rest.schemas import MoneyOut
from bascule.evolutions.lifecycle import RequestStatus
from bascule.evolutions.model import ChangeRequest
from bascule.kernel.money import Money


def _request(notice: str) -> ChangeRequest:
    at = datetime(2026, 3, 29, 0, 30, 15, 250000, tzinfo=UTC)
    return ChangeRequest(
        id="cr_1",
        service_id="svc_1",
        account_id="acc_1",
        status=RequestStatus.COMPLETED,
        changes={"radio": "5G", "apn": "entreprise.fr"},
        quote={
            "charges": [
                {"kind": "fee", "description": "Frais de changement", "amount": {"amount": "5.00", "currency": "EUR"}}
            ],
            "total": {"amount": "5.00", "currency": "EUR"},
            "quota_after_bytes": 53687091200,
            "notice": notice,
        },
        channel="api",
        actor_kind="operator",
        actor_id="ops",
        slot_period="2026-03",
        created_at=at,
        confirmed_at=at,
        completed_at=at,
    )


def test_a_change_request_is_written_byte_for_byte_as_before() -> None:
    model = request_out(_request("Passage en 5G : 5,00 € — « au prorata » ✓"))
    ours = model_json(model, 201, {"Location": "/api/v1/change-requests/cr_1"})
    theirs = JSONResponse(
        model.model_dump(mode="json"), status_code=201, headers={"Location": "/api/v1/change-requests/cr_1"}
    )
    assert ours.body == theirs.body
    assert ours.status_code == 201
    assert ours.headers.items() == theirs.headers.items()
    assert b'"notice":"Passage en 5G : 5,00 \xe2\x82\xac' in ours.body  # UTF-8, not \\u20ac


@given(st.text(), st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False))
def test_any_text_and_amount_come_out_as_json_response_writes_them(text: str, amount: Decimal) -> None:
    model = request_out(_request(text))
    assert model_json(model).body == JSONResponse(model.model_dump(mode="json")).body
    money = MoneyOut.of(Money(amount, "EUR"))
    assert model_json(money).body == JSONResponse(money.model_dump(mode="json")).body
