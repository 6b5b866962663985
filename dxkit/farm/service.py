"""ws.farm: the farm diary's operations, reached from the Workspace like ws.visits.

Each group lives in its own module (orgs, registry, diary, lots); Farm puts them together and
holds the farm settings kept in settings.json.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from dxkit.core.errors import ValidationError
from dxkit.core.i18n import _, format_date
from dxkit.farm.diary import Diary
from dxkit.farm.lots import Lots
from dxkit.farm.model import ProductWarning
from dxkit.farm.orgs import OrgBook
from dxkit.farm.pesticides import Product, crop_name
from dxkit.farm.registry import Registry, refresh_shipped
from dxkit.farm.units import DEFAULT_CONG_M2

if TYPE_CHECKING:
    from dxkit.farm.workspace import FarmWorkspace as Workspace

# Settings (settings.json). The trace base URL is the province's trace site; this default is a
# placeholder each province replaces.
CONG_M2 = "farm.cong_m2"
TRACE_BASE_URL = "farm.trace_base_url"
GS1_RESOLVER = "farm.gs1_resolver"
DEFAULT_TRACE_BASE_URL = "https://truyxuat.dongthap.gov.vn/t/"


class Farm(OrgBook, Registry, Diary, Lots):
    def __init__(self, ws: Workspace):
        self.ws = ws

    def seed_reference(self) -> None:
        """At open: the shipped pesticide registry and bans (never sent by sync)."""
        refresh_shipped(self.ws)

    # -- settings -----------------------------------------------------------------------
    @property
    def cong_m2(self) -> int | float:
        """Square metres in one công (1,000 in the Mekong delta; 1,296 or 500 elsewhere)."""
        return self.ws.settings.get(CONG_M2) or DEFAULT_CONG_M2

    @property
    def trace_base_url(self) -> str:
        return self.ws.settings.get(TRACE_BASE_URL) or DEFAULT_TRACE_BASE_URL

    @property
    def gs1_resolver(self) -> str:
        """Where a GS1 Digital Link points: the setting, else the trace site's origin (the
        hub answers /01/<GTIN>/10/<lot> there)."""
        configured = self.ws.settings.get(GS1_RESOLVER)
        if configured:
            return configured
        parts = urlsplit(self.trace_base_url)
        return f"{parts.scheme}://{parts.netloc}"

    def configure(self, *, trace_base_url: str | None = None, gs1_resolver: str | None = None,
                  cong_m2: float | str | None = None) -> None:
        """Change the farm settings given (None leaves one as it is; "" restores the
        default). Raises ValidationError naming every bad value; nothing is saved then."""
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
        for key, value in updates.items():
            self.ws.settings.set(key, value)

    def settings(self) -> dict[str, object]:
        """The settings in effect (defaults filled in)."""
        return {"trace_base_url": self.trace_base_url, "gs1_resolver": self.gs1_resolver,
                "cong_m2": self.cong_m2}

    def configured_settings(self) -> dict[str, object]:
        """What the user set ("" where a default applies), for a form to show."""
        stored = {"trace_base_url": TRACE_BASE_URL, "gs1_resolver": GS1_RESOLVER,
                  "cong_m2": CONG_M2}
        return {name: self.ws.settings.get(key) or "" for name, key in stored.items()}

    # -- the product picker -------------------------------------------------------------
    def product_warnings(self, product: str | Product, crop: str, on: dt.date | None = None
                         ) -> ProductWarning:
        """What the picker shows as a product is chosen: its PHI for the crop (and the first
        day a harvest is allowed) and any ingredient banned on the day of the application."""
        chosen = product if isinstance(product, Product) else self.product(product)
        day = on or self.ws.today()
        phi = chosen.phi_for(crop)
        banned = chosen.banned_ingredients(day, self.bans())
        messages = [_("{ingredient} is banned in Vietnam since {date} ({reference}).").format(
            ingredient=ingredient, date=format_date(ban.effective_on), reference=ban.reference)
            for ingredient, ban in banned]
        if phi is None:
            messages.append(_("The label gives no pre-harvest interval for {crop}: check it "
                              "before harvesting.").format(crop=crop_name(crop)))
        else:
            messages.append(_("Pre-harvest interval for {crop}: {days} days (harvest from "
                              "{date}).").format(crop=crop_name(crop), days=phi,
                                                 date=format_date(day + dt.timedelta(phi))))
        return ProductWarning(
            product_id=chosen.id, product=chosen.name, phi_days=phi,
            earliest_harvest=day + dt.timedelta(days=phi) if phi is not None else None,
            banned=tuple(ingredient for ingredient, _ban in banned), messages=tuple(messages))
