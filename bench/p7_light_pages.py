"""P7 light pages: the overview and the alarm list on a throttled Chromium, as a tablet on
plant Wi-Fi sees them: bytes transferred on the first and on a repeat visit, time to the
first live value, and the size of the scripts.

The production path runs: the simulator over HTTPS with the demo's three sites (Unified,
Classic, REST v1; the demo configuration pointed at this run's simulator), Celery beat and
one worker polling them every second, Redis, gunicorn with uvicorn workers serving the
collected static files, and Chromium (Playwright) signed in as a viewer.

Each visit is a new tab whose network and CPU are throttled through the DevTools protocol
before it navigates: Network.emulateNetworkConditions and Emulation.setCPUThrottlingRate
(4x). Two network profiles (PROFILES): Chrome DevTools' "Fast 3G" preset as Lighthouse
applies it in the browser (562.5 ms per request, 1.44 Mbit/s down, 675 kbit/s up; the
targets are judged on this one) and the raw Fast 3G figures (150 ms, 1.6 Mbit/s, 750 kbit/s).

- First visit: a fresh browser context (empty cache) carrying only the signed-in cookies.
- Repeat visit: a new tab in the same context, REPEAT_AFTER seconds later, past the short
  max-age WhiteNoise gives files without a hash in their name (60 s), as the next shift's
  visit would be.
- Transferred: every byte Chromium received for the page (headers and bodies, compressed
  as sent) to load it and make it live: every request of the tab, and of the live stream its
  headers and its snapshot (the first chunk the web writes, sized by a client of the
  benchmark's own). What the stream sends after that depends on the plant and on how long
  the load took, not on the page: it is reported beside (the stream's bytes by the time the
  page was loaded and live, and its rate over STREAM_WINDOW seconds once live).
- First live value: from the navigation's start to the first frame of the live stream
  taken into the page (htmx:sseMessage, or the first snapshot's pulse when the page already
  showed every fragment, docs/live.md): from then on the values move.
- Scripts: the JavaScript the page loads (Resource Timing), as served and decoded.

Targets per page: first live value <= 2.5 s, transferred <= 150 KB on the first visit and
<= 20 KB on a repeat visit (KB = 1,000 bytes).
"""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bench import sites
from bench.report import Figure, Result, Table
from bench.stack import Stack
from bench.stats import summary
from tests.harness.browser import launch_chromium

DEMO_CONFIG = Path(__file__).resolve().parent.parent / "dashboard" / "demo" / "config.json"
PAGES = [("overview", "/"), ("alarm list", "/alarms/")]
# (name, DevTools Network.emulateNetworkConditions: latency ms, bytes/s down, bytes/s up,
#  judged against the targets)
PROFILES = [
    ("Fast 3G, 562.5 ms (Lighthouse)", 562.5, 1_600_000 * 0.9 / 8, 750_000 * 0.9 / 8, True),
    ("Fast 3G, 150 ms", 150.0, 1_600_000 / 8, 750_000 / 8, False),
]
CPU_SLOWDOWN = 4
REPEAT_AFTER = 65.0  # seconds: past WhiteNoise's max-age (60 s) for files without a hash
TARGET_LIVE_S = 2.5
TARGET_FIRST_KB = 150
TARGET_REPEAT_KB = 20
STREAM_WINDOW = 10.0  # seconds of the live stream measured after the first sample went live
ALARMS = ["Conveyor_Fault", "Pump_Fault"]  # raised so that the alarm list has rows

# Stamps the first frame of the live stream taken into the page: a fragment swapped in, or
# the first snapshot's pulse when it sent no fragment (the page already showed them all).
# Keeps the stream's URL as the page was loaded: live.js drops its `seen` once it opens.
# (Runs before any script.)
STAMP = """
window.__p7 = {live: null, stream: null};
function __p7stamp() {
  if (window.__p7.live === null) window.__p7.live = performance.now();
}
document.addEventListener("DOMContentLoaded", function () {
  var live = document.getElementById("live");
  window.__p7.stream = live ? live.getAttribute("sse-connect") : null;
}, true);
document.addEventListener("htmx:sseMessage", __p7stamp, true);
document.addEventListener("htmx:sseOpen", function (evt) {
  if (evt.detail.source) evt.detail.source.addEventListener("pulse", __p7stamp);
}, true);
"""
READ = """() => {
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  const nav = performance.getEntriesByType("navigation")[0];
  const scripts = performance.getEntriesByType("resource")
    .filter(e => e.initiatorType === "script")
    .map(e => ({url: e.name, transfer: e.transferSize, encoded: e.encodedBodySize,
                decoded: e.decodedBodySize}));
  return {live: window.__p7.live, fcp: fcp ? fcp.startTime : null,
          load: nav ? nav.loadEventEnd : null, dcl: nav ? nav.domContentLoadedEventEnd : null,
          scripts: scripts};
}"""


def config(stack: Stack) -> dict:
    """The demo's sites and dashboards, every site on this run's simulator."""
    demo = json.loads(DEMO_CONFIG.read_text(encoding="utf-8"))
    for site in demo["sites"]:
        site["url"] = stack.sim.url
        site["tls"] = {"ca_file": str(stack.sim.ca_file)}
        site["read_user"]["username"] = stack.env["WINCC_SIM_RO_USER"]
        site["write_user"]["username"] = stack.env["WINCC_SIM_RW_USER"]
    return demo


class Traffic:
    """What Chromium received for one tab, from the DevTools protocol's Network events."""

    def __init__(self, cdp) -> None:
        self.requests: dict[str, dict] = {}
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.dataReceived", self._data)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.requestServedFromCache", self._memory_cache)

    def _entry(self, request_id: str) -> dict:
        return self.requests.setdefault(
            request_id,
            {"url": "", "type": "", "status": None, "headers": 0, "data": 0, "total": None,
             "cache": "", "cache_control": "", "encoding": ""},
        )

    def _response(self, event: dict) -> None:
        entry = self._entry(event["requestId"])
        response = event["response"]
        headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
        entry.update(
            url=response["url"], type=event.get("type", ""), status=response["status"],
            headers=int(response.get("encodedDataLength") or 0),
            cache="disk" if response.get("fromDiskCache") else entry["cache"],
            cache_control=headers.get("cache-control", ""),
            encoding=headers.get("content-encoding", ""),
        )

    def _data(self, event: dict) -> None:
        self._entry(event["requestId"])["data"] += int(event.get("encodedDataLength") or 0)

    def _finished(self, event: dict) -> None:
        self._entry(event["requestId"])["total"] = int(event.get("encodedDataLength") or 0)

    def _memory_cache(self, event: dict) -> None:
        self._entry(event["requestId"])["cache"] = "memory"

    def bytes_of(self, entry: dict) -> int:
        """Bytes on the wire: the finished request's count, or, for one still open (the live
        stream), its headers and the data so far."""
        if entry["cache"]:
            return 0
        return entry["total"] if entry["total"] is not None else entry["headers"] + entry["data"]

    def to_live(self, entry: dict, snapshot: int) -> int:
        """What a request cost the page to load and go live. The live stream: its headers
        and its snapshot (`snapshot` bytes, the first chunk the web writes); the frames after
        it depend on the plant and on how long the load took, and are reported beside."""
        if entry["type"] == "EventSource":
            return entry["headers"] + snapshot
        return self.bytes_of(entry)

    def rows(self, snapshot: int = 0) -> list[dict]:
        return [
            {**e, "bytes": self.bytes_of(e), "to_live": self.to_live(e, snapshot),
             "path": urlsplit(e["url"]).path}
            for e in self.requests.values()
            if e["url"]
        ]


def run(quick: bool = False, samples: int = 5) -> Result:
    result = Result("P7", "Light pages: overview and alarm list on throttled Chromium")
    if quick:
        samples = 2
    from playwright.sync_api import sync_playwright

    password = secrets.token_urlsafe(16)
    visits: list[dict] = []
    with Stack("p7") as st:
        st.start_redis()
        sites.simulator_secrets(st)
        st.start_simulator(tags=0)
        board = config(st)
        st.write_config(board)
        st.prepare_database(sessions=1)
        st.create_login_user("p7-viewer", password)
        worker = st.start_celery(concurrency=1).worker
        st.start_web(workers=2)
        for site in board["sites"]:
            sites.wait_polled(st, worker, site["id"])
        for alarm in ALARMS:
            st.sim.raise_alarm(alarm)
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            try:
                signed_in = _sign_in(browser, st.web_url, password)
                warm = browser.new_context(storage_state=signed_in, service_workers="block")
                _visit(warm, st.web_url, "/", PROFILES[0])  # the web's first-page imports
                warm.close()
                opened = []
                for n in range(samples):
                    for profile in PROFILES:
                        for page_name, path in PAGES:
                            # Without the service worker: DevTools gives the tab 0 bytes for
                            # a page the worker answers, and the worker's own few requests
                            # come after the load (docs/tablets.md counts them).
                            context = browser.new_context(storage_state=signed_in,
                                                          service_workers="block")
                            first = _attempt(context, st.web_url, path, profile,
                                             STREAM_WINDOW if n == 0 else 0.0)
                            first.update(page=page_name, profile=profile[0], visit="first", n=n)
                            visits.append(first)
                            opened.append((context, page_name, path, profile, n, time.monotonic()))
                for context, page_name, path, profile, n, at in opened:
                    time.sleep(max(0.0, at + REPEAT_AFTER - time.monotonic()))
                    repeat = _attempt(context, st.web_url, path, profile)
                    repeat.update(page=page_name, profile=profile[0], visit="repeat", n=n)
                    visits.append(repeat)
                    context.close()
            finally:
                browser.close()
    return _result(result, visits)


def _attempt(context, base: str, path: str, profile: tuple, stream_for: float = 0.0) -> dict:
    """A visit, or what kept it from loading and going live (counted, not fatal: the other
    samples still tell)."""
    try:
        return _visit(context, base, path, profile, stream_for)
    except Exception as exc:  # Playwright's timeouts and errors alike
        return {"failed": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"}


def _sign_in(browser, base: str, password: str) -> dict:
    """The cookies of a signed-in viewer, from a context of its own (its cache is thrown
    away: the first visits start empty)."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{base}/accounts/login/")
        page.fill("input[name=username]", "p7-viewer")
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/", timeout=30000)
        return context.storage_state()
    finally:
        context.close()


def _visit(context, base: str, path: str, profile: tuple, stream_for: float = 0.0) -> dict:
    """One throttled visit of `path` in a new tab of `context`; with `stream_for`, the live
    stream's bytes over that many seconds after the page went live, too."""
    _, latency, down, up, _ = profile
    page = context.new_page()
    try:
        cdp = context.new_cdp_session(page)
        traffic = Traffic(cdp)
        cdp.send("Network.enable")
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": latency, "downloadThroughput": down,
             "uploadThroughput": up},
        )
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        page.add_init_script(STAMP)
        page.goto(base + path, wait_until="load", timeout=60000)
        if urlsplit(page.url).path != path:
            raise RuntimeError(f"{path} answered with {page.url} (not signed in?)")
        page.wait_for_function("() => window.__p7 && window.__p7.live !== null",
                               timeout=30000, polling=50)
        timing = page.evaluate(READ)  # also delivers the DevTools events received so far
        stream = page.evaluate("() => window.__p7.stream") or ""
        snapshot = _snapshot_bytes(base + stream, context.cookies())
        requests = traffic.rows(snapshot)
        rate = None
        if stream_for:
            # Playwright delivers DevTools events while it waits in its own calls, not in
            # time.sleep.
            before = _stream_bytes(traffic.rows())
            page.wait_for_timeout(stream_for * 1000)
            page.evaluate("() => 0")
            rate = (_stream_bytes(traffic.rows()) - before) / stream_for
    finally:
        page.close()
    return {
        "live_s": timing["live"] / 1000,
        "fcp_s": (timing["fcp"] or 0) / 1000,
        "load_s": (timing["load"] or 0) / 1000,
        "bytes": sum(r["to_live"] for r in requests),
        "stream_bytes": _stream_bytes(requests),
        "stream_to_live": sum(r["to_live"] for r in requests if r["type"] == "EventSource"),
        "stream_rate": rate,
        "scripts_decoded": sum(s["decoded"] for s in timing["scripts"]),
        "scripts_transferred": sum(s["transfer"] for s in timing["scripts"]),
        "scripts": len(timing["scripts"]),
        "requests": requests,
    }


def _snapshot_bytes(url: str, cookies: list[dict]) -> int:
    """The size of the live stream's snapshot: the first chunk the web writes (the retry
    frame, every fragment the page does not already show, the pulses), read by a client of
    the benchmark's own with the browser's cookies, unthrottled."""
    jar = {c["name"]: c["value"] for c in cookies}
    with (
        httpx.Client(cookies=jar, timeout=10) as client,
        client.stream("GET", url) as response,
    ):
        response.raise_for_status()
        for chunk in response.iter_raw():
            if chunk:
                return len(chunk)
    raise RuntimeError(f"{url} sent no snapshot")


def _stream_bytes(requests: list[dict]) -> int:
    return sum(r["bytes"] for r in requests if r["type"] == "EventSource")


def _result(result: Result, visits: list[dict]) -> Result:
    def pick(page: str, profile: str, visit: str) -> list[dict]:
        wanted = (page, profile, visit)
        return [
            v for v in visits
            if (v["page"], v["profile"], v["visit"]) == wanted and "failed" not in v
        ]

    failed = [v for v in visits if "failed" in v]
    result.figures.append(
        Figure(f"visits that did not load and go live within 60 s (of {len(visits)})",
               "visits", {"n": len(visits), "median": None, "p95": None, "p99": None,
                          "max": len(failed)}, "0", not failed)
    )
    for v in failed:
        result.notes.append(f"{v['page']}, {v['visit']} visit, {v['profile']}: {v['failed']}")

    sizes = []
    for profile, *_, judged in PROFILES:
        for page, path in PAGES:
            for visit, byte_target in (("first", TARGET_FIRST_KB), ("repeat", TARGET_REPEAT_KB)):
                chosen = pick(page, profile, visit)
                live = summary([v["live_s"] for v in chosen])
                kb = summary([v["bytes"] / 1000 for v in chosen])
                where = f"{page} ({path}), {visit} visit, {profile}"
                result.figures.append(
                    Figure(f"{where}: first live value", "s", live,
                           f"<= {TARGET_LIVE_S:g} s" if judged else "",
                           live["p95"] is not None and live["p95"] <= TARGET_LIVE_S
                           if judged else None)
                )
                result.figures.append(
                    Figure(f"{where}: transferred", "KB", kb,
                           f"<= {byte_target} KB" if judged else "",
                           kb["max"] is not None and kb["max"] <= byte_target
                           if judged else None)
                )
                result.figures.append(
                    Figure(f"{where}: first contentful paint", "s",
                           summary([v["fcp_s"] for v in chosen]))
                )
                if visit == "first" and chosen:
                    v = chosen[0]
                    rate = v["stream_rate"]
                    sizes.append([page, profile, v["scripts"],
                                  round(v["scripts_decoded"] / 1000, 1),
                                  round(v["scripts_transferred"] / 1000, 1),
                                  round(v["stream_to_live"] / 1000, 1),
                                  round(v["stream_bytes"] / 1000, 1),
                                  "-" if rate is None else round(rate / 1000, 1)])
    result.tables.append(
        Table("Scripts, and the live stream, first visit (KB = 1,000 bytes)",
              ["page", "network", "scripts", "decoded KB", "transferred KB",
               "stream KB: headers and snapshot", "stream KB by then (load and live)",
               f"stream KB/s over the next {STREAM_WINDOW:g} s"], sizes)
    )
    for page, path in PAGES:
        for visit in ("first", "repeat"):
            chosen = pick(page, PROFILES[0][0], visit)
            if not chosen:
                continue
            rows = [
                [r["path"], r["type"], r["status"], r["cache"] or "-", r["encoding"] or "-",
                 r["cache_control"] or "-", r["to_live"]]
                for r in sorted(chosen[0]["requests"], key=lambda r: -r["bytes"])
            ]
            result.tables.append(
                Table(f"What the {page} ({path}) loads, {visit} visit, {PROFILES[0][0]}",
                      ["path", "type", "status", "cache", "encoding", "Cache-Control", "bytes"],
                      rows)
            )
    result.notes.append(
        f"CPU {CPU_SLOWDOWN}x slower (Emulation.setCPUThrottlingRate); repeat visits "
        f"{REPEAT_AFTER:g} s after the first, in a new tab of the same browser context."
    )
    result.raw = {"visits": visits}
    return result
