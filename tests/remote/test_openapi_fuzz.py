"""Schemathesis against the server's own OpenAPI document, over real HTTP: generated requests (valid
and not) must get documented statuses and bodies that match the schema, and never a server error."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from eraser import contract
from tests.support.remote import KEY, make_app, serving

# Hundreds of generated requests against a server with worker processes: the slow tier.
pytestmark = pytest.mark.slow

MAX_EXAMPLES = 40  # per operation; bounded so the suite stays quick

# The document is read from an app built at import; schemathesis.pytest.from_fixture would defer
# this, but it fails under pytest 9 (it reads the removed Function._nodeid).
_doc_dir = tempfile.TemporaryDirectory()
schema = schemathesis.openapi.from_dict(make_app(Path(_doc_dir.name)).openapi())


@pytest.fixture(scope="module")
def origin(tmp_path_factory):
    with serving(make_app(tmp_path_factory.mktemp("fuzz"))) as running:
        yield running


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_server_keeps_its_contract(case, origin):
    # A schema can say "a file", not "a decodable image the same size as the other file", so
    # schema-valid bytes are rightly refused (400/415/422); every other check stays on.
    case.call_and_validate(base_url=origin, headers={contract.KEY_HEADER: KEY}, timeout=30,
                           excluded_checks=[positive_data_acceptance])
