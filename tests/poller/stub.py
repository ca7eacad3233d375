"""A stand-in WinCC client for unit tests of the poller's own logic (diff, health, backoff).

The integration tests use the simulator and the real dialects instead.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wincc_bridge.client import NotSupportedError, WinCCClient
from wincc_bridge.models import Alarm, Capabilities, Quality, TagValue
from wincc_ingest.config import ApiUser, SiteConfig, TagConfig

# The tags of the stub plant most tests poll.
NAMES = ["Tank_Level", "Conveyor_Running"]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class StubPlant:
    """What the stub clients read; a test changes it between polls."""

    def __init__(self, names: list[str]) -> None:
        self.values: dict[str, object] = dict.fromkeys(names, 0.0)
        self.alarms: list[Alarm] = []
        self.error: Exception | None = None
        self.alarm_list = True
        self.alarm_requests = 0
        self.omit: set[str] = set()
        self.opened = 0
        self.closed = 0

    def connect(self, settings) -> StubClient:
        self.opened += 1
        return StubClient(settings, self)


class StubClient(WinCCClient):
    dialect = "stub"

    def __init__(self, settings, plant: StubPlant) -> None:
        super().__init__(settings)
        self.plant = plant

    @classmethod
    def capabilities_for(cls, settings) -> Capabilities:
        return Capabilities(active_alarms=True)

    def read_tags(self, names):
        if self.plant.error is not None:
            raise self.plant.error
        return [TagValue(n, self.plant.values[n], Quality.GOOD, 192)
                for n in names if n not in self.plant.omit]

    def active_alarms(self):
        self.plant.alarm_requests += 1
        if not self.plant.alarm_list:
            raise NotSupportedError("this server has no active alarm list")
        return list(self.plant.alarms)

    def browse(self, pattern="*"):
        return []

    def acknowledge(self, alarms):
        raise NotSupportedError("read-only stub")

    def write_tags(self, values):
        raise NotSupportedError("read-only stub")

    def close(self) -> None:
        self.plant.closed += 1


def site_config(site_id: str = "plant-a", names=("Tank_Level", "Conveyor_Running"),
                interval: float = 1.0, **options) -> SiteConfig:
    return SiteConfig(
        id=site_id, name=site_id, dialect="stub", url="https://wincc.invalid",
        read_user=ApiUser(username="api_ro"), poll_interval=interval,
        tags=tuple(TagConfig(name=n, label=n) for n in names), **options,
    )
