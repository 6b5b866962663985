"""The households domain's numbered migrations (names are global: see dxkit.core.schema)."""

from __future__ import annotations

import json

from sqlite_utils import Database

from dxkit.core.clock_repair import META_REPULL
from dxkit.core.domain import migration
from dxkit.core.schema import EVENT_SYNC_COLUMNS, MUTABLE_SYNC_COLUMNS, run_script


@migration("0001_initial")
def m0001_initial(db: Database) -> None:
    run_script(db, f"""
    CREATE TABLE hamlets (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, name_key TEXT NOT NULL,
        sort_order INTEGER NOT NULL DEFAULT 0, {MUTABLE_SYNC_COLUMNS});
    CREATE UNIQUE INDEX hamlets_name ON hamlets(name_key) WHERE deleted = 0;

    CREATE TABLE team_members (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, phone TEXT NOT NULL DEFAULT '',
        active INTEGER NOT NULL DEFAULT 1, {MUTABLE_SYNC_COLUMNS});

    CREATE TABLE indicators (
        id TEXT PRIMARY KEY, code TEXT NOT NULL, name_vi TEXT NOT NULL, name_en TEXT NOT NULL,
        min_age INTEGER NOT NULL DEFAULT 15, sort_order INTEGER NOT NULL DEFAULT 0,
        active INTEGER NOT NULL DEFAULT 1, {MUTABLE_SYNC_COLUMNS});
    CREATE UNIQUE INDEX indicators_code ON indicators(code) WHERE deleted = 0;

    CREATE TABLE support_items (
        id TEXT PRIMARY KEY, code TEXT NOT NULL, name_vi TEXT NOT NULL, name_en TEXT NOT NULL,
        indicator_code TEXT,                -- indicator a 'done' outcome establishes, if any
        sort_order INTEGER NOT NULL DEFAULT 0, active INTEGER NOT NULL DEFAULT 1,
        {MUTABLE_SYNC_COLUMNS});
    CREATE UNIQUE INDEX support_items_code ON support_items(code) WHERE deleted = 0;

    -- local_id: a stable integer key for the search index and list views; id is the synced key.
    CREATE TABLE households (
        local_id INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
        code TEXT NOT NULL, code_key TEXT NOT NULL,
        head_name TEXT NOT NULL, head_key TEXT NOT NULL,
        hamlet_id TEXT NOT NULL REFERENCES hamlets(id),
        address TEXT NOT NULL DEFAULT '', phone TEXT NOT NULL DEFAULT '',
        notes TEXT NOT NULL DEFAULT '', latitude REAL, longitude REAL,
        {MUTABLE_SYNC_COLUMNS});
    CREATE UNIQUE INDEX households_code ON households(code_key) WHERE deleted = 0;
    CREATE INDEX households_head ON households(head_key) WHERE deleted = 0;
    CREATE INDEX households_hamlet ON households(hamlet_id, code_key) WHERE deleted = 0;
    CREATE INDEX households_list ON households(deleted, code_key);

    CREATE TABLE people (
        local_id INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
        household_id TEXT NOT NULL REFERENCES households(id),
        full_name TEXT NOT NULL, name_key TEXT NOT NULL,
        sex TEXT CHECK (sex IN ('M', 'F') OR sex IS NULL),
        birth_date TEXT, birth_year INTEGER, relationship TEXT NOT NULL DEFAULT '',
        phone TEXT NOT NULL DEFAULT '', cccd TEXT NOT NULL DEFAULT '',
        consent INTEGER NOT NULL DEFAULT 0, consent_on TEXT, consent_by TEXT,
        notes TEXT NOT NULL DEFAULT '', purged INTEGER NOT NULL DEFAULT 0,
        {MUTABLE_SYNC_COLUMNS});
    CREATE INDEX people_household ON people(household_id);
    CREATE INDEX people_name ON people(name_key) WHERE deleted = 0;

    -- Events: appended, never edited. A correction is a new row whose `corrects` names the
    -- visit it amends (kind 'amend', full new content) or voids (kind 'void').
    CREATE TABLE visits (
        id TEXT PRIMARY KEY, household_id TEXT NOT NULL REFERENCES households(id),
        kind TEXT NOT NULL CHECK (kind IN ('visit', 'amend', 'void')),
        corrects TEXT REFERENCES visits(id),
        visited_at TEXT NOT NULL, member_ids TEXT NOT NULL DEFAULT '[]',
        notes TEXT NOT NULL DEFAULT '', follow_up_on TEXT, reason TEXT NOT NULL DEFAULT '',
        recorded_by TEXT NOT NULL DEFAULT '', {EVENT_SYNC_COLUMNS});
    CREATE INDEX visits_household ON visits(household_id, visited_at);
    CREATE INDEX visits_corrects ON visits(corrects) WHERE corrects IS NOT NULL;
    CREATE INDEX visits_follow_up ON visits(follow_up_on) WHERE follow_up_on IS NOT NULL;
    CREATE INDEX visits_time ON visits(visited_at);

    CREATE TABLE visit_items (
        id TEXT PRIMARY KEY, visit_id TEXT NOT NULL REFERENCES visits(id),
        person_id TEXT REFERENCES people(id), support_item_code TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('done', 'partly', 'not_done')),
        reason TEXT NOT NULL DEFAULT '', {EVENT_SYNC_COLUMNS});
    CREATE INDEX visit_items_visit ON visit_items(visit_id);
    CREATE INDEX visit_items_person ON visit_items(person_id);

    -- An explicit answer ("does this person own a smartphone?") is an event too.
    CREATE TABLE indicator_answers (
        id TEXT PRIMARY KEY, person_id TEXT NOT NULL REFERENCES people(id),
        indicator_code TEXT NOT NULL, value INTEGER NOT NULL CHECK (value IN (0, 1)),
        answered_on TEXT NOT NULL, recorded_by TEXT NOT NULL DEFAULT '', {EVENT_SYNC_COLUMNS});
    CREATE INDEX indicator_answers_person ON indicator_answers(person_id);

    -- Derived from the events above; rebuilt at any time by Indicators.recompute().
    CREATE TABLE person_indicators (
        person_id TEXT NOT NULL REFERENCES people(id), indicator_code TEXT NOT NULL,
        value INTEGER NOT NULL, source_id TEXT NOT NULL, as_of TEXT NOT NULL,
        PRIMARY KEY (person_id, indicator_code)) WITHOUT ROWID;

    CREATE VIRTUAL TABLE household_search USING fts5(
        code, names, phones, address, hamlet, tokenize = 'unicode61', prefix = '2 3');
    """)


@migration("0002_phone_prefix_indexes")
def m0002_phone_prefix_indexes(db: Database) -> None:
    """Phone prefixes get their own search tier: an FTS prefix like "09" matches most rows."""
    run_script(db, """
    CREATE INDEX households_phone ON households(phone) WHERE deleted = 0 AND phone != '';
    CREATE INDEX people_phone ON people(phone) WHERE deleted = 0 AND phone != '';
    """)


@migration("0003_open_follow_ups")
def m0003_open_follow_ups(db: Database) -> None:
    """Derived: each household's open follow-up (its latest effective visit's, if it set one).

    A later visit meets a follow-up, so only the latest effective visit can leave one open;
    keeping that per household makes the follow-up list an index read instead of a scan of
    every visit. Rebuilt from the events at any time (visits.refresh_follow_ups).
    """
    run_script(db, """
    CREATE TABLE open_follow_ups (
        household_id TEXT PRIMARY KEY REFERENCES households(id),
        visit_id TEXT NOT NULL REFERENCES visits(id), due_on TEXT NOT NULL) WITHOUT ROWID;
    CREATE INDEX open_follow_ups_due ON open_follow_ups(due_on);
    CREATE INDEX visits_latest ON visits(household_id, visited_at DESC, created_at DESC);
    INSERT INTO open_follow_ups (household_id, visit_id, due_on)
    SELECT household_id, id, follow_up_on FROM (
        SELECT v.household_id, v.id, v.follow_up_on, row_number() OVER (
            PARTITION BY v.household_id ORDER BY v.visited_at DESC, v.created_at DESC) AS rank
        FROM visits v
        WHERE v.kind != 'void' AND NOT EXISTS (SELECT 1 FROM visits c WHERE c.corrects = v.id))
    WHERE rank = 1 AND follow_up_on IS NOT NULL;
    """)


@migration("0004_drop_households_list_index")
def m0004_drop_households_list_index(db: Database) -> None:
    """(deleted, code_key) led the planner to scan every household for hamlet and follow-up
    queries; the partial code index gives the same order."""
    run_script(db, "DROP INDEX households_list;")


@migration("0008_indicator_targets")
def m0008_indicator_targets(db: Database) -> None:
    """Each indicator may carry the province's target share (0..1): reference data the hub
    publishes, or that a team sets for itself. None: no target."""
    run_script(db, "ALTER TABLE indicators ADD COLUMN target REAL;")


@migration("0010_follow_up_closures")
def m0010_follow_up_closures(db: Database) -> None:
    """Follow-ups closed without a visit, and reopened (households/followups.py): events.

    A close names the visit whose follow-up it closes, a reopen the close it undoes. The
    derived open_follow_ups keeps each household's standing follow-up as before and, in
    `closed_by`, the close that settled it (NULL: still to do). No close exists yet, so every
    row stays as it is."""
    run_script(db, f"""
    CREATE TABLE follow_up_closures (
        id TEXT PRIMARY KEY, visit_id TEXT NOT NULL REFERENCES visits(id),
        kind TEXT NOT NULL CHECK (kind IN ('close', 'reopen')),
        corrects TEXT REFERENCES follow_up_closures(id), reason TEXT,
        note TEXT NOT NULL DEFAULT '', recorded_at TEXT NOT NULL, member_id TEXT,
        {EVENT_SYNC_COLUMNS});
    CREATE INDEX follow_up_closures_visit ON follow_up_closures(visit_id);
    CREATE INDEX follow_up_closures_corrects ON follow_up_closures(corrects)
        WHERE corrects IS NOT NULL;
    ALTER TABLE open_follow_ups ADD COLUMN closed_by TEXT;
    """)


# The tables whose pulled rows failed behind a hamlet another laptop had typed too.
HAMLET_BOUND = ("hamlets", "households", "people", "visits", "visit_items",
                "indicator_answers")


@migration("0011_hamlet_areas")
def m0011_hamlet_areas(db: Database) -> None:
    """Hamlets after issue 10: one row per hamlet, and its official population.

    - Two rows may share a folded name for a moment: a pulled hamlet typed on another laptop
      too is stored and the two are merged in the same transaction (catalog.
      merge_duplicate_hamlets), where the unique index made the pulled row fail, and then its
      households, people and visits with it. The name index stays, without uniqueness.
    - Rows held back for that (quarantined with an IntegrityError) are forgotten and their
      tables pulled again from the start at the next sync, where they now merge.
    - population_15, population_18: the official population aged 15 and over and of adults.
    """
    run_script(db, """
    DROP INDEX hamlets_name;
    CREATE INDEX hamlets_name ON hamlets(name_key) WHERE deleted = 0;
    ALTER TABLE hamlets ADD COLUMN population_15 INTEGER;
    ALTER TABLE hamlets ADD COLUMN population_18 INTEGER;
    """)
    marks = ", ".join("?" for _ in HAMLET_BOUND)
    failed = db.execute(
        f"SELECT DISTINCT table_name FROM sync_quarantine WHERE direction = 'pull' AND "
        f"reason LIKE 'IntegrityError%' AND table_name IN ({marks})", HAMLET_BOUND).fetchall()
    if not failed:
        return
    db.execute(f"DELETE FROM sync_quarantine WHERE direction = 'pull' AND reason LIKE "
               f"'IntegrityError%' AND table_name IN ({marks})", HAMLET_BOUND)
    row = db.execute("SELECT value FROM meta WHERE key = ?", (META_REPULL,)).fetchone()
    again = set(json.loads(row[0])) if row and row[0] else set()
    again.update(HAMLET_BOUND)
    db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
               "value = excluded.value", (META_REPULL, json.dumps(sorted(again))))


MIGRATIONS = (m0001_initial, m0002_phone_prefix_indexes, m0003_open_follow_ups,
              m0004_drop_households_list_index, m0008_indicator_targets,
              m0010_follow_up_closures, m0011_hamlet_areas)
