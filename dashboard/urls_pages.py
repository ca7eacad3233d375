from django.urls import path

from dashboard.views import (
    health,
    journal,
    journal_export,
    kpi,
    metrics,
    offline,
    pages,
    preferences,
    stream,
    trend,
    trend_data,
    wall,
)

# A stream's request lives as long as the stream, and with it every URL pattern tried before
# its own (Django's ResolverMatch.tried): the admin's and the API's are hundreds, so the
# streams come first (dashboard/urls.py).
live_streams = [
    path("live/stream/<str:page>/", stream.stream, name="live-stream"),
    path("live/stream/<str:page>/<str:arg>/", stream.stream, name="live-stream"),
]

urlpatterns = [
    path("", pages.overview, name="overview"),
    path("d/<str:dashboard_id>/", pages.dashboard, name="dashboard"),
    path("alarms/", pages.alarms, name="alarms"),
    path("sites/", pages.sites, name="sites"),
    path("journal/", journal.journal, name="journal"),
    path("journal.csv", journal_export.journal_csv, name="journal-csv"),
    path("journal.xlsx", journal_export.journal_xlsx, name="journal-xlsx"),
    path("kpi/", kpi.kpi_page, name="kpi"),
    path("trend/", trend.trend, name="trend"),
    path("wall/<str:dashboard_id>/", wall.wall, name="wall"),
    path("wall/<str:dashboard_id>/settings/", wall.wall_settings, name="wall-settings"),
    path("health/", health.health, name="health"),
    # How a person's pages look (docs/themes.md).
    path("preferences/", preferences.preferences, name="preferences"),
    # Installable on tablets: the manifest, the service worker from the root (it serves the
    # pages under its own path only) and the page it shows offline (docs/tablets.md).
    path("manifest.webmanifest", offline.manifest, name="manifest"),
    path("sw.js", offline.service_worker, name="service-worker"),
    path("offline/", offline.offline, name="offline"),
    # The trend's data (docs/trend.md); the page /trend/ draws it.
    path("trend/data/", trend_data.data, name="trend-data"),
    path("trend/export.csv", trend_data.export_csv, name="trend-export"),
    # Prometheus' default path, without a slash (docs/metrics.md).
    path("metrics", metrics.metrics, name="metrics"),
    # One stream per page, /live/stream/<page>/[<dashboard id>/], is in dashboard/urls.py.
    path("live/poll/<str:page>/", stream.poll, name="live-poll"),
    path("live/poll/<str:page>/<str:arg>/", stream.poll, name="live-poll"),
]
