"""The reference provincial hub (docs/sync-protocol.md): its store and its ASGI app.

store.py (and database.py, digest.py, reference.py) keep the data; app.py serves the API and
trace.py the public trace pages; bodies.py bounds request bodies, guard.py rate-limits
requests, server.py runs uvicorn with its connection limits (docs/deployment.md); limits.py
names the settings. Importing the package is cheap; the app (Starlette) is imported only by
`create_app` users.
"""

from dxkit.sync.hub.store import Device, HubError, HubStore, Team

__all__ = ["Device", "HubError", "HubStore", "Team"]
