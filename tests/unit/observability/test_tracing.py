"""FastAPI's own OpenTelemetry instrumentation: on when the environment asks for OpenTelemetry, else off."""

from __future__ import annotations

import os

import pytest

from bascule.observability.tracing import OFF, fastapi_telemetry


def test_without_an_opentelemetry_variable_fastapi_s_instrumentation_is_off() -> None:
    assert fastapi_telemetry({"PATH": "/usr/bin", "BASCULE_DATABASE_URL": "sqlite://", "OTELX": "1"}) == OFF
    assert OFF == {"tracing": False, "metrics": False, "logs": False}


@pytest.mark.parametrize("name", ["OTEL_SERVICE_NAME", "OTEL_EXPORTER_OTLP_ENDPOINT", "FASTAPI_OTEL_AUTO_CONFIGURE"])
def test_an_opentelemetry_variable_keeps_fastapi_s_defaults(name: str) -> None:
    assert fastapi_telemetry({"PATH": "/usr/bin", name: "x"}) is None


def test_the_application_looks_for_a_provider_only_when_asked_to(monkeypatch: pytest.MonkeyPatch) -> None:
    from opentelemetry import trace

    from bascule.bootstrap import build_context
    from bascule.channels.rest.app import create_app
    from bascule.settings import Settings
    from tests.ops.helpers import asgi_get

    looks: list[bool] = []
    provider = trace.get_tracer_provider

    def counted() -> trace.TracerProvider:
        looks.append(True)
        return provider()

    monkeypatch.setattr(trace, "get_tracer_provider", counted)
    for name in [n for n in os.environ if n.startswith(("OTEL_", "FASTAPI_OTEL_"))]:
        monkeypatch.delenv(name)
    settings = Settings(database_url="sqlite://")
    ctx = build_context(settings)
    try:
        quiet = create_app(settings, ctx)
        assert asgi_get(quiet, "/healthz").status_code == 200
        assert looks == []
        monkeypatch.setenv("OTEL_SERVICE_NAME", "bascule")
        asked = create_app(settings, ctx)
        assert asgi_get(asked, "/healthz").status_code == 200
        assert looks == [True]  # FastAPI's own look, at each request: no provider is configured here
    finally:
        ctx.dispose()
