"""Administrative units after the 2025 reform."""

from __future__ import annotations

import pytest

from dxkit.core.errors import WorkspaceError
from dxkit.core.places import DATA_VERSION, communes, find_commune, find_province, provinces


def dong_thap():
    province = find_province("Đồng Tháp")
    assert province is not None
    return province


def test_34_provinces():
    units = provinces()
    assert len(units) == 34
    assert len({u.code for u in units}) == 34


def test_dong_thap_has_102_communes_and_wards():
    units = communes(dong_thap().code)
    assert len(units) == 102
    assert {u.kind for u in units} <= {"xã", "phường", "đặc khu"}


def test_my_tho_and_my_tho_with_dot_are_different():
    code = dong_thap().code
    ward = find_commune(code, "Mỹ Tho")
    commune = find_commune(code, "Mỹ Thọ")
    assert ward is not None and ward.name == "Phường Mỹ Tho"
    assert commune is not None and commune.name == "Xã Mỹ Thọ"
    assert find_commune(code, "Phường Mỹ Tho") == ward
    assert find_commune(code, "xã mỹ thọ") == commune
    assert find_commune(code, "my tho") is None  # folded, it is ambiguous


@pytest.mark.parametrize(("typed", "name"), [
    ("sa dec", "Phường Sa Đéc"), ("Sa Đéc", "Phường Sa Đéc"), ("cao lanh", "Phường Cao Lãnh"),
    ("lai vung", "Xã Lai Vung"), ("PHUONG SA DEC", "Phường Sa Đéc"),
])
def test_folded_lookup_when_unambiguous(typed, name):
    found = find_commune(dong_thap().code, typed)
    assert found is not None and found.name == name


@pytest.mark.parametrize(("typed", "name"), [
    ("dong thap", "Đồng Tháp"), ("82", "Đồng Tháp"), (82, "Đồng Tháp"),
    ("Hà Nội", "Thành phố Hà Nội"), ("ha noi", "Thành phố Hà Nội"),
    ("Thành phố Hồ Chí Minh", "Thành phố Hồ Chí Minh"), ("ho chi minh", "Thành phố Hồ Chí Minh"),
    ("Tỉnh An Giang", "An Giang"), ("can tho", "Thành phố Cần Thơ"),
])
def test_find_province(typed, name):
    found = find_province(typed)
    assert found is not None and found.name == name


@pytest.mark.parametrize("typed", ["Tiền Giang", "Atlantis", "999", ""])
def test_unknown_or_merged_province(typed):
    assert find_province(typed) is None


def test_commune_by_code():
    ward = find_commune(dong_thap().code, "Mỹ Tho")
    assert find_commune(dong_thap().code, ward.code) == ward
    assert find_commune(dong_thap().code, str(ward.code)) == ward


def test_data_version_names_the_package():
    assert DATA_VERSION.startswith("vietnam-provinces ")


def test_configure_team(fresh_ws):
    _province, commune = fresh_ws.configure_team("dong thap", "Mỹ Tho")
    assert fresh_ws.team_place() == ("Đồng Tháp", "Phường Mỹ Tho")
    assert fresh_ws.meta()["commune_code"] == str(commune.code)
    assert fresh_ws.meta()["admin_data"] == DATA_VERSION
    with pytest.raises(WorkspaceError):
        fresh_ws.configure_team("Atlantis", "x")
    with pytest.raises(WorkspaceError) as caught:
        fresh_ws.configure_team("Đồng Tháp", "my tho")
    assert "Đồng Tháp" in caught.value.message
