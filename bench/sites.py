"""The configuration a benchmark runs with, and what it learns from the served pages."""

from __future__ import annotations

import re
import time

import httpx

from bench.stack import Stack
from tests.harness.simulator import new_secrets
from wincc_ingest import store

DIALECT = "classic"


def simulator_secrets(stack: Stack) -> None:
    """Fresh users and secrets for this run's simulator, in the stack's environment: the
    simulator reads its API users from these WINCC_SIM_* variables, the configuration names
    them (never the demo's values of the Makefile)."""
    stack.env.update(new_secrets(ro_user="bench-reader", rw_user="bench-operator"))


def site_config(
    stack: Stack,
    *,
    site_id: str,
    tags: list[dict],
    poll_interval: float = 1.0,
    dialect: str = DIALECT,
    url: str | None = None,
    write_user: bool = False,
) -> dict:
    site = {
        "id": site_id,
        "name": f"Benchmark site ({dialect})",
        "dialect": dialect,
        "url": url or (stack.sim.url if stack.sim else "https://127.0.0.1:9"),
        "timeout": 2.0,
        "poll_interval": poll_interval,
        "read_user": {"username": stack.env.get("WINCC_SIM_RO_USER", "bench-reader")},
        "tags": tags,
    }
    if dialect == "rest-v1":
        site["read_user"]["token_env"] = "WINCC_SIM_RO_TOKEN"
    else:
        site["read_user"]["password_env"] = "WINCC_SIM_RO_PASSWORD"
    if write_user:  # the simulator's read-write API user: acknowledge, write
        secret = "token_env" if dialect == "rest-v1" else "password_env"
        kind = "TOKEN" if dialect == "rest-v1" else "PASSWORD"
        site["write_user"] = {"username": stack.env.get("WINCC_SIM_RW_USER", "bench-operator"),
                              secret: f"WINCC_SIM_RW_{kind}"}
    if stack.sim is not None:
        site["tls"] = {"ca_file": stack.sim.ca_file}
    if dialect == "classic":
        site["alarm_filter"] = "ActiveAlarms"
    return site


def config_for(stack: Stack, *, dashboards: list[dict] | None = None, **site) -> dict:
    return {"sites": [site_config(stack, **site)], "dashboards": dashboards or []}


def wait_polled(stack: Stack, worker, site_id: str, timeout: float = 60.0) -> None:
    """Until the worker has polled `site_id` successfully once."""
    r = stack.redis()
    try:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if r.hget(store.site_health(site_id), "last_success"):
                return
            if not worker.alive():
                raise RuntimeError(f"the worker stopped:\n{worker.tail()}")
            time.sleep(0.2)
        health = r.hgetall(store.site_health(site_id))
        raise RuntimeError(
            f"{site_id} was not polled within {timeout:g} s: {health}\n{worker.tail()}"
        )
    finally:
        r.close()


def wait_subscribed(stack: Stack, subscriber, site_id: str, timeout: float = 60.0) -> None:
    """Until the subscriber owns `site_id`'s live subscription."""
    r = stack.redis()
    try:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if r.exists(store.site_subscriber(site_id)):
                return
            if not subscriber.alive():
                raise RuntimeError(f"the subscriber stopped:\n{subscriber.tail()}")
            time.sleep(0.2)
        raise RuntimeError(f"{site_id} was not subscribed within {timeout:g} s:\n"
                           f"{subscriber.tail()}")
    finally:
        r.close()


def simulator_tag_names(stack: Stack, count: int) -> list[str]:
    """`count` tag names the simulator started with `--tags count` serves."""
    from wincc_sim import tags as sim_tags

    names = [spec.name for spec in sim_tags.named_tags()]
    fillers = [sim_tags.filler_name(i) for i in range(1, count + 1)]
    return (names + fillers)[:count] if count >= len(names) else fillers[:count]


# --- what the served pages say --------------------------------------------------------------

SSE_CONNECT = re.compile(r'sse-connect="([^"]+)"')
HX_GET = re.compile(r'hx-get="([^"]+)"')


def unescape(url: str) -> str:
    return url.replace("&amp;", "&")


def stream_path(page_html: str) -> str:
    match = SSE_CONNECT.search(page_html)
    if not match:
        raise RuntimeError("the dashboard page has no sse-connect attribute")
    return unescape(match.group(1))


def poll_paths(page_html: str) -> list[str]:
    """The URLs the page's polling fallback fetches (hx-get with an `every` trigger)."""
    paths = []
    for tag in re.finditer(r"<[^>]*hx-trigger=\"[^\"]*every[^\"]*\"[^>]*>", page_html):
        match = HX_GET.search(tag.group(0))
        if match:
            paths.append(unescape(match.group(1)))
    if not paths:
        raise RuntimeError("the polling page has no hx-get with an 'every' trigger")
    return paths


def admin_client(stack: Stack) -> httpx.Client:
    """The simulator's admin API (forced values, alarms), with its token."""
    return httpx.Client(
        base_url=stack.sim.admin_url, timeout=5,
        headers={"Authorization": f"Bearer {stack.env['WINCC_SIM_ADMIN_TOKEN']}"},
    )
