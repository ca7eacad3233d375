"""Refused attempts (no permission, a malformed request, an unknown site) in the audit log:
every one is recorded, but a burst of them cannot flood the table.

- Anonymous refusals from one address for one reason (result and message) within
  ANONYMOUS_WINDOW share one row from the first.
- A signed-in person's first PERSON_REFUSALS_PER_MINUTE refusals within a minute are a row
  each; beyond that budget each further refusal for the same reason is counted on that
  person's newest row of the same reason within the minute.

A summary row keeps the first request's text; `repeat_count` says how many refusals it stands
for and `last_at` when the last came, so the log's total stays exact (every attempt counted).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from dashboard.models import AuditEntry

Result = AuditEntry.Result

ANONYMOUS = "(anonymous)"
ANONYMOUS_WINDOW = timedelta(minutes=10)
# A signed-in person's refusals within this window, one row each, before they are summarised.
PERSON_REFUSALS_PER_MINUTE = 10
PERSON_WINDOW = timedelta(minutes=1)
# The results a refusal is recorded with.
REFUSED = (Result.DENIED, Result.ERROR)


def summarised_refusal(user, address: str, result: str, message: str,
                       create: Callable[[], AuditEntry]) -> AuditEntry:
    """Record one refusal: `create()` a row, or count it on the summary row it belongs to."""
    now = timezone.now()
    if user is not None and user.is_authenticated:
        same_person = AuditEntry.objects.filter(
            username=user.get_username(), result__in=REFUSED, created_at__gte=now - PERSON_WINDOW)
        if same_person.count() < PERSON_REFUSALS_PER_MINUTE:
            return create()
        summary = same_person.filter(result=result, message=message)
    else:
        summary = AuditEntry.objects.filter(
            username=ANONYMOUS, remote_addr=address, result=result, message=message,
            created_at__gte=now - ANONYMOUS_WINDOW)
    row = summary.order_by("-created_at", "-id").first()
    if row is not None and AuditEntry.count_repeat(row.pk, now):
        return row
    return create()
