"""ASGI entry point: SSE streams need an async server (gunicorn + uvicorn workers, or uvicorn)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

application = get_asgi_application()

# A broken WINCC_CONFIG stops the web process at start-up with every problem listed.
from dashboard.checks import require_valid_config  # noqa: E402

require_valid_config()
