"""Enrolling someone new: added to the household register and enrolled, both or neither."""

from __future__ import annotations

import pytest

from dxkit.core.errors import NotFound, ValidationError
from dxkit.lessons.enrol_new import enrol_new_person
from tests.lessons.conftest import Setup


def counts(s: Setup) -> list[int]:
    return [s.ws.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("people", "class_learners", "outbox")]


def test_a_new_person_is_added_and_enrolled(setup: Setup):
    added = enrol_new_person(setup.ws, setup.class_id, "MH-001", full_name="Lê Thị Nay",
                             birth_date="1959", consent=True,
                             cccd="087159000123").value
    assert added.consent and added.cccd == "087159000123"
    learners = {row.person_id for row in setup.ws.lessons.grid(setup.class_id).learners}
    assert added.id in learners and len(learners) == 5


@pytest.mark.parametrize("fields", [
    {"full_name": ""},
    {"full_name": "Lê Thị Nay", "cccd": "087159000123"},  # a citizen ID without consent
    {"full_name": "Lê Thị Nay", "consent": "có lẽ"},  # consent is a clear yes or no
    {"full_name": "Lê Thị Nay", "phone": "12"},
])
def test_the_household_rules_refuse_and_nothing_is_written(setup: Setup, fields):
    before = counts(setup)
    with pytest.raises(ValidationError):
        enrol_new_person(setup.ws, setup.class_id, "MH-001", **fields)
    assert counts(setup) == before


def test_an_unknown_class_or_household_writes_nothing(setup: Setup):
    before = counts(setup)
    with pytest.raises(NotFound):
        enrol_new_person(setup.ws, "01a00000-0000-7000-8000-000000000009", "MH-001",
                         full_name="Lê Thị Nay")
    with pytest.raises(NotFound):
        enrol_new_person(setup.ws, setup.class_id, "MH-404", full_name="Lê Thị Nay")
    assert counts(setup) == before


def test_a_failing_enrolment_takes_the_new_person_back(setup: Setup, monkeypatch):
    before = counts(setup)

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise ValidationError({"person": "refused"})

    monkeypatch.setattr(setup.ws.lessons, "enrol", refuse)
    with pytest.raises(ValidationError):
        enrol_new_person(setup.ws, setup.class_id, "MH-001", full_name="Lê Thị Nay")
    assert counts(setup) == before
