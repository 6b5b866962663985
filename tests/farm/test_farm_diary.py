"""ws.farm: organisations, plots, seasons, diary entries, corrections and compliance on
recording (bans on the day of the application, the PHI boundary day)."""

from __future__ import annotations

import datetime as dt

import pytest

from dxkit.core.errors import NotFound, ValidationError
from dxkit.core.i18n import set_language
from dxkit.farm.pesticides import typed_ingredients
from tests.farm import farm_setup

# The shared fixtures (pytest finds them as names of this module).
farm, spray, harvest = farm_setup.farm, farm_setup.spray, farm_setup.harvest
D = dt.date


# -- organisations, plots, seasons -----------------------------------------------------------------
def test_org_plot_and_season_are_stored_and_found_without_diacritics(farm):
    f = farm.ws.farm
    assert f.orgs.get("htx nong nghiep my an") == farm.org
    assert farm.org.short_code == "NNMA"  # initials for lot codes, no I/L/O/U
    assert f.orgs.plot("ruong ong tam") == farm.rice
    assert farm.rice.crop == "rice" and farm.mango.crop == "mango"
    assert farm.rice.area_ha == 2.5 and farm.rice.growing_area_code == "DT-MA-LUA-01"
    assert f.orgs.season("dong xuan") == farm.season
    assert farm.season.starts_on == D(2026, 11, 15)
    assert [p.name for p in f.orgs.plots(farm.org)] == ["Ruộng bà Năm", "Ruộng ông Tám",
                                                        "Vườn xoài Cao Lãnh"]
    with pytest.raises(NotFound) as caught:
        f.orgs.plot("Ruộng không có")
    assert "Ruộng ông Tám" in caught.value.message


def test_org_validation_lists_every_bad_field(farm):
    with pytest.raises(ValidationError) as caught:
        farm.ws.farm.orgs.add("HTX Nông nghiệp Mỹ An", kind="club", short_code="X1",
                              gs1_company_prefix="12ab")
    assert set(caught.value.fields) == {"name", "kind", "short_code", "gs1_company_prefix"}
    assert "đã có" in caught.value.fields["name"].lower()


def test_update_org_and_plot(farm):
    f = farm.ws.farm
    org = f.orgs.update(farm.org, gs1_company_prefix="8934567", short_code="MA").value
    assert org.gs1_company_prefix == "8934567" and org.short_code == "MA"
    member = f.orgs.add_member(org, "Nguyễn Văn Tám", role="Xã viên").value
    plot = f.orgs.update_plot(farm.rice, area_ha="3", member="nguyen van tam").value
    assert plot.area_ha == 3.0 and plot.member_id == member.id
    assert plot.growing_area_code == "DT-MA-LUA-01"  # untouched
    with pytest.raises(ValidationError) as caught:
        f.orgs.update_plot(farm.rice, name="Ruộng bà Năm", crop="bắp")
    assert set(caught.value.fields) == {"name", "crop"}


def test_member_can_be_one_of_the_workspaces_people(farm):
    ws = farm.ws
    household = ws.households.add(code="MH-001", head_name="Lê Văn Sáu",
                                  hamlet="Ấp Mỹ Hưng").value
    person = ws.people.add(household.id, full_name="Lê Văn Sáu", birth_year=1970).value
    member = ws.farm.orgs.add_member(farm.org, person_id=person.id, role="Tổ trưởng").value
    assert member.name == "Lê Văn Sáu" and member.person_id == person.id
    with pytest.raises(ValidationError) as caught:
        ws.farm.orgs.add_member(farm.org, "")
    assert set(caught.value.fields) == {"name"}


def test_season_dates_are_checked(farm):
    with pytest.raises(ValidationError) as caught:
        farm.ws.farm.orgs.add_season(farm.org, "Hè Thu 2027", starts_on="01/05/2027",
                                     ends_on="01/04/2027")
    assert set(caught.value.fields) == {"ends_on"}


# -- recording -------------------------------------------------------------------------------------
def test_every_kind_records_with_units_converted(farm, spray, harvest):
    f, rice, season = farm.ws.farm, farm.rice, farm.season
    f.diary.record(rice, season, "land_preparation", D(2026, 11, 16), method="Cày, trục, san phẳng")
    f.diary.record(rice, season, "seed", D(2026, 11, 18), product="Lúa OM18 cấp xác nhận",
                   source="Trung tâm Giống Đồng Tháp", lot="OM18-2611-07", quantity="120 kg")
    f.diary.record(rice, season, "sowing", D(2026, 11, 20), method="Sạ hàng")
    fert = f.diary.record(rice, season, "fertiliser", D(2026, 12, 5), product="NPK 20-20-15",
                          dose="100 kg/ha", area="5 công").value
    assert fert.area_ha == pytest.approx(0.5)  # 1 công = 1.000 m² by default
    f.diary.record(rice, season, "irrigation", D(2026, 12, 6), method="Bơm nước vào ruộng", hours=3)
    f.diary.record(rice, season, "observation", D(2026, 12, 20), pest="Rầy nâu", severity="nhẹ")
    sprayed = spray(rice, D(2027, 2, 1)).value
    assert sprayed.product_name == "Virtako 40WG"
    assert sprayed.active_ingredients == ("chlorantraniliprole", "thiamethoxam")
    assert sprayed.details["dose"] == {"amount": "1.5", "unit": "l", "per": "ha"}
    assert sprayed.area_ha == 2.5  # the plot's area when none is given
    cut = harvest(rice, D(2027, 3, 1), "6,2 tấn").value
    assert (cut.quantity, cut.unit, cut.quantity_kg) == (6.2, "tan", 6200.0)
    kinds = [e.kind for e in f.diary.timeline(rice, season)]
    assert kinds == ["land_preparation", "seed", "sowing", "fertiliser", "irrigation",
                     "observation", "pesticide", "harvest"]


def test_the_cong_setting_changes_area_conversion(farm):
    farm.ws.settings.set("farm.cong_m2", 1296)
    entry = farm.ws.farm.diary.record(farm.rice, farm.season, "fertiliser", D(2026, 12, 5),
                                      product="Urê", dose="50 kg/ha", area="10 công").value
    assert entry.area_ha == pytest.approx(1.296)


def test_pesticide_needs_product_dose_and_who(farm):
    with pytest.raises(ValidationError) as caught:
        farm.ws.farm.diary.record(farm.rice, farm.season, "pesticide", D(2027, 2, 1))
    assert set(caught.value.fields) == {"product", "dose", "applied_by"}
    assert caught.value.fields["applied_by"] == "Ghi rõ ai đã phun."


def test_an_unregistered_product_needs_its_ingredients(farm):
    f = farm.ws.farm
    with pytest.raises(ValidationError) as caught:
        f.diary.record(farm.rice, farm.season, "pesticide", D(2027, 2, 1), product="Thuốc lạ",
                       dose="1 l/ha", applied_by="Tám")
    assert set(caught.value.fields) == {"product"}
    entry = f.diary.record(farm.rice, farm.season, "pesticide", D(2027, 2, 1), product="Thuốc lạ",
                           active_ingredients=["abamectin"], dose="1 l/ha", applied_by="Tám").value
    assert entry.product_id is None and entry.active_ingredients == ("abamectin",)


def test_harvest_needs_a_mass_and_no_future_date(farm):
    f = farm.ws.farm
    with pytest.raises(ValidationError) as caught:
        f.diary.record(farm.rice, farm.season, "harvest", D(2027, 4, 2), quantity="200 l")
    assert set(caught.value.fields) == {"on", "quantity"}
    with pytest.raises(ValidationError) as caught:
        f.diary.record(farm.rice, farm.season, "harvest", D(2027, 3, 1))
    assert set(caught.value.fields) == {"quantity"}


def test_validation_messages_follow_the_language(farm):
    set_language("en")
    with pytest.raises(ValidationError) as caught:
        farm.ws.farm.diary.record(farm.rice, farm.season, "harvest", "not a date", quantity="5 kg")
    assert caught.value.fields["on"] == "Give the date (dd/mm/yyyy)."


# -- corrections -----------------------------------------------------------------------------------
def test_amend_and_void_keep_the_history(farm, harvest):
    f = farm.ws.farm
    original = harvest(farm.rice, D(2027, 3, 1), "6 tấn").value
    amended = f.diary.amend(original.id, reason="Cân lại", quantity="6,4 tấn").value
    assert amended.corrects == original.id and amended.quantity_kg == 6400.0
    assert amended.on == original.on
    other = f.diary.record(farm.rice, farm.season, "irrigation", D(2027, 2, 2), method="Bơm").value
    voided = f.diary.void(other.id, reason="Ghi nhầm ruộng").value
    history = f.diary.timeline(farm.rice)
    by_id = {e.id: e for e in history}
    assert not by_id[original.id].effective and by_id[original.id].superseded_by == (
        amended.id,)
    assert by_id[amended.id].effective
    assert not by_id[other.id].effective and not by_id[voided.id].effective
    assert [e.id for e in f.diary.timeline(farm.rice, effective_only=True)] == [amended.id]
    with pytest.raises(ValidationError) as caught:
        f.diary.amend(original.id, reason="Lần nữa", quantity="7 tấn")
    assert set(caught.value.fields) == {"entry"}
    with pytest.raises(ValidationError) as caught:
        f.diary.void(amended.id, reason=" ")
    assert set(caught.value.fields) == {"reason"}


def test_amend_keeps_what_is_not_given(farm, spray):
    f = farm.ws.farm
    original = spray(farm.rice, D(2027, 2, 1), area="10 công").value
    amended = f.diary.amend(original.id, reason="Sai ngày", on="03/02/2027").value
    assert amended.on == D(2027, 2, 3)
    assert amended.product_id == original.product_id
    assert amended.details == original.details
    assert amended.area_ha == original.area_ha == pytest.approx(1.0)


# -- compliance when recording ---------------------------------------------------------------------
@pytest.mark.parametrize(("day", "compliant"), [(D(2021, 2, 11), True),
                                                (D(2021, 2, 12), False)])
def test_a_ban_counts_from_its_effective_day(farm, spray, day, compliant):
    """Fipronil (Regent 800WG) is banned from 12/02/2021: the day of the application counts."""
    result = spray(farm.rice, day, product="Regent 800WG")
    assert result.value.compliant is compliant
    assert result.compliant is compliant
    if compliant:
        assert result.findings == ()
    else:
        assert [f.code for f in result.findings] == ["banned_ingredient"]
        assert "fipronil" in result.findings[0].message
        assert "12/02/2021" in result.findings[0].message
        assert result.findings[0].entry_id == result.value.id
    assert farm.ws.farm.diary.entry(result.value.id).findings == result.findings  # stored


def test_a_salt_of_a_banned_ingredient_given_by_hand_is_banned(farm):
    result = farm.ws.farm.diary.record(farm.rice, farm.season, "pesticide", D(2026, 11, 17),
                                       active_ingredients=["Glyphosate IPA salt"], dose="2 l/ha",
                                       applied_by="Tám")
    assert not result.compliant


@pytest.mark.parametrize(("day", "compliant"), [(D(2027, 2, 7), False), (D(2027, 2, 8), True)])
def test_harvest_on_the_phi_boundary_day(farm, spray, harvest, day, compliant):
    """Virtako 40WG on rice: PHI 7 days; applied 01/02, harvest allowed from 08/02."""
    spray(farm.rice, D(2027, 2, 1))
    result = harvest(farm.rice, day)
    assert result.compliant is compliant
    if not compliant:
        (finding,) = result.findings
        assert finding.code == "phi_not_elapsed"
        assert finding.allowed_from == D(2027, 2, 8)
        assert "08/02/2027" in finding.message


def test_phi_looks_only_at_the_same_plot_and_effective_applications(farm, spray, harvest):
    f = farm.ws.farm
    sprayed = spray(farm.rice2, D(2027, 2, 1)).value  # the other plot
    assert harvest(farm.rice, D(2027, 2, 3)).compliant
    mine = spray(farm.rice, D(2027, 2, 1)).value
    f.diary.void(mine.id, reason="Không phun")
    assert harvest(farm.rice, D(2027, 2, 4)).compliant
    assert not harvest(farm.rice2, D(2027, 2, 4)).compliant
    assert sprayed.compliant


# -- the registry ----------------------------------------------------------------------------------
def test_products_search_crop_and_own_products(farm):
    f = farm.ws.farm
    assert "Virtako 40WG" in [p.name for p in f.registry.products(search="virtako")]
    assert "Virtako 40WG" in [p.name for p in f.registry.products(search="thiamethoxam")]
    assert all(p.phi_for("mango") is not None for p in f.registry.products(crop="mango"))
    own = f.registry.add_product("Chế phẩm Trichoderma HTX", ["Trichoderma spp."],
                                 {"rice": 0}).value
    assert own.source == "cooperative" and f.registry.product("che pham trichoderma htx") == own
    with pytest.raises(ValidationError):
        f.registry.add_product("Chế phẩm Trichoderma HTX", ["Trichoderma spp."])
    assert {b.ingredient for b in f.registry.bans()} >= {"fipronil", "glyphosate", "paraquat"}


def test_product_warnings_show_phi_and_bans_for_the_day(farm):
    f = farm.ws.farm
    warning = f.registry.product_warnings("Virtako 40WG", "rice", D(2027, 2, 1))
    assert warning.phi_days == 7 and warning.earliest_harvest == D(2027, 2, 8)
    assert not warning.blocked
    banned = f.registry.product_warnings("Regent 800WG", "rice", D(2027, 2, 1))
    assert banned.blocked and banned.banned == ("fipronil",)
    assert "12/02/2021" in banned.messages[0]
    before = f.registry.product_warnings("Regent 800WG", "rice", D(2021, 2, 11))
    assert not before.blocked
    unknown = f.registry.product_warnings("Virtako 40WG", "mango", D(2027, 2, 1))
    assert unknown.phi_days is None and unknown.messages


def test_an_org_is_found_by_its_short_code(farm):
    assert farm.ws.farm.orgs.get("nnma") == farm.org


# -- issue 10 §7: fertiliser and seed apart from pesticides; typed ingredients ---------------
def test_fertiliser_and_seed_are_never_checked_against_the_pesticide_registry(farm, harvest):
    """A fertiliser (even one named like a registered pesticide holding a banned ingredient)
    gets no registry product, no ingredients, no ban finding, and no PHI for a harvest."""
    f = farm.ws.farm
    fertiliser = f.diary.record(farm.rice, farm.season, "fertiliser", D(2027, 2, 25),
                                product="Regent 800WG", dose="100 kg/ha").value
    assert fertiliser.product_id is None and fertiliser.active_ingredients == ()
    assert fertiliser.compliant and fertiliser.findings == ()
    seed = f.diary.record(farm.rice, farm.season, "seed", D(2027, 2, 25),
                          product="Virtako 40WG", source="Tự để giống").value
    assert seed.product_id is None and seed.compliant and seed.findings == ()
    cut = harvest(farm.rice, D(2027, 2, 26))  # a day after: no pre-harvest interval applies
    assert cut.compliant and cut.findings == ()
    with pytest.raises(TypeError):  # a fertiliser takes no active ingredients
        f.diary.record(farm.rice, farm.season, "fertiliser", D(2027, 2, 25), product="Urê",
                       dose="50 kg/ha", active_ingredients=["fipronil"])


def test_each_kind_offers_its_own_product_names(farm):
    f = farm.ws.farm
    registry = {p.name for p in f.registry.products(include_inactive=True)}
    f.diary.record(farm.rice, farm.season, "fertiliser", D(2027, 1, 5),
                   product="Phân bón lá Đầu Trâu 009", dose="1 l/ha")
    f.diary.record(farm.rice, farm.season, "fertiliser", D(2027, 1, 6),
                   product="Virtako 40WG", dose="1 l/ha")  # a mistake: not offered again
    pesticides = f.diary.product_suggestions("pesticide")
    assert "Virtako 40WG" in pesticides and set(pesticides) <= registry
    fertilisers = f.diary.product_suggestions("fertiliser")
    assert fertilisers[0] == "Phân bón lá Đầu Trâu 009" and "Urê" in fertilisers
    assert not registry & set(fertilisers)
    seeds = f.diary.product_suggestions("seed")
    assert "OM18" in seeds and "Cát Hòa Lộc" in seeds and not registry & set(seeds)
    assert f.diary.product_suggestions("harvest") == []


def test_a_pesticide_outside_the_registry_is_checked_by_its_typed_ingredients(farm):
    """Typed as in the form's field: "+", ";", a new line or a comma separate, but not the
    comma of "2,4-D"; a banned one makes the entry non-compliant on the day it was sprayed."""
    assert typed_ingredients("Abamectin, Emamectin benzoate") == ["Abamectin",
                                                                  "Emamectin benzoate"]
    assert typed_ingredients("2,4-D + Fipronil 0,3%;Matrine") == ["2,4-D", "Fipronil 0,3%",
                                                                  "Matrine"]
    f = farm.ws.farm
    result = f.diary.record(farm.rice, farm.season, "pesticide", D(2027, 2, 1),
                            product="Thuốc trừ sâu chợ huyện",
                            active_ingredients=typed_ingredients("Abamectin, Fipronil"),
                            dose="1 l/ha", applied_by="Tám")
    assert result.value.product_id is None
    assert result.value.active_ingredients == ("Abamectin", "Fipronil")
    assert not result.compliant and "Fipronil" in result.findings[0].message
    typed = typed_ingredients("Abamectin, Fipronil\n2,4-D")
    warning = f.registry.ingredient_warnings("Thuốc trừ sâu chợ huyện", typed, "rice",
                                             D(2027, 2, 1))
    assert warning.blocked and warning.banned == ("Fipronil", "2,4-D")
    assert "12/02/2021" in warning.messages[0] and "cách ly" in warning.messages[-1]
    allowed = f.registry.ingredient_warnings("Thuốc X", ["Fipronil"], "rice", D(2021, 2, 11))
    assert not allowed.blocked  # the day before the ban
