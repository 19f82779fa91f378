"""A prepaid subscriber's token reaches no business account's data (found by the isolation walk)."""

from __future__ import annotations

from tests.api.helpers import make_customer, make_service, ok
from tests.api.prepaid_helpers import free_profiles, login, make_subscriber


def test_a_subscriber_lists_no_business_service_nor_request(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    ok(
        http.post(
            f"/api/v1/services/{service['id']}/change-requests",
            json={"changes": {"radio": "5G"}},
            headers=customer.manager,
        ),
        201,
    )
    make_subscriber(http, "+22507000001", free_profiles(http)[0]["id"])
    subscriber = login(http, "+22507000001")
    for path in ("/api/v1/services", "/api/v1/change-requests"):
        refused = http.get(path, headers=subscriber)
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden"), path
        assert service["id"] not in refused.text
    assert http.get(f"/api/v1/services/{service['id']}", headers=subscriber).status_code == 404
