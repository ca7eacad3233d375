"""An alarm occurrence's history, oldest first: raised, acknowledged (by whom, via), comments,
shelved, unshelved or expired, returned, cleared. From the journal (WinCC's transitions and
the dashboard's own steps) and the audit log (who acknowledged through the dashboard).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.translation import gettext

from dashboard.alarm_notes import SYSTEM, Result, acknowledged_by
from dashboard.models import AuditEntry, JournalEntry

# The most steps the page shows (a chattering alarm's instance has many).
MAX_STEPS = 200
# WinCC's acknowledgement time and the audit row's come from two clocks.
CLOCK_SLACK = timedelta(minutes=1)

Transition = JournalEntry.Transition


@dataclass(frozen=True)
class Step:
    at: datetime
    kind: str  # a journal transition
    what: str  # its label
    detail: str = ""


def history(site_id: str, name: str, instance_id: int, writer: str = "") -> list[Step]:
    """The occurrence's steps; `writer`: the site's read-write API user's name (WinCC naming
    it means the dashboard acknowledged)."""
    same = {"site_id": site_id, "alarm_name": name, "instance_id": instance_id}
    journal = list(JournalEntry.objects.filter(**same).order_by("at", "id")[:MAX_STEPS])
    acks = list(AuditEntry.objects.filter(action="acknowledge", result=Result.OK, **same)
                .order_by("created_at", "id"))
    steps = []
    for entry in journal:
        if entry.transition == Transition.ACKNOWLEDGED:
            person = ""
            if entry.acknowledged_by in ("", writer):
                person = _take(acks, entry.at)
            steps.append(Step(entry.at, entry.transition, entry.get_transition_display(),
                              acknowledged_by(person, entry.acknowledged_by, writer)))
        else:
            steps.append(Step(entry.at, entry.transition, entry.get_transition_display(),
                              _detail(entry)))
    # Acknowledged here, and WinCC's list has not shown it yet (the next poll will).
    steps += [Step(row.completed_at or row.created_at, Transition.ACKNOWLEDGED,
                   Transition.ACKNOWLEDGED.label, acknowledged_by(row.username))
              for row in acks]
    return sorted(steps, key=lambda step: step.at)


def _take(acks: list[AuditEntry], at: datetime) -> str:
    """The person of the newest acknowledgement recorded here by `at`, taken off the list."""
    done = [row for row in acks if row.created_at <= at + CLOCK_SLACK]
    if not done:
        return ""
    acks.remove(done[-1])
    return done[-1].username


def _detail(entry: JournalEntry) -> str:
    """In the reader's language (the page is rendered in it)."""
    if entry.transition == Transition.SHELVED:
        return gettext("by %(person)s: “%(reason)s”") % {"person": entry.actor,
                                                          "reason": entry.comment}
    if entry.transition == Transition.UNSHELVED:
        if entry.actor == SYSTEM:
            return gettext("its shelving time was over")
        return gettext("by %(person)s") % {"person": entry.actor} if entry.actor else ""
    if entry.transition == Transition.COMMENTED:
        return f"{entry.actor}: “{entry.comment}”"
    return ""
