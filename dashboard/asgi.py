"""ASGI entry point: SSE streams need an async server (gunicorn + uvicorn workers, or uvicorn)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

django.setup(set_prefix=False)

from dashboard.live.asgi import DashboardASGIHandler  # noqa: E402 - after setup

application = DashboardASGIHandler()

# A broken WINCC_CONFIG stops the web process at start-up with every problem listed.
from dashboard.checks import require_valid_config  # noqa: E402

require_valid_config()
