"""Every GraphQL document the Unified client sends, validated against the published WinCC
Unified schema (tests/simulator/data/unified_schema.graphql), not only our simulator's."""

from __future__ import annotations

import pytest
from graphql import parse, validate

from tests.simulator.schema_names import real_schema
from wincc_bridge.dialects import unified

DOCUMENTS = {
    name: value
    for name, value in vars(unified).items()
    if name.isupper()
    and isinstance(value, str)
    and value.startswith(("query", "mutation", "subscription"))
}


def test_the_client_documents_are_found() -> None:
    # login, extendSession, session, tagValues, writeTagValues, browse, activeAlarms, ack,
    # shelve, unshelve, loggedTagValues
    assert len(DOCUMENTS) >= 11, sorted(DOCUMENTS)
    assert "LOGGED_TAG_VALUES" in DOCUMENTS


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_document_is_valid_against_the_published_schema(name: str) -> None:
    errors = validate(real_schema(), parse(DOCUMENTS[name]))
    assert [e.message for e in errors] == []


def test_a_wrong_document_would_be_noticed() -> None:
    errors = validate(real_schema(), parse("query{browse{name extendedSubStatus}}"))
    assert errors
