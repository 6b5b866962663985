"""Rules a lot must pass before it gets a label: no banned active ingredient, and no harvest
inside a pre-harvest interval (PHI).

- A ban counts from its effective date on the date of the application (not today): an
  application on the day before a ban took effect is compliant, on that day it is not.
- A harvest is allowed from application date + PHI days: harvesting on exactly that day is
  compliant, one day earlier is a violation (the finding says the date it would be allowed).
- A product whose label gives no PHI for the crop (or an application recorded without a
  product) cannot be checked: that is a warning for the cooperative to look at the label, not
  a violation, so an incomplete registry never blocks a label on its own.
- Applications after a harvest date do not concern that harvest.
Findings carry translated sentences (the current language) for the diary, the trace page and
the CLI.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from dxkit.core.i18n import _, format_date
from dxkit.farm.pesticides import (
    SHIPPED_BANS,
    Ban,
    Product,
    crop_name,
    split_ingredients,
)

Severity = Literal["violation", "warning"]

BANNED = "banned_ingredient"
PHI_NOT_ELAPSED = "phi_not_elapsed"
PHI_UNKNOWN = "phi_unknown"


@dataclass(frozen=True)
class Finding:
    code: str                       # BANNED, PHI_NOT_ELAPSED, PHI_UNKNOWN
    severity: Severity
    message: str                    # a translated sentence
    allowed_from: dt.date | None = None   # PHI findings: the first day harvest is allowed
    entry_id: str | None = None     # the diary entry (application) it is about

    @property
    def is_violation(self) -> bool:
        return self.severity == "violation"


@dataclass(frozen=True)
class Application:
    """A pesticide application as the rules need it. `ingredients` defaults to the product's;
    give them when the diary recorded ingredients without a registry product."""

    entry_id: str | None
    on: dt.date
    product: Product | None
    ingredients: tuple[str, ...] = ()
    crop: str = ""
    product_name: str = ""          # shown when there is no registry product

    @property
    def active_ingredients(self) -> tuple[str, ...]:
        if self.ingredients:
            return tuple(self.ingredients)
        return self.product.active_ingredients if self.product else ()

    @property
    def label(self) -> str:
        if self.product is not None:
            return self.product.name
        return self.product_name or ", ".join(self.active_ingredients) or _("an unnamed product")


PhiLookup = Callable[[Application, str], "int | None"]


def _each(ingredients: Iterable[str]) -> list[str]:
    """Ingredient names with mixtures written as one string ("A + B") split up."""
    return [part for ingredient in ingredients for part in split_ingredients(ingredient)]


def bans_in_force(ingredients: Iterable[str], on: dt.date,
                  bans: Iterable[Ban] = SHIPPED_BANS) -> list[Ban]:
    """The bans covering any of `ingredients` that were in force on `on` (effective_on <= on)."""
    found: list[Ban] = []
    ban_list = list(bans)
    for ingredient in _each(ingredients):
        for ban in ban_list:
            if ban.covers(ingredient) and ban.in_force_on(on) and ban not in found:
                found.append(ban)
    return found


def check_application(product_ingredients: Iterable[str], on: dt.date,
                      bans: Iterable[Ban] = SHIPPED_BANS, *, product: str = "",
                      entry_id: str | None = None) -> list[Finding]:
    """A violation for each active ingredient banned on the day of the application."""
    findings = []
    ban_list = list(bans)
    for ingredient in _each(product_ingredients):
        for ban in bans_in_force([ingredient], on, ban_list):
            if product:
                message = _("{product} contains {ingredient}, banned in Vietnam since {date} "
                            "({reference}); it was applied on {applied}.").format(
                    product=product, ingredient=ingredient, date=format_date(ban.effective_on),
                    reference=ban.reference, applied=format_date(on))
            else:
                message = _("{ingredient} has been banned in Vietnam since {date} "
                            "({reference}); it was applied on {applied}.").format(
                    ingredient=ingredient, date=format_date(ban.effective_on),
                    reference=ban.reference, applied=format_date(on))
            findings.append(Finding(BANNED, "violation", message, None, entry_id))
    return findings


def check_recorded(application: Application, bans: Iterable[Ban] = SHIPPED_BANS
                   ) -> list[Finding]:
    """check_application for an Application (what the diary calls when one is recorded)."""
    return check_application(application.active_ingredients, application.on, bans,
                             product=application.label, entry_id=application.entry_id)


def _phi_from_product(application: Application, crop: str) -> int | None:
    return application.product.phi_for(crop) if application.product else None


def check_harvest(harvest_on: dt.date, crop: str, applications: Sequence[Application],
                  phi: PhiLookup | None = None) -> list[Finding]:
    """Findings for one harvest of `crop` against the applications before it (on its plots and
    season — the caller selects them). `phi(application, crop)` gives the PHI in days or None;
    by default the product's label PHI for the crop."""
    lookup = phi or _phi_from_product
    findings = []
    for application in sorted(applications, key=lambda a: a.on):
        if application.on > harvest_on:
            continue
        days = lookup(application, application.crop or crop)
        if days is None:
            findings.append(Finding(PHI_UNKNOWN, "warning", _(
                "The pre-harvest interval of {product} for {crop} is not known (applied on "
                "{applied}); check the label before harvesting.").format(
                product=application.label, crop=crop_name(application.crop or crop),
                applied=format_date(application.on)), None, application.entry_id))
            continue
        allowed = application.on + dt.timedelta(days=days)
        if harvest_on < allowed:
            findings.append(Finding(PHI_NOT_ELAPSED, "violation", _(
                "Harvested on {harvest} but {product} was applied on {applied} with a "
                "{days}-day pre-harvest interval for {crop}: harvest allowed from {allowed}."
            ).format(harvest=format_date(harvest_on), product=application.label,
                     applied=format_date(application.on), days=days,
                     crop=crop_name(application.crop or crop), allowed=format_date(allowed)),
                allowed, application.entry_id))
    return findings


def earliest_harvest(crop: str, applications: Sequence[Application],
                     phi: PhiLookup | None = None) -> dt.date | None:
    """The first day a harvest respects every known PHI (None without applications)."""
    lookup = phi or _phi_from_product
    days = [a.on + dt.timedelta(days=lookup(a, a.crop or crop) or 0) for a in applications]
    return max(days) if days else None


def lot_findings(crop: str, harvest_dates: Iterable[dt.date],
                 applications: Sequence[Application], bans: Iterable[Ban] = SHIPPED_BANS,
                 phi: PhiLookup | None = None) -> list[Finding]:
    """Everything that keeps a lot from a label: each application (on the lot's plots and
    season, up to its last harvest) with an ingredient banned on its date, and each harvest
    inside a PHI. Violations come first; a repeated finding is reported once."""
    harvests = sorted(set(harvest_dates))
    ban_list = list(bans)
    last = harvests[-1] if harvests else None
    findings: list[Finding] = []
    for application in sorted(applications, key=lambda a: a.on):
        if last is None or application.on <= last:
            findings.extend(check_recorded(application, ban_list))
    for harvest_on in harvests:
        findings.extend(check_harvest(harvest_on, crop, applications, phi))
    unique = list(dict.fromkeys(findings))
    return sorted(unique, key=lambda f: f.severity != "violation")


def is_compliant(findings: Iterable[Finding]) -> bool:
    """True when no finding is a violation (warnings do not block a label)."""
    return not any(f.is_violation for f in findings)


def reasons(findings: Iterable[Finding]) -> tuple[str, ...]:
    """The violation sentences, for TraceRecord.reasons."""
    return tuple(f.message for f in findings if f.is_violation)
