"""Integration deliveries as numbers for a metrics endpoint: counted from the delivery
records, so every web process answers the same whichever worker delivered.

    for name, labels, value in samples(): ...
    # ("wdash_deliveries", {"trigger": "oven-too-hot", "kind": "webhook",
    #                       "status": "delivered"}, 12.0)
    # ("wdash_delivery_attempts", {"trigger": "oven-too-hot", "kind": "webhook"}, 15.0)
"""

from __future__ import annotations

from django.db.models import Count, Sum

from dashboard.models import Delivery

Sample = tuple[str, dict[str, str], float]


def samples() -> list[Sample]:
    """Deliveries per trigger, kind (webhook, mqtt) and status: how many are in each status
    now (a delivery moves from pending or retrying on to delivered or dead, and a dead letter
    sent again back to retrying). Attempts per trigger and kind only grow."""
    found: list[Sample] = []
    by_status = (Delivery.objects.values("trigger_id", "kind", "status")
                 .annotate(count=Count("id")).order_by("trigger_id", "kind", "status"))
    for row in by_status:
        labels = {"trigger": row["trigger_id"], "kind": row["kind"], "status": row["status"]}
        found.append(("wdash_deliveries", labels, float(row["count"])))
    attempts = (Delivery.objects.values("trigger_id", "kind").annotate(total=Sum("attempts"))
                .order_by("trigger_id", "kind"))
    for row in attempts:
        labels = {"trigger": row["trigger_id"], "kind": row["kind"]}
        found.append(("wdash_delivery_attempts", labels, float(row["total"] or 0)))
    return found
