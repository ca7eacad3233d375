"""What the database records, counted at each scrape: actions on alarms and tags by result
(the audit rows) and integration deliveries by status (dashboard.delivery_metrics).

One aggregate query each, whichever web process answers and whichever worker did the work.
"""

from __future__ import annotations

from django.db.models import Sum
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from dashboard import delivery_metrics
from dashboard.models import AuditEntry

Result = AuditEntry.Result
# A row still waiting for its outcome, or whose outcome was lost until it is read back from
# WinCC: it moves on to a final result, so it is a gauge of its own, never part of a counter.
UNSETTLED = (Result.PENDING, Result.UNKNOWN)

DELIVERY_FAMILIES = {
    "wdash_deliveries": (
        GaugeMetricFamily,
        "Integration deliveries (webhook, MQTT) by status now: pending, retrying (not "
        "confirmed yet), delivered, dead (given up)."),
    "wdash_delivery_attempts": (
        CounterMetricFamily, "Attempts made to deliver, whatever their outcome."),
}


def families() -> list[Metric]:
    """Raises django.db.DatabaseError when the database cannot answer."""
    return [*_actions(), *_deliveries()]


def _actions() -> list[Metric]:
    final = CounterMetricFamily(
        "wdash_actions",
        "Acknowledgements, tag writes, shelvings and comments by their final result, as the "
        "audit log records them (a row summing up repeated refusals counts each of them).",
        labels=["action", "result"])
    unsettled = GaugeMetricFamily(
        "wdash_actions_unsettled",
        "Actions whose outcome is not known yet: pending (being sent) or unknown (WinCC's "
        "answer was lost; settled by reading WinCC back).", labels=["action", "result"])
    rows = (AuditEntry.objects.values("action", "result").annotate(count=Sum("repeat_count"))
            .order_by("action", "result"))
    for row in rows:
        family = unsettled if row["result"] in UNSETTLED else final
        family.add_metric([row["action"], row["result"]], row["count"] or 0)
    return [final, unsettled]


def _deliveries() -> list[Metric]:
    made: dict[str, GaugeMetricFamily | CounterMetricFamily] = {}
    for name, labels, value in delivery_metrics.samples():
        family = made.get(name)
        if family is None:
            kind, text = DELIVERY_FAMILIES[name]
            family = made[name] = kind(name, text, labels=list(labels))
        family.add_metric(list(labels.values()), value)
    # Described (HELP, TYPE) even before the first delivery.
    for name, (kind, text) in DELIVERY_FAMILIES.items():
        made.setdefault(name, kind(name, text, labels=[]))
    return list(made.values())
