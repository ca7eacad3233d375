"""Sign-in, acknowledge, tag writes, audit log."""

from django.contrib.auth import views as auth_views
from django.urls import path

from dashboard.views import actions, audit, auth, writes

urlpatterns = [
    path("accounts/login/", auth.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("alarms/ack/", actions.acknowledge_alarm, name="alarm-ack"),
    path("tags/write/", writes.tag_write, name="tag-write"),
    path("audit/", audit.audit_log, name="audit-log"),
    path("audit.csv", audit.audit_csv, name="audit-csv"),
]
