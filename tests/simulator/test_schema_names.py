"""The simulator's GraphQL schema against the published WinCC Unified interface.

tests/simulator/data/ holds the published names twice: as a schema file (for validating
documents) and as a flat list (for reading a difference). Both must agree, and the
simulator must serve exactly those names, type by type.
"""

from __future__ import annotations

import pytest

from tests.simulator.schema_names import real_names, real_schema, schema_names
from wincc_sim.unified import SCHEMA


def test_the_two_copies_of_the_published_names_agree():
    assert schema_names(real_schema()) == real_names()


@pytest.mark.parametrize("type_name", sorted(real_names()))
def test_the_simulator_serves_each_published_type_as_published(type_name):
    ours = schema_names(SCHEMA)
    assert ours.get(type_name) == real_names()[type_name]


def test_the_simulator_serves_no_type_the_published_schema_lacks():
    assert sorted(set(schema_names(SCHEMA)) - set(real_names())) == []


def test_a_drift_is_noticed():
    """A renamed enum value (as the simulator once had) shows as a difference."""
    names = real_names()
    names["QualitySubStatus"]["values"][12] = "RANGE_LIMIT_EXCEEDS"
    assert names["QualitySubStatus"] != schema_names(SCHEMA)["QualitySubStatus"]
