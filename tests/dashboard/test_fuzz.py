"""No URL answers 500, whatever its parameters: every URL pattern (walked from the URL
resolver, so a new view is covered without editing this file), with random path arguments,
query strings and form fields (unicode digits like "²", huge numbers, NUL bytes, very long
text), as an anonymous visitor, a viewer, an operator, a setpoint writer and an
administrator (hypothesis);
and, since a random walk may miss one parameter's one bad value, every parameter the
product reads with every kind of bad value, one at a time, on every URL of the product.

The live streams never end by themselves; for them the part that reads the request, the
layout a stream would serve (dashboard.views.stream.live_layout), is called directly. The
stream loop itself reads no parameter.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from unittest import mock

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.http import Http404, QueryDict
from django.test import Client, RequestFactory
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils.datastructures import MultiValueDict
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dashboard import layouts
from dashboard.params import BadParameter
from dashboard.views import stream
from tests.dashboard.livedata import DASHBOARDS, SITES, PlantTestCase, healthy_plant
from wincc_bridge.models import AlarmState

STREAMS = {"live-stream"}
ROLES = ("anonymous", "viewer", "operator", "writer", "admin")
# Django's admin is Django's own, tried more lightly than the product's views.
EXAMPLES = {"admin": 6, "product": 30}
# /health/ answers 503 on purpose when the plant is not ready (load balancers read it).
DELIBERATE = {"health": {503}}

# Words the views know, so that examples reach past the first check.
KNOWN = [
    *layouts.PAGES, *(d["id"] for d in DASHBOARDS), *(s["id"] for s in SITES),
    *layouts.FILTER_CHOICES["priority"], *(state.value for state in AlarmState),
    "sse", "poll", "auth", "user", "dashboard", "auditentry", "wallscreen", "1", "0",
    "delivery", "oven-hot", "dead", "delivered", "retrying",
]
PARAMETER_NAMES = [
    "transport", "rotate", "token", "site", "priority", "state", "page", "user", "result",
    "since", "until", "name", "instance", "comment", "next", "username", "password", "q", "o",
    "p", "e", "_changelist_filters", "all", "minutes", "reason", "text", "count", "tag",
    "value", "trigger", "status", "delivery",
]
NASTY = [
    "²", "٣", "①", "-1", "1.5", "1e999", "9" * 30, "9" * 5000, "\x00", "a\x00b", "x" * 10_000,
    "%", "%00", "'\"<script>", "../../etc/passwd", "2026-02-30", "0000-00-00", " ", "",
]
values = st.one_of(st.sampled_from(KNOWN + NASTY), st.text(max_size=50),
                   st.integers().map(str))
queries = st.dictionaries(st.one_of(st.sampled_from(PARAMETER_NAMES), st.text(max_size=10)),
                          values, max_size=5)
path_arguments = st.one_of(st.sampled_from([*KNOWN, "²", "x" * 300, "%00"]),
                           st.text(min_size=1, max_size=30).filter(lambda t: "/" not in t))


def url_patterns(patterns=None, namespace: str = "", groups: tuple[str, ...] = ()
                 ) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(URL name with its namespace, the names of its arguments) of every named pattern."""
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        found = groups + tuple(pattern.pattern.regex.groupindex)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_patterns(pattern.url_patterns, inner, found)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", found


URLS = sorted(set(url_patterns()))
# The admin is Django's; the read-only API is swept by its own contract test
# (tests/api/test_contract.py) with a token, which a person's session is not.
PRODUCT_URLS = [(name, arguments) for name, arguments in URLS
                if not name.startswith(("admin:", "api:"))]
# Path arguments that reach past the first check, for the sweep: the live transports of
# each page, with its dashboard where it has one.
# The REST Connector's inbound endpoint reads its raw body, no parameter: swept here for a
# 500 all the same; its bodies: tests/dashboard/test_rest_connector.py.
GOOD_ARGUMENTS = {"dashboard_id": [DASHBOARDS[0]["id"]], "page": sorted(layouts.PAGES),
                  "arg": [DASHBOARDS[0]["id"]], "site_id": [SITES[0]["id"]]}
BAD_KINDS = ["²", "-1", "1e999", "9" * 5000, "a\x00b", "x" * 10_000]
POSTED = {"alarm-ack", "alarm-ack-all", "alarm-shelve", "alarm-unshelve", "alarm-comment",
          "login", "tag-write", "integrations-retry"}
# Who reaches the parameters: the administrator passes every permission check; the sign-in
# form is read only for someone not signed in.
SWEEP_ROLE = {"login": "anonymous"}


def sweep_urls() -> Iterator[tuple[str, str]]:
    for name, arguments in PRODUCT_URLS:
        choices = [GOOD_ARGUMENTS[arg] for arg in arguments]
        for combination in itertools.product(*choices):
            kwargs = dict(zip(arguments, combination, strict=True))
            if "page" in kwargs and ("arg" in kwargs) != (kwargs["page"] in {"dashboard", "wall"}):
                continue  # a page with an argument it does not take: a 404 before any parameter
            yield name, reverse(name, kwargs=kwargs)


@contextlib.contextmanager
def parameters_read() -> Iterator[set[str]]:
    """The names a view asks request.GET / request.POST for (QueryDicts)."""
    names: set[str] = set()

    def recording(method):
        def read(self, key, *args, **kwargs):
            if isinstance(self, QueryDict) and isinstance(key, str):
                names.add(key)
            return method(self, key, *args, **kwargs)
        return read

    with contextlib.ExitStack() as stack:
        for attribute in ("get", "getlist", "__getitem__", "__contains__"):
            original = getattr(MultiValueDict, attribute)
            stack.enter_context(mock.patch.object(MultiValueDict, attribute, recording(original)))
        yield names


# CPU-bound: beside the other worker's tests on two busy cores it can pass the default 120 s.
@pytest.mark.timeout(300)
class NoServerErrorTestCase(PlantTestCase):
    def setUp(self):
        super().setUp()
        healthy_plant(self.redis)
        self.users = {"anonymous": None, "viewer": self.viewer, "operator": self.operator,
                      "writer": self.writer, "admin": self.admin}

    def answer(self, name: str, url: str, method: str, role: str, query: dict) -> int:
        user = self.users[role]
        if name in STREAMS:
            return self.stream_status(url, user, query)
        client = Client()
        if user is not None:
            client.force_login(user)
        response = client.get(url, query) if method == "GET" else client.post(url, query)
        return response.status_code

    def stream_status(self, url: str, user, query: dict) -> int:
        request = RequestFactory().get(url, query)
        request.user = user or AnonymousUser()
        request.session = SessionStore()
        match = get_resolver().resolve(request.path_info)
        try:
            answer = stream.live_layout(request, match.kwargs["page"], match.kwargs.get("arg", ""))
        except (BadParameter, Http404):
            return 400  # the middleware's and Django's answers
        return answer.status_code if hasattr(answer, "status_code") else 200

    def test_the_walk_finds_every_kind_of_url(self):
        names = {name for name, _ in URLS}
        assert {"overview", "dashboard", "wall", "live-stream", "live-poll", "alarm-ack",
                "alarm-ack-all", "alarm-shelve", "alarm-unshelve", "alarm-comment",
                "alarm-occurrence", "tag-write", "audit-log", "audit-csv", "login",
                "admin:index", "integrations", "integrations-retry"} <= names
        assert ("dashboard", ("dashboard_id",)) in URLS

    def test_no_url_answers_500(self):
        for name, arguments in URLS:
            with self.subTest(url=name):
                self.check_url(name, arguments)

    def test_every_parameter_with_every_kind_of_bad_value(self):
        """Each parameter a product URL reads (found by watching it answer an empty request),
        one at a time, as someone no permission check stops early (SWEEP_ROLE)."""
        swept = set()
        for name, url in sweep_urls():
            method = "POST" if name in POSTED else "GET"
            role = SWEEP_ROLE.get(name, "admin")
            with parameters_read() as names:
                self.answer(name, url, method, role, {})
            for parameter in sorted(names):
                for value in BAD_KINDS:
                    status = self.answer(name, url, method, role, {parameter: value})
                    assert status < 500 or status in DELIBERATE.get(name, ()), (
                        method, url, parameter, value)
                swept.add((name, parameter))
        assert {("wall", "rotate"), ("wall", "token"), ("overview", "transport"),
                ("alarms", "priority"), ("live-poll", "state"), ("live-stream", "site"),
                ("audit-log", "page"), ("audit-log", "since"), ("alarm-ack", "instance"),
                ("tag-write", "value"), ("login", "username"), ("integrations", "trigger"),
                ("integrations", "status"), ("integrations-retry", "delivery")} <= swept

    def check_url(self, name: str, arguments: tuple[str, ...]) -> None:
        examples = EXAMPLES["admin" if name.startswith("admin:") else "product"]

        @settings(max_examples=examples, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
        @given(data=st.data(), method=st.sampled_from(["GET", "POST"]),
               role=st.sampled_from(ROLES), query=queries)
        def check(data, method, role, query):
            kwargs = {arg: data.draw(path_arguments, label=arg) for arg in arguments}
            try:
                url = reverse(name, kwargs=kwargs)
            except NoReverseMatch:
                assume(False)
            status = self.answer(name, url, method, role, query)
            assert status < 500 or status in DELIBERATE.get(name, ()), (method, url, role, query)

        check()
