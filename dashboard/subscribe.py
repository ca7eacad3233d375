"""`python -m dashboard.subscribe`: `manage.py wincc_subscribe` from any folder (the demo's
Procfile runs it so, as it runs Celery, with the installed package)."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    from django.core.management import execute_from_command_line

    from dashboard.environment import settings_or_exit

    settings_or_exit()
    execute_from_command_line([sys.argv[0], "wincc_subscribe", *sys.argv[1:]])


if __name__ == "__main__":
    main()
