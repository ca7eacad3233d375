"""The read-only API under /api/v1/ (django-ninja; docs/api.md).

- app.py: the NinjaAPI, its errors as JSON sentences, and the GET-only router.
- auth.py: API tokens in the Authorization header; which sites a token sees.
- schemas.py: what each answer holds (the OpenAPI 3.1 document is made from them).
- reading.py: one site's state read from Redis, as the pages read it.
- sites.py, tags.py, alarms.py, trends.py, journal.py: one module per resource.
- guard.py: a token is refused at every action that writes (403, audit row).
"""
