"""The alarm KPIs of one scope (some sites, one time range), each from one database query.

Every figure is an aggregate, a GROUP BY or a window function in the database; Python only
walks the at most few thousand 10-minute periods and the few groups the queries return.
The hand-written SQL (noqa S608) is built from constants and Django-compiled subqueries;
every value from a request is a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import Count, F, QuerySet, Window
from django.db.models.functions import Lag

from dashboard.kpi import sql
from dashboard.models import JournalEntry, Shelving
from wincc_bridge.models import PriorityBand

Transition = JournalEntry.Transition

# EEMUA 191 / ISA-18.2 reference values (docs/kpi.md).
VERY_LIKELY_ACCEPTABLE = 1  # alarms per 10 minutes, on average
MANAGEABLE = 2
FLOOD = 10  # a 10-minute period with more than this many alarms is in flood
CHATTER_RAISES = 3  # this many raises of one alarm ...
CHATTER_SECONDS = 60  # ... within this many seconds is chattering
STANDING = timedelta(hours=24)  # active longer than this is a standing (stale) alarm
# How far before the range a standing alarm's raise is looked for: its row must be read.
STANDING_LOOKBACK = timedelta(days=90)
TOP = 10
LISTED = 50  # the most rows a table lists (chattering, standing, shelved)
PERCENTILES = (0.5, 0.9, 0.99)

# EEMUA 191's annunciated priority mix, and which of WinCC's bands count as which:
# "none" (0) is annunciated at the lowest rank, "highest" (16) counts as high.
PRIORITY_TARGET = {"low": 80, "medium": 15, "high": 5}
PRIORITY_OF_BAND = {
    PriorityBand.NONE: "low",
    PriorityBand.LOW: "low",
    PriorityBand.MEDIUM: "medium",
    PriorityBand.HIGH: "high",
    PriorityBand.HIGHEST: "high",
}


@dataclass(frozen=True)
class Scope:
    sites: tuple[str, ...]
    start: datetime
    end: datetime


@dataclass
class Figures:
    scope: Scope
    total: int = 0
    periods: int = 0
    series: list[tuple[int, int]] = field(default_factory=list)  # (period start, raises)
    average: float = 0.0
    peak: int = 0
    flood_periods: int = 0
    top: list[dict] = field(default_factory=list)
    top_share: float = 0.0
    chattering: list[dict] = field(default_factory=list)
    standing: list[dict] = field(default_factory=list)
    priorities: list[dict] = field(default_factory=list)
    highest_share: float = 0.0  # WinCC's "highest" band (16), within high; EEMUA: < 1 %
    ack_count: int = 0
    ack_seconds: dict[str, float | None] = field(default_factory=dict)
    shelved: list[dict] = field(default_factory=list)

    @property
    def flood_percent(self) -> float:
        return 100.0 * self.flood_periods / self.periods if self.periods else 0.0

    @property
    def rating(self) -> str:
        """The average rate in EEMUA 191's words."""
        if self.average <= VERY_LIKELY_ACCEPTABLE:
            return "very likely acceptable"
        if self.average <= MANAGEABLE:
            return "manageable"
        if self.average <= FLOOD:
            return "likely over-demanding"
        return "flood"


def compute(scope: Scope, now: datetime | None = None) -> Figures:
    now = now or datetime.now(UTC)
    figures = Figures(scope=scope)
    if not scope.sites:
        return figures
    _rates(figures)
    _top_and_priorities(figures)
    _chattering(figures)
    _standing(figures, now)
    _ack_times(figures)
    _shelved(figures, now)
    return figures


def _journal(scope: Scope, *transitions: str) -> QuerySet:
    # order_by(): the model's default ordering would sort every subquery for nothing.
    return JournalEntry.objects.filter(
        site_id__in=scope.sites, transition__in=transitions,
        at__gte=scope.start, at__lt=scope.end,
    ).order_by()


def _rates(figures: Figures) -> None:
    scope = figures.scope
    counted = dict(
        _journal(scope, Transition.RAISED)
        .annotate(period=sql.TenMinutes("at")).values("period")
        .annotate(n=Count("*")).values_list("period", "n")
    )
    first = int(scope.start.timestamp()) // sql.BUCKET_SECONDS
    last = (int(scope.end.timestamp()) - 1) // sql.BUCKET_SECONDS
    figures.series = [(p * sql.BUCKET_SECONDS, counted.get(p, 0)) for p in range(first, last + 1)]
    figures.periods = len(figures.series)
    figures.total = sum(counted.values())
    figures.average = figures.total / figures.periods if figures.periods else 0.0
    figures.peak = max(counted.values(), default=0)
    figures.flood_periods = sum(1 for n in counted.values() if n > FLOOD)


def _top_and_priorities(figures: Figures) -> None:
    """The bad actors and the priority mix from one GROUP BY (site, alarm, priority): a
    few thousand groups at most, summed here."""
    per_alarm: dict[tuple[str, str], int] = {}
    per_priority = dict.fromkeys(PRIORITY_TARGET, 0)
    highest = 0
    for site, name, priority, n in (
        _journal(figures.scope, Transition.RAISED).values("site_id", "alarm_name", "priority")
        .annotate(n=Count("*")).values_list("site_id", "alarm_name", "priority", "n")
    ):
        per_alarm[(site, name)] = per_alarm.get((site, name), 0) + n
        band = PriorityBand.of(priority)
        per_priority[PRIORITY_OF_BAND[band]] += n
        highest += n if band is PriorityBand.HIGHEST else 0
    total = figures.total
    top = sorted(per_alarm.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    figures.top = [
        {"site_id": site, "alarm_name": name, "raises": n, "text": _text(site, name),
         "share": 100.0 * n / total if total else 0.0}
        for (site, name), n in top
    ]
    figures.top_share = sum(row["share"] for row in figures.top)
    figures.priorities = [
        {"priority": name, "raises": n, "share": 100.0 * n / total if total else 0.0,
         "target": PRIORITY_TARGET[name]}
        for name, n in per_priority.items()
    ]
    figures.highest_share = 100.0 * highest / total if total else 0.0


def _text(site: str, name: str) -> str:
    """The alarm's latest text (one index lookup)."""
    return (
        JournalEntry.objects.filter(site_id=site, alarm_name=name)
        .order_by("-at").values_list("event_text", flat=True).first()
    ) or ""


def _chattering(figures: Figures) -> None:
    """Alarms raised CHATTER_RAISES times within CHATTER_SECONDS: for each raise, the raise
    two before it of the same alarm (any instance) is at most 60 s earlier."""
    inner = (
        _journal(figures.scope, Transition.RAISED)
        .annotate(earlier=Window(
            Lag("at", CHATTER_RAISES - 1),
            partition_by=[F("site_id"), F("alarm_name")],
            order_by=[F("at").asc(), F("id").asc()],
        ))
        .values("site_id", "alarm_name", "at", "earlier")
    )
    inner_sql, params = inner.query.sql_with_params()
    # The limit is the module's constant, written into the SQL: a parameter here would sit
    # before the subquery's own.
    chatters = (f"(earlier IS NOT NULL AND "
                f"{sql.seconds_between('at', 'earlier')} <= {int(CHATTER_SECONDS)})")
    query = (
        f"SELECT site_id, alarm_name, COUNT(*) AS raises, "  # noqa: S608
        f"SUM(CASE WHEN {chatters} THEN 1 ELSE 0 END) AS bursts, MAX(at) AS last_at "
        f"FROM ({inner_sql}) AS r GROUP BY site_id, alarm_name "
        f"HAVING SUM(CASE WHEN {chatters} THEN 1 ELSE 0 END) > 0 "
        f"ORDER BY bursts DESC, site_id, alarm_name LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, [*params, LISTED])
        columns = [c[0] for c in cursor.description]
        figures.chattering = [_row(columns, values) for values in cursor.fetchall()]


def _standing(figures: Figures, now: datetime) -> None:
    """Occurrences active more than 24 h at some time in the range: raised at least 24 h
    before its end, and neither returned, cleared nor raised again within 24 h of the raise
    nor before the range began."""
    scope = figures.scope
    table = JournalEntry._meta.db_table
    ended_sql = (
        f"SELECT MIN(e.at) FROM {table} e WHERE e.site_id = r.site_id "  # noqa: S608
        f"AND e.alarm_name = r.alarm_name AND e.instance_id = r.instance_id AND e.at > r.at "
        f"AND e.transition IN (%s, %s, %s)"
    )
    sites = ", ".join("%s" for _ in scope.sites)
    query = (
        f"SELECT site_id, alarm_name, instance_id, at, priority, event_text, ended FROM ("  # noqa: S608
        f"SELECT r.site_id, r.alarm_name, r.instance_id, r.at, r.priority, r.event_text, "
        f"({ended_sql}) AS ended FROM {table} r WHERE r.transition = %s "
        f"AND r.site_id IN ({sites}) AND r.at >= %s AND r.at <= %s) AS s "
        f"WHERE ended IS NULL OR (ended > %s AND {sql.seconds_between('ended', 'at')} > %s) "
        f"ORDER BY at, site_id, alarm_name LIMIT %s"
    )
    params = [
        Transition.RAISED, Transition.RETURNED, Transition.CLEARED, Transition.RAISED,
        *scope.sites, sql.db_time(scope.start - STANDING_LOOKBACK),
        sql.db_time(scope.end - STANDING), sql.db_time(scope.start),
        STANDING.total_seconds(), LISTED,
    ]
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        columns = [c[0] for c in cursor.description]
        rows = [_row(columns, values) for values in cursor.fetchall()]
    for row in rows:
        row["active_for"] = (row["ended"] or now) - row["at"]
    figures.standing = rows


def _ack_times(figures: Figures) -> None:
    """Raise -> acknowledged of the same occurrence (site, alarm, instance), both in the
    range: each acknowledgement whose previous step of the occurrence is its raise."""
    inner = (
        _journal(figures.scope, Transition.RAISED, Transition.ACKNOWLEDGED)
        .annotate(
            step_before=Window(Lag("transition"), partition_by=_OCCURRENCE,
                          order_by=[F("at").asc(), F("id").asc()]),
            raised_at=Window(Lag("at"), partition_by=_OCCURRENCE,
                             order_by=[F("at").asc(), F("id").asc()]),
        )
        .values("transition", "at", "step_before", "raised_at")
    )
    inner_sql, params = inner.query.sql_with_params()
    delays = (
        f"SELECT {sql.seconds_between('at', 'raised_at')} AS v FROM ({inner_sql}) AS a "  # noqa: S608
        f"WHERE transition = %s AND step_before = %s"
    )
    count, values = sql.percentiles(
        delays, [*params, Transition.ACKNOWLEDGED, Transition.RAISED], PERCENTILES
    )
    figures.ack_count = count
    figures.ack_seconds = {
        f"p{round(p * 100)}": v for p, v in zip(PERCENTILES, values, strict=True)
    }


_OCCURRENCE = [F("site_id"), F("alarm_name"), F("instance_id")]


def _shelved(figures: Figures, now: datetime) -> None:
    figures.shelved = list(
        Shelving.objects.filter(site_id__in=figures.scope.sites, ended_at__isnull=True,
                                until__gt=now)
        .order_by("until", "id")
        .values("site_id", "alarm_name", "instance_id", "priority", "event_text", "username",
                "reason", "since", "until")[:LISTED]
    )


def _row(columns: list[str], values) -> dict:
    row = dict(zip(columns, values, strict=True))
    for key in ("at", "last_at", "ended"):
        if row.get(key) is not None:
            row[key] = _utc(row[key])
    return row


def _utc(value) -> datetime:
    """SQLite hands back a hand-written query's times as text or naive UTC datetimes."""
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
