"""What only a web process knows: its open live streams and the time the live hub takes to
render a fragment.

Under gunicorn every worker is a process of its own, so prometheus-client's multiprocess
mode adds them up: dashboard/gunicorn_conf.py sets PROMETHEUS_MULTIPROC_DIR before the
workers start, each worker writes its figures there, and any worker answering /metrics reads
them all. Without it (uvicorn alone, the tests) the figures are this process's own, with
prometheus-client's process and Python figures beside them.
"""

from __future__ import annotations

import os

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Gauge,
    Histogram,
    disable_created_metrics,
    multiprocess,
)
from prometheus_client.registry import Collector

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

# No "_created" series beside each histogram: in the text format they are figures of their
# own, and a process's start time says nothing the process figures do not.
disable_created_metrics()

LIVE_STREAMS = Gauge(
    "wdash_live_streams", "Live (SSE) streams open now.",
    # The sum over the running workers; a worker that died no longer counts.
    multiprocess_mode="livesum",
)
RENDER_SECONDS = Histogram(
    "wdash_live_render_seconds",
    "Time the live hub took to render one fragment (once, whatever the number of viewers).",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)


def collector() -> Collector:
    """What to collect these figures from: every worker's files, or this process."""
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY
