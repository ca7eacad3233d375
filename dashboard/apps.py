from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = _("WinCC dashboard")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dashboard import checks  # noqa: F401 - registers the system checks
        from dashboard.roles import create_missing_roles

        # After migrate, when the app's permissions exist (they are made by post_migrate too).
        post_migrate.connect(create_missing_roles, sender=self)
