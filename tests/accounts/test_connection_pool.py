"""Requests never wait on a pooled connection while holding another: more concurrent requests than connections
still all get their answer (authorize() and the audit log write on a second connection of their own)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from fusioncare.db import make_engine
from fusioncare.main import create_app
from tests.support import LiveServer

CLIENTS = 12


def test_more_concurrent_audited_reads_than_pooled_connections_all_succeed(settings, clean_engine, make_person,
                                                                           saved_assessment, bearer):
    people = [make_person(f"reader{i}") for i in range(CLIENTS)]
    records = [saved_assessment(person) for person in people]
    tokens = [bearer(person) for person in people]
    # Two connections for twelve request threads: holding one while waiting for another would starve the pool.
    small_pool = make_engine(clean_engine.url.render_as_string(hide_password=False), pool_size=2, max_overflow=0,
                             pool_timeout=10)
    barrier = threading.Barrier(CLIENTS)

    def read(index: int) -> list[int]:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            barrier.wait()
            return [http.get(f"/api/v1/assessments/{records[index]}", headers=tokens[index]).status_code,
                    http.get("/api/v1/appointments", headers=tokens[index]).status_code]

    try:
        with LiveServer(create_app(settings, engine=small_pool)) as server, ThreadPoolExecutor(CLIENTS) as pool:
            statuses = [s for pair in pool.map(read, range(CLIENTS)) for s in pair]
    finally:
        small_pool.dispose()
    assert statuses == [200] * (2 * CLIENTS)
