"""The lessons tables that sync (declared to the kernel in domain.py), with each field's type.

- `classes` (mutable): a class taught from one course pack version.
- `class_learners` (mutable): a learner enrolled in a class. Its id is a uuid5 of (class,
  person), so two laptops enrolling the same person offline make one row that merges; a
  withdrawal is the row's tombstone.
- `lesson_events` (event): attendance marks, skills shown, quiz attempts and corrections,
  appended and never edited (progress.py derives each lesson's state from them).
- `certificates` (mutable): a learner's certificate of a completed course.

Every table lives in the team's own area on the hub (Area.team()).
"""

from __future__ import annotations

import uuid

from dxkit.core.fields import (
    FieldType,
    boolean,
    date,
    integer,
    json_list,
    one_of,
    ref,
    text,
)
from dxkit.core.synced import Area, SyncedTable
from dxkit.lessons.packs import ID_PATTERN, ITEM_ID_PATTERN, LESSON_ID_PATTERN, VERSION_PATTERN

NAME_LENGTH = 200
PLACE_LENGTH = 500
NOTE_LENGTH = 2000
EVENT_NOTE_LENGTH = 500
MAX_SESSIONS = 200
MAX_QUIZ_TOTAL = 100
CODE_LENGTH = 200
REASON_LENGTH = 500
TRAINERS_LENGTH = 5000  # a JSON list of team member ids

EVENT_KINDS = ("present", "absent", "skill", "quiz", "void")
ATTENDANCE_KINDS = ("present", "absent")
SOURCES = ("trainer", "learner", "paper")

CLASS_TYPES: dict[str, FieldType] = {
    "course_id": text(80, ID_PATTERN), "course_version": text(40, VERSION_PATTERN),
    "name": text(NAME_LENGTH), "name_key": text(NAME_LENGTH), "place": text(PLACE_LENGTH),
    "starts_on": date(), "ends_on": date(nullable=True),
    "trainers": json_list(TRAINERS_LENGTH),  # team_members ids
    "sessions_planned": integer(1, MAX_SESSIONS), "notes": text(NOTE_LENGTH)}
LEARNER_TYPES: dict[str, FieldType] = {
    "class_id": ref(), "person_id": ref(), "enrolled_on": date()}
EVENT_TYPES: dict[str, FieldType] = {
    "class_id": ref(), "person_id": ref(), "kind": one_of(*EVENT_KINDS),
    "on_date": date(),
    "lesson_id": text(60, LESSON_ID_PATTERN, nullable=True),
    "skill_id": text(60, ITEM_ID_PATTERN, nullable=True),
    "correct": integer(0, MAX_QUIZ_TOTAL, nullable=True),
    "total": integer(1, MAX_QUIZ_TOTAL, nullable=True),
    "source": one_of(*SOURCES),
    "corrects": ref(nullable=True),  # the event this one amends, or voids (kind "void")
    "note": text(EVENT_NOTE_LENGTH),
    "recorded_by": text(NAME_LENGTH)}
CERTIFICATE_TYPES: dict[str, FieldType] = {
    "class_id": ref(), "person_id": ref(), "course_id": text(80, ID_PATTERN),
    "course_version": text(40, VERSION_PATTERN), "issued_on": date(),
    "code": text(CODE_LENGTH),
    "display_name": text(NAME_LENGTH),  # the masked name shown publicly: "Nguyễn T. H."
    "show_name": boolean(),  # the learner consented to show it
    "revoked": boolean(), "revoked_on": date(nullable=True),
    "revoked_reason": text(REASON_LENGTH)}

TABLES = (
    SyncedTable("classes", "mutable", tuple(CLASS_TYPES), depends_on=("team_members",),
                types=CLASS_TYPES, area=Area.team()),
    SyncedTable("class_learners", "mutable", tuple(LEARNER_TYPES),
                depends_on=("classes", "people"), types=LEARNER_TYPES, area=Area.team()),
    SyncedTable("lesson_events", "event", tuple(EVENT_TYPES),
                depends_on=("classes", "people"), types=EVENT_TYPES, area=Area.team()),
    SyncedTable("certificates", "mutable", tuple(CERTIFICATE_TYPES),
                personal=("display_name",), depends_on=("classes", "people"),
                types=CERTIFICATE_TYPES, area=Area.team()),
)

LEARNER_NAMESPACE = uuid.UUID("a4c3b2e1-6d5f-5a4b-8c7d-1e2f3a4b5c6d")
ANSWER_NAMESPACE = uuid.UUID("b7e6d5c4-3a2b-5c1d-9e8f-7a6b5c4d3e2f")


def learner_id(class_id: str, person_id: str) -> str:
    """The id every laptop gives person `person_id`'s enrolment in class `class_id`."""
    return str(uuid.uuid5(LEARNER_NAMESPACE, f"{class_id}:{person_id}"))


def answer_id(event_id: str, indicator_code: str) -> str:
    """The id of the indicator answer a mastering lesson event records (progress.py)."""
    return str(uuid.uuid5(ANSWER_NAMESPACE, f"{event_id}:{indicator_code}"))
