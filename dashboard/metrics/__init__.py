"""/metrics in Prometheus' text format (docs/metrics.md).

- access: who may scrape (METRICS_TOKEN, METRICS_ALLOW_FROM); read by the settings.
- web: what only a web process knows (live streams, render time), added up over gunicorn's
  workers by prometheus-client's multiprocess mode.
- plant: the sites, their alarms and the beat and workers, read from Redis at each scrape.
- records: the audit rows and the integration deliveries, counted in the database.
- scrape: all of it in one answer, each source's failure a figure rather than an error.
"""
