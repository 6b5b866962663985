"""The demo workspace: the entry point for the app, the CLI and quickstart.

The households domain builds the team and its households (dxkit.households.demo); every other
domain adds its own demo on top through its `Domain.demo` builder.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from dxkit.core import store
from dxkit.core.errors import DxError
from dxkit.core.i18n import _
from dxkit.core.progress import Progress
from dxkit.households.demo import (
    COMMUNE,
    HAMLETS,
    PROVINCE,
    DemoSummary,
    generate,
    generate_into_empty,
    holds_data,
)
from dxkit.workspace import Workspace

__all__ = ["COMMUNE", "HAMLETS", "PROVINCE", "DemoSummary", "fill", "generate",
           "generate_into_empty", "holds_data"]


def fill(path: str | Path, *, seed: int = 1, households: int = 600, if_empty: bool = False,
         progress: Progress | None = None) -> DemoSummary | None:
    """Create the demo at `path`, or refill an existing demo. Real data is never touched."""
    folder = Path(path).expanduser()
    ws = Workspace.open(folder)
    try:
        if holds_data(ws):
            if ws.meta().get("demo") != "1":
                raise DxError(_("The workspace at {path} holds real data; the demo will not "
                                "overwrite it. Choose an empty folder for the demo.").format(
                                    path=folder))
            if if_empty:
                return None
            ws.close()
            _remove_database(folder)
            ws = Workspace.open(folder)
        return generate(ws, seed=seed, households=households, progress=progress)
    finally:
        ws.close()


def _remove_database(folder: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            (folder / (store.DB_FILENAME + suffix)).unlink()
