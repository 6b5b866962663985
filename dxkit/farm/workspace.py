"""The workspace as the farm domain sees it: the households domain's (members link people),
with `ws.farm`. Annotations only, for the type checker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dxkit.households.workspace import HouseholdsWorkspace

if TYPE_CHECKING:
    from dxkit.farm.service import Farm


class FarmWorkspace(HouseholdsWorkspace):
    farm: Farm
