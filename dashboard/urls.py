from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    # Sign-in, acknowledge, audit log: dashboard/urls_actions.py.
    path("", include("dashboard.urls_actions")),
    # Pages, live streams, wall screens, health: dashboard/urls_pages.py.
    path("", include("dashboard.urls_pages")),
]
