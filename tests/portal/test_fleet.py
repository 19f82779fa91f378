"""Centre d'Opérations for fleets over HTTP: the lines list (search, filters and sort in the URL, pages, CSV), a
change batch (quote per line, a refused line and its reason, confirmation, the failed lines quoted again), and a
line's daily usage chart."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pytest

from bascule.channels.portal import fleet as fleet_routes
from tests.api.helpers import OPERATOR, make_service, ok
from tests.portal.helpers import GIB, Business, browser, csrf_of, login_centre, make_business, text_of

LIST = "/centre-operations/services/mobile"
LIMIT_REASON = (
    "Limite atteinte : 1 demande d'évolution par mois. Nouvelle demande possible à partir du 1er juillet 2026."
)
CSV_HEADER = "msisdn,plan_id,radio,network,apn,status,quota_used_bytes,quota_total_bytes,changes_left_this_month"


@dataclass
class Lines:
    business: Business
    bundle: str  # +33612345678, data-10go-4g on Orange, 8 Go used: 5G on SFR costs 1.25 + 10.00 fee
    metered: str  # +33612340001, compteur-4g on Orange: 0.50 + 10.00
    used_slot: str  # +33612340002, data-10go-4g on SFR, its month's change already made


@pytest.fixture
def lines(http: httpx.Client) -> Lines:
    business = make_business(http)
    metered = make_service(http, business.account_id, plan_id="compteur-4g", msisdn="+33612340001")["id"]
    used = make_service(http, business.account_id, msisdn="+33612340002", network="sfr")["id"]
    created = ok(
        http.post(
            f"/api/v1/services/{used}/change-requests", json={"changes": {"apn": "m2m.entreprise"}}, headers=OPERATOR
        ),
        201,
    )
    ok(http.post(f"/api/v1/change-requests/{created['id']}/confirm", json={}, headers=OPERATOR))
    return Lines(business, business.service_id, metered, used)


def numbers(page: httpx.Response) -> list[str]:
    return re.findall(r'<th scope="row" class="fleet-msisdn"><a href="[^"]+">(\+\d+)</a>', page.text)


def test_search_filters_and_sort_stay_in_the_url(http, server_url, lines):
    with browser(server_url) as client:
        login_centre(client, *lines.business.manager)
        assert numbers(client.get(LIST)) == ["+33612340001", "+33612340002", "+33612345678"]
        assert numbers(client.get(LIST, params={"q": "5678"})) == ["+33612345678"]
        assert numbers(client.get(LIST, params={"q": "compteur"})) == ["+33612340001"]
        assert numbers(client.get(LIST, params={"reseau": "sfr"})) == ["+33612340002"]
        assert numbers(client.get(LIST, params={"type": "bundle", "tri": "-msisdn"})) == [
            "+33612345678",
            "+33612340002",
        ]
        filtered = client.get(LIST, params={"type": "bundle", "tri": "-msisdn"})
        # the form shows the filter back, and the export link carries it
        assert re.search(r'<option value="bundle" selected>Forfait</option>', filtered.text)
        assert 'href="/centre-operations/services/mobile/export.csv?type=bundle&amp;tri=-msisdn"' in filtered.text
        assert "Aucune ligne ne correspond à cette recherche." in text_of(client.get(LIST, params={"q": "Zorglub"}))


def test_each_line_shows_its_usage_bar_and_a_used_months_slot_with_the_next_date(http, server_url, lines):
    with browser(server_url) as client:
        login_centre(client, *lines.business.manager)
        listed = client.get(LIST, params={"q": "61234"})
    meters = re.findall(r'<meter min="0" max="(\d+)" value="(\d+)"', listed.text)
    assert meters == [(str(5 * GIB), "0"), (str(10 * GIB), "0"), (str(10 * GIB), str(8 * GIB))]
    text = text_of(listed)
    assert "0 Go / 5 Go" in text
    assert "8 Go / 10 Go" in text
    assert "+33612340002 Data Mobile 10 Go 4G · SFR" in text
    assert "Utilisée — prochaine le 1er juillet 2026" in text
    assert text.count("Disponible") == 2


def test_pages_follow_with_the_same_filter(http, server_url, lines, monkeypatch):
    monkeypatch.setattr(fleet_routes, "PAGE_SIZE", 2)
    with browser(server_url) as client:
        login_centre(client, *lines.business.manager)
        first = client.get(LIST, params={"tri": "-msisdn"})
        assert numbers(first) == ["+33612345678", "+33612340002"]
        following = re.search(r'<a href="([^"]+)" rel="next">Page suivante</a>', first.text)
        assert following is not None
        url = following.group(1).replace("&amp;", "&")
        assert re.fullmatch(r"/centre-operations/services/mobile\?tri=-msisdn&suite=[\w-]+", url)
        second = client.get(url)
        assert numbers(second) == ["+33612340001"]
        assert 'rel="next"' not in second.text
        assert "Première page" in text_of(second)
        stale = client.get(LIST, params={"suite": "pas-un-curseur"})
        assert stale.status_code == 422
        assert "Curseur de pagination invalide" in text_of(stale)


def test_the_csv_export_has_the_filtered_lines(http, server_url, lines):
    with browser(server_url) as client:
        login_centre(client, *lines.business.viewer)
        exported = client.get(f"{LIST}/export.csv", params={"type": "bundle"})
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert exported.text.splitlines() == [
        CSV_HEADER,
        "+33612340002,data-10go-4g,4G,sfr,m2m.entreprise,active,0,10737418240,0",
        "+33612345678,data-10go-4g,4G,orange,internet.pro,active,8589934592,10737418240,1",
    ]


def _quote(client: httpx.Client, data: dict[str, object]) -> httpx.Response:
    token = csrf_of(client.get(LIST))
    return client.post("/centre-operations/lots", data={**data, "csrf_token": token})


def _lines_of(page: httpx.Response) -> list[tuple[str, str, str, str]]:
    rows = re.findall(r'<tr class="fleet-row fleet-line-\w+">(.*?)</tr>', page.text, flags=re.S)
    return [
        tuple(
            re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip().replace("&#39;", "'")
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)
        )
        for row in rows
    ]


def test_a_batch_with_a_refused_line_quoted_confirmed_and_its_line_retried(http, server_url, lines):
    with browser(server_url) as client:
        login_centre(client, *lines.business.manager)
        created = _quote(
            client,
            {"ligne": [lines.bundle, lines.metered, lines.used_slot], "radio_cible": "5G", "reseau_cible": "sfr"},
        )
        assert created.status_code == 303
        batch_url = created.headers["location"]
        quoted = client.get(batch_url)
        assert _lines_of(quoted) == [
            ("+33612345678", "À confirmer", "11,25 € HT", ""),
            ("+33612340001", "À confirmer", "10,50 € HT", ""),
            ("+33612340002", "Refusée", "—", LIMIT_REASON),
        ]
        text = text_of(quoted)
        assert "Total 21,75 € HT" in text
        assert "Confirmer pour 2 lignes" in text
        assert "chb_" not in text  # no internal id shown
        assert "chr_" not in text
        wrong = client.post(f"{batch_url}/confirmer", data={"password": "pas-le-bon", "csrf_token": csrf_of(quoted)})
        assert wrong.status_code == 401
        assert [row[1] for row in _lines_of(wrong)] == ["À confirmer", "À confirmer", "Refusée"]
        done = client.post(
            f"{batch_url}/confirmer", data={"password": lines.business.manager[1], "csrf_token": csrf_of(quoted)}
        )
        assert done.status_code == 303
        outcome = client.get(batch_url)
        assert _lines_of(outcome) == [
            ("+33612345678", "Effectuée", "11,25 € HT", ""),
            ("+33612340001", "Effectuée", "10,50 € HT", ""),
            ("+33612340002", "Refusée", "—", LIMIT_REASON),
        ]
        assert "Résultat de la modification groupée" in text_of(outcome)
        assert "1 ligne : +33612340002." in text_of(outcome)
        retried = client.post(f"{batch_url}/relancer", data={"csrf_token": csrf_of(outcome)})
        assert retried.status_code == 303
        assert retried.headers["location"] != batch_url
        again = client.get(retried.headers["location"])
        assert _lines_of(again) == [("+33612340002", "Refusée", "—", LIMIT_REASON)]
    charges = ok(
        http.get(
            f"/api/v1/accounts/{lines.business.account_id}/charges", params={"period": "2026-06"}, headers=OPERATOR
        )
    )["lines"]
    assert sorted(
        (c["service_id"], c["kind"], c["amount"]["amount"]) for c in charges if c["kind"] in ("proration", "fee")
    ) == sorted(
        [
            (lines.bundle, "proration", "1.25"),
            (lines.bundle, "fee", "10.00"),
            (lines.metered, "proration", "0.50"),
            (lines.metered, "fee", "10.00"),
        ]
    )
    for service, radio, network in (
        (lines.bundle, "5G", "sfr"),
        (lines.metered, "5G", "sfr"),
        (lines.used_slot, "4G", "sfr"),
    ):
        line = ok(http.get(f"/api/v1/services/{service}", headers=OPERATOR))
        assert (line["radio"], line["network"]) == (radio, network)


def test_all_lines_matching_the_filter_and_the_refusals_before_anything_is_made(http, server_url, lines):
    with browser(server_url) as client:
        login_centre(client, *lines.business.manager)
        created = _quote(client, {"tout": "1", "type": "bundle", "apn_cible": "vpn.entreprise"})
        assert _lines_of(client.get(created.headers["location"])) == [
            ("+33612340002", "Refusée", "—", LIMIT_REASON),
            ("+33612345678", "À confirmer", "0,00 € HT", ""),
        ]
        nothing = _quote(client, {"ligne": [lines.bundle]})
        assert nothing.status_code == 422
        assert "Choisissez au moins une modification" in text_of(nothing)
        none_ticked = _quote(client, {"apn_cible": "vpn.entreprise"})
        assert none_ticked.status_code == 422
        assert "Cochez au moins une ligne" in text_of(none_ticked)
        viewer = browser(server_url)
        login_centre(viewer, *lines.business.viewer)
        assert 'name="ligne"' not in viewer.get(LIST).text
        refused = viewer.post(
            "/centre-operations/lots",
            data={"ligne": [lines.bundle], "apn_cible": "vpn.entreprise", "csrf_token": csrf_of(viewer.get(LIST))},
        )
        assert refused.status_code == 403
        viewer.close()
    assert ok(http.get("/api/v1/change-requests", params={"service_id": lines.bundle}, headers=OPERATOR)) != []


def test_another_accounts_batch_is_not_found(http, server_url, lines):
    other = make_business(http, tag="b", msisdn="+33699999999", name="Voisins SA")
    with browser(server_url) as client:
        login_centre(client, *lines.business.manager)
        batch_url = _quote(client, {"ligne": [lines.bundle], "apn_cible": "vpn.entreprise"}).headers["location"]
    with browser(server_url) as stranger:
        login_centre(stranger, *other.manager)
        assert stranger.get(batch_url).status_code == 404
        token = csrf_of(stranger.get(LIST))
        assert (
            stranger.post(
                f"{batch_url}/confirmer", data={"password": other.manager[1], "csrf_token": token}
            ).status_code
            == 404
        )
        assert _quote(stranger, {"ligne": [lines.bundle], "apn_cible": "vpn.entreprise"}).status_code == 404


def test_the_usage_page_draws_a_bar_per_day_and_lists_the_cycles_purchases(http, server_url, lines):
    for at, used in (("2026-06-03T10:00:00+02:00", GIB), ("2026-06-10T23:30:00+02:00", 512 * 1024**2)):
        ok(http.post(f"/api/v1/admin/services/{lines.bundle}/usage", json={"bytes": used, "at": at}, headers=OPERATOR))
    ok(http.post(f"/api/v1/services/{lines.bundle}/topups", json={"topup_id": "recharge-1go"}, headers=OPERATOR), 201)
    with browser(server_url) as client:
        login_centre(client, *lines.business.viewer)
        usage = client.get(f"{LIST}/{lines.bundle}/consommation")
    assert usage.status_code == 200
    bars = re.findall(
        r'<rect class="day-bar" x="(\d+)" y="([\d.]+)" width="10" height="([\d.]+)"><title>([^<]+)', usage.text
    )
    assert len(bars) == 30
    heights = {title: float(height) for _, _, height, title in bars}
    assert heights["16 juin 2026 : 8 Go"] == 60.0
    assert heights["3 juin 2026 : 1 Go"] == 7.5
    assert heights["10 juin 2026 : 512 Mo"] == 3.8
    assert heights["1er juin 2026 : 0 Go"] == 0.0
    text = text_of(usage)
    assert "Consommation par jour, du 1er juin 2026 au 30 juin 2026" in text
    assert "Total du cycle : 9,5 Go" in text
    assert "Reste pour ce cycle : 1,5 Go" in text  # 10 Go + the 1 Go top-up, 9.5 Go used
    assert re.search(r"16 juin 2026 Recharge — [^€]*2,00 € HT", text), text
    assert "<script" not in usage.text.split("<main", 1)[1]  # drawn by the server, no charting script


def test_a_batch_cancelled_from_its_page_leaves_its_lines_as_they_were(http, server_url, lines):
    with browser(server_url) as client:
        login_centre(client, *lines.business.manager)
        batch_url = _quote(client, {"ligne": [lines.bundle], "apn_cible": "vpn.entreprise"}).headers["location"]
        cancelled = client.post(f"{batch_url}/annuler", data={"csrf_token": csrf_of(client.get(batch_url))})
        assert (cancelled.status_code, cancelled.headers["location"]) == (303, batch_url)
        assert _lines_of(client.get(batch_url)) == [("+33612345678", "Annulée", "—", "")]
    requests = ok(http.get("/api/v1/change-requests", params={"service_id": lines.bundle}, headers=OPERATOR))
    assert [request["status"] for request in requests] == ["cancelled"]
    service = ok(http.get(f"/api/v1/services/{lines.bundle}", headers=OPERATOR))
    assert (service["apn"], service["changes_left_this_month"]) == ("internet.pro", 1)
