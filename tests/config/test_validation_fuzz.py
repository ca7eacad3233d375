"""Whatever JSON a person writes, the validator answers with sentences and never crashes."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.config.test_validation import ENV, minimal
from wincc_ingest.config import ConfigError, build
from wincc_ingest.config_validation import validate

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def paths(node, prefix=()):
    """Every path into the document, the root included."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from paths(value, (*prefix, index))


ALL_PATHS = list(paths(minimal()))[1:]


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_any_json_document_gets_sentences(document):
    problems = validate(document, ENV)
    assert problems, "a random document is never a valid configuration"
    assert all(isinstance(p, str) and p.startswith("$") and ": " in p for p in problems)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ALL_PATHS), json_values)
def test_one_wrong_value_anywhere_is_reported_or_harmless(path, value):
    data = copy.deepcopy(minimal())
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    problems = validate(data, ENV)
    assert all(p.startswith("$") and ": " in p for p in problems)
    if not problems:
        build(data, environ=ENV)  # a document without problems must build
    else:
        try:
            build(data, environ=ENV)
        except ConfigError as exc:
            assert exc.problems == problems
        else:
            raise AssertionError("build accepted a document with problems")
