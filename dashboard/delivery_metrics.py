"""Integration deliveries as numbers for a metrics endpoint: counted from the delivery
records, so every web process answers the same whichever worker delivered.

    for name, labels, value in samples(): ...
    # ("wdash_deliveries", {"trigger": "oven-too-hot", "status": "delivered"}, 12.0)
    # ("wdash_delivery_attempts", {"trigger": "oven-too-hot"}, 15.0)
"""

from __future__ import annotations

from django.db.models import Count, Sum

from dashboard.models import Delivery

Sample = tuple[str, dict[str, str], float]


def samples() -> list[Sample]:
    """Deliveries per trigger and status, and attempts per trigger (both only grow, except
    that a dead letter sent again moves from "dead" back to the other statuses)."""
    found: list[Sample] = []
    by_status = (Delivery.objects.values("trigger_id", "status").annotate(count=Count("id"))
                 .order_by("trigger_id", "status"))
    for row in by_status:
        found.append(("wdash_deliveries", {"trigger": row["trigger_id"], "status": row["status"]},
                      float(row["count"])))
    attempts = (Delivery.objects.values("trigger_id").annotate(total=Sum("attempts"))
                .order_by("trigger_id"))
    for row in attempts:
        found.append(("wdash_delivery_attempts", {"trigger": row["trigger_id"]},
                      float(row["total"] or 0)))
    return found
