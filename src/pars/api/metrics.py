"""Prometheus metrics. Each app has its own registry, so several apps in one process (tests)
do not collide. Gauges of stored things (arrests by status, given by the app) are read from the
database at scrape time, so they are right across any number of API processes, through the
health check's short-timeout connections (`pars.api.health.probe_engine`), so a scrape never
waits behind the API's requests."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

log = structlog.get_logger()


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "pars_http_requests",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "pars_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def watch(self, factory: sessionmaker[Session], gauge: StoredGauge) -> None:
        self.registry.register(_Stored(factory, gauge))


@dataclass(frozen=True)
class StoredGauge:
    """A gauge with one label, read at scrape time: ``read`` gives (label value, count) rows."""

    name: str
    documentation: str
    label: str
    read: Callable[[Session], Iterable[tuple[str, int]]]


class _Stored(Collector):
    def __init__(self, factory: sessionmaker[Session], gauge: StoredGauge) -> None:
        self.factory = factory
        self.gauge = gauge

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(self.gauge.name, self.gauge.documentation, labels=[self.gauge.label])
        try:
            with self.factory() as session:
                for value, count in self.gauge.read(session):
                    gauge.add_metric([value], count)
        except SQLAlchemyError as exc:
            # A busy or unreachable database leaves the gauge out; the request metrics still go out.
            log.warning(
                "gauge unavailable", gauge=self.gauge.name, error_type=type(getattr(exc, "orig", None) or exc).__name__
            )
            return
        yield gauge
