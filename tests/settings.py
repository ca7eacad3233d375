"""Test settings: the demo's relaxed defaults, the product's settings otherwise."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("WDASH_DEMO", "1")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key")

from dashboard.settings import *  # noqa: F403

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    # A test database of this run's own (tests/postgres.py): runs side by side never meet.
    DATABASES["default"]["TEST"] = {"NAME": f"test_wdash_{os.getpid()}"}  # noqa: F405

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast users in tests

# Static files come from the finders in tests, under their own names (no collectstatic, so no
# manifest of hashed names); an existing (empty) root keeps WhiteNoise quiet.
# tests/test_static_served.py collects and serves them as production does.
STATIC_ROOT = Path(tempfile.gettempdir()) / "wdash-test-static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Each test's users are its own: a viewer's rights are never taken from an earlier test's
# user with the same key (tests/dashboard/test_stream.py tests the rights cache itself).
LIVE_RIGHTS_SECONDS = 0
