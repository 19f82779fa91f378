"""What a change costs through the API, counted (issue 13's target: at most 16 statements in 3 transactions)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from bascule.persistence import identity
from tests.api.helpers import OPERATOR, make_customer, make_service, ok
from tests.support.sql import statements


def _change(http: httpx.Client, engine: Engine, service: dict[str, Any], tag: str) -> tuple[list[str], str]:
    """Create and confirm a 4G → 5G change, each with an Idempotency-Key, as the bench does: the statements the
    server sent (less the catalogue's stamp check, made once a second whatever the request), and the state the
    confirmation answered (its inline completion is written before the answer)."""
    with statements(engine) as sent:
        created = ok(
            http.post(
                f"/api/v1/services/{service['id']}/change-requests",
                json={"changes": {"radio": "5G"}},
                headers={**OPERATOR, "Idempotency-Key": f"{tag}-create"},
            ),
            201,
        )
        confirmed = ok(
            http.post(
                f"/api/v1/change-requests/{created['id']}/confirm",
                json={},
                headers={**OPERATOR, "Idempotency-Key": f"{tag}-confirm"},
            )
        )
    return [sql for sql in sent if "catalog_stamp" not in sql], confirmed["status"]


@pytest.mark.parametrize(("with_manager", "expected"), [(False, 16), (True, 18)])
def test_a_change_through_the_api_costs_sixteen_statements_and_one_more_per_notice(http, ctx, with_manager, expected):
    if with_manager:  # told "confirmée", then "appliquée"
        account_id = make_customer(http).account_id
    else:
        account_id = ok(http.post("/api/v1/admin/accounts", json={"name": "Sans gestionnaire"}, headers=OPERATOR), 201)[
            "id"
        ]
    first, second = (make_service(http, account_id, msisdn=f"+3361234567{n}") for n in (1, 2))
    _change(http, ctx.engine, first, "warm")  # the statements are prepared
    identity._KNOWN_ACCOUNTS.clear()  # as in a fleet of thousands of accounts: this one is new to the process
    sent, status = _change(http, ctx.engine, second, "counted")
    assert status == "completed"
    assert len(sent) == expected
    assert sum(sql.startswith(("INSERT INTO notifications", "insert into notifications")) for sql in sent) == (
        2 if with_manager else 0
    )
