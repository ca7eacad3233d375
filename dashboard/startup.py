"""Loading the settings for a command: a setting that cannot be right ends it in one sentence.

dashboard/settings.py raises ImproperlyConfigured for a missing DJANGO_SECRET_KEY, an on/off
variable with an unknown word or an unreadable TRUSTED_PROXIES. The processes (gunicorn,
Celery) show that with its traceback; a person at a command line (`manage.py`, `wdash`)
gets the sentence alone.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured


def settings_or_exit() -> None:
    """Load DJANGO_SETTINGS_MODULE (default dashboard.settings); exit with its sentence if not."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 - reading a setting loads the module
    except ImproperlyConfigured as exc:
        raise SystemExit(str(exc)) from None
