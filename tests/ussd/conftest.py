"""USSD over HTTP exactly as a gateway plays it (extra live servers with their own settings: `other_server`,
tests/conftest.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import yaml

from bascule.kernel.gsm0338 import fits, is_gsm, septets
from tests.conftest import ADMIN_TOKEN, USSD_TOKEN
from tests.support.redis_dbs import USSD, redis_url

OPERATOR = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
GATEWAY = {"X-USSD-Token": USSD_TOKEN}  # what the operator's USSD gateway sends with every callback
REDIS_URL = redis_url(USSD)  # this worker's own (tests/support/redis_dbs.py)
MSISDN = "+2250701020304"
# The test clock starts on 2026-06-16. Consumption comes after the recharge's bonus credit has expired,
# so that it is all main credit (the only kind eligibility counts).
RECHARGED_ON, CONSUMED_ON = "2026-05-01T10:00:00+00:00", "2026-05-20T10:00:00+00:00"


def screen_of(response: httpx.Response) -> tuple[str, str]:
    """("CON"|"END", screen), after checking what every gateway relies on."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    kind, _, screen = response.text.partition(" ")
    assert kind in ("CON", "END"), response.text
    assert is_gsm(screen), f"not GSM 03.38: {[c for c in screen if not is_gsm(c)]} in {screen!r}"
    assert fits(screen), f"{septets(screen)} septets: {screen!r}"
    return kind, screen


class Gateway:
    """One USSD session: the same sessionId, `text` growing with each input joined by '*'. It sends the USSD
    token of the test settings unless given other headers (`headers={}`: none)."""

    counter = 0

    def __init__(
        self,
        http: httpx.Client,
        msisdn: str = MSISDN,
        service_code: str = "#121#",
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        Gateway.counter += 1
        self.http = http
        self.msisdn = msisdn
        self.service_code = service_code
        self.session_id = f"ATUid_{time.monotonic_ns()}_{Gateway.counter}"
        self.inputs: list[str] = []
        self.params = params or {}
        self.headers = GATEWAY if headers is None else headers

    def post(self, text: str) -> httpx.Response:
        form = {
            "sessionId": self.session_id,
            "serviceCode": self.service_code,
            "phoneNumber": self.msisdn,
            "networkCode": "61201",
            "text": text,
        }
        return self.http.post("/ussd", data=form, params=self.params, headers=self.headers)

    def dial(self) -> tuple[str, str]:
        self.inputs = []
        return screen_of(self.post(""))

    def press(self, *entries: str) -> tuple[str, str]:
        """Each entry is one screen answered; returns the last screen."""
        result = ("", "")
        for entry in entries:
            self.inputs.append(entry)
            result = screen_of(self.post("*".join(self.inputs)))
        return result

    def repeat(self) -> tuple[str, str]:
        """The gateway retries the last request (same text)."""
        return screen_of(self.post("*".join(self.inputs)))


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def add_subscriber(
    http: httpx.Client, msisdn: str = MSISDN, profile_id: str = "novamix", consumed_last_month: int = 0
) -> None:
    """A subscriber who consumed this much main credit last month (recharged just for it)."""
    ok(http.post("/api/v1/admin/subscribers", json={"msisdn": msisdn, "profile_id": profile_id}, headers=OPERATOR), 201)
    if consumed_last_month:
        path = f"/api/v1/admin/subscribers/{msisdn}"
        ok(
            http.post(
                f"{path}/recharges", json={"amount": str(consumed_last_month), "at": RECHARGED_ON}, headers=OPERATOR
            ),
            201,
        )
        ok(
            http.post(
                f"{path}/consumptions", json={"amount": str(consumed_last_month), "at": CONSUMED_ON}, headers=OPERATOR
            ),
            201,
        )


def flushed_redis() -> redis.Redis:
    """This worker's database of the local Redis server, emptied; these tests need the real server."""
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        client.flushdb()
    except redis.ConnectionError as error:
        pytest.fail(f"the USSD session tests need Redis at {REDIS_URL}: {error}")
    return client


@pytest.fixture
def redis_db() -> Iterator[str]:
    client = flushed_redis()
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
def many_profiles_catalog(tmp_path: Path) -> Path:
    """The shipped catalogue plus enough profiles with long names to need three pages; the last one asks for
    50 000 F CFA consumed last month (a refusal on the last page)."""
    from importlib import resources

    document = yaml.safe_load(resources.files("bascule.catalog").joinpath("default.yaml").read_text("utf-8"))
    for number in range(1, 13):
        document["profiles"].append(
            {
                "id": f"extra-{number}",
                "name": f"Profil spécial numéro {number}",
                "description": "Pour les tests.",
                "min_consumption_last_month": "50000" if number == 12 else None,
                "bonuses": [],
            }
        )
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), "utf-8")
    return path
