"""P8-push: the acknowledge round trip (bench/p8_acknowledge.py) on a subscribed Unified site:
`"ingest": "subscribe"`, the subscriber process (`manage.py wincc_subscribe`) holding its
subscription, polling standing by. Target: p95 at most 0.5 s on the operator's page, 0.6 s on
the second viewer's."""

from __future__ import annotations

from bench import p8_acknowledge
from bench.report import Result


def run(quick: bool = False) -> Result:
    return p8_acknowledge.run(quick=quick, mode="subscribe")
