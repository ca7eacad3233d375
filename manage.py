#!/usr/bin/env python
"""Django's command-line utility for the WinCC dashboard."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    from django.core.management import execute_from_command_line

    from dashboard.environment import settings_or_exit

    settings_or_exit()  # a missing secret key: one sentence, not a traceback
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
