"""P1-push, Classic REST Connector: a value changes in the simulator; when does Chromium show
it, pushed and polled, in the same run?

One simulator serves two Classic sites of one dashboard, both polled every second by the
real worker: `pushed` also takes the simulator's REST Connector posts
(`ingest: rest-connector`, wincc_sim --rest-connector, a Bearer token), `polled` only polls.
For each sample, at a random phase to the poll, the benchmark forces `Tank_Level` through
the simulator's admin endpoint; a MutationObserver stamps the moment each site's tile shows
it. The pushed figure is the product's; the polled one, from the same changes, is the
baseline beside it.

Where the pushed time goes: change to the PUBLISH of the push (the connector's scan, the
post, the endpoint's check and record_push), seen by a subscriber in this process; then
PUBLISH to the DOM (hub render, SSE, htmx swap).
Target: pushed p95 at most 0.25 s.
"""

from __future__ import annotations

import contextlib
import random
import secrets
import threading
import time

from bench import sites
from bench.p1_end_to_end import TAG, ChangeListener
from bench.report import Figure, Result, Table
from bench.stack import Stack
from bench.stats import summary
from tests.harness.browser import launch_chromium
from tests.harness.processes import free_port
from wincc_ingest import store

PUSHED, POLLED = "pushed", "polled"
DASHBOARD = "p1push"
TOKEN_ENV = "WINCC_SIM_PUSH_TOKEN"  # the simulator takes WINCC_SIM_* from the stack
TARGET_P95 = 0.25

OBSERVE = """(args) => {
  const [want, sels] = args;
  window.__p1push = {want: want, at: {}};
  const look = () => {
    for (const sel of sels) {
      if (window.__p1push.at[sel]) continue;
      const el = document.querySelector(sel);
      if (el && el.textContent.trim() === want)
        window.__p1push.at[sel] = performance.timeOrigin + performance.now();
    }
    if (Object.keys(window.__p1push.at).length === sels.length) obs.disconnect();
  };
  if (window.__p1pushobs) window.__p1pushobs.disconnect();
  const obs = new MutationObserver(look);
  window.__p1pushobs = obs;
  obs.observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def selector(site: str) -> str:
    return f'[data-tag="{site}:{TAG}"] .value'


def published(listener: ChangeListener, value: float, after: float) -> float | None:
    """When the PUBLISH that carried `value` was seen."""
    return next((e["published_seen"] for e in listener.events
                 if e["value"] is not None and abs(float(e["value"]) - value) < 1e-6
                 and e["published_seen"] >= after), None)


def config(stack: Stack) -> dict:
    tags = [{"name": TAG, "decimals": 3}]
    pushed = sites.site_config(stack, site_id=PUSHED, tags=tags)
    pushed.update(ingest="rest-connector", rest_connector={"token_env": TOKEN_ENV})
    polled = sites.site_config(stack, site_id=POLLED, tags=tags)
    board = {"id": DASHBOARD, "title": "Benchmark: pushed and polled", "panels": [
        {"kind": "tiles", "title": "Pushed", "site": PUSHED, "tags": [TAG]},
        {"kind": "tiles", "title": "Polled", "site": POLLED, "tags": [TAG]},
        {"kind": "site_health", "title": "Connection", "sites": [PUSHED, POLLED]},
    ]}
    return {"sites": [pushed, polled], "dashboards": [board]}


def run(quick: bool = False, runs: int = 3, samples: int = 20) -> Result:
    result = Result("P1-push-rest", "Pushed by a Classic REST Connector vs polled at 1 s: "
                                    "simulator value change to the browser's DOM")
    if quick:
        runs, samples = 1, 5
    from playwright.sync_api import sync_playwright

    password = secrets.token_urlsafe(16)
    all_samples: list[list[dict]] = []
    with Stack("p1push") as st:
        st.start_redis()
        sites.simulator_secrets(st)
        st.env[TOKEN_ENV] = secrets.token_urlsafe(24)
        web_port = free_port()
        st.start_simulator(
            tags=0, rest_connector=f"http://127.0.0.1:{web_port}/ingest/rest-connector/{PUSHED}/",
            rest_connector_token_env=TOKEN_ENV, rest_connector_tag=[TAG],
        )
        st.write_config(config(st))
        st.prepare_database(sessions=1)
        st.create_login_user("p1push-viewer", password)
        worker = st.start_celery(concurrency=1).worker
        st.start_web(workers=2, port=web_port)
        _wait_polled(st, worker)
        # The connector posted while the web was not up yet and waits before trying again.
        _wait_for(st, lambda r: r.hget(store.site_health(PUSHED), "last_push"), "push taken")
        admin = sites.admin_client(st)
        stop = threading.Event()
        listener = ChangeListener(st, stop, site=PUSHED)
        listener.start()
        try:
            with sync_playwright() as pw:
                browser = launch_chromium(pw)
                try:
                    for _ in range(runs):
                        all_samples.append(_one_run(browser, st, admin, listener, password,
                                                    samples))
                finally:
                    browser.close()
        finally:
            stop.set()
            admin.close()
            listener.join(timeout=3)
        rejected = st.sim.log().count("refused a post")
    return _result(result, all_samples, rejected)


def _wait_for(st: Stack, check, what: str, worker=None, timeout: float = 60) -> None:
    r = st.redis()
    try:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if check(r):
                return
            if worker is not None and not worker.alive():
                raise RuntimeError(f"the worker stopped:\n{worker.tail()}")
            time.sleep(0.2)
        raise RuntimeError(f"no {what} within {timeout:g} s\n{st.sim.log()[-3000:]}")
    finally:
        r.close()


def _wait_polled(st: Stack, worker) -> None:
    _wait_for(st, lambda r: all(r.hget(store.site_health(site), "last_success")
                                for site in (PUSHED, POLLED)), "poll of both sites", worker)


def _one_run(browser, st, admin, listener, password, samples) -> list[dict]:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page_url = f"{st.web_url}/d/{DASHBOARD}/"
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(page_url)
        page.fill("input[name=username]", "p1push-viewer")
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(page_url, timeout=15000)
        for site in (PUSHED, POLLED):
            page.wait_for_selector(selector(site), timeout=15000)
        time.sleep(2.0)  # the stream is open and its snapshot swapped in
        sels = [selector(PUSHED), selector(POLLED)]
        out = []
        previous = None
        for _ in range(samples):
            value = round(random.uniform(10, 90), 3)
            while value == previous:
                value = round(random.uniform(10, 90), 3)
            previous = value
            text = f"{value:.3f}"
            time.sleep(random.uniform(0.0, 1.0))  # a random phase to the 1 s poll
            page.evaluate(OBSERVE, [text, sels])
            t0 = time.time()
            admin.put(f"/admin/tags/{TAG}", json={"value": value, "hold": True}).raise_for_status()
            t_set = (t0 + time.time()) / 2
            # A function, not an expression: the page's CSP forbids eval. A tile that never
            # showed the value counts as a miss.
            with contextlib.suppress(PlaywrightTimeout):
                page.wait_for_function("(n) => Object.keys(window.__p1push.at).length === n",
                                       arg=len(sels), timeout=10000, polling=20)
            shown = page.evaluate("window.__p1push.at")
            pushed_at = shown.get(sels[0])
            polled_at = shown.get(sels[1])
            seen = published(listener, value, t_set - 0.05)
            out.append({
                "value": value,
                "pushed": None if pushed_at is None else pushed_at / 1000 - t_set,
                "polled": None if polled_at is None else polled_at / 1000 - t_set,
                "to_publish": None if seen is None else seen - t_set,
                "publish_to_dom": (None if seen is None or pushed_at is None
                                   else pushed_at / 1000 - seen),
            })
        return out
    finally:
        context.close()


def _result(result: Result, runs: list[list[dict]], rejected: int) -> Result:
    pooled = [s for run in runs for s in run]
    shape = f"{len(runs)} runs of {len(runs[0]) if runs else 0} samples"
    for key, label, target, bound in (
        ("pushed", "pushed (REST Connector), change to DOM", "p95 ≤ 0.25 s", TARGET_P95),
        ("polled", "polled at 1 s, change to DOM (the same changes)", "", None),
    ):
        values = [s[key] for s in pooled if s[key] is not None]
        missed = len(pooled) - len(values)
        stats = summary(values)
        ok = None if bound is None else (
            stats["p95"] is not None and stats["p95"] <= bound and missed == 0)
        result.figures.append(Figure(
            f"{label} ({shape}{f', {missed} never shown' if missed else ''})", "s", stats,
            target=target, ok=ok))
    rows = []
    for key, label in (("to_publish", "change to PUBLISH (scan, post, check, record_push)"),
                       ("publish_to_dom", "PUBLISH to DOM (hub render, SSE, htmx swap)"),
                       ("pushed", "total, pushed"), ("polled", "total, polled")):
        st = summary([s[key] for s in pooled if s.get(key) is not None])
        rows.append([label, st["n"], _ms(st["median"]), _ms(st["p95"]), _ms(st["max"])])
    result.tables.append(Table("Where the pushed value's time goes (ms)",
                               ["segment", "n", "median", "p95", "max"], rows))
    result.notes += [
        "Both sites are Classic, on one simulator, polled every 1 s by one Celery worker "
        "(concurrency 1); `pushed` also takes the simulator's REST Connector posts "
        "(scan every 0.05 s, Bearer token). 2 gunicorn/uvicorn workers.",
        f"Posts the endpoint refused during the run: {rejected}.",
    ]
    result.raw = {"samples": runs}
    return result


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{1000 * value:.0f}"
