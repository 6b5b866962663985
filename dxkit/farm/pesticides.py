"""Pesticide reference data: crops, products with their pre-harvest intervals, banned actives.

The product registry ships as data/pesticides.json (unverified, configurable: the province
replaces it by sync and a cooperative adds its own products). Banned active ingredients and the
dates their bans took effect are SHIPPED_BANS. Ingredient names are matched on a folded key, so
"Chlorpyrifos Ethyl", "chlorpyrifos-ethyl" and "CHLORPYRIFOS ETHYL" are one ingredient, and a
salt or ester of a banned ingredient ("Glyphosate IPA salt", "Paraquat dichloride") is banned
with it. "Chlorpyrifos methyl" is a different ingredient and is not banned.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any, Literal

from dxkit.core.errors import NotFound, ValidationError
from dxkit.core.i18n import _, language
from dxkit.core.text import fold, nfc, tokens

Source = Literal["shipped", "province", "cooperative"]

_PESTICIDE_NAMESPACE = uuid.UUID("0c9e6f52-3d7a-4c1e-9a55-7b2f4e81d6a3")

# ---------------------------------------------------------------------------------------------
# Crops

# code: (Vietnamese, English)
CROPS: dict[str, tuple[str, str]] = {
    "rice": ("Lúa", "Rice"),
    "mango": ("Xoài", "Mango"),
    "pink_mandarin": ("Quýt hồng", "Pink mandarin"),
    "pomelo": ("Bưởi", "Pomelo"),
    "orange": ("Cam", "Orange"),
    "citrus": ("Cây có múi", "Citrus"),
    "lotus": ("Sen", "Lotus"),
    "longan": ("Nhãn", "Longan"),
    "durian": ("Sầu riêng", "Durian"),
    "dragon_fruit": ("Thanh long", "Dragon fruit"),
    "vegetables": ("Rau", "Vegetables"),
}

# A label that gives a PHI for "cây có múi" (citrus) covers pomelo, orange and mandarin.
CROP_GROUPS: dict[str, str] = {"pink_mandarin": "citrus", "pomelo": "citrus", "orange": "citrus"}


def crop_name(code: str) -> str:
    """The crop's name in the current language; an unknown code comes back as it is."""
    names = CROPS.get(code)
    if names is None:
        return code
    return names[0] if language() == "vi" else names[1]


def crop_code(text: str) -> str:
    """The crop code for a code or a name in either language ("Xoài", "xoai", "mango")."""
    key = fold(text)
    for code, (name_vi, name_en) in CROPS.items():
        if key in (code, fold(code.replace("_", " ")), fold(name_vi), fold(name_en)):
            return code
    raise NotFound(_("Unknown crop “{crop}”. Known crops: {crops}.").format(
        crop=text, crops=", ".join(crop_name(code) for code in CROPS)))


# ---------------------------------------------------------------------------------------------
# Active ingredients

# Other spellings seen on Vietnamese labels, folded -> the key used in bans.
_INGREDIENT_ALIASES = {
    "chlorpyrifos": "chlorpyrifos ethyl",          # unqualified chlorpyrifos is the ethyl ester
    "zinc phosphua": "zinc phosphide",
    "kem phosphua": "zinc phosphide",
    "kem phosphide": "zinc phosphide",
    "thiophanate methyl": "thiophanate methyl",
    "2 4 d": "2 4 d",
    "24 d": "2 4 d",
    "24d": "2 4 d",
}

# Words that name a salt or ester form: "<banned> <these words>" is still the banned ingredient.
_SALT_WORDS = frozenset({
    "salt", "muoi", "isopropylamine", "ipa", "ammonium", "potassium", "sodium", "amine",
    "dimethylamine", "dma", "dichloride", "ester", "butyl", "isooctyl", "ethylhexyl",
    "trimesium", "diammonium", "monoammonium", "dimethylammonium", "choline"})


def ingredient_key(name: str) -> str:
    """The folded key of an active ingredient: "Chlorpyrifos-Ethyl" -> "chlorpyrifos ethyl".
    A concentration written after the name is dropped ("Fipronil 800 g/kg" -> "fipronil"):
    everything from the first word starting with a digit that follows a word with letters."""
    words = tokens(name)
    seen_letters = False
    for index, word in enumerate(words):
        if word[0].isdigit() and seen_letters:
            words = words[:index]
            break
        seen_letters = seen_letters or any(char.isalpha() for char in word)
    key = " ".join(words)
    return _INGREDIENT_ALIASES.get(key, key)


def split_ingredients(text: str) -> list[str]:
    """The ingredients of a mixture as written on a label: "Abamectin 18 g/l + Chlorpyrifos
    200 g/l" -> two names ("+" and ";" separate; a comma does not, because of "2,4-D")."""
    return [part.strip() for part in re.split(r"[+;]", text or "") if part.strip()]


def typed_ingredients(text: str) -> list[str]:
    """Ingredients as a person types them in one field: "Abamectin, Emamectin benzoate",
    "Abamectin + Matrine" or one per line. A comma separates unless digits stand on both sides
    of it ("2,4-D", "0,3%")."""
    parts = re.split(r"[+;\n]|(?<!\d),|,(?!\d)", text or "")
    return [nfc(part.strip()) for part in parts if part.strip()]


@dataclass(frozen=True)
class ActiveIngredient:
    name: str

    @property
    def key(self) -> str:
        return ingredient_key(self.name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ActiveIngredient) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)


def same_ingredient(first: str, second: str) -> bool:
    return ingredient_key(first) == ingredient_key(second)


# ---------------------------------------------------------------------------------------------
# Bans


@dataclass(frozen=True)
class Ban:
    """An active ingredient banned in Vietnam from `effective_on` (inclusive)."""

    ingredient: str
    effective_on: dt.date
    reference: str

    @property
    def key(self) -> str:
        return ingredient_key(self.ingredient)

    def covers(self, ingredient: str) -> bool:
        """True when `ingredient` is this one, or a salt or ester of it."""
        key, banned = ingredient_key(ingredient).split(), self.key.split()
        if key[:len(banned)] != banned:
            return False
        rest = key[len(banned):]
        return all(word in _SALT_WORDS for word in rest)

    def in_force_on(self, day: dt.date) -> bool:
        return self.effective_on <= day

    def to_dict(self) -> dict[str, str]:
        return {"ingredient": self.ingredient, "effective_on": self.effective_on.isoformat(),
                "reference": self.reference}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Ban:
        return cls(nfc(data["ingredient"]), dt.date.fromisoformat(data["effective_on"]),
                   nfc(data.get("reference", "")))


_TT10 = "Thông tư 10/2019/TT-BNNPTNT, Phụ lục II"
_TT10_LATER = "Thông tư 10/2019/TT-BNNPTNT, Phụ lục II và các quyết định loại bỏ sau đó"

# Effective dates from DOMAIN.md ("Farm diaries"); an application is checked against the date
# it was made, not today.
SHIPPED_BANS: tuple[Ban, ...] = (
    Ban("trichlorfon", dt.date(2017, 10, 16), _TT10),
    Ban("carbofuran", dt.date(2017, 10, 16), _TT10),
    Ban("carbendazim", dt.date(2019, 1, 2), _TT10),
    Ban("benomyl", dt.date(2019, 1, 2), _TT10),
    Ban("thiophanate-methyl", dt.date(2019, 1, 2), _TT10),
    Ban("2,4-D", dt.date(2019, 2, 7), _TT10),
    Ban("paraquat", dt.date(2019, 2, 7), _TT10),
    Ban("acephate", dt.date(2019, 10, 27), _TT10),
    Ban("diazinon", dt.date(2019, 10, 27), _TT10),
    Ban("malathion", dt.date(2019, 10, 27), _TT10),
    Ban("zinc phosphide", dt.date(2019, 10, 27), _TT10),
    Ban("glyphosate", dt.date(2020, 6, 10), _TT10_LATER),
    Ban("chlorpyrifos ethyl", dt.date(2021, 2, 12), _TT10_LATER),
    Ban("fipronil", dt.date(2021, 2, 12), _TT10_LATER),
)


def bans_for(ingredient: str, bans: Iterable[Ban] = SHIPPED_BANS) -> list[Ban]:
    """Every ban (in force or not yet) that covers `ingredient`, earliest first."""
    return sorted((ban for ban in bans if ban.covers(ingredient)),
                  key=lambda ban: ban.effective_on)


# ---------------------------------------------------------------------------------------------
# Products


def product_id(name: str, source: Source = "shipped") -> str:
    """A product's stable id: the same on every laptop for the same name (and source: a
    cooperative's own "X" never collides with the shipped "X")."""
    scope = "shipped" if source in ("shipped", "province") else source
    return str(uuid.uuid5(_PESTICIDE_NAMESPACE, f"pesticide:{scope}:{' '.join(tokens(name))}"))


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    active_ingredients: tuple[str, ...]
    # crop code -> days (left out of the hash so products can go in sets)
    phi_days: dict[str, int] = field(default_factory=dict, hash=False)
    formulation: str = ""
    registrant: str = ""
    source: Source = "shipped"
    kind: str = ""             # insecticide, fungicide, herbicide, molluscicide…

    def phi_for(self, crop: str) -> int | None:
        """The pre-harvest interval for `crop` in days (a citrus PHI covers pomelo…), or None
        when the label gives none for this crop."""
        if crop in self.phi_days:
            return self.phi_days[crop]
        group = CROP_GROUPS.get(crop)
        return self.phi_days.get(group) if group else None

    def banned_ingredients(self, on: dt.date, bans: Iterable[Ban] = SHIPPED_BANS
                           ) -> list[tuple[str, Ban]]:
        """(ingredient, ban) for each of the product's ingredients banned on `on`."""
        return [(ingredient, ban) for ingredient in self.active_ingredients
                for ban in bans if ban.covers(ingredient) and ban.in_force_on(on)]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name,
                "active_ingredients": list(self.active_ingredients),
                "phi_days": dict(self.phi_days), "formulation": self.formulation,
                "registrant": self.registrant, "source": self.source, "kind": self.kind}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: Source | None = None) -> Product:
        origin: Source = source or data.get("source", "shipped")
        name = nfc(data["name"])
        return cls(id=data.get("id") or product_id(name, origin), name=name,
                   active_ingredients=tuple(nfc(a) for a in data["active_ingredients"]),
                   phi_days={crop: int(days) for crop, days in data.get("phi_days", {}).items()},
                   formulation=nfc(data.get("formulation", "")),
                   registrant=nfc(data.get("registrant", "")), source=origin,
                   kind=data.get("kind", ""))


def cooperative_product(name: str, active_ingredients: Iterable[str],
                        phi_days: Mapping[str, int] | None = None, *, formulation: str = "",
                        registrant: str = "", kind: str = "") -> Product:
    """A product a cooperative adds itself (validated: a name, at least one active ingredient,
    known crops and PHIs of 0–365 days)."""
    errors: dict[str, str] = {}
    clean_name = nfc(name)
    ingredients = tuple(nfc(a) for a in active_ingredients if nfc(a))
    if not clean_name:
        errors["name"] = _("Enter the product's trade name.")
    if not ingredients:
        errors["active_ingredients"] = _("Enter at least one active ingredient.")
    phis = dict(phi_days or {})
    unknown = [crop for crop in phis if crop not in CROPS]
    if unknown:
        errors["phi_days"] = _("Unknown crop “{crop}”. Known crops: {crops}.").format(
            crop=unknown[0], crops=", ".join(crop_name(code) for code in CROPS))
    elif any(not isinstance(d, int) or not 0 <= d <= 365 for d in phis.values()):
        errors["phi_days"] = _("A pre-harvest interval is a whole number of days from 0 to 365.")
    if errors:
        raise ValidationError(errors)
    return Product(product_id(clean_name, "cooperative"), clean_name, ingredients, phis,
                   nfc(formulation), nfc(registrant), "cooperative", kind)


@dataclass(frozen=True)
class PesticideRegistry:
    """Products and bans as one value; `merged` layers province updates and a cooperative's
    own products over the shipped data."""

    products: tuple[Product, ...]
    bans: tuple[Ban, ...] = SHIPPED_BANS
    version: str = ""
    status: str = ""

    def product(self, id_or_name: str) -> Product:
        """By id, else by name (folded: "virtako 40 wg" finds "Virtako 40WG")."""
        for product in self.products:
            if product.id == id_or_name:
                return product
        key = "".join(tokens(id_or_name))
        for product in self.products:
            if "".join(tokens(product.name)) == key:
                return product
        raise NotFound(_("No pesticide named “{name}” in the registry.").format(
            name=id_or_name))

    def search(self, text: str) -> list[Product]:
        """Products whose name or an active ingredient starts with what was typed."""
        key = " ".join(tokens(text))
        return [p for p in self.products
                if " ".join(tokens(p.name)).startswith(key)
                or any(ingredient_key(a).startswith(key) for a in p.active_ingredients)]

    def for_crop(self, crop: str) -> list[Product]:
        """Products whose label gives a PHI for the crop (or its group)."""
        return [p for p in self.products if p.phi_for(crop) is not None]

    def merged(self, products: Iterable[Product] = (), bans: Iterable[Ban] | None = None
               ) -> PesticideRegistry:
        """A registry with `products` added or replacing those with the same id, and `bans`
        (when given) replacing the ban list."""
        by_id = {p.id: p for p in self.products}
        for product in products:
            by_id[product.id] = product
        return replace(self, products=tuple(by_id.values()),
                       bans=tuple(bans) if bans is not None else self.bans)

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "status": self.status,
                "bans": [ban.to_dict() for ban in self.bans],
                "products": [p.to_dict() for p in self.products]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: Source | None = None
                  ) -> PesticideRegistry:
        """From the JSON shape of data/pesticides.json or a province update ("bans" optional:
        without them the shipped bans apply)."""
        bans = tuple(Ban.from_dict(b) for b in data["bans"]) if "bans" in data \
            else SHIPPED_BANS
        return cls(products=tuple(Product.from_dict(p, source) for p in data["products"]),
                   bans=bans, version=str(data.get("version", "")),
                   status=str(data.get("status", "")))


@functools.cache
def shipped_registry() -> PesticideRegistry:
    """The registry dxkit ships (data/pesticides.json with SHIPPED_BANS), read once: every
    workspace open and every publication the hub fills in asks for it."""
    text = resources.files("dxkit.farm").joinpath("data/pesticides.json").read_text(
        encoding="utf-8")
    return PesticideRegistry.from_dict(json.loads(text), source="shipped")
