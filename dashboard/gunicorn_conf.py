"""gunicorn's options for the web, in one place: `gunicorn -c python:dashboard.gunicorn_conf`.

The Procfile (`make run`), docker-compose.yml, the Dockerfile, the systemd unit and the
benchmarks all start the web with this file and give only the address on the command line,
so the demo runs as production does. No Django import here: gunicorn's master reads it.
"""

from __future__ import annotations

import os

# ASGI: long-lived SSE streams need an async worker.
worker_class = "uvicorn_worker.UvicornWorker"
# Two workers by default: a reconnect storm on one is absorbed by the other, and a worker
# that gunicorn restarts drops only half the streams. WEB_WORKERS sets another count.
workers = int(os.environ.get("WEB_WORKERS", "2"))
# A worker whose event loop does not come round for this long is killed and restarted.
timeout = 30
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "10"))
# Pending connections the kernel queues while a storm is being admitted (the kernel's
# net.core.somaxconn caps it).
backlog = 4096
accesslog = "-"
