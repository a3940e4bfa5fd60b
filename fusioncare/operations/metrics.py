"""Prometheus metrics: requests by route template and status class, the database pool, the reminder outbox and
the last successful data import per source.

With several worker processes (``fusioncare serve --workers N``) the metrics use prometheus-client's
multiprocess mode: ``serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory before the workers start,
each worker writes its samples there, and whichever worker answers ``GET /metrics`` adds them all up. The
outbox and import figures are read from the database at scrape time, so they are the same whoever answers.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import weakref
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from fusioncare.operations.logs import RequestContext
from fusioncare.settings import Settings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds: from a cache hit (a few ms) to a slow national search or a PDF (seconds).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

disable_created_metrics()  # the *_created series double the output and no dashboard reads them

REQUESTS = Counter("fusioncare_http_requests", "HTTP requests answered, by route template and status class.",
                   ["method", "route", "status_class"])
LATENCY = Histogram("fusioncare_http_request_duration_seconds",
                    "Time from the request's arrival to the end of its answer, by route template.",
                    ["method", "route", "status_class"], buckets=LATENCY_BUCKETS)
POOL_IN_USE = Gauge("fusioncare_db_pool_connections_in_use", "Database connections checked out of the pool.",
                    ["database"], multiprocess_mode="livesum")
POOL_WAITING = Gauge("fusioncare_db_pool_checkouts_waiting",
                     "Threads inside a pool checkout: waiting for a free connection, or opening one.",
                     ["database"], multiprocess_mode="livesum")


def observe_request(context: RequestContext, status: int, duration_seconds: float) -> None:
    labels = (context.method, context.route, f"{status // 100}xx")
    REQUESTS.labels(*labels).inc()
    LATENCY.labels(*labels).observe(duration_seconds)


# -- the database pool --------------------------------------------------------------------------------------------

_instrumented: weakref.WeakSet[Engine] = weakref.WeakSet()


class MeteredQueuePool(QueuePool):
    """A QueuePool that counts the threads inside a checkout (``_do_get`` is the pool's extension point)."""

    metrics_label = "primary"

    def _do_get(self):
        waiting = POOL_WAITING.labels(self.metrics_label)
        waiting.inc()
        try:
            return super()._do_get()
        finally:
            waiting.dec()


def metered_pool_class(label: str) -> type[QueuePool]:
    """A MeteredQueuePool subclass reporting under ``database=label`` (primary or replica)."""
    return type(f"MeteredQueuePool_{label}", (MeteredQueuePool,), {"metrics_label": label})


def instrument_engine(engine: Engine, *, label: str) -> None:
    """Count the engine's checked-out connections (once per engine, however many apps share it)."""
    if engine in _instrumented:
        return
    _instrumented.add(engine)
    in_use = POOL_IN_USE.labels(label)
    POOL_WAITING.labels(label)  # reported (as 0) even for an engine whose pool class does not count waits

    @event.listens_for(engine, "checkout")
    def _checkout(*_args) -> None:
        in_use.inc()

    @event.listens_for(engine, "checkin")
    def _checkin(*_args) -> None:
        in_use.dec()


# -- figures read from the database at scrape time ----------------------------------------------------------------

class DatabaseCollector(Collector):
    """The reminder outbox and the data imports, read through their domains' service functions."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def collect(self) -> Iterator[Metric]:
        from fusioncare.directory import imports
        from fusioncare.scheduling import outbox

        now = datetime.now(UTC)
        with self.session_factory() as db:
            backlog = outbox.backlog(db=db, now=now)
            runs = [(run.source, run.finished_at.timestamp(), run.counts())
                    for run in imports.last_successful_runs(db=db)]
            db.rollback()
        yield GaugeMetricFamily("fusioncare_outbox_pending",
                                "Outbox e-mails (reminders, appointment messages) not sent yet.", value=backlog.pending)
        yield GaugeMetricFamily("fusioncare_outbox_due", "Outbox e-mails due now and not sent yet.", value=backlog.due)
        oldest = (now - backlog.oldest_due_at).total_seconds() if backlog.oldest_due_at else 0.0
        yield GaugeMetricFamily("fusioncare_outbox_oldest_due_age_seconds",
                                "How long the oldest due, unsent outbox e-mail has been due (0 when none is).",
                                value=max(oldest, 0.0))
        finished = GaugeMetricFamily("fusioncare_import_last_success_timestamp_seconds",
                                     "When the last successful import of each source finished (Unix time).",
                                     labels=["source"])
        counts = GaugeMetricFamily("fusioncare_import_last_success_rows",
                                   "Row counts of the last successful import of each source, by outcome.",
                                   labels=["source", "outcome"])
        for source, finished_at, run_counts in runs:
            finished.add_metric([source], finished_at)
            for outcome, value in run_counts.items():
                counts.add_metric([source, outcome], value)
        yield finished
        yield counts


# -- exposition and access ----------------------------------------------------------------------------------------

def _multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def exposition(session_factory: sessionmaker[Session]) -> bytes:
    """The text format: every process's request and pool metrics, then the database figures."""
    if _multiprocess():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        processes = generate_latest(registry)
    else:
        processes = generate_latest(REGISTRY)
    database = CollectorRegistry()
    database.register(DatabaseCollector(session_factory))
    return processes + generate_latest(database)


LOOPBACK_HOSTS = frozenset({"testclient"})  # Starlette's TestClient peer, which is in-process


def is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def may_read(settings: Settings, *, authorization: str | None, client_host: str | None) -> bool:
    """The configured token opens /metrics anywhere; without it only loopback clients outside production."""
    if settings.metrics_token:
        scheme, _, presented = (authorization or "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(),
                                                              settings.metrics_token.encode()):
            return True
    return not settings.is_production and is_loopback(client_host)


def mark_process_dead(pid: int) -> None:
    """A worker that stops takes its live gauges (pool in use, waiting) out of the sums."""
    if _multiprocess():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def observers() -> list[Callable[[RequestContext, int, float], None]]:
    return [observe_request]
