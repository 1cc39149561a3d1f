"""Schemathesis over /openapi.json of the served app (stored models, a live bus, a valid API
key): requests generated from every route's schema, valid and not; no reply is a 5xx, and every
reply matches the response schema its route declares."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.web.conftest import Served

pytestmark = pytest.mark.browser
EXAMPLES = 30  # per route


def test_no_route_answers_a_server_error(served: Served) -> None:
    schema = schemathesis.openapi.from_url(f"{served.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 16
    failures = {}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def calls(case: schemathesis.Case) -> None:
            case.call_and_validate(
                headers={"X-API-Key": served.api_key},
                checks=[not_a_server_error, response_schema_conformance],
            )

        try:
            calls()
        except (Exception, BaseExceptionGroup) as exc:  # every route runs; each failure is named
            failures[operation.label] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
