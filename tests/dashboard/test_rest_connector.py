"""POST /ingest/rest-connector/<site>/: a Classic site's REST Connector pushes, with the
test's own Redis. Every refusal is JSON with a sentence, and nothing of a refused push is
stored."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time

import pytest
import redis
from django.conf import settings
from django.test import TestCase

from dashboard import proxies, siteconfig, tasks
from wincc_ingest import codec, store
from wincc_ingest.delivery import signature
from wincc_ingest.poller import Pollers, TimeLimits

SIGNED_ENV = "WDASH_TEST_PUSH_SIGNATURE_KEY"
TOKEN_ENV = "WDASH_TEST_PUSH_TOKEN"
SIGNED_SECRET = "signature-key-for-tests-only-0123"
TOKEN = "bearer-token-for-tests-only-4567"
ORIGINAL_CONFIG = settings.WINCC_CONFIG

SIGNED_URL = "/ingest/rest-connector/line/"
BEARER_URL = "/ingest/rest-connector/packing/"

TAGS = [{"name": "Tank_Level"}, {"name": "Conveyor_Speed"}]


def site(site_id: str, **extra) -> dict:
    return {"id": site_id, "dialect": "classic", "url": "https://127.0.0.1:1",
            "tls": {"insecure": True, "verify": False}, "alarm_filter": "ActiveAlarms",
            "read_user": {"username": "reader", "password_env": SIGNED_ENV},
            "tags": TAGS, **extra}


def write_config(directory) -> None:
    os.environ[SIGNED_ENV] = SIGNED_SECRET
    os.environ[TOKEN_ENV] = TOKEN
    sites = [
        site("line", ingest="rest-connector", rest_connector={"signature_env": SIGNED_ENV}),
        site("packing", ingest="rest-connector", rest_connector={"token_env": TOKEN_ENV},
             timezone="Europe/Berlin"),
        site("polled"),
    ]
    path = directory / "config.json"
    path.write_text(json.dumps({"sites": sites}), encoding="utf-8")
    settings.WINCC_CONFIG = str(path)
    siteconfig.reload_config()


def body(**content) -> bytes:
    return json.dumps(content).encode()


GOOD = body(tags=[
    {"variableName": "Tank_Level", "value": 42.5, "timestamp": "2026-01-05T10:00:00.000Z",
     "qualityCode": 192},
    {"variableName": "Mystery_Tag", "value": 1},
])
CAME_IN = {"MsgNr": 1001, "Name": "Conveyor_Fault", "InstanceID": 1, "State": 1,
           "Class": "Alarm", "Priority": 12, "AckRequired": True,
           "DateTime": "2026-01-05T10:00:01.000Z", "Text1": "Conveyor fault"}


class PushTestCase(TestCase):
    @pytest.fixture(autouse=True)
    def _plant(self, redis_client, tmp_path, monkeypatch):
        self.redis = redis_client
        write_config(tmp_path)
        # The web's pollers are made from the configuration on first use: this test's.
        monkeypatch.setattr(tasks, "_redis", None)
        monkeypatch.setattr(tasks, "_pollers", None)
        monkeypatch.setattr(tasks, "_pollers_config", None)
        yield
        if tasks._pollers is not None:
            tasks._pollers.close()
        settings.WINCC_CONFIG = ORIGINAL_CONFIG
        siteconfig.get_config.cache_clear()

    def signed(self, content: bytes, url: str = SIGNED_URL, content_type="application/json",
               **headers):
        headers.setdefault("HTTP_X_SIGNATURE_256", signature(SIGNED_SECRET, content))
        return self.client.post(url, content, content_type=content_type, **headers)

    def bearer(self, content: bytes, token: str = TOKEN):
        return self.client.post(BEARER_URL, content, content_type="application/json",
                                HTTP_AUTHORIZATION=f"Bearer {token}")

    def stored(self, site_id: str = "line") -> dict:
        return codec.text_hash(self.redis.hgetall(store.site_values(site_id)))

    def refused(self, response, status: int, words: str) -> dict:
        assert response.status_code == status, response.content
        assert response["Content-Type"] == "application/json"
        answer = response.json()
        assert words in answer["error"], answer
        assert self.stored() == {} and self.stored("packing") == {}
        return answer


class RestConnectorTests(PushTestCase):
    # --- taken -----------------------------------------------------------------------------

    def test_a_signed_push_is_stored_and_published_and_unknown_tags_are_named(self):
        listener = self.redis.pubsub()
        listener.subscribe(store.CHANGES_CHANNEL)
        assert listener.get_message(timeout=2)["type"] == "subscribe"
        response = self.signed(GOOD)
        assert response.status_code == 200, response.content
        assert response.json() == {"site": "line", "taken": {"tags": 1, "alarms": 0, "gone": 0},
                                   "changed_tags": 1, "unknown_tags": ["Mystery_Tag"],
                                   "unknown_tag_count": 1, "outdated_tags": []}
        values = self.stored()
        assert set(values) == {"Tank_Level"}
        stored = codec.decode_value(values["Tank_Level"], "Tank_Level").tag
        assert stored.value == 42.5 and stored.quality_code == 192
        message = listener.get_message(timeout=2)
        assert message is not None and json.loads(message["data"])["tags"] == ["Tank_Level"]
        listener.close()

    def test_many_unknown_tags_are_counted_and_named_up_to_a_bound(self):
        content = body(tags=[{"variableName": f"Other_{i}", "value": i} for i in range(250)])
        answer = self.signed(content).json()
        assert answer["unknown_tag_count"] == 250
        assert answer["unknown_tags"] == [f"Other_{i}" for i in range(100)]
        assert answer["taken"]["tags"] == 0 and self.stored() == {}

    def test_a_bearer_push_is_stored(self):
        response = self.bearer(body(tags=[{"variableName": "Conveyor_Speed", "value": 12.5}]))
        assert response.status_code == 200, response.content
        assert set(self.stored("packing")) == {"Conveyor_Speed"}

    def test_alarms_come_and_go_through_the_journal(self):
        assert self.signed(body(alarms=[CAME_IN])).status_code == 200
        alarms = codec.text_hash(self.redis.hgetall(store.site_alarms("line")))
        assert list(alarms) == ["Conveyor_Fault|1"]
        assert codec.decode_alarm(alarms["Conveyor_Fault|1"]).event_text == "Conveyor fault"
        response = self.signed(body(gone=[{"Name": "Conveyor_Fault", "InstanceID": 1}]))
        assert response.json()["taken"] == {"tags": 0, "alarms": 0, "gone": 1}
        assert self.redis.hgetall(store.site_alarms("line")) == {}
        assert self.redis.xlen(store.JOURNAL_STREAM) == 2  # raised, then gone

    def test_times_without_an_offset_are_the_sites_local_time(self):
        # CET, UTC+1
        value = {"variableName": "Conveyor_Speed", "value": 1, "timestamp": "2026-01-05T11:00:00"}
        local = {**CAME_IN, "DateTime": "2026-01-05T11:00:01.000"}
        response = self.bearer(body(tags=[value], alarms=[local]))
        assert response.status_code == 200, response.content
        value = codec.decode_value(self.stored("packing")["Conveyor_Speed"], "Conveyor_Speed").tag
        alarms = codec.text_hash(self.redis.hgetall(store.site_alarms("packing")))
        alarm = codec.decode_alarm(alarms["Conveyor_Fault|1"])
        assert value.timestamp.isoformat() == "2026-01-05T10:00:00+00:00"
        assert alarm.raise_time.isoformat() == "2026-01-05T10:00:01+00:00"

    def test_a_byte_order_mark_is_taken(self):
        response = self.signed(b"\xef\xbb\xbf" + body(tags=[{"variableName": "Tank_Level",
                                                            "value": 1}]))
        assert response.status_code == 200, response.content

    # --- refused ---------------------------------------------------------------------------

    def test_only_post(self):
        for method in ("get", "put", "delete"):
            response = getattr(self.client, method)(SIGNED_URL)
            self.refused(response, 405, "only POST")
            assert response["Allow"] == "POST"

    def test_a_site_that_takes_no_pushes_is_not_found(self):
        for url in ("/ingest/rest-connector/nowhere/", "/ingest/rest-connector/polled/"):
            self.refused(self.signed(GOOD, url), 404, "no site here takes")

    def test_without_credentials(self):
        response = self.client.post(SIGNED_URL, GOOD, content_type="application/json")
        self.refused(response, 401, "X-Signature-256")
        assert response["WWW-Authenticate"].startswith("Bearer")
        response = self.client.post(BEARER_URL, GOOD, content_type="application/json")
        self.refused(response, 401, "Authorization: Bearer")
        # A token where a signature is asked for offers no signature.
        response = self.client.post(SIGNED_URL, GOOD, content_type="application/json",
                                    HTTP_AUTHORIZATION=f"Bearer {SIGNED_SECRET}")
        self.refused(response, 401, "no credentials")

    def test_wrong_credentials(self):
        self.refused(self.signed(GOOD, HTTP_X_SIGNATURE_256=signature("other-key", GOOD)), 403,
                     "wrong")
        # Signed over another body: the body was changed on the way.
        self.refused(self.signed(GOOD, HTTP_X_SIGNATURE_256=signature(SIGNED_SECRET, b"{}")),
                     403, "wrong")
        self.refused(self.bearer(GOOD, token=SIGNED_SECRET), 403, "wrong")
        response = self.client.post(BEARER_URL, GOOD, content_type="application/json",
                                    HTTP_AUTHORIZATION=f"Basic {TOKEN}")
        self.refused(response, 401, "no credentials")

    def test_an_unset_secret_accepts_nothing(self):
        os.environ[TOKEN_ENV] = ""
        try:
            self.refused(self.bearer(GOOD, token=""), 401, "no credentials")
            self.refused(self.bearer(GOOD, token="anything"), 403, "wrong")
        finally:
            os.environ[TOKEN_ENV] = TOKEN

    def test_a_body_over_the_limit(self):
        with self.settings(INGEST_MAX_BODY_BYTES=100):
            answer = self.refused(self.signed(GOOD), 413, "larger than 100 bytes")
            assert "fewer items" in answer["error"]

    def test_not_json(self):
        self.refused(self.signed(GOOD, content_type="text/plain"), 415, "must be JSON")

    def test_bad_bodies(self):
        cases = [
            (b"{not json", "$: not valid JSON at line 1"),
            (b"\xff\xfe{}", "$: not UTF-8 text"),
            (b'{"tags": [], "tags": []}', "appears twice"),
            (b'{"tags": [{"variableName": "Tank_Level", "value": NaN}]}', "not a JSON number"),
            (b"[]", "$: must be an object"),
            (b"{}", "$: must hold at least one of tags, alarms and gone"),
            (body(tag=[]), "$.tag: unknown key 'tag'; did you mean 'tags'?"),
            (body(tags={}), "$.tags: must be a list"),
            (body(tags=[{"variableName": "Tank_Level"}]), "$.tags[0].value: is required"),
            (body(tags=[{"variableName": "Tank_Level", "Value": 1, "value": 2}]),
             "$.tags[0].Value: unknown key 'Value'; did you mean 'value'?"),
            (body(tags=[{"variableName": "Tank_Level", "value": {"x": 1}}]),
             "$.tags[0].value: must be a number, true or false"),
            (body(tags=[{"variableName": "", "value": 1}]), "$.tags[0].variableName: must not"),
            (body(tags=[{"variableName": "Tank_Level", "value": 1, "timestamp": "yesterday"}]),
             "$.tags[0].timestamp: not a time"),
            (body(tags=[{"variableName": "Tank_Level", "value": 1, "qualityCode": 300}]),
             "$.tags[0].qualityCode: must be at most 255"),
            (body(tags=[{"variableName": "Tank_Level", "value": 1, "password": "x"}]),
             "$.tags[0].password: unknown key"),
            (body(alarms=[{**CAME_IN, "State": "burning"}]),
             '$.alarms[0].State: unknown alarm state "burning"'),
            (body(alarms=[{"State": 1}]), "$.alarms[0]: needs Name or MsgNr"),
            (body(alarms=[{**CAME_IN, "DateTime": "soon"}]), "$.alarms[0].DateTime: not a time"),
            (body(alarms=[{**CAME_IN, "Priority": 99}]),
             "$.alarms[0].Priority: must be at most 16"),
            (body(gone=[{"InstanceID": 1}]), "$.gone[0]: needs Name or MsgNr"),
            (body(gone=["Conveyor_Fault"]), "$.gone[0]: must be an object"),
        ]
        for content, words in cases:
            with self.subTest(words):
                answer = self.refused(self.signed(content), 400, "the push was not taken")
                assert any(words in problem for problem in answer["problems"]), answer

    def test_a_good_item_beside_a_bad_one_is_not_stored_either(self):
        content = body(tags=[{"variableName": "Tank_Level", "value": 1},
                             {"variableName": "Conveyor_Speed", "value": []}])
        answer = self.refused(self.signed(content), 400, "$.tags[1].value")
        assert answer["more_problems"] == 0

    def test_too_many_items_and_too_many_problems(self):
        many = body(tags=[{"variableName": f"T{i}", "value": 1} for i in range(10_001)])
        with self.settings(INGEST_MAX_BODY_BYTES=len(many)):
            self.refused(self.signed(many), 400, "$.tags: must list at most 10000 items")
        broken = body(tags=[{"variableName": "Tank_Level"} for _ in range(25)])
        answer = self.refused(self.signed(broken), 400, "is required")
        assert len(answer["problems"]) == 20 and answer["more_problems"] == 5

    def test_redis_away_is_503_and_the_sender_posts_again(self):
        tasks._redis = redis.Redis.from_url("redis://127.0.0.1:9/0", socket_timeout=0.5)
        response = self.signed(GOOD)
        answer = self.refused(response, 503, "post it again")
        assert response["Retry-After"] == "1"
        assert "redis" not in json.dumps(answer).lower()

    def test_a_site_busy_past_the_wait_is_503(self):
        config = siteconfig.get_config()
        tasks._pollers = Pollers(config.sites, tasks.connection(), push_wait=0.1,
                                 limits=TimeLimits.for_sites(config.sites))
        tasks._pollers_config = config
        lock = self.redis.lock(store.site_lock("line"), timeout=10)
        assert lock.acquire()
        try:
            response = self.signed(GOOD)
        finally:
            lock.release()
        self.refused(response, 503, "not recorded")
        assert response["Retry-After"] == "1"


class RateLimitTests(PushTestCase):
    """The limits kept in the test's Redis (dashboard.push_limits): a site's pushes per
    window, and refused pushes per address, answered 429 and logged once per window. An
    hour's window where a test counts, so the clock's turn of a window falls in none."""

    HOUR = 3600

    def limited(self, response, words: str) -> int:
        assert response.status_code == 429, response.content
        assert response["Content-Type"] == "application/json"
        answer = response.json()
        assert words in answer["error"], answer
        wait = int(response["Retry-After"])
        assert answer["retry_after"] == wait
        assert 1 <= wait <= settings.INGEST_LIMIT_WINDOW_SECONDS
        return wait

    def warnings(self, logs) -> list[str]:
        return [r.getMessage() for r in logs.records if r.levelno >= logging.WARNING]

    def test_a_connector_posting_several_times_a_second_is_never_refused(self):
        started = time.monotonic()
        for i in range(50):
            response = self.signed(body(tags=[{"variableName": "Tank_Level", "value": i}]))
            assert response.status_code == 200, (i, response.content)
        assert 50 / (time.monotonic() - started) > 5  # faster than a connector's usual pace
        assert settings.INGEST_SITE_PUSH_LIMIT >= 6000  # the default: 100 a second

    def test_a_site_over_its_limit_is_answered_429_and_logged_once(self):
        with self.settings(INGEST_SITE_PUSH_LIMIT=3, INGEST_LIMIT_WINDOW_SECONDS=self.HOUR), \
                self.assertLogs("dashboard.ingest", logging.INFO) as logs:
            for i in range(3):
                assert self.signed(body(tags=[{"variableName": "Tank_Level",
                                                "value": i}])).status_code == 200
            for _ in range(3):
                self.limited(self.signed(GOOD), "more than 3 pushes for this site")
            # Another site has its own budget.
            assert self.bearer(GOOD).status_code == 200
        assert codec.decode_value(self.stored()["Tank_Level"], "Tank_Level").tag.value == 2
        [line] = self.warnings(logs)
        assert line.startswith("site line: more than 3 pushes in 3600 s")
        assert self.redis.get(store.site_pushes("line", int(time.time() // self.HOUR))) == "6"

    def test_refused_pushes_from_one_address_are_answered_429_and_logged_once(self):
        wrong = signature("other-key", GOOD)
        with self.settings(INGEST_REFUSAL_LIMIT=2, INGEST_LIMIT_WINDOW_SECONDS=self.HOUR), \
                self.assertLogs("dashboard.ingest", logging.INFO) as logs:
            for _ in range(2):
                self.refused(self.signed(GOOD, HTTP_X_SIGNATURE_256=wrong), 403, "wrong")
            for _ in range(3):
                self.limited(self.signed(GOOD, HTTP_X_SIGNATURE_256=wrong),
                             "too many pushes with wrong or missing credentials")
            self.limited(self.client.post(SIGNED_URL, GOOD, content_type="application/json"),
                         "too many")
            # Another address has its own budget, and so has another site.
            self.refused(self.signed(GOOD, HTTP_X_SIGNATURE_256=wrong, REMOTE_ADDR="10.0.0.9"),
                         403, "wrong")
            self.refused(self.bearer(GOOD, token="not-the-token"), 403, "wrong")
            # The credentials come first: a correct push from there is taken.
            assert self.signed(GOOD).status_code == 200
        lines = self.warnings(logs)
        assert len(lines) == 3, lines
        assert lines[0].startswith(
            "site line: a push from 127.0.0.1 refused: wrong credentials; further refusals "
            "from there are counted, not logged, for ")
        assert lines[1].startswith("site line: a push from 10.0.0.9 refused")
        assert lines[2].startswith("site packing: a push from 127.0.0.1 refused")
        for secret in (SIGNED_SECRET, TOKEN, wrong, "not-the-token"):
            assert secret not in "\n".join(lines)

    def test_the_address_is_the_one_a_trusted_proxy_names(self):
        wrong = {"HTTP_X_SIGNATURE_256": signature("other-key", GOOD)}
        with self.settings(INGEST_REFUSAL_LIMIT=1, INGEST_LIMIT_WINDOW_SECONDS=self.HOUR):
            # Not from a trusted proxy: X-Forwarded-For is the sender's own word, not counted.
            self.refused(self.signed(GOOD, HTTP_X_FORWARDED_FOR="192.0.2.1", **wrong), 403, "wrong")
            self.limited(self.signed(GOOD, HTTP_X_FORWARDED_FOR="192.0.2.2", **wrong), "many")
            behind = proxies.TrustedProxies.parse("127.0.0.1")
            with self.settings(TRUSTED_PROXIES=behind):
                self.refused(self.signed(GOOD, HTTP_X_FORWARDED_FOR="192.0.2.3", **wrong),
                             403, "wrong")
                self.limited(self.signed(GOOD, HTTP_X_FORWARDED_FOR="192.0.2.3", **wrong),
                             "many")
        window = int(time.time() // self.HOUR)
        assert self.redis.get(store.push_refusals("line", "127.0.0.1", window)) == "2"
        assert self.redis.get(store.push_refusals("line", "192.0.2.3", window)) == "2"

    def test_the_next_window_logs_again_with_the_count_of_the_one_before(self):
        wrong = {"HTTP_X_SIGNATURE_256": signature("other-key", GOOD)}
        window = 2
        with self.settings(INGEST_LIMIT_WINDOW_SECONDS=window), \
                self.assertLogs("dashboard.ingest", logging.INFO) as logs:
            time.sleep(window - time.time() % window + 0.05)  # at the start of a window
            for _ in range(4):
                self.refused(self.signed(GOOD, **wrong), 403, "wrong")
            time.sleep(window - time.time() % window + 0.05)
            self.refused(self.signed(GOOD, **wrong), 403, "wrong")
        first, second = self.warnings(logs)
        assert first.endswith("s") and "before" not in first
        assert second.endswith("(4 in the 2 s before)")

    def test_without_redis_nothing_is_limited_and_every_refusal_is_logged(self):
        wrong = {"HTTP_X_SIGNATURE_256": signature("other-key", GOOD)}
        with self.settings(REDIS_URL="redis://127.0.0.1:9/0", INGEST_REFUSAL_LIMIT=1), \
                self.assertLogs("dashboard.ingest", logging.INFO) as logs:
            for _ in range(3):
                self.refused(self.signed(GOOD, **wrong), 403, "wrong")
        assert self.warnings(logs) == ["site line: a push from 127.0.0.1 refused: wrong "
                                       "credentials"] * 3


class BodyBoundTests(TestCase):
    """Under ASGI (production), the handler refuses a long body before Django reads it.
    (The view counts the refusal of a body it reads in Redis: the test's own.)"""

    @pytest.fixture(autouse=True)
    def _plant(self, tmp_path, redis_client):
        write_config(tmp_path)
        yield
        settings.WINCC_CONFIG = ORIGINAL_CONFIG
        siteconfig.get_config.cache_clear()

    async def call(self, headers, chunks):
        from dashboard.live.asgi import DashboardASGIHandler

        received, sent = [], []
        pending = list(chunks)

        async def receive():
            if not pending:  # the client stays connected
                await asyncio.Event().wait()
            received.append(pending[0])
            return pending.pop(0)

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": SIGNED_URL, "raw_path": b"",
                 "root_path": "", "query_string": b"", "headers": headers,
                 "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80), "scheme": "http",
                 "asgi": {"version": "3.0"}, "http_version": "1.1"}
        await DashboardASGIHandler()(scope, receive, send)
        return received, sent

    async def test_a_declared_length_over_the_limit_is_refused_unread(self):
        with self.settings(INGEST_MAX_BODY_BYTES=1000):
            received, sent = await self.call(
                [(b"content-length", b"50000000"), (b"content-type", b"application/json")],
                [{"type": "http.request", "body": b"x" * 1000, "more_body": True}])
        assert received == []
        assert sent[0]["status"] == 413
        assert json.loads(sent[1]["body"])["error"].startswith("the body is larger than 1000")

    async def test_a_chunked_body_is_read_only_up_to_the_limit(self):
        chunk = {"type": "http.request", "body": b"x" * 600, "more_body": True}
        with self.settings(INGEST_MAX_BODY_BYTES=1000):
            received, sent = await self.call([(b"content-type", b"application/json")],
                                             [chunk] * 100)
        assert len(received) == 2  # 1,200 bytes read of 60,000
        assert sent[0]["status"] == 413

    async def test_a_body_within_the_limit_reaches_the_view(self):
        _received, sent = await self.call(
            [(b"content-type", b"application/json"), (b"content-length", b"2")],
            [{"type": "http.request", "body": b"{}", "more_body": False}])
        assert sent[0]["status"] == 401  # the view's own answer: no credentials
