"""Sign-in, acknowledge, audit log, integrations."""

from django.contrib.auth import views as auth_views
from django.urls import path

from dashboard.views import actions, audit, auth, integrations

urlpatterns = [
    path("accounts/login/", auth.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("alarms/ack/", actions.acknowledge_alarm, name="alarm-ack"),
    path("audit/", audit.audit_log, name="audit-log"),
    path("audit.csv", audit.audit_csv, name="audit-csv"),
    # Integrations: triggers and their deliveries (docs/integrations.md).
    path("integrations/", integrations.integrations, name="integrations"),
    path("integrations/retry/", integrations.retry_delivery, name="integrations-retry"),
]
