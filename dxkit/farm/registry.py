"""The pesticide registry and the bans: reference data with shipped rows.

Every device ships the same rows (the registry's uuid5 product ids, uuid5 ban ids from the
ingredient, the fixed SHIPPED_CLOCK, no outbox entry), so they are never sent and any real
edit — the province's update arriving by sync, a retired product — is newer. A cooperative's
own products are ordinary synced rows. `refresh_shipped` runs at open: it adds shipped rows a
workspace lacks (a new dxkit version, or a workspace made before migration 0007) and brings
rows nobody edited up to the shipped values.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from dxkit.core.errors import NotFound, ValidationError
from dxkit.core.i18n import _, counted, format_date
from dxkit.core.synced import SHIPPED_CLOCK, OpResult
from dxkit.core.text import folded_key, tokens
from dxkit.farm import pesticides
from dxkit.farm.model import ProductWarning
from dxkit.farm.pesticides import (
    Ban,
    Product,
    cooperative_product,
    crop_name,
    ingredient_key,
    split_ingredients,
)

if TYPE_CHECKING:
    from dxkit.farm.workspace import FarmWorkspace as Workspace

_NAMESPACE = uuid.UUID("0b6f3f5e-8a1c-4d55-b7f6-3a9e2c1d4f70")


def shipped_ban_id(ingredient: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"pesticide_ban:{ingredient_key(ingredient)}"))


def _product_values(product: Product) -> dict[str, Any]:
    return {"name": product.name, "name_key": folded_key(product.name),
            "active_ingredients": json.dumps(list(product.active_ingredients),
                                             ensure_ascii=False),
            "phi_days": json.dumps(dict(product.phi_days), sort_keys=True),
            "formulation": product.formulation or "", "registrant": product.registrant or "",
            "source": product.source or "", "kind": product.kind or "", "active": 1}


def _ban_values(ban: Ban) -> dict[str, Any]:
    return {"ingredient": ban.ingredient, "effective_on": ban.effective_on.isoformat(),
            "reference": ban.reference or ""}


def shipped_rows() -> list[tuple[str, str, dict[str, Any]]]:
    """(table, id, values) of every shipped row."""
    registry = pesticides.shipped_registry()
    rows = [("pesticide_products", p.id, _product_values(p)) for p in registry.products]
    rows += [("pesticide_bans", shipped_ban_id(b.ingredient), _ban_values(b))
             for b in registry.bans]
    return rows


def refresh_shipped(ws: Workspace) -> None:
    """Add missing shipped rows; update those still at SHIPPED_CLOCK whose values changed."""
    conn = ws.conn
    stale: list[tuple[str, str, dict[str, Any], bool]] = []
    for table, row_id, values in shipped_rows():
        row = conn.execute(f"SELECT * FROM {table} WHERE id = ?", (row_id,)).fetchone()
        if row is None:
            stale.append((table, row_id, values, True))
        elif row["updated_at"] == SHIPPED_CLOCK and any(row[k] != v for k, v in values.items()):
            stale.append((table, row_id, values, False))
    if not stale:
        return
    with ws.transaction() as tx:
        for table, row_id, values, missing in stale:
            if missing:
                tx.insert_reference(table, values, row_id)
            else:  # nobody edited it: take the new shipped values, still never sent
                sets = ", ".join(f"{k} = ?" for k in values)
                conn.execute(f"UPDATE {table} SET {sets} WHERE id = ?",
                             (*values.values(), row_id))


def product_from_row(row: sqlite3.Row) -> Product:
    return Product(id=row["id"], name=row["name"],
                   active_ingredients=tuple(json.loads(row["active_ingredients"])),
                   phi_days=dict(json.loads(row["phi_days"])), formulation=row["formulation"],
                   registrant=row["registrant"], source=row["source"], kind=row["kind"])


def ban_from_row(row: sqlite3.Row) -> Ban:
    return Ban(ingredient=row["ingredient"],
               effective_on=dt.date.fromisoformat(row["effective_on"]),
               reference=row["reference"])


def _name_key(name: str) -> str:
    return "".join(tokens(name))  # "virtako 40 wg" finds "Virtako 40WG"


class Registry:
    """`ws.farm.registry`: the pesticide products and the bans on active ingredients."""

    def __init__(self, ws: Workspace):
        self.ws = ws

    def products(self, search: str | None = None, crop: str | None = None,
                 include_inactive: bool = False) -> list[Product]:
        """Products by name; `search` matches the start of the name or of an ingredient,
        `crop` keeps those whose label gives a PHI for that crop."""
        rows = self.ws.conn.execute(
            "SELECT * FROM pesticide_products WHERE deleted = 0"
            + ("" if include_inactive else " AND active = 1") + " ORDER BY name_key, id")
        products = [product_from_row(r) for r in rows]
        if search:
            wanted = " ".join(tokens(search))
            products = [p for p in products if " ".join(tokens(p.name)).startswith(wanted)
                        or any(ingredient_key(i).startswith(wanted)
                               for i in p.active_ingredients)]
        if crop:
            products = [p for p in products if p.phi_for(crop) is not None]
        return products

    def product(self, name_or_id: str) -> Product:
        """By id, else by name (folded, spaces ignored)."""
        row = self.ws.conn.execute("SELECT * FROM pesticide_products WHERE id = ?",
                                   (name_or_id,)).fetchone()
        if row is not None:
            return product_from_row(row)
        wanted = _name_key(name_or_id)
        for product in self.products(include_inactive=True):
            if _name_key(product.name) == wanted:
                return product
        raise NotFound(_("No pesticide named “{name}” in the registry.").format(
            name=name_or_id))

    def add_product(self, name: str, active_ingredients: Iterable[str],
                    phi_days: Mapping[str, int] | None = None, *, formulation: str = "",
                    registrant: str = "", kind: str = "") -> OpResult[Product]:
        """A cooperative's own product (a normal synced row)."""
        product = cooperative_product(name, active_ingredients, phi_days,
                                      formulation=formulation, registrant=registrant, kind=kind)
        with self.ws.transaction() as tx:
            if self.ws.conn.execute("SELECT 1 FROM pesticide_products WHERE id = ? AND "
                                    "deleted = 0", (product.id,)).fetchone():
                raise ValidationError({"name": _("There is already a product called {name}."
                                                 ).format(name=product.name)})
            tx.insert("pesticide_products", _product_values(product), product.id)
        return OpResult(self.product(product.id), tx.changes)

    def bans(self) -> list[Ban]:
        rows = self.ws.conn.execute(
            "SELECT * FROM pesticide_bans WHERE deleted = 0 ORDER BY effective_on, ingredient")
        return [ban_from_row(r) for r in rows]

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
            messages.append(_("Pre-harvest interval for {crop}: {days} (harvest from "
                              "{date}).").format(crop=crop_name(crop),
                                                 days=counted(phi, "{count} day",
                                                              "{count} days"),
                                                 date=format_date(day + dt.timedelta(phi))))
        return ProductWarning(
            product_id=chosen.id, product=chosen.name, phi_days=phi,
            earliest_harvest=day + dt.timedelta(days=phi) if phi is not None else None,
            banned=tuple(ingredient for ingredient, _ban in banned), messages=tuple(messages))

    def ingredient_warnings(self, product: str, ingredients: Iterable[str], crop: str,
                            on: dt.date | None = None) -> ProductWarning:
        """What the picker shows for a pesticide outside the registry, from the active
        ingredients typed with it: each ingredient banned on the day of the application
        (the same check the diary makes when the entry is recorded), and that its
        pre-harvest interval is not known."""
        day = on or self.ws.today()
        bans = self.bans()
        banned = [(ingredient, ban) for text in ingredients
                  for ingredient in split_ingredients(text) for ban in bans
                  if ban.covers(ingredient) and ban.in_force_on(day)]
        messages = [_("{ingredient} is banned in Vietnam since {date} ({reference}).").format(
            ingredient=ingredient, date=format_date(ban.effective_on), reference=ban.reference)
            for ingredient, ban in banned]
        messages.append(_("“{product}” is not in the registry: its pre-harvest interval for "
                          "{crop} is not known; check it on the pesticide's label before "
                          "harvesting.").format(product=product, crop=crop_name(crop)))
        return ProductWarning(product_id="", product=product, phi_days=None,
                              earliest_harvest=None,
                              banned=tuple(ingredient for ingredient, _ban in banned),
                              messages=tuple(messages))
