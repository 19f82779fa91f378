"""Line A fleets: the listing filtered and paged by MSISDN, its CSV export, a line's usage by day."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from bascule.evolutions import fleet_usecases
from tests.api.helpers import (
    GIB,
    OPERATOR,
    expect_problem,
    login_again,
    make_customer,
    make_service,
    ok,
    set_clock,
)
from tests.api.prepaid_helpers import free_profiles, login, make_subscriber
from tests.support.sql import statements

# msisdn: (plan, network, apn)
LINES = {
    "+33600000001": ("data-10go-4g", "orange", "internet.pro"),
    "+33600000002": ("data-10go-5g", "sfr", "internet.pro"),
    "+33600000003": ("compteur-4g", "orange", "m2m.entreprise"),
    "+33600000012": ("data-30go-4g", "sfr", "vpn.entreprise"),  # barred: its 30 GB used up
    "+33700000005": ("compteur-5g", "orange", "internet.pro"),
}


@dataclass
class Fleet:
    customer: Any
    ids: dict[str, str]  # msisdn → service id
    other_account: str


@pytest.fixture
def fleet(http) -> Fleet:
    customer = make_customer(http)
    ids = {
        msisdn: make_service(http, customer.account_id, plan_id=plan, network=network, apn=apn, msisdn=msisdn)["id"]
        for msisdn, (plan, network, apn) in LINES.items()
    }
    ok(http.post(f"/api/v1/admin/services/{ids['+33600000012']}/usage", json={"bytes": 30 * GIB}, headers=OPERATOR))
    ok(http.post(f"/api/v1/admin/services/{ids['+33600000003']}/usage", json={"bytes": 123_456}, headers=OPERATOR))
    other = make_customer(http, "Voisins SA", tag="b")
    make_service(http, other.account_id, msisdn="+33600000004")
    return Fleet(customer, ids, other.account_id)


def msisdns(http: httpx.Client, headers: dict[str, str], **params: Any) -> list[str]:
    return [line["msisdn"] for line in ok(http.get("/api/v1/services", params=params, headers=headers))]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["+33600000001", "+33600000002", "+33600000003", "+33600000012", "+33700000005"]),
        ({"status": "barred"}, ["+33600000012"]),
        ({"status": "active"}, ["+33600000001", "+33600000002", "+33600000003", "+33700000005"]),
        ({"status": "throttled"}, []),
        ({"kind": "metered"}, ["+33600000003", "+33700000005"]),
        ({"kind": "bundle"}, ["+33600000001", "+33600000002", "+33600000012"]),
        ({"radio": "5G"}, ["+33600000002", "+33700000005"]),
        ({"network": "sfr"}, ["+33600000002", "+33600000012"]),
        ({"network": "bouygues"}, []),
        ({"plan_id": "data-10go-4g"}, ["+33600000001"]),
        ({"plan_id": "data-100go-5g"}, []),
        ({"plan_id": "nothing-like-it"}, []),
        ({"q": "0000001"}, ["+33600000001", "+33600000012"]),  # digits anywhere in the MSISDN
        ({"q": "+337"}, ["+33700000005"]),
        ({"q": "6000 0000 3"}, ["+33600000003"]),  # spaced as read on a bill
        ({"q": "compteur"}, ["+33600000003", "+33700000005"]),  # text in the plan's name
        ({"q": "COMPTEUR 4g"}, ["+33600000003"]),
        ({"q": "10 Go"}, ["+33600000001", "+33600000002"]),
        ({"q": "5G"}, ["+33600000002", "+33700000005"]),
        ({"q": "Zorglub"}, []),
        ({"kind": "bundle", "network": "sfr"}, ["+33600000002", "+33600000012"]),
        ({"radio": "4G", "status": "active", "network": "orange"}, ["+33600000001", "+33600000003"]),
        ({"q": "compteur", "radio": "5G"}, ["+33700000005"]),
        ({"q": "0000001", "status": "barred"}, ["+33600000012"]),
        ({"q": "0000001", "kind": "metered"}, []),
        ({"plan_id": "data-10go-5g", "radio": "4G"}, []),
    ],
)
def test_each_filter_alone_and_combined(http, fleet, params, expected):
    assert msisdns(http, fleet.customer.manager, **params) == expected
    assert msisdns(http, fleet.customer.viewer, **params) == expected
    assert msisdns(http, OPERATOR, account_id=fleet.customer.account_id, **params) == expected


def test_each_line_is_shown_as_on_its_own(http, fleet):
    listed = ok(http.get("/api/v1/services", headers=fleet.customer.manager))
    assert listed == [
        ok(http.get(f"/api/v1/services/{fleet.ids[line['msisdn']]}", headers=fleet.customer.manager)) for line in listed
    ]
    barred = next(line for line in listed if line["msisdn"] == "+33600000012")
    assert (barred["status"], barred["quota"]) == (
        "barred",
        {"total_bytes": 30 * GIB, "used_bytes": 30 * GIB, "remaining_bytes": 0},
    )


def test_the_operator_sees_every_accounts_lines_by_msisdn(http, fleet):
    assert msisdns(http, OPERATOR) == [
        "+33600000001",
        "+33600000002",
        "+33600000003",
        "+33600000004",
        "+33600000012",
        "+33700000005",
    ]
    assert msisdns(http, OPERATOR, account_id=fleet.other_account) == ["+33600000004"]
    # a customer naming another account still sees its own lines only
    assert msisdns(http, fleet.customer.manager, account_id=fleet.other_account, q="0000004") == []


def test_a_barred_line_whose_month_turned_is_filtered_as_it_is_now(http, fleet):
    set_clock(http, "2026-07-01T00:00:10+02:00")
    manager = login_again(http)
    assert msisdns(http, manager, status="barred") == []
    assert "+33600000012" in msisdns(http, manager, status="active")
    line = ok(http.get(f"/api/v1/services/{fleet.ids['+33600000012']}", headers=manager))
    assert (line["status"], line["cycle"], line["quota"]["used_bytes"]) == (
        "active",
        {"start": "2026-07-01", "end": "2026-07-31"},
        0,
    )


def test_pages_follow_the_link_header_with_the_same_query(http, fleet):
    pages, url = [], "/api/v1/services?network=orange&limit=2"
    while url:
        response = http.get(url, headers=OPERATOR)
        pages.append([line["msisdn"] for line in ok(response)])
        url = _next(response)
        if url:
            assert re.fullmatch(r"/api/v1/services\?network=orange&limit=2&cursor=[A-Za-z0-9_-]+", url), url
    assert pages == [["+33600000001", "+33600000003"], ["+33600000004", "+33700000005"]]


def test_every_page_of_a_customer_walked_by_one(http, fleet):
    pages, url = [], "/api/v1/services?limit=1&kind=bundle"
    while url:
        response = http.get(url, headers=fleet.customer.viewer)
        pages.append([line["msisdn"] for line in ok(response)])
        url = _next(response)
    assert pages == [["+33600000001"], ["+33600000002"], ["+33600000012"]]


def test_a_full_last_page_says_nothing_follows(http, fleet):
    response = http.get("/api/v1/services", params={"limit": 5}, headers=fleet.customer.manager)
    assert len(ok(response)) == 5
    assert "link" not in response.headers
    response = http.get("/api/v1/services", params={"limit": 4}, headers=fleet.customer.manager)
    assert _next(response) is not None


def test_sorted_down_pages_follow_with_the_same_sort(http, fleet):
    pages, url = [], "/api/v1/services?sort=-msisdn&limit=2"
    while url:
        response = http.get(url, headers=fleet.customer.manager)
        pages.append([line["msisdn"] for line in ok(response)])
        url = _next(response)
        if url:
            assert re.fullmatch(r"/api/v1/services\?sort=-msisdn&limit=2&cursor=[A-Za-z0-9_-]+", url), url
    assert pages == [["+33700000005", "+33600000012"], ["+33600000003", "+33600000002"], ["+33600000001"]]
    assert msisdns(http, fleet.customer.manager, sort="msisdn", network="sfr") == ["+33600000002", "+33600000012"]


def test_the_export_follows_the_sort(http, fleet):
    exported = http.get(
        "/api/v1/services",
        params={"sort": "-msisdn", "kind": "metered"},
        headers=fleet.customer.viewer | {"Accept": "text/csv"},
    ).text.splitlines()
    assert [row.split(",")[0] for row in exported[1:]] == ["+33700000005", "+33600000003"]


def _next(response: httpx.Response) -> str | None:
    link = response.headers.get("link")
    if link is None:
        return None
    match = re.fullmatch(r'<([^>]+)>; rel="next"', link)
    assert match, link
    return match.group(1)


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 501},
        {"limit": 0},
        {"limit": "ten"},
        {"cursor": "not a cursor"},
        {"cursor": "%%%"},
        {"cursor": "bm90LWEtY3Vyc29y"},  # "not-a-cursor"
        {"cursor": "KzMzNjAwMDAwMDAxLmRlYWRiZWVm"},  # "+33600000001.deadbeef": a line, but not our check digits
        {"cursor": "x" * 65},
        {"status": "sleeping"},
        {"kind": "prepaid"},
        {"radio": "3G"},
        {"q": ""},
        {"q": "a" * 65},
        {"network": "or\x01ange"},
        {"sort": "plan"},
        {"sort": "msisdn desc"},
    ],
)
def test_bad_pages_and_filters_are_validation_errors(http, fleet, params):
    expect_problem(http.get("/api/v1/services", params=params, headers=fleet.customer.manager), 422, "validation-error")


def test_a_cursor_handed_out_is_accepted_and_a_forged_one_refused(http, fleet):
    response = http.get("/api/v1/services", params={"limit": 500}, headers=fleet.customer.manager)
    assert len(ok(response)) == 5
    first = http.get("/api/v1/services", params={"limit": 2}, headers=fleet.customer.manager)
    cursor = re.search(r"cursor=([A-Za-z0-9_-]+)", first.headers["link"]).group(1)  # type: ignore[union-attr]
    assert msisdns(http, fleet.customer.manager, cursor=cursor) == ["+33600000003", "+33600000012", "+33700000005"]
    body = expect_problem(
        http.get("/api/v1/services", params={"cursor": cursor[:-2]}, headers=fleet.customer.manager),
        422,
        "validation-error",
    )
    assert body["detail"] == "Curseur de pagination invalide : reprenez la liste depuis la première page."


def test_a_page_costs_the_same_few_statements_whatever_its_size(http, ctx, fleet):
    for n in range(100):
        make_service(http, fleet.customer.account_id, msisdn=f"+3361000{n:04d}")

    def page_statements(**params: Any) -> int:
        with statements(ctx.engine) as counted:
            assert len(ok(http.get("/api/v1/services", params=params, headers=OPERATOR))) == params["limit"]
        # Not the page's cost: the process's look at the catalogue's stamp (once a second, before whichever
        # request comes when it is due: on a loaded machine, sometimes this one).
        return len([sql for sql in counted if "catalog_" not in sql])

    assert page_statements(limit=100) == page_statements(limit=10) == 3  # the page, its buckets, its slots
    # filtered on status, also the lines barred last month whose new cycle is not open yet (none here)
    assert page_statements(limit=100, status="active") == page_statements(limit=10, status="active") == 4


# --- CSV -------------------------------------------------------------------------------------------------------

CSV_HEADER = b"msisdn,plan_id,radio,network,apn,status,quota_used_bytes,quota_total_bytes,changes_left_this_month\r\n"


def test_the_csv_export_has_every_matching_line_exactly(http, fleet):
    ok(
        http.post(
            f"/api/v1/services/{fleet.ids['+33600000001']}/change-requests",
            json={"changes": {"apn": "vpn.entreprise"}},
            headers=fleet.customer.manager,
        ),
        201,
    )
    request = ok(http.get("/api/v1/change-requests", headers=fleet.customer.manager))[0]
    ok(
        http.post(
            f"/api/v1/change-requests/{request['id']}/confirm",
            json={"password": fleet.customer.manager_password},
            headers=fleet.customer.manager,
        )
    )
    cursor = re.search(
        r"cursor=([\w-]+)",
        http.get(
            "/api/v1/services",
            params={"limit": 1},  # type: ignore[union-attr]
            headers=fleet.customer.viewer,
        ).headers["link"],
    ).group(1)
    response = http.get(
        "/api/v1/services",
        params={"limit": 1, "cursor": cursor},  # neither applies to an export
        headers=fleet.customer.viewer | {"Accept": "text/csv"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content == CSV_HEADER + (
        b"+33600000001,data-10go-4g,4G,orange,vpn.entreprise,active,0,10737418240,0\r\n"
        b"+33600000002,data-10go-5g,5G,sfr,internet.pro,active,0,10737418240,1\r\n"
        b"+33600000003,compteur-4g,4G,orange,m2m.entreprise,active,123456,5368709120,1\r\n"
        b"+33600000012,data-30go-4g,4G,sfr,vpn.entreprise,barred,32212254720,32212254720,1\r\n"
        b"+33700000005,compteur-5g,5G,orange,internet.pro,active,0,5368709120,1\r\n"
    )
    filtered = http.get(
        "/api/v1/services",
        params={"network": "sfr"},
        headers=fleet.customer.manager | {"Accept": "text/csv, application/json;q=0.5"},
    )
    assert filtered.content == CSV_HEADER + (
        b"+33600000002,data-10go-5g,5G,sfr,internet.pro,active,0,10737418240,1\r\n"
        b"+33600000012,data-30go-4g,4G,sfr,vpn.entreprise,barred,32212254720,32212254720,1\r\n"
    )
    empty = http.get("/api/v1/services", params={"q": "Zorglub"}, headers=OPERATOR | {"Accept": "text/csv"})
    assert empty.content == CSV_HEADER


def test_the_export_is_read_in_batches_that_meet_exactly(http, fleet, monkeypatch):
    monkeypatch.setattr(fleet_usecases, "EXPORT_BATCH", 2)
    exported = http.get("/api/v1/services", headers=OPERATOR | {"Accept": "text/csv"}).text.splitlines()
    assert [row.split(",")[0] for row in exported[1:]] == [
        "+33600000001",
        "+33600000002",
        "+33600000003",
        "+33600000004",
        "+33600000012",
        "+33700000005",
    ]
    monkeypatch.setattr(fleet_usecases, "EXPORT_BATCH", 3)
    exported = http.get(
        "/api/v1/services", params={"kind": "bundle"}, headers=fleet.customer.manager | {"Accept": "text/csv"}
    ).text.splitlines()
    assert [row.split(",")[0] for row in exported[1:]] == ["+33600000001", "+33600000002", "+33600000012"]


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "*/*",
        "application/json",
        "application/json, text/csv",
        "text/*;q=0.5, application/json",
        "text/csv;q=0, */*",
    ],
)
def test_json_unless_csv_is_preferred(http, fleet, accept):
    headers = fleet.customer.manager | ({"Accept": accept} if accept else {})
    response = http.get("/api/v1/services", headers=headers)
    assert response.headers["content-type"] == "application/json"
    assert len(response.json()) == 5


def test_the_export_is_refused_before_it_starts(http, fleet):
    expect_problem(http.get("/api/v1/services", headers={"Accept": "text/csv"}), 401, "unauthenticated")
    make_subscriber(http, "+2250701000001", free_profiles(http)[0]["id"])
    subscriber = login(http, "+2250701000001")
    body = expect_problem(http.get("/api/v1/services", headers=subscriber | {"Accept": "text/csv"}), 403, "forbidden")
    assert body["detail"] == "Réservé aux comptes entreprise."


# --- usage by day ----------------------------------------------------------------------------------------------


def usage(http: httpx.Client, service_id: str, headers: dict[str, str], period: str | None = None) -> Any:
    params = {"period": period} if period else {}
    return ok(http.get(f"/api/v1/services/{service_id}/usage", params=params, headers=headers))


def record(http: httpx.Client, service_id: str, used: int, at: str) -> None:
    ok(http.post(f"/api/v1/admin/services/{service_id}/usage", json={"bytes": used, "at": at}, headers=OPERATOR))


def test_usage_is_summed_per_day_of_the_accounts_zone(http, fleet):
    line = fleet.ids["+33600000003"]
    set_clock(http, "2026-07-10T12:00:00+02:00")
    manager = login_again(http)
    record(http, line, 1_000, "2026-06-30T21:59:59Z")  # 23:59:59 in Paris: still the 30th of June
    record(http, line, 2_000, "2026-06-30T23:30:00Z")  # 01:30 on the 1st of July in Paris
    record(http, line, 30, "2026-07-01T00:00:00+02:00")
    record(http, line, 400, "2026-07-09T23:59:59.999999+02:00")
    record(http, line, 5, "2026-07-10T00:00:00+02:00")
    july = usage(http, line, manager)
    assert july["period"] == "2026-07"
    assert [day["date"] for day in july["days"]] == [f"2026-07-{d:02d}" for d in range(1, 32)]
    by_day = {day["date"]: day["bytes"] for day in july["days"] if day["bytes"]}
    assert by_day == {"2026-07-01": 2_030, "2026-07-09": 400, "2026-07-10": 5}
    assert july["total_bytes"] == 2_435
    june = usage(http, line, manager, "2026-06")
    assert len(june["days"]) == 30
    assert {day["date"]: day["bytes"] for day in june["days"] if day["bytes"]} == {
        "2026-06-16": 123_456,
        "2026-06-30": 1_000,
    }
    assert june["total_bytes"] == 124_456
    assert usage(http, line, manager, "2026-05")["total_bytes"] == 0


def test_usage_days_across_the_autumn_clock_change_in_paris(http, fleet):
    line = fleet.ids["+33600000001"]
    set_clock(http, "2026-11-02T12:00:00+01:00")
    manager = login_again(http)
    # 25 October 2026 lasts 25 hours in Paris: 00:00 is 22:00 UTC the day before, 24:00 is 23:00 UTC.
    record(http, line, 1, "2026-10-24T21:59:59Z")  # 23:59:59 CEST on the 24th
    record(http, line, 10, "2026-10-24T22:00:00Z")  # midnight CEST: the 25th
    record(http, line, 100, "2026-10-25T00:30:00Z")  # 02:30 CEST, the first time
    record(http, line, 1_000, "2026-10-25T01:30:00Z")  # 02:30 CET, the second time
    record(http, line, 10_000, "2026-10-25T22:59:59Z")  # 23:59:59 CET on the 25th
    record(http, line, 100_000, "2026-10-25T23:00:00Z")  # midnight CET: the 26th
    record(http, line, 7, "2026-10-31T22:59:00Z")  # 23:59 on the 31st: still October
    record(http, line, 9, "2026-10-31T23:00:00Z")  # the 1st of November
    october = usage(http, line, manager, "2026-10")
    by_day = {day["date"]: day["bytes"] for day in october["days"] if day["bytes"]}
    assert by_day == {"2026-10-24": 1, "2026-10-25": 11_110, "2026-10-26": 100_000, "2026-10-31": 7}
    assert (len(october["days"]), october["total_bytes"]) == (31, 111_118)
    assert usage(http, line, manager, "2026-11")["days"][0] == {"date": "2026-11-01", "bytes": 9}


def test_usage_days_on_the_spring_clock_change_in_new_york(http):
    account = ok(
        http.post("/api/v1/admin/accounts", json={"name": "NY", "timezone": "America/New_York"}, headers=OPERATOR), 201
    )
    line = make_service(http, account["id"], msisdn="+12125550100")["id"]
    record(http, line, 3, "2026-03-08T04:59:59Z")  # 23:59:59 EST on the 7th
    record(http, line, 4, "2026-03-08T05:00:00Z")  # midnight EST: the 8th, 23 hours long
    record(http, line, 5, "2026-03-09T03:59:59Z")  # 23:59:59 EDT on the 8th
    record(http, line, 6, "2026-03-09T04:00:00Z")  # midnight EDT: the 9th
    march = usage(http, line, OPERATOR, "2026-03")
    assert {day["date"]: day["bytes"] for day in march["days"] if day["bytes"]} == {
        "2026-03-07": 3,
        "2026-03-08": 9,
        "2026-03-09": 6,
    }


def test_the_current_cycle_by_default_and_leap_february(http, fleet):
    line = fleet.ids["+33600000002"]
    assert usage(http, line, fleet.customer.manager)["period"] == "2026-06"
    assert len(usage(http, line, fleet.customer.manager, "2028-02")["days"]) == 29
    assert len(usage(http, line, fleet.customer.manager, "2027-02")["days"]) == 28


@pytest.mark.parametrize("period", ["2026-13", "2026-6", "202606", "juin", "2026-06-01", "0001-01", "9999-12", ""])
def test_a_malformed_period_is_a_validation_error(http, fleet, period):
    expect_problem(
        http.get(
            f"/api/v1/services/{fleet.ids['+33600000002']}/usage",
            params={"period": period},
            headers=fleet.customer.manager,
        ),
        422,
        "validation-error",
    )


def test_another_accounts_usage_is_not_found(http, fleet):
    theirs = make_customer(http, "Autres", tag="c")
    for path in (f"/api/v1/services/{fleet.ids['+33600000002']}/usage", "/api/v1/services/svc_nope/usage"):
        expect_problem(http.get(path, headers=theirs.manager), 404, "not-found")
