"""The rules a table declares for every merge (dxkit.core.merge.Rules): an erasure is for good
whatever the clocks, and a required field is cleared without its condition; the result is the
same whichever side merges into which, and merging it again changes nothing."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import dxkit.workspace  # noqa: F401  (installs every domain's synced tables)
from dxkit.core.merge import Erasure, Requires, Rules, merge_mutable
from dxkit.core.synced import synced_table

RULES = Rules(erasure=Erasure("purged", (("name", ""), ("phone", ""), ("cccd", ""),
                                         ("consent", 0), ("purged", 1), ("deleted", 1))),
              requires=(Requires("cccd", "consent", ""),))
FIELDS = ("name", "phone", "cccd", "consent", "notes", "purged", "deleted")
VALUES: dict[str, tuple[Any, ...]] = {
    "name": ("", "Quách Thị Mỹ Xuyến", "Trần Thị Lan"), "phone": ("", "0398765432", "0912345678"),
    "cccd": ("", "087180573924", "087180111111"), "consent": (0, 1),
    "notes": ("", "Có wifi"), "purged": (0, 1), "deleted": (0, 1)}


def clock(ms: int, device: str = "aaaa") -> str:
    return f"{ms:012x}-0000-{device}"


def side(device: str, **fields: tuple[Any, int]) -> tuple[dict[str, Any], dict[str, str]]:
    """A row: every field "" or 0 at clock 1 unless given as (value, ms)."""
    values = {name: 0 if name in ("consent", "purged", "deleted") else "" for name in FIELDS}
    clocks = dict.fromkeys(FIELDS, clock(1, "base"))
    for name, (value, ms) in fields.items():
        values[name], clocks[name] = value, clock(ms, device)
    return values, clocks


def test_an_erasure_wins_over_a_later_edit_of_the_phone_on_either_side():
    erased = side("aaaa", name=("", 5), phone=("", 5), purged=(1, 5), deleted=(1, 5))
    edited = side("bbbb", name=("Quách Thị Mỹ Xuyến", 2), phone=("0398765432", 9))
    for stored, incoming in ((erased, edited), (edited, erased)):
        merged = merge_mutable(*stored, *incoming, rules=RULES)
        assert merged.erased
        assert (merged.fields["phone"], merged.fields["name"]) == ("", "")
        assert (merged.fields["purged"], merged.fields["deleted"]) == (1, 1)
        assert merged.clocks["phone"] == clock(9, "bbbb")  # clocks merge as ever
        assert "phone" in merged.ruled and "phone" not in merged.kept


def test_an_edit_that_sets_the_flag_back_cannot_bring_the_row_back():
    erased = side("aaaa", phone=("", 5), purged=(1, 5), deleted=(1, 5))
    revived = side("bbbb", phone=("0398765432", 9), purged=(0, 9), deleted=(0, 9))
    merged = merge_mutable(*erased, *revived, rules=RULES)
    assert (merged.fields["purged"], merged.fields["deleted"], merged.fields["phone"]) == (
        1, 1, "")
    assert merged.changed and "phone" in merged.written  # the newer clocks are stored


def test_a_rule_that_changes_a_kept_value_writes_it():
    stored = side("aaaa", phone=("0398765432", 9))  # newer than the erasure below
    erased = side("bbbb", phone=("", 5), purged=(1, 5), deleted=(1, 5))
    merged = merge_mutable(*stored, *erased, rules=RULES)
    assert "phone" not in merged.taken and "phone" in merged.enforced
    assert merged.fields["phone"] == "" and merged.clocks["phone"] == clock(9, "aaaa")


def test_no_citizen_id_without_consent_after_a_merge():
    withdrawn = side("aaaa", consent=(0, 5), cccd=("", 5))
    corrected = side("bbbb", consent=(1, 1), cccd=("087180573924", 9))
    for stored, incoming in ((withdrawn, corrected), (corrected, withdrawn)):
        merged = merge_mutable(*stored, *incoming, rules=RULES)
        assert (merged.fields["consent"], merged.fields["cccd"]) == (0, "")
        assert "cccd" in merged.ruled


def test_a_cleared_value_wins_a_tie_with_the_value_it_cleared():
    cleared = side("aaaa", consent=(1, 9), cccd=("", 7))
    kept = side("aaaa", consent=(1, 9), cccd=("087180573924", 7))
    assert merge_mutable(*cleared, *kept, rules=RULES).fields["cccd"] == ""
    assert merge_mutable(*kept, *cleared, rules=RULES).fields["cccd"] == ""


def test_the_people_table_declares_its_rules():
    rules = synced_table("people").rules
    assert rules.erasure is not None and rules.erasure.flag == "purged"
    cleared = rules.erasure.values()
    assert {"full_name", "name_key", "phone", "cccd", "notes", "deleted"} <= set(cleared)
    assert [(r.field, r.condition) for r in rules.requires] == [("cccd", "consent")]


# -- properties -----------------------------------------------------------------------------------
@st.composite
def rows(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, str]]:
    """A row as a replica may hold it: any values and clocks, with the rules holding."""
    values = {name: draw(st.sampled_from(VALUES[name])) for name in FIELDS}
    clocks = {name: clock(draw(st.integers(1, 4)), draw(st.sampled_from(("aaaa", "bbbb"))))
              for name in FIELDS}
    return RULES.enforce(values), clocks


def merged(one: tuple[dict[str, Any], dict[str, str]],
           other: tuple[dict[str, Any], dict[str, str]]) -> tuple[dict[str, Any], dict[str, str]]:
    result = merge_mutable(*one, *other, rules=RULES)
    return result.fields, result.clocks


@settings(max_examples=200, deadline=None)
@given(one=rows(), other=rows())
def test_merging_is_symmetric_idempotent_and_keeps_the_rules(one, other):
    both = merged(one, other)
    assert both == merged(other, one)  # fields and clocks: either side may merge first
    assert merged(both, both) == both
    assert merged(both, one) == both and merged(both, other) == both  # nothing comes back
    fields = both[0]
    if one[0]["purged"] or other[0]["purged"]:
        assert (fields["purged"], fields["deleted"], fields["name"], fields["phone"],
                fields["cccd"]) == (1, 1, "", "", "")
    if not fields["consent"]:
        assert fields["cccd"] == ""
