"""Administrative units after the 2025 reform (province -> commune/ward), from the pinned
`vietnam-provinces` package. Hamlets are in no national list: they are the teams' own
reference data (households/catalog.py), registered on the hub per commune; `hamlet_id`
gives a hamlet typed anywhere the same id."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cache

import vietnam_provinces

from dxkit.core.text import fold, folded_key, nfc

DATA_VERSION = (f"vietnam-provinces {vietnam_provinces.__version__} "
                f"({vietnam_provinces.__data_version__})")


@dataclass(frozen=True)
class AdminUnit:
    code: int
    name: str
    kind: str  # tỉnh, thành phố trung ương, xã, phường, đặc khu


@cache
def provinces() -> tuple[AdminUnit, ...]:
    units = (
        AdminUnit(int(p.code.value), p.name, p.division_type.value)
        for p in vietnam_provinces.Province.iter_all()
    )
    return tuple(sorted(units, key=lambda u: fold(u.name)))


@cache
def communes(province_code: int) -> tuple[AdminUnit, ...]:
    code = vietnam_provinces.ProvinceCode(province_code)
    units = (
        AdminUnit(int(w.code.value), w.name, w.division_type.value)
        for w in vietnam_provinces.Ward.iter_by_province(code)
    )
    return tuple(sorted(units, key=lambda u: fold(u.name)))


def _bare(unit: AdminUnit) -> str:
    """The name without its kind: 'Phường Mỹ Tho' -> 'Mỹ Tho', 'Thành phố Hà Nội' -> 'Hà Nội'.

    Centrally governed cities have the kind 'thành phố trung ương' but are named 'Thành phố …'.
    """
    for prefix in (unit.kind + " ", "thành phố ", "tỉnh "):
        if unit.name.lower().startswith(prefix):
            return unit.name[len(prefix):]
    return unit.name


_KINDS = ("thành phố", "tỉnh", "phường", "xã", "đặc khu")


def _strip_kind(text: str) -> str:
    """What a user typed without its kind word: 'Tỉnh An Giang' -> 'An Giang'."""
    for kind in _KINDS:
        if fold(text).startswith(fold(kind) + " "):
            return text[len(kind) + 1:]
    return text


def _find(units: tuple[AdminUnit, ...], name_or_code: str | int) -> AdminUnit | None:
    text = nfc(str(name_or_code))
    if text.isdigit():
        return next((u for u in units if u.code == int(text)), None)
    # With diacritics first ("Mỹ Tho" is not "Mỹ Thọ"), then folded if that is unambiguous.
    for key in (str.lower, fold):
        wanted = {key(text), key(_strip_kind(text))}
        matches = [u for u in units if wanted & {key(u.name), key(_bare(u))}]
        if len(matches) == 1:
            return matches[0]
    return None


def find_province(name_or_code: str | int) -> AdminUnit | None:
    return _find(provinces(), name_or_code)


def find_commune(province_code: int, name_or_code: str | int) -> AdminUnit | None:
    return _find(communes(province_code), name_or_code)


# Hamlet ids: uuid5 of "<commune code>:<folded name>" in this namespace. Two laptops (or the
# hub) that type the same hamlet of the same commune offline make the same row, which then
# merges per field instead of standing beside its twin.
HAMLET_NAMESPACE = uuid.UUID("3b0f6a52-8c1e-5d47-9a3e-2f6c1d8e4b70")


def hamlet_id(commune_code: int | str, name: str) -> str:
    """The id every laptop and the hub give hamlet `name` of commune `commune_code`; the
    name counts without case, diacritics or punctuation ("Ấp Mỹ Đông" = "ap my dong")."""
    return hamlet_id_of_key(commune_code, folded_key(name))


def hamlet_id_of_key(commune_code: int | str, name_key: str) -> str:
    """`hamlet_id` for a name already folded (a hamlet row's `name_key`)."""
    return str(uuid.uuid5(HAMLET_NAMESPACE, f"{int(commune_code)}:{name_key}"))
