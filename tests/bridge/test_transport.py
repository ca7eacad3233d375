"""Transport behaviour over real sockets: TLS, timeouts, retries, size bound, error sentences."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from tests.bridge.conftest import Reply, ScriptedServer, fingerprint
from wincc_bridge.client import (
    AuthError,
    ConnectError,
    ConnectionSettings,
    ProtocolError,
    TimeoutError,
    TLSError,
    open_client,
    short_reason,
)
from wincc_bridge.models import Quality
from wincc_bridge.transport import shown_url

VALUES = "/WinCCRestService/tagManagement/Values"
ONE = [{"variableName": "T1", "value": 1.5, "qualityCode": 192}]


def classic(url: str, **changes) -> ConnectionSettings:
    base = ConnectionSettings(
        dialect="classic", url=url, username="api_ro", password="pw", timeout=2.0
    )
    return replace(base, **changes)


def test_pinned_certificate_is_trusted(tls_server: ScriptedServer, certificates) -> None:
    tls_server.route("POST", VALUES, Reply(body=ONE))
    with open_client(classic(tls_server.url, ca_file=certificates["wincc"].cert_file)) as client:
        assert client.read_tags(["T1"])[0].value == 1.5


def test_unpinned_self_signed_certificate_is_refused(
    tls_server: ScriptedServer, certificates
) -> None:
    with open_client(classic(tls_server.url)) as client, pytest.raises(TLSError) as caught:
        client.read_tags(["T1"])
    shown = fingerprint(certificates["wincc"].cert_file)
    assert str(caught.value) == (
        f"certificate of {tls_server.url} is not trusted: the server showed CN=wincc "
        f"(SHA-256 {shown}), and no certificate is pinned (check the fingerprint with the "
        "server's administrator, then pin the certificate with --ca-file or ca_file)"
    )
    assert caught.value.reason == "certificate not trusted"
    assert tls_server.seen == []


def test_a_wrong_pin_names_both_certificates(tls_server: ScriptedServer, certificates) -> None:
    pinned = certificates["elsewhere"].cert_file
    with open_client(classic(tls_server.url, ca_file=pinned)) as client, \
            pytest.raises(TLSError) as caught:
        client.read_tags(["T1"])
    message = str(caught.value)
    assert message.startswith(
        f"certificate of {tls_server.url} does not match the pinned one: {pinned} holds "
        f"CN=elsewhere (SHA-256 {fingerprint(pinned)}), the server showed CN=wincc "
        f"(SHA-256 {fingerprint(certificates['wincc'].cert_file)})"
    )
    assert "pin it" not in message
    assert tls_server.seen == []


def test_an_expired_pinned_certificate_says_it_is_the_pinned_one(
    expired_tls_server: ScriptedServer, certificates
) -> None:
    pinned = certificates["expired"].cert_file
    with open_client(classic(expired_tls_server.url, ca_file=pinned)) as client, \
            pytest.raises(TLSError) as caught:
        client.read_tags(["T1"])
    assert str(caught.value) == (
        f"certificate of {expired_tls_server.url} is the pinned one, CN=expired (SHA-256 "
        f"{fingerprint(pinned)}), but it does not verify: certificate has expired (check its "
        "validity dates; a renewed certificate must be pinned anew)"
    )
    assert caught.value.reason == "certificate not trusted"


def test_certificate_for_another_host_is_refused(misnamed_tls_server, certificates) -> None:
    settings = classic(misnamed_tls_server.url, ca_file=certificates["elsewhere"].cert_file)
    with open_client(settings) as client, pytest.raises(TLSError) as caught:
        client.read_tags(["T1"])
    assert "is for another host name" in str(caught.value)
    assert misnamed_tls_server.url in str(caught.value)


def test_insecure_connects_and_warns(tls_server: ScriptedServer, caplog) -> None:
    tls_server.route("POST", VALUES, Reply(body=ONE))
    settings = classic(tls_server.url, insecure=True)
    with caplog.at_level(logging.WARNING, logger="wincc_bridge"), open_client(settings) as client:
        assert client.read_tags(["T1"])[0].quality is Quality.GOOD
    assert any("certificate checks are OFF" in r.getMessage() for r in caplog.records)


def test_unreadable_ca_file_is_a_tls_error(tls_server: ScriptedServer, tmp_path) -> None:
    bad = tmp_path / "not-a-cert.pem"
    bad.write_text("hello")
    with pytest.raises(TLSError, match="cannot load the certificate file"):
        open_client(classic(tls_server.url, ca_file=str(bad)))


def test_https_to_a_plain_http_port_is_a_tls_error(plain_server: ScriptedServer) -> None:
    url = plain_server.url.replace("http:", "https:")
    with open_client(classic(url, insecure=True)) as client, pytest.raises(TLSError) as caught:
        client.read_tags(["T1"])
    assert "TLS handshake" in str(caught.value)


def test_timeout_is_explained_and_not_retried(plain_server: ScriptedServer) -> None:
    plain_server.route("POST", VALUES, Reply(body=ONE, delay=1.0))
    settings = classic(plain_server.url, timeout=0.2, read_retries=2)
    with open_client(settings) as client, pytest.raises(TimeoutError) as caught:
        client.read_tags(["T1"])
    assert str(caught.value) == (
        f"timed out after 0.2 s waiting for {plain_server.url} "
        "(check that the server is up, or raise the timeout)"
    )
    assert len(plain_server.seen) == 1
    # The server had the request: a write may have happened (wincc_bridge.client.WinCCError).
    assert caught.value.sent


def test_a_refused_connection_sent_nothing() -> None:
    with open_client(classic("http://127.0.0.1:9", read_retries=0)) as client, \
            pytest.raises(ConnectError) as caught:
        client.write_tags({"T1": 1})
    assert not caught.value.sent


def test_a_malformed_answer_to_a_write_may_have_happened(plain_server: ScriptedServer) -> None:
    plain_server.route("PUT", VALUES, Reply(200, '{"cut": [1, 2'))
    with open_client(classic(plain_server.url)) as client, \
            pytest.raises(ProtocolError) as caught:
        client.write_tags({"T1": 1})
    assert caught.value.sent
    assert len(plain_server.seen) == 1


def test_writes_are_never_retried(plain_server: ScriptedServer) -> None:
    plain_server.route("PUT", VALUES, Reply(503, "busy"))
    settings = classic(plain_server.url, read_retries=3)
    with open_client(settings) as client, pytest.raises(ConnectError, match="unavailable"):
        client.write_tags({"T1": 1})
    assert len(plain_server.seen) == 1


def test_refused_connections_are_retried_for_reads(plain_server: ScriptedServer) -> None:
    answers = iter([Reply(503), Reply(502), Reply(503)])
    plain_server.route("POST", VALUES, lambda seen: next(answers))
    settings = classic(plain_server.url, read_retries=2)
    with open_client(settings) as client, pytest.raises(ConnectError, match="unavailable"):
        client.read_tags(["T1"])
    assert len(plain_server.seen) == 3


def test_read_succeeds_after_a_passing_outage(plain_server: ScriptedServer) -> None:
    answers = iter([Reply(503), Reply(502), Reply(body=ONE)])
    plain_server.route("POST", VALUES, lambda seen: next(answers))
    with open_client(classic(plain_server.url, read_retries=2)) as client:
        assert client.read_tags(["T1"])[0].value == 1.5


def test_refused_connection_names_server_and_what_to_check() -> None:
    settings = classic("http://127.0.0.1:9", read_retries=0)
    with open_client(settings) as client, pytest.raises(ConnectError) as caught:
        client.read_tags(["T1"])
    message = str(caught.value)
    assert message.startswith("cannot connect to http://127.0.0.1:9")
    assert "check the address, the port" in message
    assert not isinstance(caught.value, TLSError | TimeoutError)


def test_login_refused_sentence(plain_server: ScriptedServer) -> None:
    plain_server.route("POST", VALUES, Reply(401, {"error": "bad credentials"}))
    with open_client(classic(plain_server.url)) as client, pytest.raises(AuthError) as caught:
        client.read_tags(["T1"])
    assert str(caught.value) == (
        f"login refused for user api_ro at {plain_server.url} "
        "(check the user name and the password variable)"
    )
    assert len(plain_server.seen) == 1  # a refused login is not retried


def test_permission_refused_sentence(plain_server: ScriptedServer) -> None:
    plain_server.route("PUT", VALUES, Reply(403, {"error": "read only"}))
    with open_client(classic(plain_server.url)) as client, pytest.raises(AuthError) as caught:
        client.write_tags({"T1": 1})
    assert "user api_ro at" in str(caught.value)
    assert "lacks the right" in str(caught.value)


def test_server_error_keeps_a_snippet(plain_server: ScriptedServer) -> None:
    plain_server.route("POST", VALUES, Reply(500, "System.NullReferenceException at X"))
    with open_client(classic(plain_server.url)) as client, pytest.raises(ProtocolError) as caught:
        client.read_tags(["T1"])
    assert caught.value.snippet == "System.NullReferenceException at X"
    assert "HTTP 500" in str(caught.value)


def test_body_that_is_not_json(plain_server: ScriptedServer) -> None:
    plain_server.route("POST", VALUES, Reply(body="<html>Login</html>"))
    with open_client(classic(plain_server.url)) as client, pytest.raises(ProtocolError) as caught:
        client.read_tags(["T1"])
    assert caught.value.snippet == "<html>Login</html>"
    assert plain_server.url in str(caught.value)


def test_answer_larger_than_the_bound(plain_server: ScriptedServer) -> None:
    plain_server.route("POST", VALUES, Reply(body=ONE * 100))
    settings = classic(plain_server.url, max_response_bytes=1000)
    with open_client(settings) as client, pytest.raises(ProtocolError, match="than 1000 bytes"):
        client.read_tags(["T1"])


def test_one_connection_is_reused(plain_server: ScriptedServer) -> None:
    plain_server.route("POST", VALUES, Reply(body=ONE))
    with open_client(classic(plain_server.url)) as client:
        for _ in range(5):
            client.read_tags(["T1"])
    assert len({seen.peer for seen in plain_server.seen}) == 1


def test_url_that_already_names_the_dialect_path(plain_server: ScriptedServer) -> None:
    plain_server.route("POST", VALUES, Reply(body=ONE))
    with open_client(classic(plain_server.url + "/WinCCRestService/")) as client:
        assert client.read_tags(["T1"])[0].value == 1.5
    assert plain_server.seen[0].path == VALUES


def test_redirect_is_reported_with_its_target(plain_server: ScriptedServer) -> None:
    target = "https://wincc.example:34568/WinCCRestService/tagManagement/Values"
    plain_server.route("POST", VALUES, Reply(301, headers={"Location": target}))
    with open_client(classic(plain_server.url)) as client, pytest.raises(ProtocolError) as caught:
        client.read_tags(["T1"])
    assert f"a redirect to {target}" in str(caught.value)
    assert len(plain_server.seen) == 1


def test_broken_compression_is_a_protocol_error(plain_server: ScriptedServer) -> None:
    plain_server.route(
        "POST", VALUES, Reply(body=b"not gzip", headers={"Content-Encoding": "gzip"})
    )
    with open_client(classic(plain_server.url)) as client, pytest.raises(ProtocolError):
        client.read_tags(["T1"])


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirect_on_the_same_server_is_followed_with_method_and_body(
    plain_server: ScriptedServer, status: int
) -> None:
    moved = "/Moved/WinCCRestService/tagManagement/Values"
    plain_server.route("POST", VALUES, Reply(status, headers={"Location": moved}))
    plain_server.route("POST", moved, Reply(body=ONE))
    with open_client(classic(plain_server.url)) as client:
        assert client.read_tags(["T1"])[0].value == 1.5
        client.read_tags(["T1"])
    first, second, *later = plain_server.seen
    assert (first.path, second.path, second.method) == (VALUES, moved, "POST")
    assert second.body == {"variableNames": ["T1"]}
    assert second.headers["authorization"].startswith("Basic ")
    # A permanent move is remembered: the next read goes to the new place at once.
    expected = [moved] if status in (301, 308) else [VALUES, moved]
    assert [seen.path for seen in later] == expected


def test_redirect_loop_ends(plain_server: ScriptedServer) -> None:
    plain_server.route("POST", VALUES, Reply(307, headers={"Location": VALUES}))
    with open_client(classic(plain_server.url)) as client, pytest.raises(ProtocolError) as caught:
        client.read_tags(["T1"])
    assert "not followed" in str(caught.value)
    assert len(plain_server.seen) == 4


def test_redirect_keeps_the_query_unless_it_names_its_own(plain_server: ScriptedServer) -> None:
    listed = "/WinCCRestService/tagManagement/variables"
    plain_server.route("GET", listed, Reply(307, headers={"Location": "/v2" + listed}))
    plain_server.route("GET", "/v2" + listed, Reply(body=[{"variableName": "A"}]))
    with open_client(classic(plain_server.url)) as client:
        client.browse("A*")
    assert plain_server.seen[1].path.startswith("/v2" + listed + "?variableName=A")
    assert plain_server.seen[1].path.count("itemLimit") == 1


def test_messages_name_the_server_without_credentials_or_query(
    plain_server: ScriptedServer, caplog
):
    caplog.set_level(logging.DEBUG, logger="wincc_bridge")
    plain_server.route("POST", VALUES, Reply(500, "oops"))
    url = plain_server.url.replace("://", "://api_ro:Url-Secret@")
    with open_client(classic(url)) as client, pytest.raises(ProtocolError) as caught:
        client.read_tags(["T1"])
    assert str(caught.value).startswith(f"{plain_server.url} answered HTTP 500")
    assert client.server == plain_server.url
    # Nor are they sent: the dialect's Authorization header is the only credential.
    assert plain_server.seen[-1].headers["authorization"] == "Basic YXBpX3JvOnB3"
    assert f"POST {plain_server.url}{VALUES} -> 500" in caplog.text
    assert "Url-Secret" not in caplog.text
    assert shown_url("https://u:Url-Secret@h:1/p?token=Url-Secret#x") == "https://h:1/p"
    assert shown_url("https://[::1") == "the configured address"


@pytest.mark.parametrize(
    ("reply", "error", "reason"),
    [
        (Reply(401), AuthError, "login refused"),
        (Reply(403), AuthError, "permission refused"),
        (Reply(404, "<html>Not Found</html>"), ProtocolError, "no such endpoint"),
        (Reply(405), ProtocolError, "no such endpoint"),
        (Reply(500, "boom"), ProtocolError, "unexpected answer"),
        (Reply(200, "not json"), ProtocolError, "unexpected answer"),
        (Reply(503), ConnectError, "WinCC not answering"),
        (Reply(body=ONE, delay=1.0), TimeoutError, "WinCC not answering"),
    ],
)
def test_each_failure_has_the_short_reason_a_tile_shows(
    plain_server: ScriptedServer, reply, error, reason
) -> None:
    plain_server.route("POST", VALUES, reply)
    settings = classic(plain_server.url, timeout=0.3, read_retries=0)
    with open_client(settings) as client, pytest.raises(error) as caught:
        client.read_tags(["T1"])
    assert caught.value.reason == short_reason(caught.value) == reason


def test_a_refused_connection_reads_not_answering_and_anything_else_poll_error() -> None:
    settings = classic("http://127.0.0.1:9", read_retries=0)
    with open_client(settings) as client, pytest.raises(ConnectError) as caught:
        client.read_tags(["T1"])
    assert short_reason(caught.value) == "WinCC not answering"
    assert short_reason(ValueError("a bug")) == "poll error"
