"""Prometheus metrics of one application: its own registry (two apps in a process do not collide).

Counted by the request middleware: requests by method, route template and status; their latency;
problem responses by code, and refusals at a monthly limit. Read from the database at each scrape:
the provisioning jobs by status (when the table exists) and the notification outbox by status.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, and_, func, inspect, select

from bascule.persistence import tables as t
from bascule.persistence.uow import UnitOfWork

log = structlog.get_logger("bascule.observability")

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LIMIT_CODE = "monthly-limit-reached"


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "bascule_http_requests", "HTTP requests answered.", ["method", "route", "status"], registry=registry
        )
        self.latency = Histogram(
            "bascule_http_request_duration_seconds",
            "Time to answer an HTTP request.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.problems = Counter(
            "bascule_problem_responses", "Refusals answered as problem+json, by code.", ["code"], registry=registry
        )
        self.limit_refusals = Counter(
            "bascule_limit_refusals", "Requests refused because a monthly limit was reached.", registry=registry
        )

        # The series of each (method, route, status) seen, looked up once: `labels()` takes a lock and checks its
        # values at every call. Routes are templates and statuses few, so this stays small.
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        series = self._series.get((method, route, status))
        if series is None:
            series = (self.requests.labels(method, route, str(status)), self.latency.labels(method, route))
            self._series[(method, route, status)] = series
        series[0].inc()
        series[1].observe(seconds)

    def problem(self, code: str) -> None:
        self.problems.labels(code).inc()
        if code == LIMIT_CODE:
            self.limit_refusals.inc()


class QueueCollector(Collector):
    """Provisioning jobs and outbox messages by status, counted when Prometheus scrapes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._has_jobs = False

    def _jobs_table_exists(self) -> bool:
        if not self._has_jobs:
            with UnitOfWork(self.engine, write=False) as uow:
                self._has_jobs = inspect(uow.connection).has_table(t.provisioning_jobs.name)
        return self._has_jobs

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            yield from self._outbox()
            if self._jobs_table_exists():
                yield from self._jobs()
        except Exception:  # a scrape must answer even while the database is away (see /readyz)
            log.warning("metrics.database_unavailable", exc_info=True)

    def _outbox(self) -> Iterator[GaugeMetricFamily]:
        table = t.notifications
        family = GaugeMetricFamily("bascule_notifications", "Outbox messages by status.", labels=["status"])
        counts = dict.fromkeys(("pending", "sent", "failed"), 0)
        with UnitOfWork(self.engine, write=False) as uow:
            connection = uow.connection
            for status, count in connection.execute(select(table.c.status, func.count()).group_by(table.c.status)):
                counts[status] = int(count)
        for status, count in counts.items():
            family.add_metric([status], count)
        yield family

    def _jobs(self) -> Iterator[GaugeMetricFamily]:
        table = t.provisioning_jobs
        by_status = GaugeMetricFamily("bascule_provisioning_jobs", "Provisioning jobs by status.", labels=["status"])
        retrying = GaugeMetricFamily(
            "bascule_provisioning_jobs_retrying", "Provisioning jobs waiting for another attempt after a failed one."
        )
        counts = dict.fromkeys(("pending", "running", "succeeded", "failed"), 0)
        with UnitOfWork(self.engine, write=False) as uow:
            connection = uow.connection
            for status, count in connection.execute(select(table.c.status, func.count()).group_by(table.c.status)):
                counts[status] = int(count)
            waiting = connection.execute(
                select(func.count()).select_from(table).where(and_(table.c.status == "pending", table.c.attempts > 0))
            ).scalar_one()
        for status, count in counts.items():
            by_status.add_metric([status], count)
        retrying.add_metric([], int(waiting))
        yield by_status
        yield retrying


def build_registry(engine: Engine) -> tuple[CollectorRegistry, HttpMetrics]:
    registry = CollectorRegistry(auto_describe=False)
    metrics = HttpMetrics(registry)
    registry.register(QueueCollector(engine))
    return registry, metrics
