"""Property-based fuzzing of the running local API from its own OpenAPI document: whatever the input, no 5xx,
and every response matches the document (status documented, body of the documented schema)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance

from chatwoot_integration.db import Database
from chatwoot_simulator import Simulator, serve
from localdev.server import LocalApiServer, LocalGateway
from tests.api_support import connect_world, make_token

EXAMPLES_PER_OPERATION = 25  # 18 operations: about 450 requests per run


@pytest.fixture
def running_api(gateway: LocalGateway, db: Database, sim: Simulator) -> Iterator[str]:
    with serve(simulator=sim) as chatwoot:
        world = connect_world(db, sim, chatwoot.url, conversations=3)
        assert world.account_id == 1
        server = LocalApiServer(gateway)
        server.start()
        try:
            yield server.url
        finally:
            server.stop()


def test_no_input_breaks_the_api(running_api: str) -> None:
    schema = schemathesis.openapi.from_url(f"{running_api}/openapi.json")
    schema.config.update(base_url=running_api)
    headers = {"Authorization": f"Bearer {make_token(accounts=[1, 2])}"}
    checks = [not_a_server_error, status_code_conformance, response_schema_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 16

    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def exercise(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=checks)

        exercise()
