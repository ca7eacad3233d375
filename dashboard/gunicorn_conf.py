"""gunicorn's settings for the dashboard: `gunicorn -c python:dashboard.gunicorn_conf ...`.

Every command line that serves the dashboard (Procfile, docker-compose.yml, Dockerfile, the
tests' harness) names this module, so none of them can forget these two:
- whose X-Forwarded-For is believed: TRUSTED_PROXIES, as Django reads it (dashboard.proxies);
  empty, none. gunicorn's own default would believe 127.0.0.1, and uvicorn_worker hands this
  list to uvicorn, which rewrites the client's address for the access log and for Django.
- secrets in query strings are scrubbed from the access log (dashboard.access_log).
"""

import os

from dashboard import access_log, proxies

forwarded_allow_ips = proxies.from_environ(os.environ).gunicorn_value()


def post_worker_init(worker) -> None:
    # uvicorn_worker points "uvicorn.access" at gunicorn's access handlers in each worker.
    access_log.install()
