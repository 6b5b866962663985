"""Enrolling a person who is not in the household register yet: added to a household and
enrolled in the class in one transaction, so either both happen or neither.

The person is added exactly as the household page adds one (`People.add`: the households'
`clean_person` validators, consent never assumed, a citizen ID only with consent, the consent
day and who recorded it), then enrolled as `Lessons.enrol` enrols anyone. Any refusal — a
missing name, a citizen ID without consent, an unknown or closed household, an unknown class
— is one sentence and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from dxkit.core.errors import NotFound
from dxkit.core.i18n import _
from dxkit.core.synced import OpResult

if TYPE_CHECKING:
    from dxkit.households.roster import Person
    from dxkit.lessons.workspace import LessonsWorkspace as Workspace

# What a new learner may be given: the person fields the household page's form has.
PERSON_FIELDS = frozenset({"full_name", "sex", "birth_date", "birth_year", "relationship",
                           "phone", "cccd", "consent", "notes"})


def enrol_new_person(ws: Workspace, class_id: str, household: str, *,
                     on: dt.date | None = None, **person: Any) -> OpResult[Person]:
    """Add a person to `household` (its code or id) and enrol them in the class, in one
    transaction; the new person. `person` holds the fields `People.add` takes."""
    unknown = set(person) - PERSON_FIELDS
    if unknown:
        raise TypeError(f"unknown person fields: {sorted(unknown)}")
    ws.lessons.get_class(class_id)  # NotFound before anything else is checked
    home = ws.households.find(household)
    row = ws.conn.execute("SELECT deleted FROM households WHERE id = ?", (home.id,)).fetchone()
    if row is None or row["deleted"]:
        raise NotFound(_("No household with code {code}.").format(code=household))
    with ws.transaction() as tx:
        added = ws.people.add(home.id, **person).value
        ws.lessons.enrol(class_id, [added.id], on)
    return OpResult(added, tx.changes)
