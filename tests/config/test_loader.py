"""Loading the configuration file: broken files give clear errors, good ones the dataclasses."""

from __future__ import annotations

import json

import pytest

from tests.config.test_validation import ENV, minimal
from tests.fixtures.certificates import write_pem
from wincc_ingest.config import ConfigError, load


def write(tmp_path, data, name="wincc.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def test_a_good_file_builds_the_configuration(tmp_path):
    (tmp_path / "certs").mkdir()
    write_pem(tmp_path / "certs" / "line.pem")
    data = minimal()
    data["sites"][0]["tls"] = {"ca_file": "certs/line.pem"}
    data["sites"][0]["url"] = "https://wincc01:34568/"
    data["sites"][0]["ping_tag"] = "Tank_Level"
    data["sites"][0]["tag_archive"] = "ProcessValueArchive"
    data["sites"].append({
        "id": "hmi", "dialect": "unified", "url": "https://hmi01",
        "read_user": {"username": "reader", "password_env": "RO_PASSWORD"},
        "graphql_path": "/graphql/", "browse_object_types": ["TAG", "LOGGINGTAG"],
    })
    config = load(write(tmp_path, data), environ=ENV)
    hmi = config.site("hmi").connection(environ=ENV)
    assert (hmi.graphql_path, hmi.browse_object_types) == ("/graphql/", ("TAG", "LOGGINGTAG"))
    assert config.site("utilities").connection(environ=ENV).graphql_path == "/graphql"

    line = config.site("line")
    assert line.url == "https://wincc01:34568"
    assert line.ca_file == str(tmp_path / "certs" / "line.pem")
    assert line.verify_tls is True and line.insecure is False
    assert line.tag("Tank_Level").limits.hh == 95
    assert line.tag("Setpoint").writable is True and line.tag("Setpoint").write_max == 60
    settings = line.connection(environ=ENV)
    assert (settings.username, settings.password) == ("reader", "ro-secret")
    assert settings.ping_tag == "Tank_Level"
    assert settings.tag_archive == "ProcessValueArchive"
    assert config.site("utilities").connection(environ=ENV).tag_archive == ""
    assert line.connection(write=True, environ=ENV).password == "rw-secret"
    assert config.site("utilities").connection(environ=ENV).token == "ro-token"
    panels = config.dashboard("overview").panels
    assert [p.kind for p in panels] == ["tiles", "trend", "alarms", "site_health"]
    assert panels[1].minutes == 5 and panels[3].sites == ("line", "utilities")


def test_capability_switches_turn_off_what_the_dialect_offers(tmp_path):
    data = minimal()
    data["sites"][1]["alarms"] = False
    data["sites"].append({
        "id": "hmi", "dialect": "unified", "url": "https://hmi01", "acknowledge": False,
        "read_user": {"username": "reader", "password_env": "RO_PASSWORD"},
    })
    config = load(write(tmp_path, data), environ=ENV)
    utilities, hmi = config.site("utilities"), config.site("hmi")
    assert (utilities.alarms, utilities.acknowledge) == (False, True)
    assert not utilities.capabilities().active_alarms
    assert not utilities.capabilities().can_acknowledge("Tank_Level_HH")
    assert utilities.capabilities().why_not_acknowledge("Tank_Level_HH") == (
        "This site's configuration reads no alarm list (alarms: false). Acknowledge it in WinCC.")
    assert hmi.capabilities().active_alarms
    assert not hmi.capabilities().can_acknowledge("Tank_Level_HH")
    assert "turns acknowledging off (acknowledge: false)" in (
        hmi.capabilities().why_not_acknowledge("Tank_Level_HH"))
    # Left out, they take what the dialect offers.
    line = config.site("line")
    assert (line.alarms, line.acknowledge) == (True, True)
    assert config.site("line").capabilities() == line.restrict(line.capabilities())


def test_relative_ca_file_counts_from_the_files_folder_not_the_working_directory(
    tmp_path, monkeypatch
):
    (tmp_path / "conf").mkdir()
    write_pem(tmp_path / "conf" / "ca.pem")
    data = minimal()
    data["sites"][0]["tls"] = {"ca_file": "ca.pem"}
    path = write(tmp_path / "conf", data)
    monkeypatch.chdir(tmp_path)
    assert load(path, environ=ENV).site("line").ca_file == str(tmp_path / "conf" / "ca.pem")


def test_invalid_json_names_line_and_column(tmp_path):
    path = write(tmp_path, '{\n  "sites": [\n    {"id": "a",}\n  ]\n}')
    with pytest.raises(ConfigError) as caught:
        load(path, environ=ENV)
    assert caught.value.problems == [
        "$: not valid JSON at line 3, column 16: Expecting property name enclosed in double "
        "quotes"
    ]
    assert str(path) in str(caught.value)


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path / "nope.json", environ=ENV)
    assert caught.value.problems == ["$: cannot read the file (No such file or directory)"]


def test_the_error_lists_every_problem_with_its_path(tmp_path):
    data = minimal()
    data["sites"][1]["read_user"]["token_env"] = "WINCC_X"
    data["sites"][0]["timeout"] = -1
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as caught:
        load(path, environ=ENV)
    message = str(caught.value)
    assert message == (
        f"configuration {path} has 2 problem(s):\n"
        "  - $.sites[0].timeout: must be greater than 0, not -1\n"
        "  - $.sites[1].read_user.token_env: environment variable WINCC_X is not set"
    )


def test_the_environment_defaults_to_the_process_environment(tmp_path, monkeypatch):
    path = write(tmp_path, minimal())
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    assert load(path).site("line").connection().password == "ro-secret"
    monkeypatch.delenv("RW_PASSWORD")
    with pytest.raises(ConfigError, match="environment variable RW_PASSWORD is not set"):
        load(path)


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "wincc.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(minimal()).encode())
    assert load(path, environ=ENV).site("line") is not None


def test_a_file_that_is_not_utf8_is_a_clear_error(tmp_path):
    path = tmp_path / "wincc.json"
    path.write_bytes(b'{"sites": [{"name": "K\xfchlung"}]}')
    with pytest.raises(ConfigError) as caught:
        load(path, environ=ENV)
    assert caught.value.problems == ["$: not UTF-8 text (byte 0xfc at offset 22)"]


def test_a_key_given_twice_is_not_silently_dropped(tmp_path):
    text = json.dumps(minimal())
    text = text.replace('"timeout"', '"x"').replace('"id": "line",', '"id": "line", "id": "l2",')
    with pytest.raises(ConfigError) as caught:
        load(write(tmp_path, text), environ=ENV)
    assert caught.value.problems == [
        "$: the key 'id' appears twice in one object; JSON would keep only the last"
    ]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(tmp_path, constant):
    data = minimal()
    data["sites"][0]["timeout"] = 0
    text = json.dumps(data).replace('"timeout": 0', f'"timeout": {constant}')
    with pytest.raises(ConfigError) as caught:
        load(write(tmp_path, text), environ=ENV)
    assert caught.value.problems == [f"$: not valid JSON: {constant} is not a JSON number"]


def test_a_folder_instead_of_a_file(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, environ=ENV)
    assert caught.value.problems == ["$: cannot read the file (Is a directory)"]


def test_a_url_with_the_dialects_path_is_stored_without_it(tmp_path):
    data = minimal()
    data["sites"][0]["url"] = "https://wincc01:34568/WinCCRestService/"
    data["sites"][1]["url"] = "https://utilities:8443/api/v1"
    data["sites"].append({
        "id": "hmi", "dialect": "unified", "url": "https://hmi01/graphql/",
        "read_user": {"username": "reader", "password_env": "RO_PASSWORD"},
    })
    config = load(write(tmp_path, data), environ=ENV)
    assert [(s.url, s.graphql_path) for s in config.sites] == [
        ("https://wincc01:34568", "/graphql"),
        ("https://utilities:8443", "/graphql"),
        # The slash stays: it is the endpoint's path on such installations.
        ("https://hmi01", "/graphql/"),
    ]


def test_ingest_is_poll_unless_a_unified_site_subscribes(tmp_path):
    data = minimal()
    data["sites"].append({
        "id": "hmi", "dialect": "unified", "url": "https://hmi01", "ingest": "subscribe",
        "read_user": {"username": "reader", "password_env": "RO_PASSWORD"},
    })
    config = load(write(tmp_path, data), environ=ENV)
    assert [site.ingest for site in config.sites] == ["poll", "poll", "subscribe"]
