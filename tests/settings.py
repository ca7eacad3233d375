"""Test settings: the demo's relaxed defaults, the product's settings otherwise."""

import os

os.environ.setdefault("WDASH_DEMO", "1")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key")

from dashboard.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast users in tests
