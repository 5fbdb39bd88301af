"""Property-based API test: schemathesis generates requests from /openapi.json (in-process).

Schemathesis' pytest plugin does not load under pytest 9, so each operation's Hypothesis
strategy is driven directly.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from test_web import build_web_store  # noqa: E402

from govweibo.web import create_app  # noqa: E402

MAX_EXAMPLES = 30


@pytest.fixture(scope="module")
def web_schema(tmp_path_factory: pytest.TempPathFactory):
    db = build_web_store(tmp_path_factory.mktemp("schema") / "s.duckdb", index_table=True)
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(str(db)))


def _operations(schema) -> list:
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_never_5xx(web_schema, mode: GenerationMode) -> None:
    ops = _operations(web_schema)
    assert len(ops) >= 12
    for op in ops:

        @given(case=op.as_strategy(generation_mode=mode))
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case) -> None:
            response = case.call()
            assert response.status_code < 500, (case.path, case.query, response.text)
            if response.status_code >= 400:
                assert response.json()["detail"], (case.path, case.query)

        try:
            check()
        except Unsatisfiable:
            # Operations without parameters have no invalid (negative) inputs.
            assert mode is GenerationMode.NEGATIVE, op.label


def test_schema_lists_every_api_route(web_schema) -> None:
    paths = set(web_schema.raw_schema["paths"])
    expected = {"/api/overview", "/api/growth", "/api/distribution", "/api/rankings", "/api/runs"}
    expected |= {"/api/accounts", "/api/accounts/{platform}/{account_id}", "/api/quarantine"}
    assert expected <= paths
