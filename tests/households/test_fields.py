"""The household and person fields are declared once (households/fields.py) and every reader
of that declaration agrees with the stored tables and the operations."""

from __future__ import annotations

import pytest

from dxkit.core.synced import synced_table
from dxkit.households import fields, importing, roster
from dxkit.households.domain import DOMAIN, REVIEW
from dxkit.households.spreadsheets import COLUMN_BY_KEY, COLUMNS

CASES = [("households", fields.HOUSEHOLD_EDITABLE, roster.HOUSEHOLD_INPUTS),
         ("people", fields.PERSON_EDITABLE, roster.PERSON_INPUTS)]


@pytest.mark.parametrize(("table", "declared", "inputs"), CASES)
def test_every_synced_field_a_person_sees_is_declared(table, declared, inputs):
    """A synced field is either declared (so it has a label, a keyword and a review entry)
    or a derived companion the review screen hides."""
    internal = {"household_id", "deleted"}
    synced = set(synced_table(table).fields) - internal - DOMAIN.hidden_fields
    assert set(REVIEW[table].labels) == synced
    assert set(REVIEW[table].editable) == synced
    stored = {column for f in declared for column in f.stored}
    assert stored <= set(synced_table(table).fields)


@pytest.mark.parametrize(("table", "declared", "inputs"), CASES)
def test_the_review_screen_edits_with_keywords_the_operations_take(table, declared, inputs):
    for synced_field, keyword in REVIEW[table].editable.items():
        assert keyword in inputs
        assert synced_field in inputs[keyword], (keyword, synced_field)


def test_a_field_in_parts_is_edited_part_by_part():
    editable = REVIEW["people"].editable
    assert (editable["birth_date"], editable["birth_year"]) == ("birth_date", "birth_year")
    assert REVIEW["households"].editable["hamlet_id"] == "hamlet"


def test_every_spreadsheet_column_belongs_to_one_declared_field():
    declared = [f.column for f in (*fields.HOUSEHOLD_EDITABLE, *fields.PERSON_EDITABLE)
                if f.column is not None]
    assert list(COLUMNS) == declared
    assert len(COLUMN_BY_KEY) == len(COLUMNS)
    for f in fields.HOUSEHOLD_EDITABLE:
        if f.column is not None:
            assert f.column.entity == "household"
            assert f.keyword in roster.HOUSEHOLD_INPUTS
    for f in fields.PERSON_EDITABLE:
        if f.column is not None:
            assert f.column.entity == "person"
            assert f.keyword in roster.PERSON_INPUTS


def test_import_reports_each_field_error_on_its_own_column():
    assert importing._HOUSEHOLD_FIELD_COLUMN["phone"] == "household_phone"
    assert importing._PERSON_FIELD_COLUMN["birth"] == "birth"
    assert importing._PERSON_FIELD_COLUMN["relationship"] == "relationship"
    assert importing._PERSON_INPUT["birth"] == "birth_date"


def test_updating_one_coordinate_writes_the_pair_and_consent_writes_its_record():
    assert roster.HOUSEHOLD_INPUTS["latitude"] == ("latitude", "longitude")
    assert set(roster.PERSON_INPUTS["consent"]) == {"consent", "consent_on", "consent_by",
                                                    "cccd"}
