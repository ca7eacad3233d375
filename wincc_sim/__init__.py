"""A WinCC server for demos and tests: one simulated plant behind three protocol faces.

Faces: Classic WinCC REST (`/WinCCRestService`), WinCC Unified GraphQL (`/graphql`) and the
product's REST v1 (`/api/v1`). Faults are switched at runtime on a separate admin listener.
"""
