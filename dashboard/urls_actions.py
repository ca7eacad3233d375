"""Sign-in, acknowledge, shelve, comment, tag writes, audit log, integrations."""

from django.contrib.auth import views as auth_views
from django.urls import path

from dashboard.views import actions, alarm, annunciation, audit, auth, integrations, writes

urlpatterns = [
    path("accounts/login/", auth.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Sign-in through an OpenID Connect provider (docs/sign-in.md); 404 while it is off. The
    # names are mozilla-django-oidc's: its views find the callback by that name.
    path("oidc/authenticate/", auth.oidc_authenticate, name="oidc_authentication_init"),
    path("oidc/callback/", auth.oidc_callback, name="oidc_authentication_callback"),
    path("alarms/ack/", actions.acknowledge_alarm, name="alarm-ack"),
    path("alarms/ack-all/", actions.acknowledge_all, name="alarm-ack-all"),
    path("alarms/occurrence/", alarm.occurrence, name="alarm-occurrence"),
    path("alarms/occurrence/history/", alarm.history, name="alarm-history"),
    path("alarms/shelve/", alarm.shelve_alarm, name="alarm-shelve"),
    path("alarms/unshelve/", alarm.unshelve_alarm, name="alarm-unshelve"),
    path("alarms/comment/", alarm.comment_alarm, name="alarm-comment"),
    path("alarms/silence/", annunciation.silence, name="alarm-silence"),
    path("tags/write/", writes.tag_write, name="tag-write"),
    path("audit/", audit.audit_log, name="audit-log"),
    path("audit.csv", audit.audit_csv, name="audit-csv"),
    # Integrations: triggers and their deliveries (docs/integrations.md).
    path("integrations/", integrations.integrations, name="integrations"),
    path("integrations/retry/", integrations.retry_delivery, name="integrations-retry"),
]
