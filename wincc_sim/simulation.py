"""Everything one running simulator shares between its faces and its admin listener."""

from __future__ import annotations

import random
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from wincc_sim.faults import Faults
from wincc_sim.plant import Plant
from wincc_sim.timefmt import iso_ms
from wincc_sim.users import ApiUser, Users

REQUEST_LOG_LIMIT = 10_000


@dataclass(slots=True)
class Session:
    """A WinCC Unified login: a Bearer token that expires."""

    token: str
    user: ApiUser
    expires: datetime


@dataclass
class Simulation:
    plant: Plant
    users: Users
    faults: Faults = field(default_factory=Faults)
    token_ttl: float = 3600.0
    system_name: str = "WinCC_Sim_RT"
    classic_alarms: bool = True  # the V8.1 alarmLogging endpoints
    # The faces served; a real server speaks one, so a client set to another sees 404.
    faces: tuple[str, ...] = ("classic", "unified", "rest-v1")
    sessions: dict[str, Session] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    # Draws for fault rates, seeded from the plant so a run with faults repeats too.
    fault_rng: random.Random = field(default_factory=random.Random)
    # --cache-answers: the Classic tag reads answered in the current plant tick, by (tick
    # time, .NET dates, names); None answers every read afresh.
    answer_cache: dict[tuple, bytes] | None = None

    def __post_init__(self) -> None:
        self.fault_rng.seed(self.plant.seed + 202)

    def now(self) -> datetime:
        return self.plant.clock()

    def record(self, face: str, user: str, action: str, items: list[Any], allowed: bool,
               results: list[Any] | None = None) -> None:
        """Log a write, acknowledge or reset that reached the server, refused or not."""
        if len(self.requests) >= REQUEST_LOG_LIMIT:
            del self.requests[: REQUEST_LOG_LIMIT // 10]
        self.requests.append({
            "time": iso_ms(self.now()),
            "face": face,
            "user": user,
            "action": action,
            "allowed": allowed,
            "items": items,
            "results": results,
        })

    # --- Unified sessions -------------------------------------------------------------------

    def login(self, user: ApiUser) -> Session:
        now = self.now()
        # Clients that log in again instead of logging out must not grow the table for ever.
        for token in [t for t, s in self.sessions.items() if s.expires <= now]:
            del self.sessions[token]
        session = Session(secrets.token_urlsafe(24), user, now + timedelta(seconds=self.token_ttl))
        self.sessions[session.token] = session
        return session

    def session(self, token: str | None) -> Session | None:
        """The live session of a token; None when unknown, expired or expiry is forced."""
        if not token or self.faults.expired_tokens:
            return None
        session = self.sessions.get(token)
        if session is None:
            return None
        if session.expires <= self.now():
            del self.sessions[token]
            return None
        return session

    def expire_sessions(self) -> int:
        count = len(self.sessions)
        self.sessions.clear()
        return count

    # --- admin ------------------------------------------------------------------------------

    def reset(self) -> None:
        """Plant to its initial state, no faults, empty logs. Sessions survive."""
        self.plant.reset()
        self.faults = Faults()
        self.fault_rng.seed(self.plant.seed + 202)
        self.requests.clear()
        self.counts.clear()
