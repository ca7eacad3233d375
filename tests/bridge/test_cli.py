"""The wincc-bridge command: exact JSON lines, exit codes and one-sentence errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bridge.conftest import Reply, fingerprint
from wincc_bridge import cli
from wincc_bridge.client import ConnectionSettings, ProtocolError, open_client

VALUES = "/WinCCRestService/tagManagement/Values"
ENV = {"WINCC_USER": "api_rw", "WINCC_PASSWORD": "pw", "WINCC_TOKEN": "tok"}
VENV_BIN = Path(sys.executable).parent


def bridge(capsys, *argv: str, env: dict | None = None) -> tuple[int, list[dict], str]:
    code = cli.main(list(argv), environ=ENV if env is None else env)
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    return code, lines, captured.err


def test_read_over_https_with_a_pinned_certificate(tls_server, certificates, capsys) -> None:
    tls_server.route(
        "POST",
        VALUES,
        Reply(
            body=[
                {
                    "variableName": "T1",
                    "value": 12.5,
                    "qualityCode": 192,
                    "timestamp": "2024-05-01T10:00:00.000Z",
                },
                {"variableName": "T2", "value": True, "qualityCode": 0x48},
            ]
        ),
    )
    code, lines, err = bridge(
        capsys,
        "--dialect",
        "classic",
        "--url",
        tls_server.url,
        "--ca-file",
        certificates["wincc"].cert_file,
        "read",
        "T1",
        "T2",
    )
    assert (code, err) == (0, "")
    assert lines == [
        {
            "name": "T1",
            "value": 12.5,
            "quality": "good",
            "quality_code": 192,
            "timestamp": "2024-05-01T10:00:00.000Z",
            "error": None,
        },
        {
            "name": "T2",
            "value": True,
            "quality": "uncertain",
            "quality_code": 72,
            "timestamp": None,
            "error": None,
        },
    ]
    assert tls_server.seen[0].headers["authorization"] == "Basic YXBpX3J3OnB3"


def test_read_with_a_failed_item_exits_1(plain_server, capsys) -> None:
    plain_server.route("POST", VALUES, Reply(body=[{"variableName": "X", "error": "unknown"}]))
    code, lines, _ = bridge(capsys, "--dialect", "classic", "--url", plain_server.url, "read", "X")
    assert code == 1
    assert lines == [
        {
            "name": "X",
            "value": None,
            "quality": "bad",
            "quality_code": None,
            "timestamp": None,
            "error": "unknown",
        }
    ]


def test_unpinned_certificate_exits_4_with_one_sentence(tls_server, certificates, capsys) -> None:
    code, lines, err = bridge(capsys, "--dialect", "classic", "--url", tls_server.url, "ping")
    assert (code, lines) == (4, [])
    assert err == (
        f"wincc-bridge: certificate of {tls_server.url} is not trusted: the server showed "
        f"CN=wincc (SHA-256 {fingerprint(certificates['wincc'].cert_file)}), and no "
        "certificate is pinned (check the fingerprint with the server's administrator, then "
        "pin the certificate with --ca-file or ca_file)\n"
    )


def test_insecure_works_and_warns(tls_server, capsys) -> None:
    tls_server.route("GET", "/WinCCRestService/tagManagement/Connections", Reply(body=[]))
    code, lines, err = bridge(
        capsys, "--dialect", "classic", "--url", tls_server.url, "--insecure", "ping"
    )
    assert code == 0
    assert lines == [{"ok": True, "server": tls_server.url, "dialect": "classic"}]
    assert "certificate checks are OFF" in err


def test_refused_login_exits_3(plain_server, capsys) -> None:
    plain_server.route("POST", VALUES, Reply(401))
    code, _, err = bridge(
        capsys,
        "--dialect",
        "classic",
        "--url",
        plain_server.url,
        "--user",
        "api_ro",
        "--password-env",
        "OTHER_PW",
        "read",
        "T1",
    )
    assert code == 3
    assert err == (
        f"wincc-bridge: login refused for user api_ro at {plain_server.url} "
        "(check the user name and the password variable)\n"
    )


def test_password_and_token_come_from_the_named_variables(plain_server, capsys) -> None:
    plain_server.route("GET", "/api/v1/tags", Reply(body={"tags": []}))
    env = {"MY_TOKEN": "t0ken"}
    code, _, _ = bridge(
        capsys,
        "--dialect",
        "rest-v1",
        "--url",
        plain_server.url,
        "--token-env",
        "MY_TOKEN",
        "ping",
        env=env,
    )
    assert code == 0
    assert plain_server.seen[0].headers["authorization"] == "Bearer t0ken"


def test_unreachable_host_exits_4(capsys) -> None:
    code, _, err = bridge(capsys, "--dialect", "rest-v1", "--url", "http://127.0.0.1:9", "ping")
    assert code == 4
    assert err.startswith("wincc-bridge: cannot connect to http://127.0.0.1:9")
    assert err.count("\n") == 1


def test_timeout_exits_4(plain_server, capsys) -> None:
    plain_server.route("GET", "/api/v1/alarms/active", Reply(body={"alarms": []}, delay=1.0))
    code, _, err = bridge(
        capsys, "--dialect", "rest-v1", "--url", plain_server.url, "--timeout", "0.2", "alarms"
    )
    assert code == 4
    assert f"timed out after 0.2 s waiting for {plain_server.url}" in err


@pytest.mark.parametrize("status", [404, 405, 501])
def test_rest_v1_without_alarm_list_exits_6_not_5(plain_server, capsys, status) -> None:
    plain_server.route("GET", "/api/v1/alarms/active", Reply(status, {"error": "no route"}))
    code, lines, err = bridge(capsys, "--dialect", "rest-v1", "--url", plain_server.url, "alarms")
    assert (code, lines) == (6, [])
    assert err == (
        f"wincc-bridge: {plain_server.url} publishes no alarm list (/api/v1/alarms/active)\n"
    )


def test_unified_without_active_alarms_query_exits_6(plain_server, capsys) -> None:
    unknown = {"errors": [{"message": 'Cannot query field "activeAlarms" on type "Query".'}]}
    plain_server.route("POST", "/graphql", Reply(400, unknown))
    # Without a user there is no login: the one request is the alarm list.
    code, lines, err = bridge(
        capsys, "--dialect", "unified", "--url", plain_server.url, "alarms", env={}
    )
    assert (code, lines) == (6, [])
    assert err == (
        f"wincc-bridge: {plain_server.url} has no activeAlarms query in its GraphQL schema\n"
    )


def test_unified_refusing_another_field_is_still_a_protocol_error(plain_server, capsys) -> None:
    unknown = {"errors": [{"message": "Cannot query field 'area' on type 'ActiveAlarm'."}]}
    plain_server.route("POST", "/graphql", Reply(200, unknown))
    code, _, err = bridge(
        capsys, "--dialect", "unified", "--url", plain_server.url, "alarms", env={}
    )
    assert code == 5
    assert "Cannot query field 'area'" in err


def test_a_missing_tag_endpoint_exits_5_and_reads_no_such_endpoint(plain_server, capsys) -> None:
    code, _, err = bridge(capsys, "--dialect", "rest-v1", "--url", plain_server.url, "read", "A")
    assert code == 5
    assert "answered HTTP 404 to GET /api/v1/tags" in err
    with open_client(ConnectionSettings("rest-v1", plain_server.url)) as client, \
            pytest.raises(ProtocolError) as caught:
        client.read_tags(["A"])
    assert caught.value.reason == "no such endpoint"


def test_protocol_error_exits_5(plain_server, capsys) -> None:
    plain_server.route("POST", "/graphql", Reply(body="<html>proxy login</html>"))
    code, _, err = bridge(capsys, "--dialect", "unified", "--url", plain_server.url, "ping")
    assert code == 5
    assert "not JSON" in err and "<html>proxy login</html>" in err


def test_classic_alarms_use_the_default_filter(plain_server, capsys) -> None:
    plain_server.route(
        "GET",
        "/WinCCRestService/alarmLogging/MessageList/ActiveAlarms",
        Reply(
            body=[
                {
                    "MsgNr": 1,
                    "InstanceID": 1,
                    "Name": "Conveyor_Fault",
                    "State": 2,
                    "Class": "Alarm",
                    "Priority": 9,
                    "DateTime": "2026-11-26T10:00:00.000Z",
                    "ClearTime": "2026-11-26T10:05:00.000Z",
                    "Text1": "Conveyor stopped",
                    "Text2": "Line",
                    "InfoText": "Check the belt",
                }
            ]
        ),
    )
    code, lines, _ = bridge(capsys, "--dialect", "classic", "--url", plain_server.url, "alarms")
    assert code == 0
    assert lines == [
        {
            "name": "Conveyor_Fault",
            "instance_id": 1,
            "state": "returned_unacknowledged",
            "priority": 9,
            "alarm_class": "Alarm",
            "event_text": "Conveyor stopped",
            "info_text": "Check the belt",
            "area": "Line",
            "raise_time": "2026-11-26T10:00:00.000Z",
            "ack_time": None,
            "clear_time": "2026-11-26T10:05:00.000Z",
        }
    ]


def test_classic_alarms_with_an_unknown_filter_exit_6(plain_server, capsys) -> None:
    code, _, err = bridge(
        capsys,
        "--dialect",
        "classic",
        "--url",
        plain_server.url,
        "--alarm-filter",
        "Mine",
        "alarms",
    )
    assert code == 6
    assert "no REST filter named 'Mine'" in err
    assert plain_server.seen[0].path == "/WinCCRestService/alarmLogging/MessageList/Mine"


def test_classic_ack_needs_an_ack_tag(plain_server, capsys) -> None:
    code, lines, err = bridge(
        capsys, "--dialect", "classic", "--url", plain_server.url, "ack", "Conveyor_Fault"
    )
    assert (code, lines) == (6, [])
    assert "no acknowledge endpoint" in err
    assert plain_server.seen == []


def test_classic_ack_through_the_ack_tag(plain_server, capsys) -> None:
    plain_server.route("PUT", VALUES, Reply(body=[{"variableName": "Ack_Conveyor_Fault"}]))
    code, lines, _ = bridge(
        capsys,
        "--dialect",
        "classic",
        "--url",
        plain_server.url,
        "ack",
        "Conveyor_Fault",
        "--ack-tag",
        "Ack_Conveyor_Fault=1",
    )
    assert code == 0
    assert lines == [{"name": "Conveyor_Fault", "ok": True, "error": None}]
    assert plain_server.seen[0].body == [{"variableName": "Ack_Conveyor_Fault", "value": 1}]


def test_unified_ack_with_instance(plain_server, capsys) -> None:
    def graphql(seen):
        if "login" in seen.body["query"]:
            return Reply(body={"data": {"login": {"token": "t", "expires": None}}})
        return Reply(
            body={
                "data": {
                    "acknowledgeAlarms": [
                        {
                            "alarmName": "A",
                            "alarmInstanceID": 3,
                            "error": {"code": "305", "description": "not acknowledgeable"},
                        }
                    ]
                }
            }
        )

    plain_server.route("POST", "/graphql", graphql)
    code, lines, _ = bridge(
        capsys, "--dialect", "unified", "--url", plain_server.url, "ack", "A", "--instance", "3"
    )
    assert code == 1
    assert lines == [{"name": "A", "ok": False, "error": "not acknowledgeable (code 305)"}]
    assert plain_server.seen[1].body["variables"] == {"i": [{"name": "A", "instanceID": 3}]}


def test_write_parses_values(plain_server, capsys) -> None:
    plain_server.route(
        "PUT",
        "/api/v1/tags",
        Reply(
            body={
                "results": [
                    {"name": n, "ok": True, "error": None} for n in ("A", "B", "C", "D", "E")
                ]
            }
        ),
    )
    code, lines, _ = bridge(
        capsys,
        "--dialect",
        "rest-v1",
        "--url",
        plain_server.url,
        "write",
        "A=12.5",
        "B=true",
        "C=hello",
        'D="42"',
        "E=a=b",
    )
    assert code == 0
    assert [line["ok"] for line in lines] == [True] * 5
    assert plain_server.seen[0].body == {
        "tags": [
            {"name": "A", "value": 12.5},
            {"name": "B", "value": True},
            {"name": "C", "value": "hello"},
            {"name": "D", "value": "42"},
            {"name": "E", "value": "a=b"},
        ]
    }


@pytest.mark.parametrize(
    "argv",
    [
        ["--dialect", "classic", "read", "T1"],
        ["--url", "http://x", "read", "T1"],
        ["--dialect", "wincc-oa", "--url", "http://x", "ping"],
        ["--dialect", "classic", "--url", "http://x", "write", "NoEquals"],
        ["--dialect", "classic", "--url", "http://x", "--timeout", "0", "ping"],
        ["--dialect", "classic", "--url", "http://x", "--ca-file", "a.pem", "--insecure", "ping"],
        ["--dialect", "classic", "--url", "http://x", "--ca-file", "/no/such.pem", "ping"],
        ["--dialect", "classic", "--url", "http://x", "read"],
        ["--dialect", "classic", "--url", "http://x", "frobnicate"],
        ["--dialect", "classic", "--url", "wincc:34568", "ping"],
    ],
)
def test_usage_errors_exit_2_with_one_line(argv, capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(argv, environ={})
    captured = capsys.readouterr()
    assert caught.value.code == 2
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("wincc-bridge")


@pytest.mark.parametrize(
    ("argv", "sentence"),
    [
        (["--url", "https://api_ro:Cli-Secret@wincc"], "--url must not hold a user name or "
         "password; use --user and --password-env"),
        (["--url", "https://wincc/?token=Cli-Secret"], "--url must not have a query or "
         "fragment; a token goes in --token-env"),
        (["--url", "api_ro:Cli-Secret@wincc"], "--url needs a scheme, e.g. https://host:34568"),
        (["--url", "https://wincc", "--password-env", "Cli-Secret!"], "--password-env must "
         "name an environment variable (letters, digits, underscore)"),
        (["--url", "https://wincc", "--token-env", "Cli.Secret"], "--token-env must name an "
         "environment variable (letters, digits, underscore)"),
    ],
)
def test_a_secret_where_a_name_belongs_is_refused_without_repeating_it(argv, sentence, capsys):
    with pytest.raises(SystemExit) as caught:
        cli.main(["--dialect", "classic", *argv, "ping"], environ={})
    assert caught.value.code == 2
    assert capsys.readouterr().err == f"wincc-bridge: {sentence} (see wincc-bridge --help)\n"


def test_options_after_the_command_are_accepted(plain_server, capsys) -> None:
    plain_server.route("GET", "/api/v1/browse", Reply(body={"items": [{"name": "Oven_1"}]}))
    code, lines, _ = bridge(
        capsys,
        "--dialect",
        "rest-v1",
        "browse",
        "Oven*",
        "--url",
        plain_server.url,
        "--timeout",
        "3",
    )
    assert code == 0
    assert lines == [{"name": "Oven_1", "display_name": "", "object_type": "", "data_type": ""}]


@pytest.mark.process
@pytest.mark.parametrize(
    "command", [[sys.executable, "-m", "wincc_bridge"], [str(VENV_BIN / "wincc-bridge")]]
)
def test_entry_points(plain_server, command) -> None:
    plain_server.route(
        "GET",
        "/api/v1/tags",
        Reply(body={"tags": [{"name": "A", "value": 1, "quality": "good", "timestamp": None}]}),
    )
    done = subprocess.run(
        [*command, "--dialect", "rest-v1", "--url", plain_server.url, "read", "A"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"WINCC_TOKEN": "t", "PATH": ""},
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout) == {
        "name": "A",
        "value": 1,
        "quality": "good",
        "quality_code": None,
        "timestamp": None,
        "error": None,
    }


@pytest.mark.parametrize(
    ("wire", "shown"),
    [
        ("2022-04-27T01:30:32.506Z", "2022-04-27T01:30:32.506Z"),
        ("2022-04-27T03:30:32.506+02:00", "2022-04-27T01:30:32.506Z"),
        ("2022-04-27T01:30:32.123456Z", "2022-04-27T01:30:32.123456Z"),
        ("2022-04-27T01:30:32", "2022-04-27T01:30:32.000Z"),
        ("", None),
        ("yesterday", None),
    ],
)
def test_timestamps_are_shown_in_utc_as_wincc_writes_them(plain_server, capsys, wire, shown):
    plain_server.route(
        "POST", VALUES, Reply(body=[{"variableName": "T", "value": 1, "timestamp": wire}])
    )
    code, [line], _ = bridge(capsys, "--dialect", "classic", "--url", plain_server.url, "read", "T")
    assert (code, line["timestamp"]) == (0, shown)


def test_server_words_stay_on_one_line(plain_server, capsys) -> None:
    plain_server.route("POST", VALUES, Reply(500, "Line one\r\nLine two\n\tat Service.Read()"))
    code, _, err = bridge(capsys, "--dialect", "classic", "--url", plain_server.url, "read", "A")
    assert code == 5
    assert err.count("\n") == 1
    assert "Line one Line two at Service.Read()" in err


def test_output_is_ascii_json(plain_server, capsys) -> None:
    plain_server.route(
        "POST", VALUES, Reply(body=[{"variableName": "Ofen_Temp", "value": "200 °C"}])
    )
    cli.main(["--dialect", "classic", "--url", plain_server.url, "read", "Ofen_Temp"], environ={})
    out = capsys.readouterr().out
    assert out.isascii()
    assert json.loads(out)["value"] == "200 °C"
