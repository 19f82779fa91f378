from tests.api.helpers import GIB, make_customer, make_service, ok


def test_a_manager_upgrades_a_plan_at_mid_cycle_as_in_the_seed(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    ok(
        http.post(
            f"/api/v1/admin/services/{service['id']}/usage",
            json={"bytes": 8 * GIB},
            headers={"Authorization": "Bearer test-operator-token"},
        )
    )
    created = ok(
        http.post(
            f"/api/v1/services/{service['id']}/change-requests",
            json={"changes": {"plan_id": "data-30go-4g"}},
            headers=customer.manager,
        ),
        201,
    )
    assert created["quote"]["charges"] == [
        {
            "kind": "proration",
            "description": "Prorata Data Mobile 30 Go 4G, 15/30 jours",
            "amount": {"amount": "4.50", "currency": "EUR"},
        }
    ]
    assert created["quote"]["quota_after_bytes"] == 32 * GIB
    done = ok(
        http.post(
            f"/api/v1/change-requests/{created['id']}/confirm",
            json={"password": "gestion-secret"},
            headers=customer.manager,
        )
    )
    assert done["status"] == "completed"
    after = ok(http.get(f"/api/v1/services/{service['id']}", headers=customer.manager))
    assert after["quota"] == {"total_bytes": 32 * GIB, "used_bytes": 0, "remaining_bytes": 32 * GIB}
    assert after["changes_left_this_month"] == 0
