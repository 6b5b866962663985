"""The farm settings kept in settings.json, read straight from the workspace.

The parts of ws.farm that need a setting read it here (the diary converts công to hectares,
lots build their QR payloads); `ws.farm` shows and changes them (`configure`). The trace base
URL is the province's trace site; its default is a placeholder each province replaces, so no
label is printed until someone has confirmed the address (the one confirmed is kept: changing
the address later asks again, unless the change itself was typed by a person).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from dxkit.core.errors import DxError
from dxkit.core.i18n import _
from dxkit.farm.trace_ids import team_trace_key
from dxkit.farm.units import DEFAULT_CONG_M2

if TYPE_CHECKING:
    from dxkit.farm.workspace import FarmWorkspace as Workspace

CONG_M2 = "farm.cong_m2"
TRACE_BASE_URL = "farm.trace_base_url"
GS1_RESOLVER = "farm.gs1_resolver"
TRACE_CONFIRMED = "farm.trace_base_url_confirmed"  # the address a person confirmed
DEFAULT_TRACE_BASE_URL = "https://truyxuat.dongthap.gov.vn/t/"


def cong_m2(ws: Workspace) -> int | float:
    """Square metres in one công (1,000 in the Mekong delta; 1,296 or 500 elsewhere)."""
    return ws.settings.get(CONG_M2) or DEFAULT_CONG_M2


def trace_base_url(ws: Workspace) -> str:
    return ws.settings.get(TRACE_BASE_URL) or DEFAULT_TRACE_BASE_URL


def trace_confirmed(ws: Workspace) -> bool:
    """Whether a person confirmed the trace address now in effect (set or kept it)."""
    return bool(ws.settings.get(TRACE_CONFIRMED) == trace_base_url(ws))


class TraceAddressNotConfirmed(DxError):
    """No label before the trace address in its QR codes was confirmed (`url`: the address)."""

    def __init__(self, url: str):
        self.url = url
        super().__init__(_("Labels cannot be printed yet: nobody has confirmed the trace "
                           "address their QR codes will hold ({url}); confirm it or set your "
                           "province's in the farm settings.").format(url=url))


def trace_team_key(ws: Workspace) -> str | None:
    """The team's part of the trace URLs this workspace prints, once it joined a hub team."""
    team_id = ws.hub_team_id()
    return team_trace_key(team_id) if team_id else None


def gs1_resolver(ws: Workspace) -> str:
    """Where a GS1 Digital Link points: the setting, else the trace site's origin (the hub
    answers /01/<GTIN>/10/<lot> there)."""
    configured = ws.settings.get(GS1_RESOLVER)
    if configured:
        return str(configured)
    parts = urlsplit(trace_base_url(ws))
    return f"{parts.scheme}://{parts.netloc}"
