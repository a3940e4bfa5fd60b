"""Schemathesis against the app's own OpenAPI schema: no 5xx and no response that breaks the schema.

Every /api/v1 operation of every domain is one test (so new routes are covered without editing this file),
called anonymously and as a patient (admin routes also as an admin), with a bounded number of generated
examples, on each database. The examples differ from run to run (a fresh seed each run, printed in the run's
header and in a failure; ``FUSIONCARE_FUZZ_SEED=<seed>`` replays that run's examples), so the suite explores more
of each schema over time instead of checking the same ten inputs forever.
"""

from __future__ import annotations

import zlib

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from fusioncare.accounts.models import Role
from fusioncare.db import make_engine
from fusioncare.main import create_app
from fusioncare.settings import Settings
from tests.conftest import FUZZ_SEED

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
MAX_EXAMPLES = 10  # valid and invalid inputs mixed


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every documented operation, read from the app itself at collection time."""
    openapi = create_app(Settings(env="test", secret_key="k" * 40), engine=make_engine("sqlite://")).openapi()
    methods = {"get", "post", "put", "patch", "delete"}
    return sorted((method, path) for path, item in openapi["paths"].items() for method in item if method in methods)


@pytest.mark.parametrize(("method", "path"), _operations(), ids=lambda value: value)
def test_api_operation_answers_within_its_schema_and_never_with_5xx(method, path, app, make_person, bearer):
    # pytest 9 broke schemathesis.pytest.from_fixture, so the strategy is driven by Hypothesis directly.
    operation = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)[path][method.upper()]
    callers = [{}, bearer(make_person("fuzz"))]
    if path.startswith("/api/v1/admin/"):
        callers.append(bearer(make_person("fuzz-admin", role=Role.admin)))

    @seed(FUZZ_SEED ^ zlib.crc32(f"{method} {path}".encode()))  # per operation, so they do not draw alike
    @given(case=st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                          operation.as_strategy(GenerationMode.NEGATIVE)))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def call(case) -> None:
        for headers in callers:
            case.call_and_validate(headers=headers, checks=CHECKS)

    try:
        call()
    except Exception as failure:
        failure.add_note(f"replay these examples with FUSIONCARE_FUZZ_SEED={FUZZ_SEED}")
        raise
