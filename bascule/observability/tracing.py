"""FastAPI's own OpenTelemetry instrumentation: on when the environment asks for OpenTelemetry, off otherwise.

FastAPI instruments each request (spans, metrics, log records) once an OpenTelemetry provider is configured, and asks
at every request whether one is: three lookups of a global provider, each reading the environment again while none
is set, 31 000 of the 129 000 instructions the front door cost a request (bench/README.md, nineteenth pass).
Bascule's own telemetry (a JSON log line, Prometheus metrics) does not depend on it. So it stays on only when the
process starts with an `OTEL_…` or `FASTAPI_OTEL_…` variable, as `opentelemetry-instrument` and an exporter's set-up
give it; else its check is never made.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi.telemetry import TelemetryConfig

OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def fastapi_telemetry(environ: Mapping[str, str]) -> TelemetryConfig | None:
    """FastAPI's `telemetry` setting for a process started with `environ`: None (its defaults) when OpenTelemetry is
    asked for, else off."""
    if any(name.startswith(("OTEL_", "FASTAPI_OTEL_")) for name in environ):
        return None
    return OFF
