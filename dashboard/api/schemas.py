"""What each answer of the API holds. The OpenAPI 3.1 document is made from these.

Plain pydantic models rather than ninja.Schema: the views build them from values, never
from ORM objects, and ninja's Schema reads every field through its Django getter (a
hundredfold slower for a site of many tags)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel as Schema
from pydantic import Field

Status = Literal["current", "stale", "failing", "never", "unknown"]
# A tag's value as WinCC gave it: a number, a switch, a text, or none.
Value = bool | int | float | str | None


class ErrorOut(Schema):
    detail: str = Field(description="What went wrong, as a plain sentence.")


class HealthOut(Schema):
    status: Status = Field(description=(
        "current: polled within 3 poll intervals; stale: no successful poll for longer; "
        "failing: the last poll failed; never: not polled yet."))
    reachable: bool = Field(description="The site's last poll reached WinCC and succeeded.")
    stale: bool = Field(description="True unless status is current: values may be old.")
    failing: bool
    reason: str = Field(description="Why the site is not current, in plain words; empty when "
                                    "it is.")
    failures: int = Field(description="Failed polls since the last success.")
    last_success: datetime | None
    last_poll_age_seconds: float | None = Field(
        description="Seconds since the last successful poll; null when there was none.")
    poll_interval_seconds: float


class SiteOut(Schema):
    id: str
    name: str
    dialect: str
    health: HealthOut


class TagOut(Schema):
    name: str
    label: str
    unit: str
    value: Value
    quality: Literal["good", "uncertain", "bad"]
    quality_code: int | None = Field(description="WinCC's own quality code, when it gives one.")
    error: str | None = Field(description="Why there is no good value, when WinCC said.")
    timestamp: datetime | None = Field(description="WinCC's time stamp of the value.")
    changed_at: datetime = Field(description="The poll that last changed the value.")
    age_seconds: float = Field(description=(
        "Seconds since a successful poll last read this value (it is rewritten only when it "
        "changes; every successful poll confirms it)."))


class TagsOut(Schema):
    site: str
    health: HealthOut
    tags: list[TagOut]


class ShelvedOut(Schema):
    by: str
    reason: str
    since: datetime
    until: datetime
    in_wincc: bool = Field(description="WinCC shelved it too; otherwise it is shelved in the "
                                       "dashboard only and still active in WinCC.")


class AlarmOut(Schema):
    name: str
    instance_id: int
    state: str = Field(description="ISA-18.2 state name, e.g. unacknowledged, acknowledged, "
                                   "returned_unacknowledged.")
    priority: int
    alarm_class: str
    event_text: str
    info_text: str
    area: str
    raise_time: datetime | None
    ack_time: datetime | None
    clear_time: datetime | None
    acknowledged_by: str | None
    shelved: ShelvedOut | None = Field(description="Set while the alarm is shelved.")


class AlarmsOut(Schema):
    site: str
    health: HealthOut
    alarm_list: bool = Field(description="False when the site has no alarm list (then "
                                         "`alarms` says nothing); see note.")
    note: str
    alarms: list[AlarmOut]


class SampleOut(Schema):
    at: datetime
    value: float


class TrendOut(Schema):
    site: str
    tag: str
    unit: str
    health: HealthOut
    window: Literal["recent"] = Field(description=(
        "Only the recent window the poller keeps in memory for the dashboard's small "
        "trends: at most 600 samples per tag, one per poll that changed the value. Not a "
        "history archive."))
    max_samples: int
    samples: list[SampleOut] = Field(description="Oldest first; numbers only (a switch "
                                                 "is 0 or 1).")


class JournalEntryOut(Schema):
    id: int = Field(description="The cursor: pass the last one as `after`.")
    site: str
    alarm_name: str
    instance_id: int
    transition: str
    at: datetime
    state: str
    priority: int
    alarm_class: str
    event_text: str
    acknowledged_by: str
    actor: str = Field(description="Who took the step in the dashboard (shelving, comment).")
    comment: str


class JournalOut(Schema):
    entries: list[JournalEntryOut]
    next_cursor: int = Field(description="Pass as `after` to get the entries that follow.")
    more: bool = Field(description="More entries are waiting past `next_cursor` now.")
