"""Alarm KPIs (EEMUA 191 / ISA-18.2) from the alarm journal, computed in the database.

`sql` holds what differs between SQLite and PostgreSQL (10-minute buckets, seconds between
two times, percentiles); `figures` holds the queries and the reference values; the page is
dashboard.views.kpi and docs/kpi.md says what each figure means.
"""
