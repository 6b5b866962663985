"""Declared field types (dxkit.core.fields): every synced field has one, each type takes the
values a laptop writes and refuses everything else with its reason (every field against every
kind of bad value: tests/sync/test_field_types.py, through the hub's check), and `Tx` refuses
to write a value its field does not take."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dxkit.core import fields as f
from dxkit.core.errors import ValidationError
from dxkit.core.i18n import set_language
from dxkit.core.sync_review import reason_text
from dxkit.core.synced import REGISTRY, SyncedTable, field_problem, register
from dxkit.households.visits import VisitItem
from dxkit.workspace import DOMAINS, Workspace
from tests.support import field_values

TYPED_FIELDS = [(table.name, name, kind) for table in REGISTRY.values()
                for name, kind in table.wire_types.items()]


def test_every_field_of_every_synced_table_declares_its_type():
    declared = [table for domain in DOMAINS for table in domain.tables]
    assert declared, "the domains declare synced tables"
    for table in declared:
        assert set(table.types) == set(table.fields), table.name
        assert all(isinstance(kind, f.FieldType) for kind in table.types.values())
    assert {table.name for table in declared} == set(REGISTRY)


def test_a_table_with_a_field_without_a_type_is_refused():
    untyped = SyncedTable("toy_notes", "mutable", ("title", "body"),
                          types={"title": f.text(100)})
    with pytest.raises(ValueError, match="body"):
        register(untyped)
    stray = SyncedTable("toy_notes", "mutable", ("title",),
                        types={"title": f.text(100), "tilte": f.text(100)})
    with pytest.raises(ValueError, match="tilte"):
        register(stray)
    assert "toy_notes" not in REGISTRY


@pytest.mark.parametrize(("table", "name", "kind"), TYPED_FIELDS,
                         ids=[f"{t}.{n}" for t, n, _k in TYPED_FIELDS])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_every_field_takes_the_values_of_its_type(table, name, kind, data):
    value = data.draw(field_values.valid(kind))
    assert kind.check(value) is None, (table, name, value)


def test_text_is_refused_when_neither_database_can_store_it():
    notes = f.text(50)
    assert notes.check("Nguyễn Văn An\nđi vắng") is None
    assert notes.check("Nguy\ud800n") == f.BAD_TEXT  # a UTF-16 half: not UTF-8
    assert notes.check("An\x00") == f.BAD_TEXT  # PostgreSQL refuses NUL in TEXT
    assert notes.check("x" * 51) == f.TOO_LONG
    assert f.text(5, r"[A-Z]{2,5}").check("tmx") == f.BAD_FORMAT


def test_numbers_are_bounded_finite_and_never_booleans():
    age = f.integer(0, 120)
    assert age.check(2**63) == f.OUT_OF_RANGE and age.check(-(2**70)) == f.OUT_OF_RANGE
    assert age.check(True) == f.WRONG_TYPE and age.check(1.0) == f.WRONG_TYPE
    assert f.integer().check(2**63 - 1) is None and f.integer().check(2**63) == f.OUT_OF_RANGE
    share = f.real(0, 1, nullable=True)
    assert share.check(None) is None and share.check(1) is None and share.check(0.5) is None
    assert share.check(math.inf) == f.NOT_FINITE and share.check(math.nan) == f.NOT_FINITE
    assert share.check(1.0000001) == f.OUT_OF_RANGE and share.check(False) == f.WRONG_TYPE
    assert f.boolean().check(1) is None and f.boolean().check(2) == f.OUT_OF_RANGE
    with pytest.raises(ValueError):
        f.integer(0, 2**63)  # a range SQLite's INTEGER cannot hold
    with pytest.raises(ValueError):
        f.real(0, math.inf)


def test_json_text_must_hold_its_shape_whatever_its_depth():
    members = f.json_list(10_000)
    assert members.check('["a", "b"]') is None
    assert members.check('{"a": 1}') == f.BAD_FORMAT and members.check("[1,") == f.BAD_FORMAT
    # Nested deeper than Python's recursion limit: refused, never raised.
    deep = '{"a":' * 60_000 + "1" + "}" * 60_000
    assert f.json_object(500_000).check(deep) == f.BAD_FORMAT


def test_a_record_names_its_first_field_that_does_not_fit():
    spec = REGISTRY["people"]
    record = {name: field_values.example(kind) for name, kind in spec.wire_types.items()}
    assert field_problem(spec, record) is None
    record.update(sex="X", birth_year=2**64)
    problem = field_problem(spec, record)
    assert problem is not None and (problem.field, problem.reason) == ("sex", "unknown_value")
    assert problem.code == "unknown_value:sex"


def test_a_write_outside_the_declared_types_is_refused_and_leaves_nothing(tmp_path):
    ws = Workspace.open(tmp_path / "w")
    hamlet = ws.catalog.add_hamlet("Ấp Mỹ Hưng").value
    with pytest.raises(ValidationError) as refused, ws.transaction() as tx:
        tx.insert("households", {"code": "MH-1", "code_key": "mh 1", "head_name": "An",
                                 "head_key": "an", "hamlet_id": hamlet.id,
                                 "latitude": math.inf, "notes": "x" * 2001})
    assert set(refused.value.fields) == {"latitude", "notes"}
    assert "2000" in refused.value.fields["notes"]
    assert ws.conn.execute("SELECT count(*) FROM households").fetchone()[0] == 0
    with pytest.raises(ValidationError), ws.transaction() as tx:
        tx.update("hamlets", hamlet.id, {"sort_order": 2**64})
    with pytest.raises(ValidationError), ws.transaction() as tx:
        tx.append("visits", {"household_id": "h-1", "kind": "visit", "corrects": None,
                             "visited_at": "yesterday", "member_ids": "[]"})
    assert ws.conn.execute("SELECT count(*) FROM outbox WHERE table_name != 'hamlets'"
                           ).fetchone()[0] == 0
    ws.close()


def test_forms_keep_what_people_type_inside_the_declared_types(tmp_path):
    """The sentence comes from the form's own check, beside the field the person typed in."""
    ws = Workspace.open(tmp_path / "w")
    ws.catalog.add_hamlet("Ấp Mỹ Hưng")
    member = ws.catalog.add_member("Lê Thị Hoa").value
    household = ws.households.add(code="MH-1", head_name="An", hamlet="Ấp Mỹ Hưng").value
    org = ws.farm.orgs.add("HTX Mỹ Đông").value
    plot = ws.farm.orgs.add_plot(org, "Ruộng 1", crop="rice", area_ha=1).value
    season = ws.farm.orgs.add_season(org, "Đông Xuân", starts_on=ws.today()).value
    long = "x" * 2001
    for call, field in (
            (lambda: ws.catalog.add_hamlet("Ấp " + "x" * 300), "name"),
            (lambda: ws.catalog.add_member("Lan", "12ab"), "phone"),
            (lambda: ws.catalog.add_indicator("own_one", "x" * 501, "y"), "name_vi"),
            (lambda: ws.visits.add(household.id, [VisitItem("vneid_install", "done")],
                                   member_ids=[member.id], notes=long), "notes"),
            (lambda: ws.farm.diary.record(plot, season, "observation", ws.today(),
                                          pest=long), "pest")):
        with pytest.raises(ValidationError) as refused:
            call()
        assert field in refused.value.fields, field
    assert ws.conn.execute("SELECT count(*) FROM visits").fetchone()[0] == 0
    ws.close()


def test_a_held_back_records_reason_reads_as_a_sentence_in_the_current_language():
    english = "Notes: This is too long: at most 2000 characters."
    try:
        set_language("en")
        assert reason_text(DOMAINS, "households", "too_long:notes") == english
        assert reason_text(DOMAINS, "people", "unknown_value:sex") == (
            "Sex: This must be one of: M, F.")
        set_language("vi")
        assert reason_text(DOMAINS, "households", "too_long:notes") == (
            "Ghi chú: Nội dung quá dài: tối đa 2000 ký tự.")
    finally:
        set_language("vi")
    for other in ("conflict", "out_of_scope", "ValueError: households record x has fields",
                  "too_long:no_such_field", "no_such_code:notes"):
        assert reason_text(DOMAINS, "households", other) == other
