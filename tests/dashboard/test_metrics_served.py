"""/metrics as production serves it: from a web process beside a real Celery worker and beat
polling the real simulator, whose sites' figures move when the simulator stops answering and
come back when it answers again; and under gunicorn, where every worker answers with the
figures of all of them (prometheus-client's multiprocess mode)."""

from __future__ import annotations

import functools
import threading
from contextlib import ExitStack

import httpx
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.live_server import LIVE_PASSWORD, start_live_server, unpolled_plant
from tests.fixtures.simulator import write_config
from tests.harness.processes import wait_until
from tests.harness.web import WebServer, gunicorn_argv

TOKEN = "metrics-token-for-tests-only"
SITES = ("oven-unified", "line-classic", "utilities-restv1")


def scrape(server: WebServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(f"{server.url}/metrics", timeout=10,
                         headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def site_figure(found, name: str, site: str) -> float | None:
    return found.get((name, (("site", site),)))


def test_a_site_s_figures_move_when_its_server_stops_and_come_back(
        sim, tmp_path, redis_url, redis_client, celery_processes):
    config = write_config(sim, tmp_path / "config.json", poll_interval=0.5)
    server = start_live_server(tmp_path / "web", redis_url=redis_url, wincc_config=config,
                               env={**sim.env, "METRICS_TOKEN": TOKEN})
    try:
        celery = celery_processes(redis_url, config, server.database_url,
                                  env={**sim.env, "POLL_BACKOFF_CAP_SECONDS": "1"},
                                  directory=tmp_path / "celery")
        celery.wait_ready()

        def all_current():
            found = scrape(server)
            return all(site_figure(found, "wdash_site_current", s) == 1 for s in SITES) and found

        running = wait_until(all_current, timeout=30)
        assert running[("wdash_beat_up", ())] == 1
        assert running[("wdash_workers", ())] >= 1
        assert running[("wdash_metrics_source_up", (("source", "database"),))] == 1

        sim.stop_listener()

        def all_down():
            found = scrape(server)
            return all(site_figure(found, "wdash_site_up", s) == 0 for s in SITES) and found

        # That they go down, not how fast (the fault suite times it): room for a busy machine.
        down = wait_until(all_down, timeout=60)
        for site in SITES:
            assert site_figure(down, "wdash_site_current", site) == 0
            assert site_figure(down, "wdash_site_poll_failures_total", site) > site_figure(
                running, "wdash_site_poll_failures_total", site)
            assert site_figure(down, "wdash_site_consecutive_failures", site) >= 1

        sim.start_listener()
        back = wait_until(all_current, timeout=60)
        for site in SITES:
            assert site_figure(back, "wdash_site_up", site) == 1
            assert site_figure(back, "wdash_site_polls_total", site) > site_figure(
                down, "wdash_site_polls_total", site)
            assert site_figure(back, "wdash_site_data_age_seconds", site) < 1.5
    finally:
        server.stop()


def open_stream(url: str, opened: threading.Event, stop: threading.Event) -> None:
    """Sign in as the viewer and hold the overview's live stream open until `stop`."""
    with httpx.Client(base_url=url, timeout=10) as client:
        client.get("/accounts/login/")
        client.post("/accounts/login/", data={
            "username": "viewer", "password": LIVE_PASSWORD,
            "csrfmiddlewaretoken": client.cookies["csrftoken"]})
        with client.stream("GET", "/live/stream/overview/") as response:
            assert response.status_code == 200
            for _ in response.iter_bytes():
                opened.set()
                if stop.is_set():
                    return


def test_under_gunicorn_every_worker_answers_with_all_workers_streams(tmp_path, redis_url):
    figures = tmp_path / "figures"
    figures.mkdir()
    (figures / "counter_12345.db").write_bytes(b"left from an earlier run")
    server = start_live_server(
        tmp_path, redis_url=redis_url, wincc_config=unpolled_plant(tmp_path),
        env={"LINE_TOKEN": "unused", "METRICS_TOKEN": TOKEN,
             "PROMETHEUS_MULTIPROC_DIR": str(figures), "LIVE_KEEPALIVE_SECONDS": "0.5"},
        argv=functools.partial(gunicorn_argv, workers=2))
    streams = 6
    stop = threading.Event()
    with ExitStack() as cleanup:
        cleanup.callback(server.stop)
        threads = []
        for _ in range(streams):
            opened = threading.Event()
            thread = threading.Thread(target=open_stream, args=(server.url, opened, stop))
            thread.start()
            threads.append((thread, opened))
        cleanup.callback(lambda: [thread.join(10) for thread, _ in threads])
        cleanup.callback(stop.set)
        assert all(opened.wait(20) for _, opened in threads)
        assert not (figures / "counter_12345.db").exists()  # emptied when gunicorn started

        # Each scrape is answered by one worker or the other: each reports all streams.
        for _ in range(10):
            found = scrape(server)
            assert found[("wdash_live_streams", ())] == streams
            assert found[("wdash_live_render_seconds_count", ())] >= 1
        # Each worker's own count, in its own file: they add up to the streams.
        counts = [value for path in figures.glob("gauge_livesum_*.db")
                  for _, value, _, _ in MmapedDict.read_all_values_from_file(str(path))]
        assert len(counts) == 2 and sum(counts) == streams

        stop.set()
        wait_until(lambda: scrape(server)[("wdash_live_streams", ())] == 0, timeout=20)
