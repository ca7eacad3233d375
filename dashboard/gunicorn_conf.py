"""gunicorn's options for the web, in one place: `gunicorn -c python:dashboard.gunicorn_conf`.

Every command line that serves the dashboard (the Procfile of `make run`, docker-compose.yml,
the Dockerfile, the systemd unit, the tests' harness and the benchmarks) names this module and
gives little more than the address, so the demo runs the web as production does, and none of
them can forget:
- whose X-Forwarded-For is believed: TRUSTED_PROXIES, as Django reads it (dashboard.proxies);
  empty, none. gunicorn's own default would believe 127.0.0.1, and uvicorn_worker hands this
  list to uvicorn, which rewrites the client's address for the access log and for Django.
- secrets in query strings are scrubbed from the access log (dashboard.access_log).
- /metrics adds up the figures of every worker (dashboard/metrics/web.py).
"""

import gc
import os
import shutil
import tempfile
from pathlib import Path

from dashboard import access_log, proxies

# ASGI: long-lived SSE streams need an async worker.
worker_class = "uvicorn_worker.UvicornWorker"
# Two workers by default: a reconnect storm is shared between them, and a worker that
# gunicorn restarts drops only its own streams. WEB_WORKERS sets another count.
workers = int(os.environ.get("WEB_WORKERS", "2"))
# A worker whose event loop does not come round for this long is killed and restarted.
timeout = 30
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "10"))
# Pending connections the kernel queues while a reconnect storm is being admitted (the
# kernel's net.core.somaxconn caps it).
backlog = 4096
accesslog = "-"

forwarded_allow_ips = proxies.from_environ(os.environ).gunicorn_value()


# Python's cyclic garbage collector by default runs every 700 new objects and, every 100
# runs, walks every object the process holds. A trend answer parses tens of thousands of
# archived values into hundreds of thousands of objects (none of them in cycles): measured,
# the collector took about 40 % of that work. The worker collects less often, and the objects
# loaded at start (Django, the app) are frozen out of its walks; both keep streams' memory as
# it was, as those objects are freed by reference counting, not by the collector.
GC_THRESHOLD = (20_000, 10, 10)


def tune_gc() -> None:
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


def post_worker_init(worker) -> None:
    # uvicorn_worker points "uvicorn.access" at gunicorn's access handlers in each worker.
    access_log.install()
    tune_gc()


# prometheus-client's multiprocess mode: each worker writes its figures (live streams, render
# time) into one folder, and the worker answering /metrics reads them all. The folder is set
# before any worker starts (and so before one imports prometheus-client), and holds nothing
# from an earlier run: PROMETHEUS_MULTIPROC_DIR names one, emptied of figures here;
# otherwise gunicorn makes a folder of its own and removes it when it stops.
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
_own_metrics_folder: list[str] = []


def on_starting(server) -> None:
    given = os.environ.get(MULTIPROCESS_DIR)
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for figures in folder.glob("*.db"):
            figures.unlink()
    else:
        os.environ[MULTIPROCESS_DIR] = tempfile.mkdtemp(prefix="wdash-metrics-")
        _own_metrics_folder.append(os.environ[MULTIPROCESS_DIR])


def child_exit(server, worker) -> None:
    # A worker's open streams stop counting; what it counted (renders) still does.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    for folder in _own_metrics_folder:
        shutil.rmtree(folder, ignore_errors=True)
