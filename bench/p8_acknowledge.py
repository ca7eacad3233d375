"""P8 acknowledge round trip: from the operator's click to "acknowledged" in the row, on the
operator's page and on a second viewer's page.

The whole production path runs: the simulator (WinCC Unified dialect) over HTTPS, Celery beat
and one worker polling the site every second, Redis, gunicorn with uvicorn workers and the live
hub, and one Chromium with two signed-in pages on the site's alarm list: an operator, who
clicks Acknowledge, and a viewer, who only watches. For each sample an alarm is raised in the
simulator and shown unacknowledged on both pages; at a random phase to the poll the operator's
button is clicked (the page stamps the moment), and a MutationObserver on each page stamps
every change of the row's `data-state`. The alarm is then cleared for the next sample.

The figure is the time from the click until the row shows "acknowledged" and stays so: a row
that shows it, flips back (a live update drawn from a list not yet polled) and shows it again
counts from the last time. Flips back are counted on their own.

Where the time goes: the POST's answer on the operator's page, the moment Redis holds the
alarm acknowledged (seen by a subscriber to the change channel in this process) and what
wrote it there (the acknowledgement's own read of the alarm list, or a poll), and from there
to each page's DOM (hub render, SSE, htmx swap). `--tags`-like sizes: `run(tags=5000)` lists
that many of the simulator's tags on the site, so a full poll takes longer.
Targets at a 1 s poll interval: p95 at most 1.5 s on the operator's page; the second viewer
within 1.6 s.
"""

from __future__ import annotations

import itertools
import random
import secrets
import sys
import threading
import time

from bench import changes, sites
from bench.report import Figure, Result, Table
from bench.stack import Stack
from bench.stats import summary
from tests.harness.browser import launch_chromium
from tests.harness.processes import spawn
from wincc_bridge.models import alarm_key, parse_iso
from wincc_ingest import codec, store

SITE = "plant"
DIALECT = "unified"
# Alarms that need acknowledgement and no comment; one per sample in turn, so the previous
# one has left the list (acknowledged and cleared) by the time it comes round again.
ALARMS = ["Oven_Zone1_Temp_HH", "Oven_Zone2_Temp_HH", "Oven_Zone3_Temp_HH"]
TAGS = ["Oven_Zone1_Temp", "Oven_Zone2_Temp", "Oven_Zone3_Temp"]
TARGET_P95 = {"poll": 1.5, "subscribe": 0.5}
SECOND_VIEWER_EXTRA = 0.1
SIM_TICK = 0.1  # subscribed: the simulator notices and pushes changes this often (seconds)
# After both pages and Redis show the alarm acknowledged, how long a flip back is watched for.
STEADY = 1.0
WAIT = 10.0  # seconds a sample may take before it counts as never shown

OBSERVE = """(sel) => {
  const p8 = window.__p8 = {events: [], click: null};
  const record = () => {
    const el = document.querySelector(sel);
    const state = el ? el.getAttribute("data-state") : null;
    const last = p8.events[p8.events.length - 1];
    if (!last || last.state !== state) {
      p8.events.push({state: state, at: performance.timeOrigin + performance.now()});
    }
  };
  if (window.__p8obs) window.__p8obs.disconnect();
  window.__p8obs = new MutationObserver(record);
  window.__p8obs.observe(document.body, {subtree: true, childList: true, attributes: true,
                                         attributeFilter: ["data-state"]});
  record();
}"""

# The POST's answer: its resource timing (the button, and with it htmx's own events, may be
# gone by then, replaced by the live list).
ANSWERED = """() => {
  const click = window.__p8.click - performance.timeOrigin;
  const entry = performance.getEntriesByType("resource").find(
    (e) => e.name.indexOf("/alarms/ack/") !== -1 && e.startTime >= click - 1);
  return entry ? performance.timeOrigin + entry.responseEnd : null;
}"""

CLICK = """(sel) => {
  const button = document.querySelector(sel + ' [data-action="ack"]');
  if (!button) return false;
  window.__p8.click = performance.timeOrigin + performance.now();
  button.click();
  return true;
}"""


class StoredState(changes.ChangeListener):
    """At each alarm change of the site, reads the watched alarm's stored state: when did
    Redis first hold it acknowledged?"""

    def __init__(self, stack: Stack, stop: threading.Event) -> None:
        super().__init__(stack, stop)
        self.lock = threading.Lock()
        self.key: str | None = None
        self.acknowledged_at: float | None = None
        self.poll: dict = {}  # the health of the poll that stored it

    def watch(self, key: str) -> None:
        with self.lock:
            self.key, self.acknowledged_at, self.poll = key, None, {}

    def wanted(self, change: codec.Change) -> bool:
        return change.site == SITE and change.alarms

    def seen(self, change: codec.Change, at: float) -> None:
        with self.lock:
            key, done = self.key, self.acknowledged_at is not None
        if key is None or done:
            return
        raw = self.r.hget(store.site_alarms(SITE), key)
        state = codec.decode_alarm(raw).state.value if raw else None
        if state in (None, "acknowledged"):  # acknowledged, or left the list
            health = self.r.hgetall(store.site_health(SITE))
            with self.lock:
                if self.key == key and self.acknowledged_at is None:
                    self.acknowledged_at = at
                    self.poll = health


def config(stack: Stack, tags: int = 0, mode: str = "poll") -> dict:
    """The site with the three zone temperatures, or with `tags` of the simulator's tags (a
    large site, whose full poll takes longer); `mode` "subscribe": its ingest."""
    names = sites.simulator_tag_names(stack, tags) if tags else TAGS
    config = sites.config_for(stack, site_id=SITE, tags=[{"name": n} for n in names],
                              dialect=DIALECT, write_user=True)
    if mode == "subscribe":
        config["sites"][0]["ingest"] = "subscribe"
    return config


def run(quick: bool = False, runs: int = 3, samples: int = 20, mode: str = "poll",
        tags: int = 0) -> Result:
    """`mode` "poll" (the site polled every second) or "subscribe" (a subscribed Unified
    site: `manage.py wincc_subscribe` holds its subscription, polling stands by)."""
    if mode == "subscribe":
        result = Result("P8-push", "Acknowledge round trip on a subscribed Unified site: click "
                                   "to \"acknowledged\" on the operator's and a second viewer's "
                                   "page")
    else:
        result = Result("P8", "Acknowledge round trip: click to \"acknowledged\" in the row, on "
                              "the operator's page and a second viewer's (1 s poll)")
    if quick:
        runs, samples = 1, 5
    from playwright.sync_api import sync_playwright

    operator_password = secrets.token_urlsafe(16)
    viewer_password = secrets.token_urlsafe(16)
    all_samples: list[list[dict]] = []
    with Stack("p8") as st:
        st.start_redis()
        sites.simulator_secrets(st)
        if mode == "subscribe":
            st.start_simulator(tags=tags, tick=SIM_TICK)
        else:
            st.start_simulator(tags=tags)
        st.write_config(config(st, tags, mode))
        st.prepare_database(sessions=1)  # both pages sign in through the form
        st.create_login_user("p8-operator", operator_password, role="Operators")
        st.create_login_user("p8-viewer", viewer_password)
        worker = st.start_celery(concurrency=1).worker
        subscriber = None
        if mode == "subscribe":
            subscriber = spawn("subscriber", [sys.executable, "manage.py", "wincc_subscribe"],
                               log=st.workdir / "subscriber.log", env=st.env)
        st.start_web(workers=2)
        sites.wait_polled(st, worker, SITE)
        stop = threading.Event()
        stored = StoredState(st, stop)
        stored.start()
        try:
            if subscriber is not None:
                sites.wait_subscribed(st, subscriber, SITE)
            with sync_playwright() as pw:
                browser = launch_chromium(pw)
                try:
                    for _ in range(runs):
                        pages = [
                            _signed_in(browser, st, "p8-operator", operator_password),
                            _signed_in(browser, st, "p8-viewer", viewer_password),
                        ]
                        try:
                            all_samples.append(_one_run(st, pages, stored, samples))
                        finally:
                            for page in pages:
                                page.context.close()
                finally:
                    browser.close()
        finally:
            stop.set()
            stored.join(timeout=3)
            if subscriber is not None:
                subscriber.stop()
    return _result(result, all_samples, mode)


def _signed_in(browser, st: Stack, username: str, password: str):
    """A new browser context signed in as `username`, on the site's alarm list."""
    context = browser.new_context()
    page = context.new_page()
    url = f"{st.web_url}/alarms/?site={SITE}"
    page.goto(url)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(url, timeout=15000)
    return page


def _one_run(st: Stack, pages, stored: StoredState, samples: int) -> list[dict]:
    operator, viewer = pages
    out = []
    for index in range(samples):
        name = ALARMS[index % len(ALARMS)]
        instance = st.sim.raise_alarm(name)[-1]["instance_id"]
        selector = f'[data-alarm="{SITE}:{name}:{instance}"]'
        for page in pages:
            page.wait_for_selector(f'{selector}[data-state="unacknowledged"] [data-action="ack"]'
                                   if page is operator else
                                   f'{selector}[data-state="unacknowledged"]', timeout=20000)
        time.sleep(random.uniform(0.0, 1.0))  # a random phase to the 1 s poll
        stored.watch(alarm_key(name, instance))
        for page in pages:
            page.evaluate(OBSERVE, selector)
        if not operator.evaluate(CLICK, selector):
            raise RuntimeError(f"no Acknowledge button on {name} #{instance}")
        deadline = time.time() + WAIT
        steady_since = None
        while time.time() < deadline:
            shown = all(_last_state(page) == "acknowledged" for page in pages)
            if shown and stored.acknowledged_at is not None:
                steady_since = steady_since or time.time()
                if time.time() - steady_since >= STEADY:
                    break
            else:
                steady_since = None
            time.sleep(0.05)
        out.append(_sample(name, operator, viewer, stored))
        st.sim.clear_alarm(name)
        st.sim.release_alarm(name)
        for page in pages:  # acknowledged and cleared: it leaves the list
            page.wait_for_selector(selector, state="detached", timeout=20000)
    return out


def _last_state(page) -> str | None:
    return page.evaluate("window.__p8.events.length ? "
                         "window.__p8.events[window.__p8.events.length - 1].state : null")


def _sample(name: str, operator, viewer, stored: StoredState) -> dict:
    mine = operator.evaluate("window.__p8")
    theirs = viewer.evaluate("window.__p8")
    click = mine["click"] / 1000.0
    sample = {"alarm": name, "click": click}
    for who, seen in (("operator", mine), ("viewer", theirs)):
        events = [(e["at"] / 1000.0, e["state"]) for e in seen["events"]]
        firsts = [at for at, state in events if state == "acknowledged" and at >= click]
        final = events[-1][1] if events else None
        # The last time the row became "acknowledged", when it stayed so.
        settled = next((at for at, state in reversed(events) if state == "acknowledged"),
                       None) if final == "acknowledged" else None
        sample[who] = None if settled is None else settled - click
        sample[f"{who}_first"] = firsts[0] - click if firsts else None
        sample[f"{who}_events"] = [(state, round(at - click, 4)) for at, state in events]
        sample[f"{who}_flips"] = sum(
            1 for (_, a), (_, b) in itertools.pairwise(events)
            if a == "acknowledged" and b != "acknowledged")
    answered = operator.evaluate(ANSWERED)
    sample["answered"] = None if answered is None else answered / 1000 - click
    at = stored.acknowledged_at
    sample["stored"] = None if at is None else at - click
    health = stored.poll
    # What wrote it: the acknowledgement's own read of the list, another push (the site's
    # subscription), or a poll.
    pushed = health.get("last_push")
    pushed_now = bool(pushed) and at is not None and parse_iso(pushed).timestamp() >= click
    sample["writer"] = None if at is None else (
        ("acknowledge" if health.get("push_source") == "acknowledge" else "push")
        if pushed_now else "poll")
    sample["pushed"] = sample["writer"] == "acknowledge"
    started = health.get("last_attempt")
    by_poll = sample["writer"] == "poll"
    sample["poll_start"] = (parse_iso(started).timestamp() - click
                            if by_poll and started else None)
    sample["poll_duration"] = (float(health["duration_ms"]) / 1000
                               if by_poll and health.get("duration_ms") else None)
    sample["stored_to_viewer"] = (None if at is None or sample["viewer"] is None
                                  else sample["viewer"] - sample["stored"])
    return sample


def _result(result: Result, runs: list[list[dict]], mode: str) -> Result:
    pooled = [s for run in runs for s in run]
    bound = TARGET_P95[mode]
    for who, label, limit in (
        ("operator", "click to acknowledged, operator's page", bound),
        ("viewer", "click to acknowledged, second viewer's page", bound + SECOND_VIEWER_EXTRA),
    ):
        values = [s[who] for s in pooled if s[who] is not None]
        missed = sum(1 for s in pooled if s[who] is None)
        flips = sum(s[f"{who}_flips"] for s in pooled)
        stats = summary(values)
        extra = [f"{missed} never shown"] if missed else []
        if flips:
            extra.append(f"{flips} flipped back before staying")
        result.figures.append(Figure(
            f"{label} ({len(runs)} runs of {len(runs[0]) if runs else 0} samples"
            f"{', ' + ', '.join(extra) if extra else ''})",
            "s", stats, target=f"p95 ≤ {limit:g} s",
            ok=stats["p95"] is not None and stats["p95"] <= limit and missed == 0,
        ))
    rows = []
    for key, label in (
        ("answered", "click to the POST's answer on the operator's page (WinCC's acknowledge "
                     "and the list read again)"),
        ("operator_first", "click to acknowledged first shown, operator"),
        ("poll_start", "click to the start of the poll that read it acknowledged (when a "
                       "poll did)"),
        ("poll_duration", "that poll's duration (WinCC calls, diff, Redis)"),
        ("stored", "click to Redis holding it acknowledged (PUBLISH seen)"),
        ("stored_to_viewer", "Redis to the second viewer's DOM (hub, SSE, htmx)"),
        ("viewer_first", "click to acknowledged first shown, second viewer"),
        ("operator", "click to acknowledged for good, operator"),
        ("viewer", "click to acknowledged for good, second viewer"),
    ):
        st = summary([s[key] for s in pooled if s.get(key) is not None])
        rows.append([label, st["n"], _ms(st["median"]), _ms(st["p95"]), _ms(st["max"]),
                     _ms(st["mean"])])
    writers = [s.get("writer") for s in pooled]
    rows.append(["written to Redis by: the acknowledgement's read of the list / another push "
                 "(the subscription) / a poll", writers.count("acknowledge"),
                 writers.count("push"), writers.count("poll"), "", ""])
    rows.append(["rows that flipped back (operator / viewer)",
                 sum(1 for s in pooled if s["operator_flips"]),
                 sum(1 for s in pooled if s["viewer_flips"]), "", "", ""])
    result.tables.append(Table("Where the time goes (ms)",
                               ["segment", "n", "median", "p95", "max", "mean"], rows))
    result.notes += [
        f"Ingest: {mode}; poll interval 1 s"
        + (f"; the simulator pushes every {SIM_TICK:g} s" if mode == "subscribe" else "")
        + f". Dialect of the benchmark site: {DIALECT}; 2 gunicorn/uvicorn workers; one "
        "Celery worker (concurrency 1) and beat"
        + ("; the subscriber (manage.py wincc_subscribe)." if mode == "subscribe" else "."),
        "The operator and the viewer are two browser contexts of one Chromium, each signed "
        "in through the login form.",
    ]
    result.raw = {"mode": mode, "samples": runs}
    return result


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{1000 * value:.0f}"

