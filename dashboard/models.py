"""The dashboard's own records: who may see and acknowledge which site, the audit log,
the alarm journal, and the wall screens' tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode


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
        permissions = [
            ("view_dashboard", "Can view dashboards, values and alarms"),
            ("acknowledge_alarm", "Can acknowledge alarms"),
            ("view_audit", "Can view and export the audit log"),
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
    """One acknowledge attempt, allowed or refused. Append-only, administrators included.

    Three updates are allowed, each checked by database triggers too: the outcome of a
    pending row (`record_result`), once; the settled outcome of an "unknown" row, read back
    from WinCC (`settle`), once; and the count of a summary of repeated anonymous refusals
    (`count_repeat`), which only grows.
    """

    class Result(models.TextChoices):
        PENDING = "pending", "Pending"
        UNKNOWN = "unknown", "Unknown: WinCC's answer was lost"
        OK = "ok", "Acknowledged"
        REFUSED = "refused", "Refused by WinCC"
        DENIED = "denied", "Denied (no permission)"
        ERROR = "error", "Error"
        DUPLICATE = "duplicate", "Already in progress or done"
        STALE = "stale", "Not sent: alarm gone or changed"

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
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.username} {self.action} {self.site_id}:{self.alarm_name} → {self.result}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not getattr(self, "_completing", False):
            raise AppendOnlyError("audit entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit entries cannot be deleted")

    def record_result(self, result: str, *, message: str = "", state_after: str = "") -> None:
        """Complete a pending entry with its outcome; the one change ever made, once."""
        if self.pk is None or self.result != self.Result.PENDING:
            raise AppendOnlyError("only a saved, pending audit entry takes a result, once")
        self._save_outcome(result, message, state_after, "completed_at")

    def settle(self, result: str, *, message: str, state_after: str) -> None:
        """Give an "unknown" entry the outcome read back from WinCC; once."""
        if self.pk is None or self.result != self.Result.UNKNOWN or self.settled_at is not None:
            raise AppendOnlyError("only a saved, unknown audit entry is settled, once")
        if result in (self.Result.PENDING, self.Result.UNKNOWN):
            raise AppendOnlyError("an unknown audit entry settles to a final result")
        self._save_outcome(result, message, state_after, "settled_at")

    def _save_outcome(self, result: str, message: str, state_after: str, stamp: str) -> None:
        """Write the outcome columns and the time column `stamp` (the triggers check which)."""
        self.result = result
        self.message = message
        self.state_after = state_after
        setattr(self, stamp, timezone.now())
        self._completing = True
        try:
            self.save(update_fields=["result", "message", "state_after", stamp])
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
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "journal entries"

    def __str__(self) -> str:
        return f"{self.site_id}:{self.alarm_name}#{self.instance_id} {self.transition}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("journal entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("journal entries cannot be deleted")


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class WallScreen(models.Model):
    """A control-room screen signed in by a view-only token (there is no keyboard)."""

    name = models.CharField(max_length=100)
    dashboard_id = models.CharField(max_length=64)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name

    @classmethod
    def issue(cls, *, name: str, dashboard_id: str, created_by=None) -> tuple[WallScreen, str]:
        """Create a screen and return it with its token, shown once and stored only hashed."""
        token = secrets.token_urlsafe(32)
        screen = cls.objects.create(
            name=name,
            dashboard_id=dashboard_id,
            token_hash=_hash_token(token),
            created_by=created_by,
        )
        return screen, token

    def new_token(self) -> str:
        """Give the screen a fresh token (the old one stops working); save to keep it."""
        token = secrets.token_urlsafe(32)
        self.token_hash = _hash_token(token)
        return token

    def sign_in_path(self, token: str) -> str:
        """The address to open once on the screen; the wall page keeps it signed in."""
        return f"{reverse('wall', args=[self.dashboard_id])}?{urlencode({'token': token})}"

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
        PENDING = "pending", "waiting to be sent"
        # Not "failed": an attempt that timed out may have arrived all the same.
        RETRYING = "retrying", "not confirmed yet, trying again"
        DELIVERED = "delivered", "delivered"
        DEAD = "dead", "not confirmed, given up (dead letter)"

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
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["event_id", "trigger_id", "action_index"], name="one_delivery_per_event"
            )
        ]
        indexes = [models.Index(fields=["trigger_id", "-id"], name="delivery_by_trigger")]

    def __str__(self) -> str:
        return f"{self.trigger_id} {self.event_name} {self.subject} → {self.kind}"
