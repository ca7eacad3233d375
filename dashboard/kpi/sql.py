"""The few expressions SQLite and PostgreSQL spell differently, each in one place."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.db import connection
from django.db.models import BigIntegerField, Func

BUCKET_SECONDS = 600  # EEMUA 191 counts alarms per 10 minutes
DAY_SECONDS = 86400  # the bad actors' and priority mix's counts are per UTC day
CHATTER_RAISES = 3  # this many raises of one alarm ...
CHATTER_SECONDS = 60  # ... within this many seconds is chattering (ISA-18.2)
STANDING = timedelta(hours=24)  # active longer than this is a standing (stale) alarm


class TenMinutes(Func):
    """The 10-minute period a time falls in: whole 600 s steps since 1970 (UTC), so the
    periods start at :00, :10, :20 ... and SQLite and PostgreSQL agree."""

    output_field = BigIntegerField()
    arity = 1
    step = BUCKET_SECONDS

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(CAST(strftime('%%s', {sql}) AS INTEGER) / {self.step})", params

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"FLOOR(EXTRACT(EPOCH FROM {sql}) / {self.step})::bigint", params


class WholeDays(TenMinutes):
    """The UTC day a time falls in: whole 86400 s steps since 1970."""

    step = DAY_SECONDS


def percentiles(sql: str, params: Sequence[Any], fractions: Sequence[float]
                ) -> tuple[int, list[float | None]]:
    """(count, the continuous percentiles of column `v` of the query `sql`), as PostgreSQL's
    percentile_cont computes them: linear between the two nearest ranks. PostgreSQL answers
    with percentile_cont itself; elsewhere one query numbers the ordered values and returns
    only the (at most two per fraction) rows at the needed ranks."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT COUNT(v), percentile_cont(%s::float8[]) WITHIN GROUP (ORDER BY v) "  # noqa: S608
                f"FROM ({sql}) AS p",
                [list(fractions), *params],
            )
            count, values = cursor.fetchone()
            if not count:
                return 0, [None for _ in fractions]
            return count, [float(v) for v in values]
        cursor.execute(
            f"SELECT v, i, n FROM (SELECT v, ROW_NUMBER() OVER (ORDER BY v) - 1 AS i, "  # noqa: S608
            f"COUNT(*) OVER () AS n FROM ({sql}) AS p WHERE v IS NOT NULL) AS ranked "
            f"WHERE i IN ({', '.join(_RANKS for _ in fractions)})",
            [*params, *(f for fraction in fractions for f in (fraction, fraction))],
        )
        rows = cursor.fetchall()
    if not rows:
        return 0, [None for _ in fractions]
    count = rows[0][2]
    at_rank = {rank: value for value, rank, _ in rows}
    results: list[float | None] = []
    for fraction in fractions:
        position = fraction * (count - 1)
        low = math.floor(position)
        high = min(low + 1, count - 1)
        results.append(at_rank[low] + (position - low) * (at_rank[high] - at_rank[low]))
    return count, results


# The two ranks around fraction * (n - 1); each fraction is bound twice.
_RANKS = "CAST(%s * (n - 1) AS INTEGER), CAST(%s * (n - 1) AS INTEGER) + 1"
