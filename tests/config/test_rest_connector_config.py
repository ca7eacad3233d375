"""A Classic site whose REST Connector pushes: `ingest` and `rest_connector`, never open."""

from __future__ import annotations

import pytest

from tests.config.test_validation import ENV, minimal, problems_of
from wincc_ingest.config import RestConnector, build

PUSH_SECRET = "push-secret-of-at-least-16-chars"
PUSH_ENV = {**ENV, "LINE_PUSH_SECRET": PUSH_SECRET}


def pushing(**connector) -> dict:
    data = minimal()
    data["sites"][0]["ingest"] = "rest-connector"
    data["sites"][0]["rest_connector"] = connector or {"signature_env": "LINE_PUSH_SECRET"}
    return data


def test_a_signed_rest_connector_site_is_built_with_its_secret_variable():
    config = build(pushing(), environ=PUSH_ENV)
    site = config.known_site("line")
    assert site.ingest == "rest-connector"
    assert site.rest_connector == RestConnector(signature_env="LINE_PUSH_SECRET")
    assert site.rest_connector.secret(PUSH_ENV) == PUSH_SECRET
    # Polling goes on: the interval is the site's own.
    assert site.poll_interval == 1.0
    assert config.known_site("utilities").ingest == "poll"
    assert config.known_site("utilities").rest_connector is None


def test_a_bearer_rest_connector_site_and_its_own_signature_header():
    assert problems_of(pushing(token_env="LINE_PUSH_SECRET"), PUSH_ENV) == []
    signed = pushing(signature_env="LINE_PUSH_SECRET", signature_header="X-Wincc-Hmac")
    site = build(signed, environ=PUSH_ENV).known_site("line")
    assert site.rest_connector.signature_header == "X-Wincc-Hmac"


def test_a_rest_connector_site_is_never_open():
    data = pushing()
    del data["sites"][0]["rest_connector"]
    assert problems_of(data, PUSH_ENV) == [
        "$.sites[0]: a rest-connector site needs rest_connector, naming the secret its pushes "
        "prove themselves with (signature_env or token_env); the endpoint is never open"
    ]
    assert problems_of(pushing(signature_header="X-Sig"), PUSH_ENV) == [
        "$.sites[0].rest_connector: needs exactly one of signature_env (an HMAC-SHA256 of the "
        "body in a header) and token_env (Authorization: Bearer)",
        "$.sites[0].rest_connector.signature_header: has no effect without signature_env",
    ]
    both = pushing(signature_env="LINE_PUSH_SECRET", token_env="LINE_PUSH_SECRET")
    assert problems_of(both, PUSH_ENV) == [
        "$.sites[0].rest_connector: needs exactly one of signature_env (an HMAC-SHA256 of the "
        "body in a header) and token_env (Authorization: Bearer)",
    ]


def test_the_secret_must_be_set_and_long_without_being_repeated():
    assert problems_of(pushing(), ENV) == [
        "$.sites[0].rest_connector.signature_env: environment variable LINE_PUSH_SECRET is not set"
    ]
    short = {**ENV, "LINE_PUSH_SECRET": "short-one"}
    (problem,) = problems_of(pushing(), short)
    assert problem.startswith(
        "$.sites[0].rest_connector.signature_env: the secret in environment variable "
        "LINE_PUSH_SECRET is shorter than 16 characters"
    )
    assert "short-one" not in problem
    # A name that may be the secret typed in its place is not repeated.
    (problem,) = problems_of(pushing(token_env="Hunter2"), {**ENV, "Hunter2": "x"})
    assert "Hunter2" not in problem and "the environment variable named here" in problem


def test_the_secret_itself_in_the_file_is_refused():
    (problem,) = problems_of(pushing(secret=PUSH_SECRET, token_env="LINE_PUSH_SECRET"), PUSH_ENV)
    assert problem.startswith("$.sites[0].rest_connector.secret: secrets do not belong")
    assert PUSH_SECRET not in problem


def test_only_classic_sites_have_a_rest_connector():
    data = pushing()
    data["sites"][1]["ingest"] = "rest-connector"
    data["sites"][1]["rest_connector"] = {"token_env": "LINE_PUSH_SECRET"}
    assert problems_of(data, PUSH_ENV) == [
        "$.sites[1].ingest: the REST Connector is Classic WinCC's (V8.0 and later); a rest-v1 "
        "site cannot use it"
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"ingest": "push"}, '$.sites[0].ingest: must be one of "poll", "subscribe", '
                             '"rest-connector", not "push"'),
        ({"rest_connector": {"token_env": "LINE_PUSH_SECRET"}},
         '$.sites[0].rest_connector: has no effect: ingest is not "rest-connector"; remove one '
         "or set both"),
        ({"ingest": "rest-connector", "rest_connector": {"token_env": "LINE_PUSH_SECRET",
                                                         "header": "X"}},
         "$.sites[0].rest_connector.header: unknown key 'header'; allowed keys: "
         "signature_env, signature_header, token_env"),
    ],
)
def test_shape_problems(change, expected):
    data = minimal()
    data["sites"][0].update(change)
    assert problems_of(data, PUSH_ENV) == [expected]
