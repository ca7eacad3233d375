from django.contrib import admin
from django.urls import include, path, re_path

from dashboard.api.app import api, unknown_address
from dashboard.urls_pages import live_streams
from dashboard.views import rest_connector, tag_browser, wincc_check

# The site's own 404 and 403 pages (templates/404.html, 403.html).
handler404 = "dashboard.views.errors.not_found"
handler403 = "dashboard.views.errors.forbidden"

urlpatterns = [
    # First, as each stream holds the patterns tried before its own (dashboard/urls_pages.py).
    *live_streams,
    # Before the admin's own URLs, whose catch-all would answer 404 for it.
    path(
        "admin/wincc-check/", admin.site.admin_view(wincc_check.wincc_check), name="wincc-check"
    ),
    path("admin/tags/", admin.site.admin_view(tag_browser.tag_browser), name="tag-browser"),
    path("admin/", admin.site.urls),
    # The read-only API for ERP/MES and scripts (docs/api.md).
    path("api/v1/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", unknown_address),
    # What Classic sites' REST Connectors push (docs/configuration.md).
    path("ingest/rest-connector/<str:site_id>/", rest_connector.rest_connector,
         name="ingest-rest-connector"),
    # Sign-in, acknowledge, tag writes, audit log: dashboard/urls_actions.py.
    path("", include("dashboard.urls_actions")),
    # Pages, live streams, wall screens, health, metrics: dashboard/urls_pages.py.
    path("", include("dashboard.urls_pages")),
]
