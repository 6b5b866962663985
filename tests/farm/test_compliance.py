"""Compliance rules: bans on the application date, PHI boundaries, lot findings."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dxkit.core import i18n
from dxkit.farm.compliance import (
    BANNED,
    PHI_NOT_ELAPSED,
    PHI_UNKNOWN,
    Application,
    Finding,
    bans_in_force,
    check_application,
    check_harvest,
    check_recorded,
    earliest_harvest,
    is_compliant,
    lot_findings,
    reasons,
)
from dxkit.farm.pesticides import SHIPPED_BANS, Ban, Product, shipped_registry

DAY = dt.timedelta(days=1)
VIRTAKO = Product("p-virtako", "Virtako 40WG", ("chlorantraniliprole", "thiamethoxam"),
                  {"rice": 7})
REGENT = Product("p-regent", "Regent 800WG", ("fipronil",), {"rice": 7})
NO_PHI = Product("p-bolis", "Bolis 6GB", ("metaldehyde",), {})


@pytest.mark.parametrize("ban", SHIPPED_BANS, ids=lambda ban: ban.ingredient)
def test_every_shipped_ban_takes_effect_on_its_date(ban: Ban):
    day_before = ban.effective_on - DAY
    assert bans_in_force([ban.ingredient], day_before) == []
    assert check_application([ban.ingredient], day_before) == []
    assert bans_in_force([ban.ingredient], ban.effective_on) == [ban]
    findings = check_application([ban.ingredient], ban.effective_on, entry_id="e1")
    assert [(f.code, f.severity, f.entry_id) for f in findings] == [(BANNED, "violation", "e1")]
    assert i18n.format_date(ban.effective_on) in findings[0].message
    assert not is_compliant(findings)


def test_ban_is_judged_on_the_application_date_not_today():
    # Glyphosate was legal until 2020-06-09; a diary from then stays compliant today.
    assert check_application(["Glyphosate IPA salt"], dt.date(2020, 6, 9)) == []
    assert len(check_application(["Glyphosate IPA salt"], dt.date(2020, 6, 10))) == 1


def test_chlorpyrifos_methyl_is_not_chlorpyrifos_ethyl():
    assert check_application(["chlorpyrifos methyl"], dt.date(2026, 1, 1)) == []
    assert len(check_application(["Chlorpyrifos Ethyl"], dt.date(2026, 1, 1))) == 1


def test_mixtures_written_as_one_string_are_split():
    findings = check_application(["Abamectin 18 g/l + Chlorpyrifos 200 g/l"], dt.date(2026, 1, 1))
    assert len(findings) == 1
    assert findings[0].message.startswith("Chlorpyrifos 200 g/l bị cấm")


def test_ban_message_names_product_ingredient_dates_and_reference():
    findings = check_application(["fipronil"], dt.date(2026, 3, 5), product="Regent 800WG")
    assert findings[0].message == (
        "Regent 800WG chứa fipronil, hoạt chất bị cấm sử dụng tại Việt Nam từ ngày 12/02/2021 "
        "(Thông tư 10/2019/TT-BNNPTNT, Phụ lục II và các quyết định loại bỏ sau đó); thuốc đã "
        "được phun ngày 05/03/2026.")
    i18n.set_language("en")
    message = check_application(["fipronil"], dt.date(2026, 3, 5))[0].message
    assert message.startswith("fipronil has been banned in Vietnam since Feb 12, 2021")
    assert message.endswith("it was applied on Mar 5, 2026.")


def test_custom_ban_list_from_the_province():
    bans = [Ban("imidacloprid", dt.date(2027, 1, 1), "QĐ test")]
    assert check_application(["imidacloprid"], dt.date(2026, 12, 31), bans) == []
    assert check_application(["fipronil"], dt.date(2027, 1, 1), bans) == []
    assert len(check_application(["imidacloprid"], dt.date(2027, 1, 1), bans)) == 1


def test_check_recorded_uses_product_ingredients_or_given_ones():
    applied = Application("e1", dt.date(2026, 3, 1), REGENT, crop="rice")
    assert [f.code for f in check_recorded(applied)] == [BANNED]
    without_product = Application("e2", dt.date(2026, 3, 1), None, ("carbendazim",),
                                  product_name="Thuốc lạ")
    findings = check_recorded(without_product)
    assert findings[0].message.startswith("Thuốc lạ chứa carbendazim")
    assert check_recorded(Application("e3", dt.date(2026, 3, 1), VIRTAKO)) == []


def test_phi_boundary_day_is_allowed():
    applied_on = dt.date(2026, 10, 1)
    applications = [Application("e1", applied_on, VIRTAKO, crop="rice")]
    assert check_harvest(applied_on + 7 * DAY, "rice", applications) == []
    findings = check_harvest(applied_on + 6 * DAY, "rice", applications)
    assert [(f.code, f.severity, f.allowed_from, f.entry_id) for f in findings] == \
        [(PHI_NOT_ELAPSED, "violation", dt.date(2026, 10, 8), "e1")]
    assert findings[0].message == (
        "Thu hoạch ngày 07/10/2026 nhưng Virtako 40WG được phun ngày 01/10/2026 với thời gian "
        "cách ly 7 ngày trên Lúa: chỉ được thu hoạch từ ngày 08/10/2026.")


def test_phi_message_in_english():
    i18n.set_language("en")
    applications = [Application("e1", dt.date(2026, 10, 1), VIRTAKO)]
    message = check_harvest(dt.date(2026, 10, 2), "rice", applications)[0].message
    assert message == ("Harvested on Oct 2, 2026 but Virtako 40WG was applied on Oct 1, 2026 "
                       "with a 7-day pre-harvest interval for Rice: harvest allowed from "
                       "Oct 8, 2026.")


def test_phi_zero_allows_same_day_harvest():
    product = Product("p0", "Zero", ("x",), {"rice": 0})
    assert check_harvest(dt.date(2026, 1, 1), "rice",
                         [Application(None, dt.date(2026, 1, 1), product)]) == []


def test_unknown_phi_is_a_warning_not_a_violation():
    findings = check_harvest(dt.date(2026, 10, 2), "rice",
                             [Application("e1", dt.date(2026, 10, 1), NO_PHI)])
    assert [(f.code, f.severity) for f in findings] == [(PHI_UNKNOWN, "warning")]
    assert "Bolis 6GB" in findings[0].message and "Lúa" in findings[0].message
    assert is_compliant(findings)
    unregistered = Application("e2", dt.date(2026, 10, 1), None, ("neem",), product_name="Neem")
    assert [f.code for f in check_harvest(dt.date(2026, 10, 9), "mango", [unregistered])] == \
        [PHI_UNKNOWN]


def test_applications_after_the_harvest_do_not_count():
    later = Application("e1", dt.date(2026, 10, 5), VIRTAKO)
    assert check_harvest(dt.date(2026, 10, 4), "rice", [later]) == []


def test_citrus_phi_applies_to_pomelo_and_custom_lookup():
    product = Product("p", "Citrus product", ("x",), {"citrus": 14})
    applications = [Application("e1", dt.date(2026, 5, 1), product)]
    findings = check_harvest(dt.date(2026, 5, 14), "pomelo", applications)
    assert findings[0].allowed_from == dt.date(2026, 5, 15)
    assert check_harvest(dt.date(2026, 5, 14), "pomelo", applications,
                         phi=lambda application, crop: 10) == []


def test_every_violating_application_is_reported():
    applications = [Application("e1", dt.date(2026, 10, 1), VIRTAKO),
                    Application("e2", dt.date(2026, 10, 5), VIRTAKO)]
    findings = check_harvest(dt.date(2026, 10, 9), "rice", applications)
    assert [(f.entry_id, f.allowed_from) for f in findings] == [("e2", dt.date(2026, 10, 12))]
    findings = check_harvest(dt.date(2026, 10, 6), "rice", applications)
    assert [f.entry_id for f in findings] == ["e1", "e2"]
    assert earliest_harvest("rice", applications) == dt.date(2026, 10, 12)
    assert earliest_harvest("rice", []) is None


def test_lot_findings_combines_bans_and_phi():
    applications = [Application("e1", dt.date(2026, 9, 1), REGENT),
                    Application("e2", dt.date(2026, 10, 1), VIRTAKO),
                    Application("e3", dt.date(2026, 10, 2), NO_PHI),
                    Application("e4", dt.date(2026, 12, 1), REGENT)]  # after the last harvest
    findings = lot_findings("rice", [dt.date(2026, 10, 5), dt.date(2026, 10, 8)], applications)
    codes = [(f.code, f.entry_id) for f in findings]
    assert (BANNED, "e1") in codes
    assert (BANNED, "e4") not in codes
    assert (PHI_NOT_ELAPSED, "e2") in codes          # harvest on 10/5 < 10/8
    assert codes.count((PHI_UNKNOWN, "e3")) == 1     # the same warning once, not per harvest
    assert [f.severity for f in findings] == sorted(
        (f.severity for f in findings), key=lambda s: s != "violation")
    assert not is_compliant(findings)
    assert all("Regent" in r or "Virtako" in r for r in reasons(findings))


def test_clean_lot_is_compliant():
    applications = [Application("e1", dt.date(2026, 10, 1), VIRTAKO)]
    findings = lot_findings("rice", [dt.date(2026, 10, 8)], applications)
    assert findings == [] and is_compliant(findings) and reasons(findings) == ()
    assert lot_findings("rice", [], applications) == []


def test_demo_products_from_the_shipped_registry():
    registry = shipped_registry()
    lorsban = registry.product("Lorsban 40EC")
    applied = Application("e1", dt.date(2021, 2, 11), lorsban)
    assert check_recorded(applied, registry.bans) == []
    applied = Application("e1", dt.date(2021, 2, 12), lorsban)
    assert [f.code for f in check_recorded(applied, registry.bans)] == [BANNED]


def test_finding_is_violation():
    assert Finding(BANNED, "violation", "m").is_violation
    assert not Finding(PHI_UNKNOWN, "warning", "m").is_violation


@given(applied_on=st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2030, 12, 31)),
       phi=st.integers(min_value=0, max_value=120), offset=st.integers(min_value=0, max_value=150))
def test_phi_rule_holds_for_any_dates(applied_on, phi, offset):
    product = Product("p", "P", ("abamectin",), {"mango": phi})
    harvest_on = applied_on + offset * DAY
    findings = check_harvest(harvest_on, "mango", [Application("e", applied_on, product)])
    assert bool(findings) == (offset < phi)
    if findings:
        assert findings[0].allowed_from == applied_on + phi * DAY
