"""The workspace as the households domain sees it: the kernel's, with this domain's services.

Annotations only, for the type checker; the services are attached by the kernel from
`domain.DOMAIN.services`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dxkit.core.workspace import Workspace

if TYPE_CHECKING:
    from dxkit.households.catalog import Catalog
    from dxkit.households.indicators import Indicators
    from dxkit.households.roster import Households, People
    from dxkit.households.visits import Visits


class HouseholdsWorkspace(Workspace):
    catalog: Catalog
    households: Households
    people: People
    visits: Visits
    indicators: Indicators
