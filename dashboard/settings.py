"""Settings from the environment (12-factor). Production defaults are the safe ones."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from dashboard import proxies
from dashboard.directory import config as directory
from dashboard.environment import env_bool, env_list
from dashboard.log_filters import LOGGERS as LOG_FILTERED
from dashboard.metrics import access as metrics_access

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("WDASH_VAR_DIR", BASE_DIR / "var"))


DEBUG = env_bool("DEBUG", False)
# The demo (make run) and the tests run over plain HTTP on loopback.
DEMO_MODE = env_bool("WDASH_DEMO", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or DEMO_MODE:
        SECRET_KEY = "insecure-development-key-only-for-debug-and-demo"
    else:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set: a real installation needs its own key in its "
            "environment (file), e.g. the output of python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(50))' (docs/install.md); to try the demo instead, "
            "run `make run` or set WDASH_DEMO=1."
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if (DEBUG or DEMO_MODE) else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "csp",
    # The read-only API; its app ships the interactive docs' files (no CDN).
    "ninja",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "dashboard.staticfiles.StaticFilesMiddleware",
    # Below static files (compressed at collectstatic), above everything that writes a body.
    "dashboard.compression.CompressionMiddleware",
    "dashboard.sessions.IdleSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "dashboard.languages.PersonLanguageMiddleware",
    "dashboard.middleware.PrivatePagesMiddleware",
    "dashboard.middleware.TokenActionGuardMiddleware",
    "dashboard.middleware.BadParameterMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Directory sign-in (docs/sign-in.md): LDAP / Active Directory and OpenID Connect, each off
# until its variables are set. Local accounts keep working beside them (break-glass), and
# django-axes stays first: a locked-out name is refused before any backend is asked.
try:
    DIRECTORY_GROUPS = directory.group_map(os.environ)
    _LDAP = directory.ldap_settings(os.environ)
    _OIDC = directory.oidc_settings(os.environ)
except directory.DirectoryConfigError as exc:
    raise ImproperlyConfigured(str(exc)) from None
LDAP_ENABLED = bool(_LDAP)
OIDC_ENABLED = bool(_OIDC)
# The sign-in page's "Sign in with ..." (the rest are the libraries' own AUTH_LDAP_*, OIDC_*).
OIDC_PROVIDER_NAME = _OIDC.pop("OIDC_PROVIDER_NAME", "")
globals().update(_LDAP | _OIDC)
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    *([directory.LDAP_BACKEND] if LDAP_ENABLED else []),
    *([directory.OIDC_BACKEND] if OIDC_ENABLED else []),
]

ROOT_URLCONF = "dashboard.urls"
ASGI_APPLICATION = "dashboard.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "dashboard.themes.context",
            ],
        },
    },
]

try:
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'dashboard.sqlite3'}"),
            # Persistent connections leak under async servers; see docs/architecture.md.
            conn_max_age=0,
        )
    }
except ValueError as exc:  # the library's sentence names the scheme, never the password
    raise ImproperlyConfigured(
        f"DATABASE_URL cannot be read ({exc}); it looks like "
        "postgres://USER:PASSWORD@HOST:5432/NAME, with @ : / in the password percent-encoded."
    ) from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A backup or a long write holds SQLite's lock for seconds: wait for it rather than fail
    # the request or the journal run after Python's default 5 s (docs/reliability.md).
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # Transactions take the write lock when they begin: a deferred one that reads, then
    # writes, gets "database is locked" at once when another process writes (the wait above
    # does not apply to that upgrade), as two deliveries of one event did.
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# English and German (docs/languages.md): the browser's Accept-Language chooses, unless the
# person chose one in /preferences/ (dashboard/languages.py).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
# The catalogue: locale/de/LC_MESSAGES/django.po, compiled to .mo by `make setup`.
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # collectstatic writes each file under a name with its content's hash (and a .gz beside
    # it); pages name those, and WhiteNoise serves them as immutable for a year and more.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Idle expiry: every request renews the cookie; a desk left alone is signed out.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_SECONDS", 30 * 60))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_COOKIES = env_bool("SECURE_COOKIES", not (DEBUG or DEMO_MODE))
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
_HSTS_DEFAULT = 0 if (DEBUG or DEMO_MODE) else 31536000
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", _HSTS_DEFAULT))
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
)
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): only this server's own files run, style or load, so an
# injected <script>, style="" or on*="" attribute does nothing. No 'unsafe-inline' anywhere:
# templates keep script and style in static/ (but the live stream's opener, by its nonce),
# and htmx's own <style> is switched off by the <meta name="htmx-config"> in base.html.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        # The nonce goes out only on pages that use it: those that open their live stream
        # before their scripts (templates/partials/live_start.js); elsewhere 'self' alone.
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Login throttling (django-axes): lock a user+address after repeated failures.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", 0.25))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# A locked-out person sees the sign-in page with a plain message (HTTP 429).
AXES_LOCKOUT_CALLABLE = "dashboard.views.auth.locked_out"
AXES_CLIENT_IP_CALLABLE = "dashboard.views.auth.client_address"
# Not verbose: no "AXES: BEGIN" line on every command and process start. Lock-outs are still
# logged as warnings, failed and successful sign-ins at INFO (with user name and address).
AXES_VERBOSE = False
# The reverse proxies (addresses or networks) whose X-Forwarded-For names the client; empty:
# the header is ignored, whoever sends it. gunicorn reads the same variable
# (dashboard/gunicorn_conf.py), so its access log agrees with the audit and the lock-out.
try:
    TRUSTED_PROXIES = proxies.from_environ(os.environ)
except proxies.ProxyConfigError as exc:
    raise ImproperlyConfigured(str(exc)) from None
# Who may read /metrics (docs/metrics.md): a bearer token, an address allow-list, or both;
# neither: /metrics answers 404.
try:
    METRICS_ACCESS = metrics_access.from_environ(os.environ)
except metrics_access.MetricsConfigError as exc:
    raise ImproperlyConfigured(str(exc)) from None

# Live streams (dashboard.live): the keepalive interval, how long one stream lives before the
# browser reconnects (rights and wall-screen tokens are checked again), and how often the hub
# re-reads the sites' health (a stopped poller publishes nothing, yet must show as stale).
LIVE_KEEPALIVE_SECONDS = float(os.environ.get("LIVE_KEEPALIVE_SECONDS", 15))
LIVE_STREAM_MAX_SECONDS = float(os.environ.get("LIVE_STREAM_MAX_SECONDS", 3600))
LIVE_TICK_SECONDS = float(os.environ.get("LIVE_TICK_SECONDS", 1.0))
# How long a browser waits before it reconnects a lost stream (the SSE retry field): at
# least LIVE_RETRY_MS, plus a random share of LIVE_RETRY_JITTER_MS per stream, so that the
# streams a restart drops come back spread out rather than all at once.
LIVE_RETRY_MS = int(os.environ.get("LIVE_RETRY_MS", 2000))
LIVE_RETRY_JITTER_MS = int(os.environ.get("LIVE_RETRY_JITTER_MS", 3000))
# Reconnect storms (dashboard/live/admission.py): streams set up at once per web process,
# how many may wait for that before the next is refused with 503 and Retry-After, and how
# long a viewer's rights, once read, serve the streams that viewer opens.
LIVE_ADMISSION_CONCURRENCY = int(os.environ.get("LIVE_ADMISSION_CONCURRENCY", 8))
LIVE_ADMISSION_MAX_WAITING = int(os.environ.get("LIVE_ADMISSION_MAX_WAITING", 5000))
LIVE_RIGHTS_SECONDS = float(os.environ.get("LIVE_RIGHTS_SECONDS", 10))
# Frames a slow browser may fall behind before it gets a fresh snapshot instead.
LIVE_CLIENT_QUEUE = int(os.environ.get("LIVE_CLIENT_QUEUE", 256))

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
WINCC_CONFIG = os.environ.get("WINCC_CONFIG", str(BASE_DIR / "dashboard" / "demo" / "config.json"))
# Every process looks at the configuration file this often and uses a changed, valid one
# (dashboard/siteconfig.py).
CONFIG_RELOAD_SECONDS = float(os.environ.get("CONFIG_RELOAD_SECONDS", 2))
# The tag browser and `manage.py wincc_config --write` may write the configuration file;
# off: they offer the change as a diff only (dashboard/configurator.py).
CONFIG_WRITES_ALLOWED = env_bool("CONFIG_WRITES_ALLOWED", False)

# Celery: Redis as broker, results never stored (polls report through Redis keys).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
# A failing site waits interval x 2^(failures-1) before its next poll, at most this long.
POLL_BACKOFF_CAP_SECONDS = float(os.environ.get("POLL_BACKOFF_CAP_SECONDS", 30))
# Sites polled by one Celery task (beat and worker pay Celery's cost per task, not per site;
# docs/scale-out.md). 1: one task per site.
POLL_SITES_PER_TASK = max(1, int(os.environ.get("POLL_SITES_PER_TASK", 1)))
# A server found without an alarm list is asked for it again after this long, so a server
# upgraded later gains its alarms without a restart (docs/configuration.md).
ALARM_LIST_REPROBE_SECONDS = float(os.environ.get("ALARM_LIST_REPROBE_SECONDS", 600))
# Journal entries a dead consumer read but never acknowledged are taken over after this long
# (longer than any consumer run takes).
JOURNAL_CLAIM_IDLE_SECONDS = float(os.environ.get("JOURNAL_CLAIM_IDLE_SECONDS", 30))

# Alarm handling (docs/actions.md). Priorities here are the dashboard's priority ranks:
# 1 is WinCC's highest band (16), 2 high (11-15), 3 medium (6-10), 4 low (1-5), 5 none (0).
def _ranks(name: str, default: str) -> frozenset[int]:
    text = os.environ.get(name, default)
    try:
        return frozenset(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be priority ranks like 1,2; got {text!r}"
        ) from None


# The longest shelving a person may choose, the choices offered, ranks never shelved.
ALARM_SHELVE_MAX_MINUTES = int(os.environ.get("ALARM_SHELVE_MAX_MINUTES", 480))
ALARM_SHELVE_PRESETS_MINUTES = tuple(
    int(m) for m in os.environ.get("ALARM_SHELVE_PRESETS_MINUTES", "1,15,60,240,480").split(",")
)
ALARM_NEVER_SHELVE_PRIORITIES = _ranks("ALARM_NEVER_SHELVE_PRIORITIES", "1")
# Acknowledging an alarm of these ranks needs a comment (none by default).
ALARM_COMMENT_REQUIRED_PRIORITIES = _ranks("ALARM_COMMENT_REQUIRED_PRIORITIES", "")
# How often beat ends shelvings whose time is up.
ALARM_SHELVE_EXPIRY_SECONDS = float(os.environ.get("ALARM_SHELVE_EXPIRY_SECONDS", 5))

# Integrations (docs/integrations.md): a failed delivery waits BACKOFF x 2^(attempt-1),
# at most BACKOFF_MAX (kept below the Redis broker's one-hour visibility timeout), and
# becomes a dead letter after MAX_ATTEMPTS attempts.
DELIVERY_MAX_ATTEMPTS = int(os.environ.get("DELIVERY_MAX_ATTEMPTS", 8))
DELIVERY_BACKOFF_SECONDS = float(os.environ.get("DELIVERY_BACKOFF_SECONDS", 5))
DELIVERY_BACKOFF_MAX_SECONDS = float(os.environ.get("DELIVERY_BACKOFF_MAX_SECONDS", 600))

# The read-only API (docs/api.md): a token's last use is written at most this often, so
# reading does not write to the database on every request.
API_TOKEN_LAST_USED_SECONDS = float(os.environ.get("API_TOKEN_LAST_USED_SECONDS", 60))

# WinCC REST Connector pushes (docs/configuration.md): a longer body is refused with 413
# before it is read.
INGEST_MAX_BODY_BYTES = int(os.environ.get("INGEST_MAX_BODY_BYTES", 262_144))
# Pushes a site takes per window (a connector posting on every change stays well below),
# and pushes refused for their credentials from one address per window, before the answer
# is 429 (dashboard/push_limits.py).
INGEST_LIMIT_WINDOW_SECONDS = max(1, int(os.environ.get("INGEST_LIMIT_WINDOW_SECONDS", 60)))
INGEST_SITE_PUSH_LIMIT = int(os.environ.get("INGEST_SITE_PUSH_LIMIT", 6000))
INGEST_REFUSAL_LIMIT = int(os.environ.get("INGEST_REFUSAL_LIMIT", 20))

# The trend (docs/trend.md): the dashboard's own per-minute store keeps this many days;
# a site's WinCC archive is given this many seconds to answer before the store answers
# instead; a window in the past is cached this many seconds (the live edge 2 s).
TREND_STORE_RETENTION_DAYS = float(os.environ.get("TREND_STORE_RETENTION_DAYS", 30))
TREND_ARCHIVE_TIMEOUT_SECONDS = float(os.environ.get("TREND_ARCHIVE_TIMEOUT_SECONDS", 10))
TREND_CACHE_SECONDS = float(os.environ.get("TREND_CACHE_SECONDS", 30))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"routine_tasks": {"()": "dashboard.log_filters.RoutineTasksAtDebug"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "WARNING"},
        # httpx logs every request at INFO; a poll a second per site would flood the log.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # Celery's three lines per poll become DEBUG lines (dashboard/log_filters.py).
        **{name: {"filters": ["routine_tasks"]} for name in LOG_FILTERED},
    },
}
