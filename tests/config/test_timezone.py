"""A site's `timezone`: the zone its server's times without an offset are read in."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

import pytest

from tests.config.test_loader import write
from tests.config.test_validation import ENV, minimal
from wincc_ingest.config import ConfigError, load
from wincc_ingest.config_validation import validate


def test_a_classic_site_takes_an_iana_zone_for_its_clients(tmp_path):
    data = minimal()
    data["sites"][0]["timezone"] = "Europe/Berlin"
    config = load(write(tmp_path, data), environ=ENV)
    line = config.site("line")
    assert line.timezone == ZoneInfo("Europe/Berlin")
    assert line.connection(environ=ENV).timezone == ZoneInfo("Europe/Berlin")
    assert line.connection(write=True, environ=ENV).timezone == ZoneInfo("Europe/Berlin")
    assert config.site("utilities").connection(environ=ENV).timezone is UTC


@pytest.mark.parametrize(
    ("zone", "sentence"),
    [
        ("Europe/Berlinn", '$.sites[0].timezone: is not an IANA time zone name; use one such as '
                           'Europe/Berlin or UTC (got "Europe/Berlinn")'),
        ("CEST", '$.sites[0].timezone: is not an IANA time zone name; use one such as '
                 'Europe/Berlin or UTC (got "CEST")'),
        ("", '$.sites[0].timezone: is not an IANA time zone name; use one such as '
             'Europe/Berlin or UTC (got "")'),
        (2, "$.sites[0].timezone: must be a string, not a number"),
    ],
)
def test_a_zone_that_does_not_exist_is_a_configuration_error(zone, sentence):
    data = minimal()
    data["sites"][0]["timezone"] = zone
    assert validate(data, ENV) == [sentence]


def test_the_loader_refuses_a_bad_zone_instead_of_reading_times_wrong(tmp_path):
    data = minimal()
    data["sites"][0]["timezone"] = "Mars/Olympus_Mons"
    with pytest.raises(ConfigError, match=r"\$\.sites\[0\]\.timezone: is not an IANA time zone"):
        load(write(tmp_path, data), environ=ENV)


def test_only_classic_sites_take_a_zone(tmp_path):
    data = minimal()
    data["sites"][1]["timezone"] = "Europe/Berlin"
    assert validate(data, ENV) == [
        "$.sites[1].timezone: applies to classic sites only; a rest-v1 site has its own API"
    ]
