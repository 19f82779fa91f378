"""Liveness, readiness, Prometheus metrics, and one structured log line per request."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import insert

from bascule.bootstrap import build_context
from bascule.channels.rest.app import create_app
from bascule.channels.rest.hardening import security_headers
from bascule.observability import readiness
from bascule.observability.metrics import HttpMetrics, QueueCollector, build_registry
from bascule.observability.middleware import RequestTelemetryMiddleware
from bascule.persistence import tables as t
from bascule.persistence.engine import make_engine
from tests.api.helpers import OPERATOR, make_customer, make_service, ok
from tests.conftest import START
from tests.ops.helpers import asgi_get, captured_logs, sample, samples, wait_for_event

PROBLEM_JSON = "application/problem+json"


def test_healthz_says_the_process_is_alive(http):
    response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_when_the_database_answers_at_the_head_revision(http):
    response = http.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["schema_revision"] == list(readiness.head_revisions())
    assert len(body["schema_revision"]) == 1


def _app_on(database_url: str, settings, clock) -> FastAPI:
    changed = settings.model_copy(update={"database_url": database_url})
    return create_app(changed, build_context(changed, clock))


def _not_ready(response, detail: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body == {
        "type": "urn:bascule:problem:not-ready",
        "title": "Not ready",
        "status": 503,
        "detail": detail,
        "code": "not-ready",
    }


def test_readyz_is_503_while_the_schema_is_behind(tmp_path, settings, clock):
    app = _app_on(f"sqlite:///{tmp_path / 'empty.db'}", settings, clock)  # never upgraded
    _not_ready(asgi_get(app, "/readyz"), "Le schéma de la base n'est pas à jour (bascule db upgrade).")
    assert asgi_get(app, "/healthz").status_code == 200  # alive all the same


def test_readyz_is_503_when_the_database_does_not_answer(tmp_path, settings, clock):
    app = _app_on(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}", settings, clock)
    _not_ready(asgi_get(app, "/readyz"), "La base de données ne répond pas.")


def _eventually(read, check, timeout: float = 3.0):
    """Metrics and logs are written just after the answer leaves: read again until they show it."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if check(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def test_metrics_count_requests_by_route_template_and_status_with_their_latency(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    before = samples(http)
    for _ in range(3):
        ok(http.get(f"/api/v1/services/{service['id']}", headers=customer.manager))
    http.get("/api/v1/services/svc_nope", headers=customer.manager)
    http.get("/no/such/page")
    route = "/api/v1/services/{service_id}"
    after = _eventually(
        lambda: samples(http),
        lambda s: (
            sample(s, "bascule_http_requests_total", method="GET", route="<unmatched>", status="404")
            > sample(before, "bascule_http_requests_total", method="GET", route="<unmatched>", status="404")
        ),
    )
    key = {"method": "GET", "route": route}
    assert (
        sample(after, "bascule_http_requests_total", **key, status="200")
        - sample(before, "bascule_http_requests_total", **key, status="200")
        == 3
    )
    assert (
        sample(after, "bascule_http_requests_total", **key, status="404")
        - sample(before, "bascule_http_requests_total", **key, status="404")
        == 1
    )
    assert (
        sample(after, "bascule_http_request_duration_seconds_count", **key)
        - sample(before, "bascule_http_request_duration_seconds_count", **key)
        == 4
    )
    assert sample(after, "bascule_http_request_duration_seconds_bucket", **key, le="+Inf") == sample(
        after, "bascule_http_request_duration_seconds_count", **key
    )
    assert (
        sample(after, "bascule_problem_responses_total", code="not-found")
        - sample(before, "bascule_problem_responses_total", code="not-found")
        == 2
    )
    # no raw path (with its ids) ever becomes a label
    assert not [name for name, labels in after if any(service["id"] in v or "svc_nope" in v for _, v in labels)]


def test_metrics_count_refusals_at_a_monthly_limit(http):
    free = [p["id"] for p in ok(http.get("/api/v1/catalog"))["profiles"] if p["min_consumption_last_month"] is None]
    assert len(free) >= 2
    msisdn = "+2250701020399"
    ok(http.post("/api/v1/admin/subscribers", json={"msisdn": msisdn, "profile_id": free[0]}, headers=OPERATOR), 201)
    limit = ok(http.get("/api/v1/catalog"))["policies"]["monthly_migration_limit"]
    before = samples(http)
    path = f"/api/v1/subscribers/{msisdn}/profile-migrations"
    for n in range(limit):
        ok(http.post(path, json={"profile_id": free[(n + 1) % 2]}, headers=OPERATOR), 201)
    refused = http.post(path, json={"profile_id": free[(limit + 1) % 2]}, headers=OPERATOR)
    assert refused.status_code == 409
    assert refused.json()["code"] == "monthly-limit-reached"
    # a replay of the same refusal (Idempotency-Key) is not a second refusal
    keyed = {**OPERATOR, "Idempotency-Key": "limit-replay"}
    for _ in range(2):
        assert http.post(path, json={"profile_id": free[(limit + 1) % 2]}, headers=keyed).status_code == 409
    after = _eventually(
        lambda: samples(http),
        lambda s: sample(s, "bascule_limit_refusals_total") - sample(before, "bascule_limit_refusals_total") >= 2,
    )
    assert sample(after, "bascule_limit_refusals_total") - sample(before, "bascule_limit_refusals_total") == 2
    assert (
        sample(after, "bascule_problem_responses_total", code="monthly-limit-reached")
        - sample(before, "bascule_problem_responses_total", code="monthly-limit-reached")
        == 2
    )


def test_metrics_read_the_queues_from_the_database(http, ctx):
    now = START
    with ctx.uow() as uow:
        for n, (status, attempts) in enumerate(
            [("pending", 0), ("pending", 2), ("running", 1), ("failed", 6), ("succeeded", 1), ("succeeded", 1)]
        ):
            uow.connection.execute(
                insert(t.provisioning_jobs).values(
                    id=f"job_{n}",
                    subject_kind="service",
                    subject_id=f"svc_{n}",
                    network="orange",
                    operation="apply",
                    payload={},
                    status=status,
                    attempts=attempts,
                    max_attempts=6,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
        for n, status in enumerate(["pending", "pending", "sent", "failed"]):
            uow.connection.execute(
                insert(t.notifications).values(
                    id=f"ntf_{n}",
                    channel="sms",
                    to="+2250701020304",
                    body="x",
                    created_at=now,
                    status=status,
                    attempts=1,
                    next_attempt_at=now + timedelta(minutes=1),
                )
            )
        uow.commit()
    values = samples(http)
    assert {
        status: sample(values, "bascule_provisioning_jobs", status=status)
        for status in ("pending", "running", "succeeded", "failed")
    } == {"pending": 2, "running": 1, "succeeded": 2, "failed": 1}
    assert sample(values, "bascule_provisioning_jobs_retrying") == 1
    assert {
        status: sample(values, "bascule_notifications", status=status) for status in ("pending", "sent", "failed")
    } == {"pending": 2, "sent": 1, "failed": 1}


def test_the_queue_metrics_work_before_the_jobs_table_exists(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'partial.db'}")
    t.notifications.create(engine)
    families = {family.name for family in QueueCollector(engine).collect()}
    assert families == {"bascule_notifications"}
    t.provisioning_jobs.create(engine)  # the table arrives: the next scrape shows it
    assert {family.name for family in QueueCollector(engine).collect()} == {
        "bascule_notifications",
        "bascule_provisioning_jobs",
        "bascule_provisioning_jobs_retrying",
    }
    engine.dispose()


def test_metrics_is_prometheus_text(http):
    response = http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert "# TYPE bascule_http_requests_total counter" in response.text
    assert "# TYPE bascule_http_request_duration_seconds histogram" in response.text


def test_each_request_gets_one_json_log_line_with_its_request_id(http):
    customer = make_customer(http)
    with captured_logs() as logs:
        response = http.get("/api/v1/services", headers={**customer.manager, "X-Request-ID": "req-abc.123"})
        assert response.headers["x-request-id"] == "req-abc.123"
        line = wait_for_event(logs, "request", request_id="req-abc.123")
    assert set(line) >= {"request_id", "method", "route", "status", "duration_ms", "level", "timestamp"}
    assert (line["method"], line["route"], line["status"], line["level"]) == ("GET", "/api/v1/services", 200, "info")
    assert isinstance(line["duration_ms"], float)
    assert len([e for e in logs.events("request") if e.get("request_id") == "req-abc.123"]) == 1


def test_a_request_id_is_generated_when_missing_or_unusable(http):
    plain = http.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", plain.headers["x-request-id"])
    assert http.get("/healthz").headers["x-request-id"] != plain.headers["x-request-id"]
    odd = http.get("/healthz", headers={"X-Request-ID": "x" * 200})
    assert re.fullmatch(r"[0-9a-f]{32}", odd.headers["x-request-id"])
    injected = http.get("/healthz", headers={"X-Request-ID": 'a"b\\c{d}'})
    assert re.fullmatch(r"[0-9a-f]{32}", injected.headers["x-request-id"])


def test_a_problem_is_logged_with_its_code(http):
    with captured_logs() as logs:
        response = http.get("/api/v1/services", headers={"X-Request-ID": "anon-1"})
        assert response.status_code == 401
        line = wait_for_event(logs, "request", request_id="anon-1")
    assert (line["status"], line["problem"], line["route"]) == (401, "unauthenticated", "/api/v1/services")


@pytest.fixture
def crashing_app() -> FastAPI:
    app = FastAPI()

    @app.get("/boom/{item}")
    def boom(item: str) -> None:
        raise RuntimeError(f"bug with {item}")

    registry, metrics = build_registry(make_engine("sqlite://"))
    app.state.registry = registry
    app.state.metrics = metrics
    app.add_middleware(RequestTelemetryMiddleware, metrics=metrics, headers=security_headers)
    return app


def test_an_unexpected_error_is_a_500_problem_with_headers_a_log_line_and_a_count(crashing_app):
    metrics: HttpMetrics = crashing_app.state.metrics
    with captured_logs() as logs:
        response = asgi_get(crashing_app, "/boom/42", headers={"X-Request-ID": "crash-1"})
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"] == "internal-error"
    assert response.headers["x-request-id"] == "crash-1"
    assert response.headers["x-content-type-options"] == "nosniff"
    crashed = logs.events("request.crashed")
    assert len(crashed) == 1
    assert "RuntimeError: bug with 42" in crashed[0]["exception"]
    line = next(e for e in logs.events("request") if e.get("request_id") == "crash-1")
    assert (line["status"], line["level"], line["route"]) == (500, "error", "/boom/{item}")
    assert metrics.requests.labels("GET", "/boom/{item}", "500")._value.get() == 1
