"""Pesticide reference data: bans from DOMAIN.md, ingredient matching, the shipped registry."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from importlib import resources

import pytest

from dxkit.core import i18n
from dxkit.core.errors import NotFound, ValidationError
from dxkit.farm.pesticides import (
    CROPS,
    SHIPPED_BANS,
    ActiveIngredient,
    Ban,
    PesticideRegistry,
    Product,
    bans_for,
    cooperative_product,
    crop_code,
    crop_name,
    ingredient_key,
    product_id,
    same_ingredient,
    shipped_registry,
    split_ingredients,
)

# DOMAIN.md, "Farm diaries": banned active ingredients and the dates the bans took effect.
DOMAIN_BANS = {
    "trichlorfon": "2017-10-16", "carbofuran": "2017-10-16",
    "carbendazim": "2019-01-02", "benomyl": "2019-01-02", "thiophanate-methyl": "2019-01-02",
    "2,4-D": "2019-02-07", "paraquat": "2019-02-07",
    "acephate": "2019-10-27", "diazinon": "2019-10-27", "malathion": "2019-10-27",
    "zinc phosphide": "2019-10-27",
    "glyphosate": "2020-06-10",
    "chlorpyrifos ethyl": "2021-02-12", "fipronil": "2021-02-12",
}


def test_shipped_bans_are_exactly_those_of_domain_md():
    assert {ban.ingredient: ban.effective_on.isoformat() for ban in SHIPPED_BANS} == DOMAIN_BANS
    assert len(SHIPPED_BANS) == len(DOMAIN_BANS)
    for ban in SHIPPED_BANS:
        assert ban.reference.startswith("Thông tư 10/2019/TT-BNNPTNT, Phụ lục II")


@pytest.mark.parametrize(("first", "second"), [
    ("Chlorpyrifos Ethyl", "chlorpyrifos-ethyl"), ("CHLORPYRIFOS ETHYL", "chlorpyrifos ethyl"),
    ("Thiophanate Methyl", "thiophanate-methyl"), ("2,4-D", "2,4 D"), ("2.4-D", "2,4-d"),
    ("Zinc phosphua", "zinc phosphide"), ("chlorpyrifos", "chlorpyrifos ethyl"),
])
def test_ingredient_names_fold(first, second):
    assert same_ingredient(first, second)
    assert ActiveIngredient(first) == ActiveIngredient(second)
    assert len({ActiveIngredient(first), ActiveIngredient(second)}) == 1


def test_ingredient_key():
    assert ingredient_key(" Chlorpyrifos-Ethyl ") == "chlorpyrifos ethyl"
    assert ActiveIngredient("Metalaxyl-M").key == "metalaxyl m"
    assert ingredient_key("Copper hydroxide 46.1%") == "copper hydroxide"
    assert ingredient_key("2,4-D") == "2 4 d"
    assert ingredient_key("Chlorpyrifos methyl 400 g/l") == "chlorpyrifos methyl"


def test_split_ingredients():
    assert split_ingredients("Abamectin 18 g/l + Chlorpyrifos 200 g/l") == [
        "Abamectin 18 g/l", "Chlorpyrifos 200 g/l"]
    assert split_ingredients("2,4-D; paraquat") == ["2,4-D", "paraquat"]
    assert split_ingredients(" ") == []


@pytest.mark.parametrize("name", ["chlorpyrifos methyl", "Chlorpyrifos-Methyl",
                                  "thiophanate", "carbendazole", "fipronilx", "abamectin",
                                  "malathion-like", "glyphosinate"])
def test_not_banned(name):
    assert bans_for(name) == []


@pytest.mark.parametrize(("name", "banned"), [
    ("Glyphosate IPA salt", "glyphosate"), ("glyphosate isopropylamine salt", "glyphosate"),
    ("Glyphosate ammonium", "glyphosate"), ("Paraquat dichloride", "paraquat"),
    ("2,4-D dimethylamine salt", "2,4-D"), ("2,4-D Amine", "2,4-D"),
    ("Fipronil", "fipronil"), ("chlorpyrifos-ethyl", "chlorpyrifos ethyl"),
    ("Kẽm phosphua", "zinc phosphide"), ("Fipronil 800 g/kg", "fipronil"),
    ("Fipronil 800g/kg", "fipronil"), ("Chlorpyrifos 40%", "chlorpyrifos ethyl"),
    ("2,4-D 720 g/l", "2,4-D"), ("Paraquat dichloride 276 g/l", "paraquat"),
])
def test_salts_and_spellings_of_banned_ingredients(name, banned):
    assert [ban.ingredient for ban in bans_for(name)] == [banned]


def test_ban_in_force_from_its_effective_date():
    ban = Ban("fipronil", dt.date(2021, 2, 12), "x")
    assert not ban.in_force_on(dt.date(2021, 2, 11))
    assert ban.in_force_on(dt.date(2021, 2, 12))
    assert Ban.from_dict(ban.to_dict()) == ban


def test_shipped_registry_loads():
    registry = shipped_registry()
    assert 30 <= len(registry.products) <= 60
    assert registry.status == "unverified, configurable"
    assert registry.bans == SHIPPED_BANS
    names = [p.name for p in registry.products]
    assert len(set(names)) == len(names)
    assert len({p.id for p in registry.products}) == len(names)
    for product in registry.products:
        assert product.source == "shipped"
        assert product.id == product_id(product.name)
        assert product.active_ingredients
        assert set(product.phi_days) <= set(CROPS)
        assert all(isinstance(d, int) and 0 <= d <= 365 for d in product.phi_days.values())


def test_shipped_file_header_marks_the_data_unverified():
    data = json.loads(resources.files("dxkit.farm").joinpath(
        "data/pesticides.json").read_text(encoding="utf-8"))
    assert data["status"] == "unverified, configurable"
    assert "UNVERIFIED" in data["about"]


def test_product_ids_are_stable_uuid5():
    registry = shipped_registry()
    virtako = registry.product("Virtako 40WG")
    assert virtako.id == "ecb1ef13-6272-59d8-8e9f-2824da17acaa"
    assert uuid.UUID(virtako.id).version == 5
    assert product_id("virtako  40wg") == virtako.id
    assert product_id("Virtako 40WG", "cooperative") != virtako.id


def test_registry_covers_the_mekong_crops():
    registry = shipped_registry()
    for crop in ("rice", "mango", "pomelo", "pink_mandarin", "lotus", "longan"):
        assert registry.for_crop(crop), crop


@pytest.mark.parametrize("ingredient", ["carbendazim", "chlorpyrifos ethyl", "fipronil",
                                        "glyphosate"])
def test_registry_has_banned_products_for_the_demo(ingredient):
    registry = shipped_registry()
    assert any(p.banned_ingredients(dt.date(2026, 1, 1))
               and any(b.ingredient == ingredient for _i, b in
                       p.banned_ingredients(dt.date(2026, 1, 1)))
               for p in registry.products)


def test_registry_lookup_and_search():
    registry = shipped_registry()
    assert registry.product("virtako 40 wg").name == "Virtako 40WG"
    product = registry.product("Regent 800WG")
    assert registry.product(product.id) is product
    with pytest.raises(NotFound) as caught:
        registry.product("Không có")
    assert "Không có" in caught.value.message
    assert any(p.name == "Regent 800WG" for p in registry.search("fipro"))
    assert any(p.name == "Virtako 40WG" for p in registry.search("virt"))
    reldan = registry.product("Reldan 40EC")
    assert reldan.banned_ingredients(dt.date(2026, 1, 1)) == []


def test_phi_for_crop_and_citrus_group():
    product = Product("x", "X", ("a",), {"citrus": 14, "rice": 7})
    assert product.phi_for("rice") == 7
    assert product.phi_for("pomelo") == 14
    assert product.phi_for("pink_mandarin") == 14
    assert product.phi_for("mango") is None
    assert len({product, Product("x", "X", ("a",), {"citrus": 14, "rice": 7})}) == 1


def test_cooperative_product():
    product = cooperative_product("Thuốc tự pha", ["Neem oil"], {"mango": 3})
    assert product.source == "cooperative"
    assert product.id == product_id("Thuốc tự pha", "cooperative")
    registry = shipped_registry().merged([product])
    assert registry.product("thuoc tu pha") == product
    assert len(registry.products) == len(shipped_registry().products) + 1
    with pytest.raises(ValidationError) as caught:
        cooperative_product(" ", [], {"banana": 3})
    assert set(caught.value.fields) == {"name", "active_ingredients", "phi_days"}
    with pytest.raises(ValidationError) as caught:
        cooperative_product("X", ["a"], {"rice": 400})
    assert "phi_days" in caught.value.fields


def test_province_update_replaces_products_and_bans():
    shipped = shipped_registry()
    update = {"version": "2027-01", "products": [
        {**shipped.product("Virtako 40WG").to_dict(), "phi_days": {"rice": 10}}],
        "bans": [*[b.to_dict() for b in SHIPPED_BANS],
                 {"ingredient": "imidacloprid", "effective_on": "2027-06-01",
                  "reference": "test"}]}
    province = PesticideRegistry.from_dict(update, source="province")
    merged = shipped.merged(province.products, province.bans)
    assert merged.product("Virtako 40WG").phi_for("rice") == 10
    assert len(merged.products) == len(shipped.products)
    assert bans_for("imidacloprid", merged.bans)[0].effective_on == dt.date(2027, 6, 1)
    round_trip = PesticideRegistry.from_dict(merged.to_dict())
    assert round_trip.product("Virtako 40WG").phi_days == {"rice": 10}
    assert round_trip.bans == merged.bans


def test_crop_names():
    assert crop_name("rice") == "Lúa"
    assert crop_name("pink_mandarin") == "Quýt hồng"
    assert crop_name("unknown") == "unknown"
    i18n.set_language("en")
    assert crop_name("pomelo") == "Pomelo"
    assert crop_code("Xoài") == "mango"
    assert crop_code("xoai") == "mango"
    assert crop_code("Pink mandarin") == "pink_mandarin"
    with pytest.raises(NotFound):
        crop_code("chuối")
    for code, (name_vi, name_en) in CROPS.items():
        assert code and name_vi and name_en
