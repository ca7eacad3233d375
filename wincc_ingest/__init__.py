"""wincc_ingest: the product's ingest pipeline, from WinCC into Redis and the alarm journal.

The configuration (sites, tags, dashboards), the poller, the Redis key layout with one codec
per message, and the alarm transitions. Plain Python with no Django import: the Celery tasks
that run it stay thin, and the web only reads what it writes.
"""
