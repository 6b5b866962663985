"""The lessons domain's numbered migration (names are global: see dxkit.core.schema)."""

from __future__ import annotations

from sqlite_utils import Database

from dxkit.core.domain import migration
from dxkit.core.schema import EVENT_SYNC_COLUMNS, MUTABLE_SYNC_COLUMNS, run_script


@migration("0012_lessons")
def m0012_lessons(db: Database) -> None:
    """Digital-skills lessons (issue 12).

    Local, never synced: the installed course packs (immutable per id and version: the
    checked manifest and every kept file), and the progress derived from the events
    (`lesson_progress` per learner and lesson, `class_progress` per learner: rebuilt at any
    time by progress.recompute). Synced: classes, their learners, the lesson events and the
    certificates. No unique index on synced columns: a received row is never refused."""
    run_script(db, f"""
    CREATE TABLE course_packs (
        course_id TEXT NOT NULL, version TEXT NOT NULL, digest TEXT NOT NULL,
        title TEXT NOT NULL, as_of TEXT NOT NULL, lessons INTEGER NOT NULL,
        manifest TEXT NOT NULL,             -- course.json in canonical form
        origin TEXT NOT NULL CHECK (origin IN ('shipped', 'imported')),
        fingerprint TEXT NOT NULL DEFAULT '',  -- shipped: the files as shipped, to refresh
        installed_at TEXT NOT NULL,
        PRIMARY KEY (course_id, version)) WITHOUT ROWID;
    CREATE TABLE course_pack_files (
        course_id TEXT NOT NULL, version TEXT NOT NULL, path TEXT NOT NULL,
        sha256 TEXT NOT NULL, data BLOB NOT NULL,
        PRIMARY KEY (course_id, version, path),
        FOREIGN KEY (course_id, version) REFERENCES course_packs(course_id, version)
            ON DELETE CASCADE);

    CREATE TABLE classes (
        id TEXT PRIMARY KEY, course_id TEXT NOT NULL, course_version TEXT NOT NULL,
        name TEXT NOT NULL, name_key TEXT NOT NULL, place TEXT NOT NULL DEFAULT '',
        starts_on TEXT NOT NULL, ends_on TEXT, trainers TEXT NOT NULL DEFAULT '[]',
        sessions_planned INTEGER NOT NULL DEFAULT 1, notes TEXT NOT NULL DEFAULT '',
        {MUTABLE_SYNC_COLUMNS});
    CREATE INDEX classes_name ON classes(name_key) WHERE deleted = 0;

    CREATE TABLE class_learners (
        id TEXT PRIMARY KEY, class_id TEXT NOT NULL REFERENCES classes(id),
        person_id TEXT NOT NULL REFERENCES people(id), enrolled_on TEXT NOT NULL,
        {MUTABLE_SYNC_COLUMNS});
    CREATE INDEX class_learners_class ON class_learners(class_id, person_id);
    CREATE INDEX class_learners_person ON class_learners(person_id);

    -- Events: a correction is a new row whose `corrects` names the event it amends (same
    -- kind, new content) or voids (kind 'void').
    CREATE TABLE lesson_events (
        id TEXT PRIMARY KEY, class_id TEXT NOT NULL REFERENCES classes(id),
        person_id TEXT NOT NULL REFERENCES people(id),
        kind TEXT NOT NULL CHECK (kind IN ('present', 'absent', 'skill', 'quiz', 'void')),
        on_date TEXT NOT NULL, lesson_id TEXT, skill_id TEXT, correct INTEGER, total INTEGER,
        source TEXT NOT NULL DEFAULT 'trainer', corrects TEXT REFERENCES lesson_events(id),
        note TEXT NOT NULL DEFAULT '', recorded_by TEXT NOT NULL DEFAULT '',
        {EVENT_SYNC_COLUMNS});
    CREATE INDEX lesson_events_learner ON lesson_events(class_id, person_id);
    CREATE INDEX lesson_events_corrects ON lesson_events(corrects) WHERE corrects IS NOT NULL;

    CREATE TABLE certificates (
        id TEXT PRIMARY KEY, class_id TEXT NOT NULL REFERENCES classes(id),
        person_id TEXT NOT NULL REFERENCES people(id), course_id TEXT NOT NULL,
        course_version TEXT NOT NULL, issued_on TEXT NOT NULL, code TEXT NOT NULL,
        display_name TEXT NOT NULL DEFAULT '', show_name INTEGER NOT NULL DEFAULT 0,
        revoked INTEGER NOT NULL DEFAULT 0, revoked_on TEXT,
        revoked_reason TEXT NOT NULL DEFAULT '', {MUTABLE_SYNC_COLUMNS});
    CREATE INDEX certificates_class ON certificates(class_id, person_id);
    CREATE INDEX certificates_code ON certificates(code);

    -- Derived from lesson_events (progress.py); rebuilt at any time by recompute.
    CREATE TABLE lesson_progress (
        class_id TEXT NOT NULL, person_id TEXT NOT NULL, lesson_id TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('not_started', 'in_progress', 'mastered',
                                             'needs_help')),
        skills TEXT NOT NULL DEFAULT '[]',   -- JSON: the lesson's skill ids shown
        attempts INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
        best TEXT,                           -- the best attempt, "correct/total"
        mastered_by TEXT,                    -- the event that completed the rule
        PRIMARY KEY (class_id, person_id, lesson_id)) WITHOUT ROWID;
    CREATE TABLE class_progress (
        class_id TEXT NOT NULL, person_id TEXT NOT NULL, mastered INTEGER NOT NULL,
        attended INTEGER NOT NULL, sessions INTEGER NOT NULL, completed INTEGER NOT NULL,
        PRIMARY KEY (class_id, person_id)) WITHOUT ROWID;
    """)


MIGRATIONS = (m0012_lessons,)
