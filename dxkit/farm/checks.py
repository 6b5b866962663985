"""The compliance rules (compliance.py) applied to stored diary entries, with the products
and bans of the pesticide registry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from dxkit.core.errors import NotFound
from dxkit.farm import compliance
from dxkit.farm.compliance import Application
from dxkit.farm.model import DiaryEntry, StoredFinding

if TYPE_CHECKING:
    from dxkit.farm.registry import Registry


def blocking(findings: Iterable[StoredFinding]) -> bool:
    """True when a finding is a violation (warnings, such as an unknown PHI, do not block)."""
    return any(f.severity == "violation" for f in findings)


def application_of(registry: Registry, entry: DiaryEntry, crop: str) -> Application:
    product = None
    if entry.product_id:
        try:
            product = registry.product(entry.product_id)
        except NotFound:  # a product row that has not arrived by sync yet
            product = None
    return Application(entry.id, entry.on, product, tuple(entry.active_ingredients), crop,
                       entry.product_name)


def application_findings(registry: Registry, entry_id: str | None, day: dt.date,
                         product_id: str | None, product_name: str,
                         ingredients: Sequence[str], crop: str) -> list[StoredFinding]:
    """Banned ingredients on the day of this application."""
    product = registry.product(product_id) if product_id else None
    application = Application(entry_id, day, product, tuple(ingredients), crop, product_name)
    return [StoredFinding.of(f) for f in compliance.check_recorded(application, registry.bans())]


def harvest_findings(registry: Registry, day: dt.date, applications: Sequence[DiaryEntry], crop: str
                     ) -> list[StoredFinding]:
    """A harvest against the applications before it on the same plot and season."""
    found = compliance.check_harvest(day, crop, [application_of(registry, e, crop)
                                                 for e in applications])
    return [StoredFinding.of(f) for f in found]


def plot_findings(registry: Registry, crop: str, harvest_dates: Iterable[dt.date],
                  applications: Sequence[DiaryEntry]) -> list[compliance.Finding]:
    """lot_findings for one plot's harvests and that plot's applications."""
    return compliance.lot_findings(crop, harvest_dates,
                                   [application_of(registry, e, crop) for e in applications],
                                   registry.bans())
