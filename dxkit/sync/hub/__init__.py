"""The reference provincial hub (docs/sync-protocol.md): its store and its ASGI app.

Importing the package is cheap; the app (Starlette) is imported only by `create_app` users.
"""

from dxkit.sync.hub.store import Device, HubError, HubStore, Team

__all__ = ["Device", "HubError", "HubStore", "Team"]
