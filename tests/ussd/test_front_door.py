"""The gateway's calls are answered at the front door (`bascule/channels/front_door.py`): ahead of FastAPI's stack,
yet with the request telemetry every request gets (request id, protective headers, log line, metrics)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bascule.channels.front_door import FrontDoor
from bascule.channels.rest.app import create_app
from tests.ops.helpers import captured_logs, sample, samples, wait_for_event
from tests.support.asgi import Judged
from tests.support.servers import live_server
from tests.ussd.conftest import GATEWAY

CALL = {"sessionId": "door-1", "serviceCode": "#121#", "phoneNumber": "+2250799999999", "networkCode": "", "text": ""}


@pytest.fixture
def door(settings, ctx) -> Iterator[tuple[httpx.Client, Judged]]:
    app = create_app(settings, ctx)
    app.middleware_stack = app.build_middleware_stack()
    assert isinstance(app.middleware_stack, FrontDoor)
    judged = app.middleware_stack.app = Judged(app.middleware_stack.app)
    with live_server(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield http, judged


def test_a_call_is_answered_at_the_door_with_its_request_id_headers_log_line_and_metrics(door):
    http, judged = door
    before = samples(http)
    with captured_logs() as logs:
        answer = http.post("/ussd", data=CALL, headers={**GATEWAY, "X-Request-ID": "gw-42"})
        line = wait_for_event(logs, "request", request_id="gw-42")
    assert (answer.status_code, answer.text) == (
        200,
        "END Désolé, ce service est réservé aux abonnés prépayés. Contactez votre service client.",
    )
    assert answer.headers["x-request-id"] == "gw-42"
    assert (answer.headers["content-type"], answer.headers["x-content-type-options"]) == (
        "text/plain; charset=utf-8",
        "nosniff",
    )
    assert (line["method"], line["route"], line["status"]) == ("POST", "/ussd", 200)
    after = samples(http)
    key = {"method": "POST", "route": "/ussd", "status": "200"}
    counted = sample(after, "bascule_http_requests_total", **key) - sample(before, "bascule_http_requests_total", **key)
    assert counted == 1
    assert "POST /ussd" not in judged.paths
    assert judged.paths.count("GET /metrics") == 2  # every other request still goes through FastAPI


def test_an_oversized_call_is_refused_at_the_door_and_other_methods_go_on_to_fastapi(door):
    http, judged = door
    too_big = http.post("/ussd", data={**CALL, "text": "1" * 9000}, headers=GATEWAY)
    assert (too_big.status_code, too_big.text) == (400, "Bad request: request too large")
    assert http.get("/ussd").status_code == 405  # FastAPI's routing answers what the door does not take
    assert judged.paths == ["GET /ussd"]
