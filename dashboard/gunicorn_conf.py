"""gunicorn's options for the web, in one place: `gunicorn -c python:dashboard.gunicorn_conf`.

Every command line that serves the dashboard (the Procfile of `make run`, docker-compose.yml,
the Dockerfile, the systemd unit, the tests' harness and the benchmarks) names this module and
gives little more than the address, so the demo runs the web as production does, and none of
them can forget:
- whose X-Forwarded-For is believed: TRUSTED_PROXIES, as Django reads it (dashboard.proxies);
  empty, none. gunicorn's own default would believe 127.0.0.1, and uvicorn_worker hands this
  list to uvicorn, which rewrites the client's address for the access log and for Django.
- secrets in query strings are scrubbed from the access log (dashboard.access_log).
"""

import os

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


def post_worker_init(worker) -> None:
    # uvicorn_worker points "uvicorn.access" at gunicorn's access handlers in each worker.
    access_log.install()
