"""ws.farm: the farm diary's operations, reached from the Workspace like ws.visits.

Farm is made of four parts, each a plain object in its own module, given the parts it uses:

- `ws.farm.orgs` (orgs.py): organisations, their members, plots and seasons;
- `ws.farm.registry` (registry.py): pesticide products and bans, the product picker's warnings;
- `ws.farm.diary` (diary.py): diary entries, corrections, the timeline and their compliance;
- `ws.farm.lots` (lots.py): harvest lots, label prints and serials, trace records.

Farm itself holds the farm settings kept in settings.json (settings.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from dxkit.core.errors import ValidationError
from dxkit.core.i18n import _
from dxkit.farm import settings as farm_settings
from dxkit.farm.diary import Diary
from dxkit.farm.lots import Lots
from dxkit.farm.orgs import OrgBook
from dxkit.farm.registry import Registry
from dxkit.farm.settings import (
    CONG_M2,
    DEFAULT_TRACE_BASE_URL,
    GS1_RESOLVER,
    TRACE_BASE_URL,
    TRACE_CONFIRMED,
)

if TYPE_CHECKING:
    from dxkit.farm.workspace import FarmWorkspace as Workspace


class Farm:
    """`ws.farm`: the four parts, each built once and handed the parts it uses, and the farm
    settings."""

    def __init__(self, ws: Workspace):
        self.ws = ws
        self.orgs = OrgBook(ws)
        self.registry = Registry(ws)
        self.diary = Diary(ws, self.orgs, self.registry)
        self.lots = Lots(ws, self.orgs, self.diary, self.registry)

    # -- settings -----------------------------------------------------------------------
    @property
    def cong_m2(self) -> int | float:
        """Square metres in one công (1,000 in the Mekong delta; 1,296 or 500 elsewhere)."""
        return farm_settings.cong_m2(self.ws)

    @property
    def trace_base_url(self) -> str:
        return farm_settings.trace_base_url(self.ws)

    @property
    def trace_base_url_confirmed(self) -> bool:
        """Whether a person confirmed the trace address in effect; labels wait for it."""
        return farm_settings.trace_confirmed(self.ws)

    def confirm_trace_base_url(self, url: str | None = None) -> str:
        """Confirm the trace address labels will hold: `url` (set first, checked like
        `configure`), or the one in effect. Returns the address confirmed."""
        if url is not None and url.strip() != self.trace_base_url:
            self.configure(trace_base_url=url)
        self.ws.settings.set(TRACE_CONFIRMED, self.trace_base_url)
        return self.trace_base_url

    @property
    def gs1_resolver(self) -> str:
        """Where a GS1 Digital Link points: the setting, else the trace site's origin (the
        hub answers /01/<GTIN>/10/<lot> there)."""
        return farm_settings.gs1_resolver(self.ws)

    def configure(self, *, trace_base_url: str | None = None, gs1_resolver: str | None = None,
                  cong_m2: float | str | None = None) -> None:
        """Change the farm settings given (None leaves one as it is; "" restores the
        default). Raises ValidationError naming every bad value; nothing is saved then. A
        trace address typed here counts as confirmed (see confirm_trace_base_url); the
        default restored does not, unless it was confirmed before."""
        errors: dict[str, str] = {}
        updates: dict[str, object] = {}
        for key, name, value in ((TRACE_BASE_URL, "trace_base_url", trace_base_url),
                                 (GS1_RESOLVER, "gs1_resolver", gs1_resolver)):
            if value is None:
                continue
            text = value.strip()
            parts = urlsplit(text)
            if text and (parts.scheme not in ("http", "https") or not parts.netloc):
                errors[name] = _("Give a web address starting with https://, for example "
                                 "{example}.").format(example=DEFAULT_TRACE_BASE_URL)
            updates[key] = text or None
        if cong_m2 is not None:
            try:
                area = float(str(cong_m2).replace(",", ".")) if str(cong_m2).strip() else None
            except ValueError:
                area = -1.0
            if area is not None and not 100 <= area <= 10_000:
                errors["cong_m2"] = _("One công is between 100 and 10.000 m² (1.000 in the "
                                      "Mekong delta).")
            updates[CONG_M2] = area
        if errors:
            raise ValidationError(errors)
        for key, update in updates.items():
            self.ws.settings.set(key, update)
        if updates.get(TRACE_BASE_URL):
            self.ws.settings.set(TRACE_CONFIRMED, updates[TRACE_BASE_URL])

    def settings(self) -> dict[str, object]:
        """The settings in effect (defaults filled in)."""
        return {"trace_base_url": self.trace_base_url,
                "trace_base_url_confirmed": self.trace_base_url_confirmed,
                "gs1_resolver": self.gs1_resolver, "cong_m2": self.cong_m2}

    def configured_settings(self) -> dict[str, object]:
        """What the user set ("" where a default applies), for a form to show."""
        stored = {"trace_base_url": TRACE_BASE_URL, "gs1_resolver": GS1_RESOLVER,
                  "cong_m2": CONG_M2}
        return {name: self.ws.settings.get(key) or "" for name, key in stored.items()}
