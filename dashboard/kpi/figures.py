"""The alarm KPIs of one scope (some sites, one time range), each from one or two queries.

The counts come from tables kept as the journal is written (RaisesPerPeriod, RaisesPerDay,
AlarmOccurrence; dashboard.occurrences), the range's partial first and last bucket from the
journal itself, so every figure reads thousands of rows, not every raise. Python only walks
the at most few thousand 10-minute periods and the few groups the queries return.
The hand-written SQL (noqa S608) is built from constants and Django-compiled subqueries;
every value from a request is a parameter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db.models import (
    Count,
    F,
    Max,
    Q,
    QuerySet,
    Sum,
)
from django.utils.translation import gettext

from dashboard.kpi import sql
from dashboard.models import (
    AlarmOccurrence,
    ChatteringRaise,
    JournalEntry,
    RaisesPerDay,
    RaisesPerPeriod,
    Shelving,
)
from wincc_bridge.models import PriorityBand

Transition = JournalEntry.Transition

# EEMUA 191 / ISA-18.2 reference values (docs/kpi.md).
VERY_LIKELY_ACCEPTABLE = 1  # alarms per 10 minutes, on average
MANAGEABLE = 2
FLOOD = 10  # a 10-minute period with more than this many alarms is in flood
CHATTER_RAISES = sql.CHATTER_RAISES
CHATTER_SECONDS = sql.CHATTER_SECONDS
STANDING = sql.STANDING
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
            return gettext("very likely acceptable")
        if self.average <= MANAGEABLE:
            return gettext("manageable")
        if self.average <= FLOOD:
            return gettext("likely over-demanding")
        return gettext("flood")


def compute(scope: Scope, now: datetime | None = None) -> Figures:
    now = now or datetime.now(UTC)
    figures = Figures(scope=scope)
    if not scope.sites:
        return figures
    _rates(figures)
    per_alarm = _top_and_priorities(figures)
    _chattering(figures, per_alarm)
    _standing(figures, now)
    _ack_times(figures)
    _shelved(figures, now)
    return figures


def _journal(scope: Scope, *transitions: str, start: datetime | None = None,
             end: datetime | None = None) -> QuerySet:
    # order_by(): the model's default ordering would sort every subquery for nothing.
    return JournalEntry.objects.filter(
        site_id__in=scope.sites, transition__in=transitions,
        at__gte=start or scope.start, at__lt=end or scope.end,
    ).order_by()


def _split(scope: Scope, step: int) -> tuple[int, int, list[tuple[datetime, datetime]]]:
    """The range as whole `step`-second buckets [first, last) counted ahead of time, and the
    at most two partial buckets at its ends, (start, end) pairs read from the journal."""
    first = math.ceil(scope.start.timestamp() / step)
    last = math.floor(scope.end.timestamp() / step)
    if first >= last:
        return 0, 0, [(scope.start, scope.end)]
    edges = []
    if scope.start < _at(first * step):
        edges.append((scope.start, _at(first * step)))
    if _at(last * step) < scope.end:
        edges.append((_at(last * step), scope.end))
    return first, last, edges


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _rates(figures: Figures) -> None:
    """Raises per 10-minute period: whole periods from RaisesPerPeriod, the range's partial
    first and last period from the journal."""
    scope = figures.scope
    first, last, edges = _split(scope, sql.BUCKET_SECONDS)
    counted: dict[int, int] = dict(
        RaisesPerPeriod.objects.filter(site_id__in=scope.sites, period__gte=first,
                                       period__lt=last)
        .order_by().values("period").annotate(n=Sum("raises")).values_list("period", "n")
    )
    for start, end in edges:
        for period, n in (
            _journal(scope, Transition.RAISED, start=start, end=end)
            .annotate(period=sql.TenMinutes("at")).values("period")
            .annotate(n=Count("*")).values_list("period", "n")
        ):
            counted[period] = counted.get(period, 0) + n
    counted = {period: n for period, n in counted.items() if n}
    first = int(scope.start.timestamp()) // sql.BUCKET_SECONDS
    last = (int(scope.end.timestamp()) - 1) // sql.BUCKET_SECONDS
    figures.series = [(p * sql.BUCKET_SECONDS, counted.get(p, 0)) for p in range(first, last + 1)]
    figures.periods = len(figures.series)
    figures.total = sum(counted.values())
    figures.average = figures.total / figures.periods if figures.periods else 0.0
    figures.peak = max(counted.values(), default=0)
    figures.flood_periods = sum(1 for n in counted.values() if n > FLOOD)


def _raises_per_alarm(scope: Scope):
    """(site, alarm, priority, raises) groups: whole UTC days from RaisesPerDay, the
    range's partial first and last day from the journal."""
    first, last, edges = _split(scope, sql.DAY_SECONDS)
    yield from (
        RaisesPerDay.objects.filter(site_id__in=scope.sites, day__gte=first, day__lt=last)
        .order_by().values("site_id", "alarm_name", "priority").annotate(n=Sum("raises"))
        .values_list("site_id", "alarm_name", "priority", "n")
    )
    for start, end in edges:
        yield from (
            _journal(scope, Transition.RAISED, start=start, end=end)
            .values("site_id", "alarm_name", "priority").annotate(n=Count("*"))
            .values_list("site_id", "alarm_name", "priority", "n")
        )


def _top_and_priorities(figures: Figures) -> dict[tuple[str, str], int]:
    """The bad actors and the priority mix from the raises per (site, alarm, priority): a
    few thousand groups at most, summed here. The raises per (site, alarm)."""
    per_alarm: dict[tuple[str, str], int] = {}
    per_priority = dict.fromkeys(PRIORITY_TARGET, 0)
    highest = 0
    for site, name, priority, n in _raises_per_alarm(figures.scope):
        per_alarm[(site, name)] = per_alarm.get((site, name), 0) + n
        band = PriorityBand.of(priority)
        per_priority[PRIORITY_OF_BAND[band]] += n
        highest += n if band is PriorityBand.HIGHEST else 0
    total = figures.total
    top = sorted(((k, n) for k, n in per_alarm.items() if n),
                 key=lambda item: (-item[1], item[0]))[:TOP]
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
    return per_alarm


def _text(site: str, name: str) -> str:
    """The alarm's latest text (its newest occurrence that has one)."""
    return (
        AlarmOccurrence.objects.filter(site_id=site, alarm_name=name).exclude(event_text="")
        .order_by("-started_at", "-id").values_list("event_text", flat=True).first()
    ) or ""


def _chattering(figures: Figures, per_alarm: dict[tuple[str, str], int]) -> None:
    """Alarms raised CHATTER_RAISES times within CHATTER_SECONDS, from the raises flagged as
    the journal was written (ChatteringRaise): a burst counts when all its raises lie in the
    range. `per_alarm`: each alarm's raises in the range."""
    scope = figures.scope
    rows = (
        ChatteringRaise.objects.filter(site_id__in=scope.sites, at__gte=scope.start,
                                       at__lt=scope.end, earlier__gte=scope.start)
        .order_by().values("site_id", "alarm_name")
        .annotate(bursts=Count("*"), last_at=Max("at"))
        .order_by("-bursts", "site_id", "alarm_name")[:LISTED]
    )
    figures.chattering = [
        {**row, "raises": per_alarm.get((row["site_id"], row["alarm_name"]), 0)} for row in rows
    ]


def _standing(figures: Figures, now: datetime) -> None:
    """Occurrences active more than 24 h at some time in the range: their `standing_from`
    (kept by dashboard.occurrences: 24 h after the raise, for an occurrence still active
    then) lies before the range's end, and they ended (returned or cleared) after its start
    or not at all. From a partial index that holds only such occurrences."""
    scope = figures.scope
    rows: list[dict] = [
        dict(row) for row in AlarmOccurrence.objects.filter(
            site_id__in=scope.sites, standing_from__isnull=False,
            standing_from__lte=scope.end,
        ).filter(Q(ended_at__isnull=True) | Q(ended_at__gt=scope.start))
        .order_by("raised_at", "site_id", "alarm_name")
        .values("site_id", "alarm_name", "instance_id", "priority", "event_text",
                at=F("raised_at"), ended=F("ended_at"))[:LISTED]
    ]
    for row in rows:
        row["active_for"] = (row["ended"] or now) - row["at"]
    figures.standing = rows


def _ack_times(figures: Figures) -> None:
    """Raise -> first acknowledgement of the same occurrence (site, alarm, instance), both
    in the range: the delays kept with each occurrence (`ack_seconds`), read over a covering
    index; exact, not binned."""
    scope = figures.scope
    inner = (
        AlarmOccurrence.objects.filter(
            site_id__in=scope.sites, raised_at__gte=scope.start, raised_at__lt=scope.end,
            acknowledged_at__lt=scope.end, ack_seconds__isnull=False,
        ).order_by().values("ack_seconds")
    )
    inner_sql, params = inner.query.sql_with_params()
    count, values = sql.percentiles(f"SELECT ack_seconds AS v FROM ({inner_sql}) AS a",  # noqa: S608
                                    params, PERCENTILES)
    figures.ack_count = count
    figures.ack_seconds = {
        f"p{round(p * 100)}": v for p, v in zip(PERCENTILES, values, strict=True)
    }


def _shelved(figures: Figures, now: datetime) -> None:
    figures.shelved = list(
        Shelving.objects.filter(site_id__in=figures.scope.sites, ended_at__isnull=True,
                                until__gt=now)
        .order_by("until", "id")
        .values("site_id", "alarm_name", "instance_id", "priority", "event_text", "username",
                "reason", "since", "until")[:LISTED]
    )
