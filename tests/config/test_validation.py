"""The validator: every problem, each with its JSON path and a plain sentence."""

from __future__ import annotations

import copy
import json

import pytest

from tests.fixtures.certificates import write_pem
from wincc_ingest.config_validation import json_path, validate

ENV = {"RO_PASSWORD": "ro-secret", "RW_PASSWORD": "rw-secret", "RO_TOKEN": "ro-token"}


def minimal() -> dict:
    return {
        "sites": [
            {
                "id": "line",
                "name": "Line",
                "dialect": "classic",
                "url": "https://wincc01:34568",
                "read_user": {"username": "reader", "password_env": "RO_PASSWORD"},
                "write_user": {"username": "operator", "password_env": "RW_PASSWORD"},
                "tags": [
                    {
                        "name": "Tank_Level",
                        "label": "Tank level",
                        "unit": "%",
                        "limits": {"ll": 5, "l": 15, "h": 85, "hh": 95},
                        "range": {"min": 0, "max": 100},
                    },
                    {
                        "name": "Setpoint",
                        "writable": True,
                        "write": {"min": 0, "max": 60},
                    },
                ],
            },
            {
                "id": "utilities",
                "dialect": "rest-v1",
                "url": "https://utilities.plant.example:8443",
                "read_user": {"username": "", "token_env": "RO_TOKEN"},
            },
        ],
        "dashboards": [
            {
                "id": "overview",
                "title": "Overview",
                "panels": [
                    {"kind": "tiles", "site": "line", "tags": ["Tank_Level"]},
                    {"kind": "trend", "site": "line", "tags": ["Tank_Level"], "minutes": 5},
                    {"kind": "alarms"},
                    {"kind": "site_health", "sites": ["line", "utilities"]},
                ],
            }
        ],
    }


def problems_of(data, environ=ENV, **kwargs) -> list[str]:
    return validate(data, environ, **kwargs)


def test_a_good_configuration_has_no_problems():
    assert problems_of(minimal()) == []


def test_json_path_notation():
    assert json_path(["sites", 1, "read_user", "password_env"]) == (
        "$.sites[1].read_user.password_env"
    )
    assert json_path(["ack_tags", "Motor 1 HH"]) == '$.ack_tags["Motor 1 HH"]'


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["sites"][0].pop("url"), "$.sites[0].url: is required but missing"),
        (
            lambda d: d["sites"][0].update(dialect="opcua"),
            '$.sites[0].dialect: must be one of "classic", "unified", "rest-v1", not "opcua"',
        ),
        (
            lambda d: d["sites"][0].update(timeout="2"),
            "$.sites[0].timeout: must be a number, not a string",
        ),
        (
            lambda d: d["sites"][0].update(timeout=0),
            "$.sites[0].timeout: must be greater than 0, not 0",
        ),
        (
            lambda d: d["sites"][0].update(poll_intervall=2),
            "$.sites[0].poll_intervall: unknown key 'poll_intervall'; did you mean "
            "'poll_interval'?",
        ),
        (
            lambda d: d["sites"][0].update(id="Line 1"),
            "$.sites[0].id: must be 1 to 64 lowercase letters, digits, '-' or '_', starting "
            'with a letter or digit (got "Line 1")',
        ),
        (
            lambda d: d["sites"][0].update(url="https://wincc01:34568/WinCC"),
            "$.sites[0].url: must be the server's scheme, host and port",
        ),
        (lambda d: d.update(sites=[]), "$.sites: must list at least 1 item(s)"),
        (
            lambda d: d["dashboards"][0]["panels"][0].update(kind="gauge"),
            "$.dashboards[0].panels[0].kind: must be one of",
        ),
        (
            lambda d: d["sites"][0]["tls"].update(verify="yes") if "tls" in d["sites"][0]
            else d["sites"][0].update(tls={"verify": "yes"}),
            "$.sites[0].tls.verify: must be true or false, not a string",
        ),
    ],
)
def test_schema_problems_name_the_path_in_plain_words(change, expected):
    data = minimal()
    change(data)
    problems = problems_of(data)
    assert any(p.startswith(expected) for p in problems), problems


def test_a_missing_password_variable_names_the_variable():
    problems = problems_of(minimal(), {"RO_PASSWORD": "x", "RO_TOKEN": "t"})
    assert problems == [
        "$.sites[0].write_user.password_env: environment variable RW_PASSWORD is not set"
    ]


def test_an_empty_password_variable_is_a_problem():
    problems = problems_of(minimal(), {**ENV, "RO_TOKEN": ""})
    assert problems == [
        "$.sites[1].read_user.token_env: environment variable RO_TOKEN is set but empty"
    ]


def test_every_problem_is_reported_at_once_in_file_order():
    data = minimal()
    data["sites"][1]["id"] = "line"  # duplicate
    data["sites"][0]["tags"][0]["limits"] = {"ll": 5, "l": 15, "h": 10}
    data["sites"][0].pop("url")
    data["dashboards"][0]["panels"][0]["tags"] = ["Tank_Levl"]
    problems = problems_of(data, {})
    paths = [p.split(": ", 1)[0] for p in problems]
    assert paths == [
        "$.sites[0].read_user.password_env",
        "$.sites[0].write_user.password_env",
        "$.sites[0].tags[0].limits",
        "$.sites[0].url",
        "$.sites[1].id",
        "$.sites[1].read_user.token_env",
        "$.dashboards[0].panels[0].tags[0]",
        "$.dashboards[0].panels[3].sites[1]",  # "utilities" is gone: its id is now "line"
    ]
    assert "site id 'line' is already used by $.sites[0]" in problems[4]


def test_duplicate_tag_names_within_a_site():
    data = minimal()
    data["sites"][0]["tags"].append({"name": "Tank_Level"})
    assert problems_of(data) == [
        "$.sites[0].tags[2].name: tag 'Tank_Level' is already listed at index 0 of this site"
    ]


def test_the_same_tag_name_on_two_sites_is_fine():
    data = minimal()
    data["sites"][1]["tags"] = [{"name": "Tank_Level"}]
    assert problems_of(data) == []


def test_duplicate_dashboard_ids():
    data = minimal()
    data["dashboards"].append({"id": "overview"})
    assert problems_of(data) == [
        "$.dashboards[1].id: dashboard id 'overview' is already used by $.dashboards[0]"
    ]


@pytest.mark.parametrize(
    ("limits", "culprit"),
    [
        ({"ll": 5, "l": 5}, "ll (5) is not below l (5)"),
        ({"l": 50, "h": 40}, "l (50) is not below h (40)"),
        ({"ll": 1, "hh": 0.5}, "ll (1) is not below hh (0.5)"),
        ({"h": 90, "hh": 80, "ll": 0}, "h (90) is not below hh (80)"),
    ],
)
def test_limits_must_rise(limits, culprit):
    data = minimal()
    data["sites"][0]["tags"][0]["limits"] = limits
    assert problems_of(data) == [
        f"$.sites[0].tags[0].limits: limits must rise in the order ll < l < h < hh, but {culprit}"
    ]


def test_ranges_and_write_ranges():
    data = minimal()
    data["sites"][0]["tags"][0]["range"] = {"min": 100, "max": 0}
    data["sites"][0]["tags"][1]["write"] = {"min": 60, "max": 60}
    data["sites"][0]["tags"].append({"name": "Speed", "write": {"min": 0, "max": 1}})
    assert problems_of(data) == [
        "$.sites[0].tags[0].range: the display range needs min (100) below max (0)",
        "$.sites[0].tags[1].write: the write range needs min (60) below max (60)",
        "$.sites[0].tags[2].write: a write range is given but the tag is not writable: true",
    ]


def test_write_step_and_range_problems_name_their_path():
    data = minimal()
    tags = data["sites"][0]["tags"]
    tags[1]["write"] = {"min": 0, "max": 60, "step": 0}
    tags.append({"name": "Speed", "writable": True, "write": {"min": 0, "max": 10, "step": 20}})
    tags.append({"name": "Flow", "writable": True, "write": {"min": 0}})
    tags.append({"name": "Valve", "writable": True, "write": {"min": 0, "max": 1, "step": -1}})
    assert problems_of(data) == [
        "$.sites[0].tags[1].write.step: must be greater than 0, not 0",
        "$.sites[0].tags[2].write.step: the step (20) is larger than the write range from 0 "
        "to 10",
        "$.sites[0].tags[3].write.max: is required but missing",
        "$.sites[0].tags[4].write.step: must be greater than 0, not -1",
    ]


def test_a_valid_step_and_the_password_confirmation_flag_pass():
    data = minimal()
    data["sites"][0]["tags"][1]["write"] = {"min": 0, "max": 60, "step": 0.5}
    data["sites"][0]["confirm_password_for_writes"] = True
    assert problems_of(data) == []
    data["sites"][0]["confirm_password_for_writes"] = "yes"
    assert problems_of(data) == [
        "$.sites[0].confirm_password_for_writes: must be true or false, not a string"
    ]


def test_a_writable_tag_needs_the_sites_write_user():
    data = minimal()
    del data["sites"][0]["write_user"]
    assert problems_of(data) == [
        "$.sites[0].tags[1].writable: a writable tag is written with the site's write_user "
        "(the read-write API user), which is missing",
    ]


def test_dashboards_may_reference_only_known_sites_and_their_tags():
    data = minimal()
    panels = data["dashboards"][0]["panels"]
    panels[0]["site"] = "boiler"
    panels[1]["tags"] = ["Tank_Level", "Pressure"]
    panels[3]["sites"] = ["line", "boiler"]
    assert problems_of(data) == [
        "$.dashboards[0].panels[0].site: names unknown site 'boiler'; known sites: line, "
        "utilities",
        "$.dashboards[0].panels[1].tags[1]: tag 'Pressure' is not configured for site 'line'; "
        "add it to that site's tags first",
        "$.dashboards[0].panels[3].sites[1]: names unknown site 'boiler'; known sites: line, "
        "utilities",
    ]


def test_tiles_and_trends_need_a_site_and_tags():
    data = minimal()
    data["dashboards"][0]["panels"] = [{"kind": "tiles"}, {"kind": "alarms", "tags": ["X"]}]
    assert problems_of(data) == [
        "$.dashboards[0].panels[0]: a tiles panel needs the site its tags belong to (site)",
        "$.dashboards[0].panels[0]: a tiles panel needs at least one tag (tags)",
        "$.dashboards[0].panels[1].tags: a alarms panel shows no tags; remove tags",
    ]


def test_insecure_contradicts_a_pinned_certificate(tmp_path):
    write_pem(tmp_path / "wincc.pem")
    data = minimal()
    data["sites"][0]["tls"] = {"ca_file": "wincc.pem", "insecure": True}
    assert problems_of(data, base_dir=tmp_path) == [
        "$.sites[0].tls: insecure: true turns certificate checks off, which contradicts "
        "pinning a certificate with ca_file; remove one of them"
    ]


def test_turning_verification_off_must_be_explicit():
    data = minimal()
    data["sites"][0]["tls"] = {"verify": False}
    assert problems_of(data) == [
        "$.sites[0].tls.verify: turning verification off must be explicit: set insecure: true "
        "as well (or better, pin the server's certificate with ca_file)"
    ]
    data["sites"][0]["tls"] = {"verify": False, "insecure": True}
    assert problems_of(data) == []


def test_a_missing_ca_file_is_named_with_its_resolved_path(tmp_path):
    data = minimal()
    data["sites"][0]["tls"] = {"ca_file": "certs/../certs/wincc01.pem"}
    problems = problems_of(data, base_dir=tmp_path)
    assert problems == [
        f"$.sites[0].tls.ca_file: certificate file {tmp_path}/certs/wincc01.pem does not exist "
        "(relative paths count from the configuration file's folder)"
    ]
    (tmp_path / "certs").mkdir()
    write_pem(tmp_path / "certs" / "wincc01.pem")
    assert problems_of(data, base_dir=tmp_path) == []


def test_tls_settings_on_plain_http_are_refused(tmp_path):
    write_pem(tmp_path / "c.pem")
    data = minimal()
    data["sites"][0]["url"] = "http://wincc01:34568"
    data["sites"][0]["tls"] = {"ca_file": "c.pem"}
    assert problems_of(data, base_dir=tmp_path) == [
        "$.sites[0].tls: the URL is plain http://, so TLS settings have no effect; use https://"
    ]


@pytest.mark.parametrize("key", ["password", "token", "Password", "api_key"])
def test_inline_secrets_are_refused_wherever_they_are(key):
    data = minimal()
    data["sites"][0]["read_user"][key] = "hunter2"
    problems = problems_of(data)
    assert len(problems) == 1
    assert problems[0].startswith(
        f"$.sites[0].read_user.{key}: secrets do not belong in the configuration file"
    )
    assert "hunter2" not in problems[0]


def test_each_dialect_needs_its_kind_of_secret():
    data = minimal()
    data["sites"][0]["read_user"] = {"username": "reader", "token_env": "RO_TOKEN"}
    data["sites"][1]["read_user"] = {"username": "", "password_env": "RO_PASSWORD"}
    assert problems_of(data) == [
        "$.sites[0].read_user: Classic WinCC signs in with HTTP Basic (user name and password); "
        "add password_env naming the environment variable that holds the password",
        "$.sites[1].read_user: a rest-v1 server authenticates with a Bearer token; add "
        "token_env naming the environment variable that holds the token",
    ]


def test_classic_and_unified_need_a_user_name():
    data = minimal()
    data["sites"][0]["dialect"] = "unified"
    data["sites"][0]["read_user"]["username"] = ""
    assert problems_of(data) == [
        "$.sites[0].read_user.username: must not be empty: WinCC Unified signs in with a user "
        "name and password"
    ]


def test_ack_tags_belong_to_classic_sites_with_a_write_user():
    data = minimal()
    data["sites"][0]["ack_tags"] = {"Tank_Level_HH": {"tag": "Ack_Tank_Level_HH", "value": 1}}
    data["sites"][0]["alarm_filter"] = "ActiveAlarms"
    assert problems_of(data) == []
    del data["sites"][0]["write_user"]
    data["sites"][0]["tags"][1]["writable"] = False  # a writable tag needs it too
    del data["sites"][0]["tags"][1]["write"]
    data["sites"][1]["alarm_filter"] = "ActiveAlarms"
    assert problems_of(data) == [
        "$.sites[0].ack_tags: acknowledging writes a tag, which needs a write_user "
        "(the read-write API user)",
        "$.sites[1].alarm_filter: applies to classic sites only; a rest-v1 site has its own "
        "API",
    ]


@pytest.mark.parametrize("key", ["alarms", "acknowledge"])
@pytest.mark.parametrize(("value", "kind"), [("no", "a string"), (0, "a number"), (None, "null")])
def test_capability_switches_are_true_or_false(key, value, kind):
    data = minimal()
    data["sites"][1][key] = False
    assert problems_of(data) == []
    data["sites"][1][key] = value
    assert problems_of(data) == [f"$.sites[1].{key}: must be true or false, not {kind}"]


def test_capability_switches_contradicted_by_settings_that_need_them():
    data = minimal()
    line = data["sites"][0]
    line["alarm_filter"] = "ActiveAlarms"
    line["ack_tags"] = {"Tank_Level_HH": {"tag": "Ack_Tank_Level_HH"}}
    line["acknowledge"] = False
    assert problems_of(data) == [
        "$.sites[0].ack_tags: has no effect: acknowledge is false; remove ack_tags or "
        "acknowledge",
    ]
    line["alarms"] = False
    line["acknowledge"] = True
    assert problems_of(data) == [
        "$.sites[0].alarm_filter: has no effect: alarms is false, so the site reads no alarm "
        "list; remove alarm_filter or alarms",
        "$.sites[0].ack_tags: has no effect: alarms is false, so the site reads no alarm "
        "list; remove ack_tags or alarms",
        "$.sites[0].acknowledge: cannot be true while alarms is false: there is no alarm to "
        "acknowledge",
    ]


def test_options_for_real_servers_belong_to_their_dialect():
    data = minimal()
    data["sites"][0]["ping_tag"] = "Tank_Level"
    data["sites"].append({
        "id": "hmi", "dialect": "unified", "url": "https://hmi01",
        "read_user": {"username": "reader", "password_env": "RO_PASSWORD"},
        "graphql_path": "/graphql/", "browse_object_types": ["TAG", "LOGGINGTAG"],
    })
    assert problems_of(data) == []
    data["sites"][0]["graphql_path"] = "/graphql/"
    data["sites"][2]["ping_tag"] = "Tank_Level"
    data["sites"][2]["tag_archive"] = "ProcessValueArchive"
    data["sites"][2]["browse_object_types"] = ["TAGS"]
    problems = problems_of(data)
    assert "$.sites[0].graphql_path: applies to unified sites only, not classic" in problems
    assert ("$.sites[2].ping_tag: applies to classic sites only; a unified site has its own "
            "API") in problems
    assert ("$.sites[2].tag_archive: applies to classic sites only; a unified site has its "
            "own API") in problems
    assert any(p.startswith("$.sites[2].browse_object_types[0]") for p in problems), problems


def test_a_tag_archive_without_the_archive_is_refused_and_an_empty_one_too():
    data = minimal()
    data["sites"][0]["tag_archive"] = "ProcessValueArchive"
    assert problems_of(data) == []
    data["sites"][0]["archive"] = False
    assert problems_of(data) == [
        "$.sites[0].tag_archive: has no effect: archive is false, so trends never ask the "
        "server's archive; remove tag_archive or archive",
    ]
    data["sites"][0]["archive"] = True
    data["sites"][0]["tag_archive"] = ""
    assert len(problems_of(data)) == 1 and problems_of(data)[0].startswith(
        "$.sites[0].tag_archive"), problems_of(data)


def test_an_env_name_that_is_a_secret_itself_is_refused_without_repeating_it():
    data = minimal()
    data["sites"][0]["read_user"]["password_env"] = "s3cret!pass"
    data["sites"][0]["write_user"]["token_env"] = "tok-3n=="
    assert problems_of(data) == [
        "$.sites[0].read_user.password_env: must name an environment variable (letters, "
        "digits, underscore), not hold the secret itself",
        "$.sites[0].write_user.token_env: must name an environment variable (letters, "
        "digits, underscore), not hold the secret itself",
    ]


def test_an_unset_variable_is_named_only_when_it_looks_like_a_variable_name():
    data = minimal()
    data["sites"][0]["read_user"]["password_env"] = "LINE_RO_PASSWORD"
    # A valid name, but as likely a password typed where the name belongs.
    data["sites"][0]["write_user"]["password_env"] = "Hunter2"
    assert problems_of(data) == [
        "$.sites[0].read_user.password_env: environment variable LINE_RO_PASSWORD is not set",
        "$.sites[0].write_user.password_env: the environment variable named here is not set "
        "(its name is not repeated: it does not look like a variable name, such as "
        "LINE1_RO_PASSWORD, so it may be the secret itself)",
    ]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://reader:pa55-SECRET@wincc01:34568",
            "must not hold a user name or password (user@ or user:password@); name the user "
            "in read_user.username and the variable holding the secret in password_env or "
            "token_env",
        ),
        (
            "https://wincc01:34568/?token=pa55-SECRET",
            "must not have a query (?...) or fragment (#...): a token in a URL ends up in "
            "logs; name the variable holding it in token_env",
        ),
        ("reader:pa55-SECRET@wincc01", "must start with https:// (or http://), such as "
         "https://wincc01:34568"),
        ("https://wincc01:pa55-SECRET", "is not a valid address; give scheme, host and port, "
         "such as https://wincc01:34568"),
        ("https://wincc01:34568/pa55-SECRET", "must be the server's scheme, host and port, such "
         "as https://wincc01:34568; a path is accepted only if it is the dialect's own "
         "(/WinCCRestService for classic), and is then removed"),
    ],
)
def test_a_url_that_may_hold_a_secret_is_refused_without_repeating_it(url, expected):
    data = minimal()
    data["sites"][0]["url"] = url
    assert problems_of(data) == [f"$.sites[0].url: {expected}"]


@pytest.mark.parametrize(
    ("dialect", "url"),
    [
        ("classic", "https://wincc01:34568/WinCCRestService"),
        ("classic", "https://wincc01:34568/wincCRestService/"),
        ("unified", "https://wincc01:34568/graphql"),
        ("unified", "https://wincc01:34568/graphql/"),
        ("rest-v1", "https://wincc01:34568/api/v1/"),
    ],
)
def test_a_url_ending_in_the_dialects_own_path_is_accepted(dialect, url):
    data = minimal()
    data["sites"][1].update(dialect=dialect, url=url)
    if dialect != "rest-v1":
        data["sites"][1]["read_user"] = {"username": "reader", "password_env": "RO_PASSWORD"}
    assert problems_of(data) == []


def test_a_url_path_and_graphql_path_must_agree():
    data = minimal()
    data["sites"][1].update(dialect="unified", url="https://hmi01/graphql/",
                            graphql_path="/graphql",
                            read_user={"username": "reader", "password_env": "RO_PASSWORD"})
    assert problems_of(data) == [
        "$.sites[1].url: ends in /graphql/ but graphql_path is /graphql; give the path in "
        "one place"
    ]


def test_a_rest_v1_user_needs_no_user_name_and_the_others_do():
    data = minimal()
    data["sites"][1]["read_user"] = {"token_env": "RO_TOKEN"}
    assert problems_of(data) == []
    del data["sites"][0]["read_user"]["username"]
    assert problems_of(data) == [
        "$.sites[0].read_user.username: is required: Classic WinCC signs in with HTTP Basic "
        "(user name and password)"
    ]


def test_a_ca_file_that_is_not_pem_is_refused(tmp_path):
    (tmp_path / "wincc.der").write_bytes(b"\x30\x82\x01\x0a" + bytes(64))
    (tmp_path / "fake.pem").write_text("-----BEGIN CERTIFICATE-----\nnot base64\n")
    data = minimal()
    data["sites"][0]["tls"] = {"ca_file": "wincc.der"}
    data["sites"][1]["tls"] = {"ca_file": "fake.pem"}
    assert problems_of(data, base_dir=tmp_path) == [
        f"$.sites[0].tls.ca_file: certificate file {tmp_path}/wincc.der is not a PEM "
        "certificate (no BEGIN CERTIFICATE) (it looks like DER: convert it with openssl x509 "
        "-inform der -in FILE -out FILE.pem)",
        f"$.sites[1].tls.ca_file: certificate file {tmp_path}/fake.pem holds no PEM certificate "
        "that TLS can load",
    ]


@pytest.mark.parametrize(
    ("document", "kind"), [(None, "null"), ([], "a list"), ("sites", "a string"), (3, "a number")]
)
def test_a_document_that_is_not_an_object(document, kind):
    assert problems_of(document) == [f"$: must be an object ({{...}}), not {kind}"]


def test_wrong_types_anywhere_do_not_crash_the_semantic_checks():
    data = minimal()
    data["sites"].append("not a site")
    data["sites"][0]["tags"] = {"Tank_Level": {}}
    data["sites"][1]["read_user"] = ["reader"]
    data["dashboards"][0]["panels"][1] = 7
    data["dashboards"].append({"id": "x", "panels": {"kind": "tiles"}})
    problems = problems_of(data)
    assert [p.split(": ", 1)[0] for p in problems] == [
        "$.sites[0].tags",
        "$.sites[1].read_user",
        "$.sites[2]",
        "$.dashboards[0].panels[0].tags[0]",
        "$.dashboards[0].panels[1]",
        "$.dashboards[1].panels",
    ]


def test_a_large_plant_validates_without_problems():
    # 50 sites x 400 tags: the limits check runs per tag. Its speed is not timed here (a
    # loaded machine makes a timed test fail for nothing); a regression shows as a slow lane.
    data = minimal()
    data["sites"] = []
    for number in range(50):
        site = copy.deepcopy(minimal()["sites"][0])
        site["id"] = f"site-{number}"
        site["tags"] = [{"name": f"Tag_{i}", "limits": {"l": 1, "h": 2}} for i in range(400)]
        data["sites"].append(site)
    data["dashboards"] = []
    assert problems_of(json.loads(json.dumps(data))) == []


def test_the_schema_is_a_valid_json_schema():
    from jsonschema import Draft202012Validator

    from wincc_ingest.config_validation import schema

    Draft202012Validator.check_schema(schema())
    assert schema()["properties"]["sites"]["minItems"] == 1


def test_ingest_subscribe_is_for_unified_sites_and_poll_is_the_default():
    data = minimal()
    data["sites"].append({
        "id": "hmi", "dialect": "unified", "url": "https://hmi01", "ingest": "subscribe",
        "read_user": {"username": "reader", "password_env": "RO_PASSWORD"},
    })
    assert problems_of(data) == []
    data["sites"][0]["ingest"] = "subscribe"
    data["sites"][2]["ingest"] = "push"
    problems = problems_of(data)
    assert ("$.sites[0].ingest: subscribe needs a unified site: a classic server pushes no "
            "changes to subscribers; use poll") in problems
    assert any(p.startswith("$.sites[2].ingest") for p in problems), problems
