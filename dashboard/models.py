"""The dashboard's own records: who may see and acknowledge which site, the audit log,
the alarm journal, and the tokens of the wall screens and of the read-only API."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Collection

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _


def split_ids(text: str) -> list[str]:
    """Ids written one after another, separated by commas or white space."""
    return [part for part in text.replace(",", " ").split() if part]


class SiteAccess(models.Model):
    """Scopes a group's dashboard permissions to one site, or to every site with "*".

    The permissions themselves (`dashboard.view_dashboard`, `dashboard.acknowledge_alarm`)
    are ordinary Django permissions; dashboard.permissions combines the two.
    """

    ALL_SITES = "*"

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="site_access")
    site_id = models.CharField(max_length=64, help_text='A site id from the configuration, or "*".')

    class Meta:
        unique_together = [("group", "site_id")]
        verbose_name = _("site access")
        verbose_name_plural = _("site access rights")
        permissions = [
            ("view_dashboard", "Can view dashboards, values and alarms"),
            ("acknowledge_alarm", "Can acknowledge alarms"),
            ("view_audit", "Can view and export the audit log"),
            ("shelve_alarm", "Can shelve and unshelve alarms"),
            ("write_tag", "Can write setpoints and switches of writable tags"),
            ("configure_tags", "Can browse WinCC tags and change the configuration's tags "
                               "and dashboards"),
        ]

    def __str__(self) -> str:
        return f"{self.group} → {self.site_id}"


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an append-only record."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows cannot be changed")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} rows cannot be deleted")


class AuditEntry(models.Model):
    """One acknowledge or write attempt, allowed or refused. Append-only, administrators
    included. `action` tells which: an acknowledgement names the alarm, a write ("write")
    names the tag, the value before, the value asked for and the value read back after.

    Three updates are allowed, each checked by database triggers too: the outcome of a
    pending row (`record_result`), once; the settled outcome of an "unknown" row, read back
    from WinCC (`settle`), once; and the count of a summary of repeated refusals, anonymous
    or beyond a person's budget (`count_repeat`, dashboard.refusals), which only grows.
    """

    class Result(models.TextChoices):
        PENDING = "pending", "Pending"
        UNKNOWN = "unknown", "Unknown: WinCC's answer was lost"
        OK = "ok", "Done (acknowledged or written)"
        REFUSED = "refused", "Refused by WinCC"
        DENIED = "denied", "Denied (no permission)"
        ERROR = "error", "Error"
        DUPLICATE = "duplicate", "Already in progress or done"
        STALE = "stale", "Not sent: stale or changed"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150)
    action = models.CharField(max_length=32, default="acknowledge")
    remote_addr = models.CharField(max_length=64, blank=True)
    device = models.CharField(max_length=256, blank=True)
    site_id = models.CharField(max_length=64, db_index=True)
    alarm_name = models.CharField(max_length=256)
    instance_id = models.BigIntegerField(default=0)
    tag_name = models.CharField(max_length=256, blank=True)
    value_before = models.CharField(max_length=64, blank=True)
    value_requested = models.CharField(max_length=64, blank=True)
    value_after = models.CharField(max_length=64, blank=True)
    state_before = models.CharField(max_length=32, blank=True)
    state_after = models.CharField(max_length=32, blank=True)
    result = models.CharField(max_length=16, choices=Result.choices, default=Result.PENDING)
    message = models.TextField(blank=True)
    comment = models.TextField(blank=True)
    # When an "unknown" outcome was settled by reading the alarm back from WinCC.
    settled_at = models.DateTimeField(null=True, blank=True)
    # A summary row stands for `repeat_count` identical refusals, the last at `last_at`.
    repeat_count = models.PositiveIntegerField(default=1)
    last_at = models.DateTimeField(null=True, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        # /metrics counts the rows by action and result at every scrape: from this index
        # alone, not the whole table (dashboard/metrics/records.py).
        indexes = [models.Index(fields=["action", "result", "repeat_count"],
                                name="audit_counts")]

    def __str__(self) -> str:
        return f"{self.username} {self.action} {self.site_id}:{self.alarm_name} → {self.result}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not getattr(self, "_completing", False):
            raise AppendOnlyError("audit entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit entries cannot be deleted")

    def record_result(self, result: str, *, message: str = "", state_after: str = "",
                      value_after: str = "") -> None:
        """Complete a pending entry with its outcome; the one change ever made, once."""
        if self.pk is None or self.result != self.Result.PENDING:
            raise AppendOnlyError("only a saved, pending audit entry takes a result, once")
        self._save_outcome(result, message, state_after, value_after, "completed_at")

    def settle(self, result: str, *, message: str, state_after: str = "",
               value_after: str = "") -> None:
        """Give an "unknown" entry the outcome read back from WinCC; once."""
        if self.pk is None or self.result != self.Result.UNKNOWN or self.settled_at is not None:
            raise AppendOnlyError("only a saved, unknown audit entry is settled, once")
        if result in (self.Result.PENDING, self.Result.UNKNOWN):
            raise AppendOnlyError("an unknown audit entry settles to a final result")
        self._save_outcome(result, message, state_after, value_after, "settled_at")

    def _save_outcome(self, result: str, message: str, state_after: str, value_after: str,
                      stamp: str) -> None:
        """Write the outcome columns and the time column `stamp` (the triggers check which)."""
        self.result = result
        self.message = message
        self.state_after = state_after
        self.value_after = value_after
        setattr(self, stamp, timezone.now())
        self._completing = True
        try:
            self.save(update_fields=["result", "message", "state_after", "value_after", stamp])
        finally:
            self._completing = False

    @classmethod
    def count_repeat(cls, pk: int, at) -> bool:
        """One more refusal summarised by row `pk` (count + 1, last_at = `at`); False if the
        row is not a summary any more (it was removed from under us: never, but say so)."""
        rows = models.QuerySet(cls).filter(pk=pk).update(
            repeat_count=models.F("repeat_count") + 1, last_at=at
        )
        return rows == 1


class JournalEntry(models.Model):
    """One alarm transition, persisted from the Redis journal stream at least once.

    `key` is the idempotency key (site, alarm, instance, transition, time): a replay after
    a killed worker inserts nothing twice.
    """

    class Transition(models.TextChoices):
        RAISED = "raised", "Raised"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RETURNED = "returned", "Returned to normal"
        CLEARED = "cleared", "Cleared / removed"
        SHELVED = "shelved", "Shelved"
        UNSHELVED = "unshelved", "Unshelved"
        SUPPRESSED = "suppressed", "Suppressed"
        CHANGED = "changed", "State changed"
        COMMENTED = "commented", "Commented"

    key = models.CharField(max_length=512, unique=True)
    site_id = models.CharField(max_length=64, db_index=True)
    alarm_name = models.CharField(max_length=256)
    instance_id = models.BigIntegerField(default=0)
    transition = models.CharField(max_length=16, choices=Transition.choices)
    at = models.DateTimeField(db_index=True)
    state = models.CharField(max_length=32)
    priority = models.IntegerField(default=0)
    alarm_class = models.CharField(max_length=128, blank=True)
    event_text = models.TextField(blank=True)
    info_text = models.TextField(blank=True)
    area = models.CharField(max_length=256, blank=True)
    acknowledged_by = models.CharField(max_length=150, blank=True)
    # Steps the dashboard took itself (shelving, comments): who, and the reason or comment.
    actor = models.CharField(max_length=150, blank=True)
    comment = models.TextField(blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        indexes = [
            # The alarm KPIs (dashboard.kpi): the raises of a range's partial first and
            # last day and its chattering; it covers what those queries read, so SQLite
            # and PostgreSQL need not visit the rows (EXPLAIN: "USING COVERING INDEX").
            models.Index(fields=["transition", "at", "site_id", "alarm_name", "instance_id",
                                 "priority"], name="journal_kpi_by_transition"),
        ]

    def __str__(self) -> str:
        return f"{self.site_id}:{self.alarm_name}#{self.instance_id} {self.transition}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("journal entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("journal entries cannot be deleted")


class AlarmOccurrence(models.Model):
    """One alarm occurrence (site, alarm, WinCC instance) summed up from its journal entries:
    raised, acknowledged (by whom, via which path), returned or cleared, its comments.

    The journal entries stay the record; this row is their summary, kept in the same
    transaction as each entry is written (dashboard.occurrences), so the journal page lists
    occurrences from one indexed table at any size. It can always be built again from the
    entries (`manage.py rebuild_occurrences` does, and the migration that added it did).
    """

    site_id = models.CharField(max_length=64)
    alarm_name = models.CharField(max_length=256)
    instance_id = models.BigIntegerField(default=0)
    # The page's order and cursor: the raise, or the first step seen when no raise was.
    started_at = models.DateTimeField()
    raised_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    # Who acknowledged first: the person here, or the user WinCC names; and the path.
    acknowledged_by = models.CharField(max_length=150, blank=True)
    acknowledged_via = models.CharField(max_length=16, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    # Kept for the alarm KPIs, so their queries need no date arithmetic per row: the first
    # of returned and cleared; 24 h after the raise while the occurrence may be a standing
    # alarm (still active, or it was 24 h after its raise), else none; and the seconds from
    # the raise to the first acknowledgement.
    ended_at = models.DateTimeField(null=True, blank=True)
    standing_from = models.DateTimeField(null=True, blank=True)
    ack_seconds = models.FloatField(null=True, blank=True)
    last_at = models.DateTimeField()
    last_transition = models.CharField(max_length=16)
    # Every transition the occurrence went through, each between spaces: " raised shelved ".
    transitions = models.CharField(max_length=200, default=" ")
    priority = models.IntegerField(default=0)
    alarm_class = models.CharField(max_length=128, blank=True)
    event_text = models.TextField(blank=True)
    area = models.CharField(max_length=256, blank=True)
    comment_count = models.PositiveIntegerField(default=0)
    newest_comment = models.TextField(blank=True)
    newest_comment_by = models.CharField(max_length=150, blank=True)
    newest_comment_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["site_id", "alarm_name", "instance_id"], name="occurrence_unique"
            ),
        ]
        # The journal page's keyset order, alone and under its selective filters.
        indexes = [
            models.Index(fields=["started_at", "id"], name="occurrence_started"),
            models.Index(fields=["site_id", "started_at", "id"], name="occurrence_site_started"),
            models.Index(fields=["acknowledged_by", "started_at"], name="occurrence_ack_by"),
            models.Index(fields=["priority", "started_at"], name="occurrence_priority"),
            # The alarm KPIs: the time to acknowledge by raise time, covering what it reads;
            # the standing alarms, a few rows of every occurrence.
            models.Index(fields=["site_id", "raised_at", "acknowledged_at", "ack_seconds"],
                         name="occurrence_kpi_ack"),
            models.Index(fields=["site_id", "standing_from"], name="occurrence_standing",
                         condition=models.Q(standing_from__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.site_id}:{self.alarm_name}#{self.instance_id}"


class RaisesPerPeriod(models.Model):
    """How many alarms a site raised in one 10-minute period (EEMUA 191's unit): the KPI
    page's rates, peak and flood periods read a few thousand of these rows, not every raise.
    Kept with the journal (dashboard.occurrences), built again by `rebuild_occurrences`."""

    site_id = models.CharField(max_length=64)
    period = models.BigIntegerField()  # whole 600 s steps since 1970 (dashboard.kpi.sql)
    raises = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site_id", "period"], name="raises_period_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.site_id}@{self.period}: {self.raises}"


class RaisesPerDay(models.Model):
    """How many times a site raised one alarm at one priority in one UTC day: the KPI page's
    bad actors and priority mix (whole days from here, the range's partial first and last
    day from the journal). Kept like RaisesPerPeriod."""

    site_id = models.CharField(max_length=64)
    alarm_name = models.CharField(max_length=256)
    day = models.BigIntegerField()  # whole days since 1970 (UTC)
    priority = models.IntegerField(default=0)
    raises = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site_id", "day", "alarm_name", "priority"],
                                    name="raises_day_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.site_id}:{self.alarm_name}@{self.day}: {self.raises}"


class ChatteringRaise(models.Model):
    """A raise of an alarm whose raise two before it (same site and alarm name, any
    instance) came at most 60 s earlier: ISA-18.2's chattering, flagged as the journal is
    written (dashboard.occurrences), so the KPI page reads these few rows, not every raise.
    `earlier` is that raise's time: a range counts a burst only when all three of its raises
    lie in the range, as counting over the range's raises alone would."""

    raise_id = models.BigIntegerField(unique=True)  # the JournalEntry of the raise
    site_id = models.CharField(max_length=64)
    alarm_name = models.CharField(max_length=256)
    at = models.DateTimeField()
    earlier = models.DateTimeField()

    class Meta:
        indexes = [
            # The KPI page's one query, answered from the index alone.
            models.Index(fields=["at", "site_id", "alarm_name", "earlier"],
                         name="chattering_raise_at"),
            # Flagging again after a write: the alarm's raises near the new ones.
            models.Index(fields=["site_id", "alarm_name", "at"], name="chattering_raise_alarm"),
        ]

    def __str__(self) -> str:
        return f"{self.site_id}:{self.alarm_name}@{self.at.isoformat()}"


class Shelving(models.Model):
    """One alarm occurrence shelved through the dashboard (ISA-18.2 shelving): who, why,
    since, until. It ends once, by hand (`unshelved`) or when its time is up (`expired`);
    nothing else of a row ever changes, and rows are never deleted."""

    class End(models.TextChoices):
        UNSHELVED = "unshelved", "Unshelved by hand"
        EXPIRED = "expired", "Shelving time over"

    site_id = models.CharField(max_length=64, db_index=True)
    alarm_name = models.CharField(max_length=256)
    instance_id = models.BigIntegerField(default=0)
    priority = models.IntegerField(default=0)
    event_text = models.TextField(blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150)
    reason = models.TextField()
    since = models.DateTimeField()
    until = models.DateTimeField(db_index=True)
    # WinCC shelved it too (Unified); otherwise it is shelved here, still active in WinCC.
    in_wincc = models.BooleanField(default=False)
    ended_at = models.DateTimeField(null=True, blank=True, db_index=True)
    ended_by = models.CharField(max_length=150, blank=True)
    end = models.CharField(max_length=16, choices=End.choices, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-since", "-id"]
        verbose_name = _("shelving")
        verbose_name_plural = _("shelvings")

    def __str__(self) -> str:
        return f"{self.site_id}:{self.alarm_name}#{self.instance_id} shelved by {self.username}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not getattr(self, "_ending", False):
            raise AppendOnlyError("a shelving only ever ends, once")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("shelvings cannot be deleted")

    def finish(self, end: str, by: str, at) -> None:
        """End the shelving (unshelved by `by`, or expired); the one change, once."""
        if self.pk is None or self.ended_at is not None:
            raise AppendOnlyError("only a saved, running shelving ends, once")
        self.end, self.ended_by, self.ended_at = end, by, at
        self._ending = True
        try:
            self.save(update_fields=["end", "ended_by", "ended_at"])
        finally:
            self._ending = False


class AlarmComment(models.Model):
    """A comment on one alarm occurrence, on its own or with an acknowledgement. Append-only."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    site_id = models.CharField(max_length=64, db_index=True)
    alarm_name = models.CharField(max_length=256)
    instance_id = models.BigIntegerField(default=0)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150)
    text = models.TextField()
    # "comment", or "acknowledge" when it came with an acknowledgement.
    kind = models.CharField(max_length=16, default="comment")

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("alarm comment")
        verbose_name_plural = _("alarm comments")

    def __str__(self) -> str:
        return f"{self.site_id}:{self.alarm_name}#{self.instance_id} {self.username}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("comments cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("comments cannot be deleted")


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class WallScreen(models.Model):
    """A control-room screen signed in by a view-only token (there is no keyboard)."""

    THEMES = [("dark", _("Dark (control room)")), ("light", _("Light"))]
    MIN_PAGE_SECONDS = 5
    MAX_PAGE_SECONDS = 24 * 3600

    name = models.CharField(max_length=100)
    dashboard_id = models.CharField(
        max_length=64, help_text=_("The dashboard the screen opens on when it signs in.")
    )
    # The screen reads these again at each turn of its rotation: changed here, they reach
    # the screen without anybody touching it.
    rotation = models.CharField(
        max_length=500, blank=True, default="",
        help_text=_("Dashboard ids to rotate through, in order, separated by commas or spaces; "
                    "empty shows only the dashboard above."),
    )
    page_seconds = models.PositiveIntegerField(
        default=30,
        validators=[MinValueValidator(MIN_PAGE_SECONDS), MaxValueValidator(MAX_PAGE_SECONDS)],
        help_text=_("Seconds each page (a dashboard, or a part of one too big for the screen) "
                    "stays on the screen."),
    )
    theme = models.CharField(max_length=10, choices=THEMES, default="dark")
    # "" follows the screen's browser (its Accept-Language); `?lang=` in its link overrides.
    language = models.CharField(
        max_length=8, blank=True, default="",
        choices=[("", _("As the screen's browser asks")), *settings.LANGUAGES],
    )
    pause_on_alarm = models.BooleanField(
        default=True,
        help_text=_("Stay on a dashboard while it holds an unacknowledged priority-1 alarm."),
    )
    sound = models.BooleanField(
        default=False, help_text=_("Sound unacknowledged alarms on this screen (the "
                                   "annunciator's tones; the browser needs one touch of Enable "
                                   "sound).")
    )
    SOUND_PRIORITIES = [(1, _("Priority 1 only")), (2, _("Priorities 1-2")),
                        (3, _("Priorities 1-3")), (4, _("Priorities 1-4")),
                        (5, _("Every priority"))]
    sound_priority = models.PositiveSmallIntegerField(
        choices=SOUND_PRIORITIES, default=5,
        help_text=_("With sound on, the least urgent priority rank (1-5) that still sounds."),
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True,
        on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("last seen at"), null=True, blank=True)

    class Meta:
        verbose_name = _("wall screen")
        verbose_name_plural = _("wall screens")

    def __str__(self) -> str:
        return self.name

    SETTINGS = ("rotation", "page_seconds", "theme", "language", "pause_on_alarm", "sound",
                "sound_priority")

    @classmethod
    def issue(
        cls, *, name: str, dashboard_id: str, created_by=None, **settings
    ) -> tuple[WallScreen, str]:
        """Create a screen and return it with its token, shown once and stored only hashed.
        `settings` are the fields of SETTINGS."""
        unknown = set(settings) - set(cls.SETTINGS)
        if unknown:
            raise TypeError(f"not a wall screen setting: {', '.join(sorted(unknown))}")
        token = secrets.token_urlsafe(32)
        screen = cls(
            name=name,
            dashboard_id=dashboard_id,
            token_hash=_hash_token(token),
            created_by=created_by,
            **settings,
        )
        screen.full_clean(exclude=["created_by"])
        screen.save()
        return screen, token

    def settings(self) -> dict:
        return {field: getattr(self, field) for field in self.SETTINGS}

    def new_token(self) -> str:
        """Give the screen a fresh token (the old one stops working); save to keep it."""
        token = secrets.token_urlsafe(32)
        self.token_hash = _hash_token(token)
        return token

    def sign_in_path(self, token: str) -> str:
        """The address to open once on the screen; the wall page keeps it signed in."""
        return f"{reverse('wall', args=[self.dashboard_id])}?{urlencode({'token': token})}"

    def dashboards(self, known: Collection[str] | None = None) -> list[str]:
        """The dashboards the screen rotates through, in order (never empty); with `known`,
        only those still in the configuration (one removed since is skipped, not shown as
        an error page on the wall)."""
        ids = split_ids(self.rotation) or [self.dashboard_id]
        if known is not None:
            ids = [i for i in ids if i in known] or [self.dashboard_id]
        return ids

    def following(self, dashboard_id: str, known: Collection[str] | None = None) -> str:
        """The dashboard after `dashboard_id` in the rotation (the first one if it is not in it)."""
        ids = self.dashboards(known)
        if dashboard_id not in ids:
            return ids[0]
        return ids[(ids.index(dashboard_id) + 1) % len(ids)]

    @classmethod
    def for_token(cls, token: str) -> WallScreen | None:
        return cls.objects.filter(token_hash=_hash_token(token), revoked_at__isnull=True).first()


# --- integrations: deliveries of trigger events (docs/integrations.md) ----------------------


class Delivery(models.Model):
    """One trigger event sent to one action, with every attempt's outcome counted.

    Written by the delivery task (dashboard.deliveries); `event` is the event document the
    body is made from, which holds plant data only, never a header or a secret.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting to be sent")
        # Not "failed": an attempt that timed out may have arrived all the same.
        RETRYING = "retrying", _("not confirmed yet, trying again")
        DELIVERED = "delivered", _("delivered")
        DEAD = "dead", _("not confirmed, given up (dead letter)")

    event_id = models.CharField(max_length=64)
    trigger_id = models.CharField(max_length=64)
    action_index = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16)  # "webhook" | "mqtt"
    target = models.CharField(max_length=300, help_text="Where it goes, without secrets.")
    site_id = models.CharField(max_length=64)
    event_name = models.CharField(max_length=32)
    subject = models.CharField(max_length=300, help_text="The tag or alarm it is about.")
    event = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # Attempts allowed before it becomes a dead letter; a retry by an admin adds a budget.
    allowed_attempts = models.PositiveIntegerField(default=1)
    last_error = models.TextField(blank=True)
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["event_id", "trigger_id", "action_index"], name="one_delivery_per_event"
            )
        ]
        indexes = [
            models.Index(fields=["trigger_id", "-id"], name="delivery_by_trigger"),
            # /metrics counts them by trigger, kind and status (dashboard.delivery_metrics).
            models.Index(fields=["trigger_id", "kind", "status", "attempts"],
                         name="delivery_counts"),
        ]

    def __str__(self) -> str:
        return f"{self.trigger_id} {self.event_name} {self.subject} → {self.kind}"


# --- the read-only API's tokens (docs/api.md) --------------------------------------------------


class ApiToken(models.Model):
    """A token for the read-only API (/api/v1/): `wdash_<prefix>_<secret>`, shown once.

    Only the SHA-256 of the secret is stored; the prefix finds the row and is safe to show.
    A token reads what its owner may view, and of that only the sites in `sites` ("*" for
    all): it never has more rights than the person it belongs to, and it never writes.
    """

    SCHEME = "wdash"

    name = models.CharField(max_length=100, help_text=_("What uses it, e.g. “MES line 2”."))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens",
        help_text=_("The token sees at most what this person may view."),
    )
    sites = models.CharField(
        max_length=500, default=SiteAccess.ALL_SITES,
        help_text=_('Site ids it may read, separated by commas or spaces, or "*" for every site.'),
    )
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    # Written at most every API_TOKEN_LAST_USED_SECONDS, so reading does not write each time.
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.SCHEME}_{self.prefix}_…)"

    def new_token(self) -> str:
        """Give the token a fresh prefix and secret and return the whole token (save to keep
        it); only its hash is stored."""
        self.prefix = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        self.secret_hash = _hash_token(secret)
        return f"{self.SCHEME}_{self.prefix}_{secret}"

    @classmethod
    def issue(cls, *, name: str, owner, sites: str = SiteAccess.ALL_SITES,
              created_by=None) -> tuple[ApiToken, str]:
        """Create a token and return it with its text, shown once."""
        token = cls(name=name, owner=owner, sites=sites, created_by=created_by)
        text = token.new_token()
        token.full_clean(exclude=["created_by"])
        token.save()
        return token, text

    @classmethod
    def for_text(cls, text: str) -> ApiToken | None:
        """The token `text` names, if it exists and is not revoked (owner loaded)."""
        scheme, _, rest = text.partition("_")
        prefix, _, secret = rest.partition("_")
        if scheme != cls.SCHEME or not prefix or not secret:
            return None
        token = (cls.objects.select_related("owner")
                 .filter(prefix=prefix, revoked_at__isnull=True).first())
        if token is None or not hmac.compare_digest(token.secret_hash, _hash_token(secret)):
            return None
        return token

    def site_ids(self) -> list[str]:
        return split_ids(self.sites)

    def covers(self, site_id: str) -> bool:
        ids = self.site_ids()
        return SiteAccess.ALL_SITES in ids or site_id in ids

    def note_use(self, now, every_seconds: float) -> None:
        """Record the use at `now`, unless it was recorded less than `every_seconds` ago."""
        last = self.last_used_at
        if last is not None and (now - last).total_seconds() < every_seconds:
            return
        ApiToken.objects.filter(pk=self.pk).update(last_used_at=now)
        self.last_used_at = now

    def revoke(self, now) -> bool:
        """Revoke it (once); False when it already was."""
        if self.revoked_at is not None:
            return False
        self.revoked_at = now
        self.save(update_fields=["revoked_at"])
        return True


class TagMinute(models.Model):
    """One configured tag's values within one minute, as the poller read them: the trend's
    own history where a site has no archive (dashboard/history, docs/trend.md).

    Written in batches by the worker (dashboard.history.minutes.flush) from the minute the
    poller accumulates in Redis; (site, tag, minute) is unique, so a flush repeated after a
    restart adds nothing twice.
    """

    class Quality(models.TextChoices):
        GOOD = "g", "good"
        UNCERTAIN = "u", "uncertain"
        BAD = "b", "bad"

    site_id = models.CharField(max_length=64)
    tag = models.CharField(max_length=255)
    minute = models.DateTimeField(help_text="Start of the minute (UTC).")
    # Over the numeric good or uncertain values read in the minute; null when there was none.
    minimum = models.FloatField(null=True)
    maximum = models.FloatField(null=True)
    average = models.FloatField(null=True)
    last = models.FloatField(null=True)
    count = models.PositiveIntegerField(default=0, help_text="Numeric values read.")
    quality = models.CharField(max_length=1, choices=Quality.choices,
                               help_text="The worst quality read in the minute.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site_id", "tag", "minute"],
                                    name="tag_minute_once"),
        ]
        # The unique constraint's index serves a pen's window; this one the pruning.
        indexes = [models.Index(fields=["minute"], name="tag_minute_age")]

    def __str__(self) -> str:
        return f"{self.site_id}:{self.tag} {self.minute:%Y-%m-%d %H:%M}"


class DisplayPreference(models.Model):
    """How one person's pages look, on every device they sign in on."""

    THEMES = [("auto", _("As the device is set (light or dark)")),
              ("light", _("Light")), ("dark", _("Dark (control room)"))]

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="display_preference")
    theme = models.CharField(max_length=10, choices=THEMES, default="auto")
    # "" follows the browser's Accept-Language; otherwise one of settings.LANGUAGES, each
    # named in its own words (not translated), so that a person finds theirs.
    language = models.CharField(max_length=8, blank=True, default="",
                                choices=[("", _("As the browser asks")), *settings.LANGUAGES])

    def __str__(self) -> str:
        return f"{self.user}: {self.theme}"
