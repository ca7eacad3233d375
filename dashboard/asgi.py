"""ASGI entry point: SSE streams need an async server (gunicorn + uvicorn workers, or uvicorn)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

application = get_asgi_application()
