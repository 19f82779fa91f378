"""The busiest commands are answered before FastAPI's routing when plainly valid, and FastAPI still judges every
other request to them (`bascule/channels/rest/hot_routes.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bascule.channels.front_door import FrontDoor
from bascule.channels.rest.app import create_app
from bascule.channels.rest.hot_routes import HotRoutes
from tests.api.helpers import OPERATOR, make_customer, make_service, ok
from tests.ops.helpers import captured_logs, wait_for_event
from tests.support.asgi import Judged
from tests.support.servers import live_server


@pytest.fixture
def client(settings, ctx) -> Iterator[tuple[httpx.Client, Judged]]:
    """The application on a server of its own, with a spy between the shortcut and FastAPI's routing."""
    app = create_app(settings, ctx)
    app.middleware_stack = app.build_middleware_stack()
    layer: Any = app.middleware_stack
    while not isinstance(layer, HotRoutes):
        layer = layer.app
    judged = layer.app = Judged(layer.app)
    with live_server(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield http, judged


def test_a_plainly_valid_change_is_answered_before_fastapis_routing(client, ctx):
    http, judged = client
    service = make_service(http, make_customer(http).account_id)
    judged.paths.clear()
    keyed = {**OPERATOR, "Idempotency-Key": "k-1"}
    created = ok(
        http.post(
            f"/api/v1/services/{service['id']}/change-requests", json={"changes": {"radio": "5G"}}, headers=keyed
        ),
        201,
    )
    confirmed = ok(http.post(f"/api/v1/change-requests/{created['id']}/confirm", headers=OPERATOR))
    again = http.post(
        f"/api/v1/services/{service['id']}/change-requests", json={"changes": {"radio": "5G"}}, headers=keyed
    )
    assert (created["status"], confirmed["status"]) == ("awaiting_confirmation", "completed")
    assert (again.status_code, again.headers["idempotent-replayed"], again.json()["id"]) == (201, "true", created["id"])
    assert judged.paths == []


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        ({"changes": {"radio": "6G"}}, OPERATOR, 422, "validation-error"),  # the body's model refuses it
        ({"changes": {"radio": "5G"}}, {"Authorization": "Bearer wrong"}, 401, "unauthenticated"),
        ({"changes": {"radio": "5G"}}, {**OPERATOR, "Idempotency-Key": ""}, 422, "validation-error"),
    ],
)
def test_what_the_shortcut_does_not_recognise_is_judged_by_fastapi(client, ctx, body, headers, status, code):
    http, judged = client
    service = make_service(http, make_customer(http).account_id)
    judged.paths.clear()
    path = f"/api/v1/services/{service['id']}/change-requests"
    refused = http.post(path, json=body, headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (status, code)
    assert refused.headers["content-type"] == "application/problem+json"
    assert judged.paths == [f"POST {path}"]
    assert ok(http.get(f"/api/v1/change-requests?service_id={service['id']}", headers=OPERATOR)) == []


def test_a_body_sent_as_a_form_is_judged_by_fastapi(client, ctx):
    http, judged = client
    service = make_service(http, make_customer(http).account_id)
    judged.paths.clear()
    path = f"/api/v1/services/{service['id']}/change-requests"
    refused = http.post(path, content=b"changes=5G", headers={**OPERATOR, "Content-Type": "text/plain"})
    assert refused.status_code == 422
    assert judged.paths == [f"POST {path}"]


def test_a_hot_route_is_answered_at_the_front_door_and_a_login_goes_through_fastapis_whole_stack(settings, ctx):
    """Ahead of FastAPI's own layers (`channels/front_door.py`): a change's creation never enters FastAPI's stack,
    yet gets the request telemetry (its request id, its log line under the route's template); a login does go
    through the whole stack, where login throttling watches it."""
    app = create_app(settings, ctx)
    app.middleware_stack = app.build_middleware_stack()
    assert isinstance(app.middleware_stack, FrontDoor)
    whole = app.middleware_stack.app = Judged(app.middleware_stack.app)
    with live_server(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        service = make_service(http, make_customer(http).account_id)
        whole.paths.clear()
        path = f"/api/v1/services/{service['id']}/change-requests"
        with captured_logs() as logs:
            created = http.post(path, json={"changes": {"radio": "5G"}}, headers={**OPERATOR, "X-Request-ID": "hot-1"})
            line = wait_for_event(logs, "request", request_id="hot-1")
        login = http.post("/api/v1/auth/login", json={"email": "nobody@example.fr", "password": "wrong-password"})
    assert (created.status_code, created.headers["x-request-id"]) == (201, "hot-1")
    assert (line["route"], line["status"]) == ("/api/v1/services/{service_id}/change-requests", 201)
    assert login.status_code == 401
    assert whole.paths == ["POST /api/v1/auth/login"]
