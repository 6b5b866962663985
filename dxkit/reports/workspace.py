"""What a report needs of the workspace: its connection, the catalogue, the farm's lots, its
meta facts (who the team is) and its day.

A protocol rather than a workspace view: reports read, and add nothing to the workspace
(dxkit.workspace.Workspace satisfies it as it is)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from dxkit.farm.service import Farm
    from dxkit.households.catalog import Catalog


class ReportsWorkspace(Protocol):
    @property
    def conn(self) -> sqlite3.Connection: ...

    @property
    def catalog(self) -> Catalog: ...

    @property
    def farm(self) -> Farm: ...

    def meta(self) -> dict[str, str]: ...

    def today(self) -> dt.date: ...
