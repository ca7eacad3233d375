"""Which alarms the main list shows and in which order (ISA-18.2, ISA-101), and the counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils.translation import gettext

from wincc_bridge.models import Alarm, AlarmState, PriorityBand, utcnow

# The main alarm list leaves out what ISA-18.2 keeps on separate lists.
OFF_MAIN_LIST = frozenset({AlarmState.SHELVED, AlarmState.SUPPRESSED, AlarmState.OUT_OF_SERVICE})
STATE_ORDER = {
    state: rank
    for rank, state in enumerate(
        [
            AlarmState.UNACKNOWLEDGED,
            AlarmState.RETURNED_UNACKNOWLEDGED,
            AlarmState.LATCHED_UNACKNOWLEDGED,
            AlarmState.ACKNOWLEDGED,
            AlarmState.LATCHED_ACKNOWLEDGED,
            AlarmState.NORMAL,
            AlarmState.SHELVED,
            AlarmState.SUPPRESSED,
            AlarmState.OUT_OF_SERVICE,
        ]
    )
}
BANDS = [PriorityBand.HIGHEST, PriorityBand.HIGH, PriorityBand.MEDIUM, PriorityBand.LOW]
# In a flood the list shows the most important rows first and says how many it leaves out:
# every row is re-sent to every client on each change, so the list must stay bounded.
MAX_ALARM_ROWS = 100


# A site is in flood with more than FLOOD_ALARMS alarms raised within FLOOD_WINDOW (ISA-18.2's
# "more than 10 alarms in 10 minutes per operator"). Counted from the active list: a burst
# that has already cleared away is not counted, so the flood is never overstated.
FLOOD_ALARMS = 10
FLOOD_WINDOW = timedelta(minutes=10)


def flooded_sites(alarms: Iterable[Alarm], now: datetime | None = None) -> dict[str, int]:
    """Site id -> alarms raised within FLOOD_WINDOW, for the sites in flood."""
    since = (now or utcnow()) - FLOOD_WINDOW
    raised = Counter(a.site for a in alarms if a.raise_time is not None and a.raise_time >= since)
    return {site: count for site, count in raised.items() if count > FLOOD_ALARMS}


def alarm_sort_key(alarm: Alarm, flood: bool = False) -> tuple[int, int, int, float, str]:
    """Most important first: by state, then priority, then newest. In a flood the highest
    priority (rank 1) goes to the top whatever its state, so it is never buried."""
    raised = alarm.raise_time.timestamp() if alarm.raise_time else 0.0
    first = 0 if not flood or alarm.priority_band is PriorityBand.HIGHEST else 1
    return (first, STATE_ORDER.get(alarm.state, 99), -alarm.priority, -raised, alarm.name)


def filter_alarms(alarms: Iterable[Alarm], filters: Mapping[str, str],
                  shelved_here: Collection[tuple[str, str]] = ()) -> list[Alarm]:
    """The alarms a list with `filters` (state, priority band) shows, most important first;
    without a state filter, the main list. `shelved_here`: (site, alarm key) of occurrences
    the dashboard shelved, which leave the main list for the shelved one as WinCC's do."""
    state = filters.get("state")
    priority = filters.get("priority")
    chosen = []
    for alarm in alarms:
        here = (alarm.site, alarm.key) in shelved_here
        if state == AlarmState.SHELVED.value:
            if alarm.state is not AlarmState.SHELVED and not here:
                continue
        elif state:
            if alarm.state.value != state:
                continue
        elif alarm.state in OFF_MAIN_LIST or alarm.state is AlarmState.NORMAL or here:
            continue
        if priority and alarm.priority_band.value != priority:
            continue
        chosen.append(alarm)
    flood = bool(flooded_sites(chosen))
    return sorted(chosen, key=lambda alarm: alarm_sort_key(alarm, flood))


def group_by_class(alarms: Iterable[Alarm]) -> list[tuple[str, list[Alarm]]]:
    """The alarms by alarm class, the class of the most important alarm first, each class in
    the alarms' order (the grouped view offered in a flood)."""
    groups: dict[str, list[Alarm]] = {}
    for alarm in alarms:
        groups.setdefault(alarm.alarm_class or gettext("(no class)"), []).append(alarm)
    return list(groups.items())


def banner_alarms(alarms: Iterable[Alarm], shelved_here: Collection[tuple[str, str]] = ()
                  ) -> tuple[Alarm | None, datetime | None]:
    """The annunciator's view: the newest unacknowledged alarm of the highest priority
    present on the main list, and when the newest of those awaiting acknowledgement was raised
    (a newer one sounds again on a silenced screen). How many others: `alarm_counts`."""
    unack = [a for a in filter_alarms(alarms, {}, shelved_here) if a.state.needs_acknowledgement]
    if not unack:
        return None, None
    top = max(unack, key=lambda a: (a.priority, _raised(a)))
    newest = max((a.raise_time for a in unack if a.raise_time), default=None)
    return top, newest


def _raised(alarm: Alarm) -> float:
    return alarm.raise_time.timestamp() if alarm.raise_time else 0.0


def due_rows(alarms: Iterable[Alarm], filters: Mapping[str, str],
             shelved_here: Collection[tuple[str, str]] = (),
             acknowledgeable: Callable[[str], bool] = lambda name: True) -> list[Alarm]:
    """The rows a list with `filters` shows that await an acknowledgement someone can give
    (the site's `Capabilities.can_acknowledge` as `acknowledgeable`): what "acknowledge all
    shown" acts on, and the number its confirmation states."""
    shown = filter_alarms(alarms, filters, shelved_here)[:MAX_ALARM_ROWS]
    return [a for a in shown
            if a.state.needs_acknowledgement and a.can_acknowledge and acknowledgeable(a.name)]


@dataclass(frozen=True)
class AlarmCounts:
    """The one count of alarms every place shows (banner, page header, wall strip, site
    summary and the sites table): the main list by priority band, and beside it the shelved
    occurrences, which are not active alarms to the operator but are never hidden."""

    bands: list[dict[str, Any]]  # per band: "band", "total" (on the main list), "unack"
    active: int
    unack: int
    shelved: int


def alarm_counts(alarms: Iterable[Alarm], shelved_here: Collection[tuple[str, str]] = ()
                 ) -> AlarmCounts:
    """Count `alarms`: the main list (shelved ones, in WinCC or here, left out) per priority
    band, and the shelved list."""
    alarms = list(alarms)
    counts = {band: [0, 0] for band in [*BANDS, PriorityBand.NONE]}
    for alarm in filter_alarms(alarms, {}, shelved_here):
        entry = counts[alarm.priority_band]
        entry[0] += 1
        entry[1] += alarm.state.needs_acknowledgement
    bands = [
        {"band": band.value, "total": total, "unack": unack}
        for band, (total, unack) in counts.items()
        if band is not PriorityBand.NONE or total
    ]
    shelved = len(filter_alarms(alarms, {"state": AlarmState.SHELVED.value}, shelved_here))
    return AlarmCounts(bands, active=sum(total for total, _ in counts.values()),
                       unack=sum(unack for _, unack in counts.values()), shelved=shelved)


def strip_alarm(alarms: Iterable[Alarm], shelved_here: Collection[tuple[str, str]] = ()
                ) -> Alarm | None:
    """The one alarm a wall screen's strip names: the highest-priority alarm awaiting
    acknowledgement, the newest of equals; with none awaiting, the highest-priority one."""

    def rank(alarm: Alarm) -> tuple[bool, int, float]:
        raised = alarm.raise_time.timestamp() if alarm.raise_time else 0.0
        return (alarm.state.needs_acknowledgement, alarm.priority, raised)

    return max(filter_alarms(alarms, {}, shelved_here), key=rank, default=None)


def holding_sites(alarms: Iterable[Alarm], shelved_here: Collection[tuple[str, str]] = ()
                  ) -> list[str]:
    """Sites with an unacknowledged alarm of the highest band: a wall screen set to pause
    on alarm stays on a dashboard that shows one of them."""
    return sorted({
        a.site for a in filter_alarms(alarms, {}, shelved_here)
        if a.state.needs_acknowledgement and a.priority_band is PriorityBand.HIGHEST
    })
