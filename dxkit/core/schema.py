"""Numbered migrations. Each runs in one transaction with its record; none ever drops data.

Append new migrations at the end (``m0002_...``); never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database, Migrations

MIGRATIONS = Migrations("dxkit")

# Columns every synced row carries (DESIGN.md "sync-ready rows").
MUTABLE_SYNC_COLUMNS = """
    updated_at TEXT NOT NULL,              -- hybrid logical clock of the latest edit
    device_id TEXT NOT NULL,               -- device that made the latest edit
    field_clock TEXT NOT NULL DEFAULT '{}', -- JSON: field -> HLC of its latest edit
    deleted INTEGER NOT NULL DEFAULT 0     -- tombstone instead of a hard delete
"""
EVENT_SYNC_COLUMNS = """
    created_at TEXT NOT NULL,              -- hybrid logical clock when recorded
    device_id TEXT NOT NULL
"""


@MIGRATIONS(name="0001_initial")
def m0001_initial(db: Database) -> None:
    run_script(db, f"""
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

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

    -- Written in the same transaction as each change; the sync engine drains it.
    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, table_name TEXT NOT NULL, row_id TEXT NOT NULL,
        op TEXT NOT NULL, hlc TEXT NOT NULL, fields TEXT NOT NULL DEFAULT '[]');

    -- Who changed what and when. Field names only: values would copy personal data.
    CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, hlc TEXT NOT NULL,
        device_id TEXT NOT NULL, actor TEXT NOT NULL, table_name TEXT NOT NULL,
        row_id TEXT NOT NULL, action TEXT NOT NULL, fields TEXT NOT NULL DEFAULT '[]');
    CREATE INDEX audit_row ON audit_log(row_id);

    CREATE VIRTUAL TABLE household_search USING fts5(
        code, names, phones, address, hamlet, tokenize = 'unicode61', prefix = '2 3');
    """)


@MIGRATIONS(name="0002_phone_prefix_indexes")
def m0002_phone_prefix_indexes(db: Database) -> None:
    """Phone prefixes get their own search tier: an FTS prefix like "09" matches most rows."""
    run_script(db, """
    CREATE INDEX households_phone ON households(phone) WHERE deleted = 0 AND phone != '';
    CREATE INDEX people_phone ON people(phone) WHERE deleted = 0 AND phone != '';
    """)


@MIGRATIONS(name="0003_open_follow_ups")
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


@MIGRATIONS(name="0004_drop_households_list_index")
def m0004_drop_households_list_index(db: Database) -> None:
    """(deleted, code_key) led the planner to scan every household for hamlet and follow-up
    queries; the partial code index gives the same order."""
    run_script(db, "DROP INDEX households_list;")


@MIGRATIONS(name="0005_sync_review")
def m0005_sync_review(db: Database) -> None:
    """What sync leaves for a person to look at: same-field edits from two devices, and
    records the hub refused (docs/sync-protocol.md)."""
    run_script(db, """
    CREATE TABLE sync_conflicts (
        id INTEGER PRIMARY KEY, table_name TEXT NOT NULL, row_id TEXT NOT NULL,
        field TEXT NOT NULL, local_value TEXT, local_clock TEXT NOT NULL,
        remote_value TEXT, remote_clock TEXT NOT NULL,
        winner TEXT NOT NULL CHECK (winner IN ('local', 'remote')),
        detected_at TEXT NOT NULL, resolved_at TEXT);
    CREATE INDEX sync_conflicts_open ON sync_conflicts(resolved_at, row_id);
    CREATE TABLE sync_quarantine (
        id INTEGER PRIMARY KEY, table_name TEXT NOT NULL, row_id TEXT NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('push', 'pull')),
        reason TEXT NOT NULL, record TEXT NOT NULL, at TEXT NOT NULL);
    """)


@MIGRATIONS(name="0006_outbox_base_clocks")
def m0006_outbox_base_clocks(db: Database) -> None:
    """Each outbox entry keeps the clocks its fields had before the edit, so sync can tell a
    rival edit from an old value coming back (synced.Tx._note_conflicts)."""
    run_script(db, "ALTER TABLE outbox ADD COLUMN base TEXT NOT NULL DEFAULT '{}';")


@MIGRATIONS(name="0007_farm")
def m0007_farm(db: Database) -> None:
    """Farm diaries (issue 4): organisations, plots, seasons, diary events, the pesticide
    registry and bans (reference data: shipped rows carry SHIPPED_CLOCK), harvest lots, label
    print runs and the trace snapshots the hub serves. No unique indexes on synced columns:
    two laptops may add the same name offline, and a received row must never be refused."""
    run_script(db, f"""
    CREATE TABLE farm_orgs (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, name_key TEXT NOT NULL,
        kind TEXT NOT NULL DEFAULT 'cooperative', short_code TEXT NOT NULL DEFAULT '',
        address TEXT NOT NULL DEFAULT '', province_code TEXT NOT NULL DEFAULT '',
        commune_code TEXT NOT NULL DEFAULT '', gs1_company_prefix TEXT NOT NULL DEFAULT '',
        certification TEXT NOT NULL DEFAULT '', {MUTABLE_SYNC_COLUMNS});
    CREATE INDEX farm_orgs_name ON farm_orgs(name_key) WHERE deleted = 0;

    CREATE TABLE farm_org_members (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES farm_orgs(id),
        name TEXT NOT NULL, name_key TEXT NOT NULL, person_id TEXT REFERENCES people(id),
        role TEXT NOT NULL DEFAULT '', {MUTABLE_SYNC_COLUMNS});
    CREATE INDEX farm_org_members_org ON farm_org_members(org_id);

    CREATE TABLE plots (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES farm_orgs(id),
        member_id TEXT REFERENCES farm_org_members(id),
        name TEXT NOT NULL, name_key TEXT NOT NULL,
        growing_area_code TEXT NOT NULL DEFAULT '',  -- opaque: no public format exists
        area_ha REAL, crop TEXT NOT NULL, variety TEXT NOT NULL DEFAULT '',
        location TEXT NOT NULL DEFAULT '', latitude REAL, longitude REAL,
        certification TEXT NOT NULL DEFAULT '', {MUTABLE_SYNC_COLUMNS});
    CREATE INDEX plots_org ON plots(org_id, name_key);

    CREATE TABLE seasons (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES farm_orgs(id),
        name TEXT NOT NULL, name_key TEXT NOT NULL, crop TEXT NOT NULL DEFAULT '',
        starts_on TEXT NOT NULL, ends_on TEXT, {MUTABLE_SYNC_COLUMNS});
    CREATE INDEX seasons_org ON seasons(org_id, starts_on);

    CREATE TABLE pesticide_products (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, name_key TEXT NOT NULL,
        active_ingredients TEXT NOT NULL DEFAULT '[]',  -- JSON list of names
        phi_days TEXT NOT NULL DEFAULT '{{}}',           -- JSON: crop code -> days
        formulation TEXT NOT NULL DEFAULT '', registrant TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL DEFAULT '', kind TEXT NOT NULL DEFAULT '',
        active INTEGER NOT NULL DEFAULT 1,
        {MUTABLE_SYNC_COLUMNS});
    CREATE INDEX pesticide_products_name ON pesticide_products(name_key);

    CREATE TABLE pesticide_bans (
        id TEXT PRIMARY KEY, ingredient TEXT NOT NULL, effective_on TEXT NOT NULL,
        reference TEXT NOT NULL DEFAULT '', {MUTABLE_SYNC_COLUMNS});

    -- Events: a correction is a new row whose `corrects` names the entry it amends (action
    -- 'amend', full new content) or voids (action 'void'), as for visits.
    CREATE TABLE diary_entries (
        id TEXT PRIMARY KEY, plot_id TEXT NOT NULL REFERENCES plots(id),
        season_id TEXT NOT NULL REFERENCES seasons(id),
        kind TEXT NOT NULL CHECK (kind IN ('land_preparation', 'seed', 'sowing', 'fertiliser',
            'pesticide', 'irrigation', 'observation', 'harvest')),
        action TEXT NOT NULL CHECK (action IN ('record', 'amend', 'void')),
        corrects TEXT REFERENCES diary_entries(id),
        on_date TEXT NOT NULL, details TEXT NOT NULL DEFAULT '{{}}',
        product_id TEXT REFERENCES pesticide_products(id), product_name TEXT NOT NULL DEFAULT '',
        active_ingredients TEXT NOT NULL DEFAULT '[]',
        quantity REAL, unit TEXT NOT NULL DEFAULT '',  -- as entered
        quantity_kg REAL,                              -- normalised, for masses
        area_ha REAL, compliant INTEGER NOT NULL DEFAULT 1,
        findings TEXT NOT NULL DEFAULT '[]', reason TEXT NOT NULL DEFAULT '',
        recorded_by TEXT NOT NULL DEFAULT '', {EVENT_SYNC_COLUMNS});
    CREATE INDEX diary_entries_plot ON diary_entries(plot_id, season_id, on_date);
    CREATE INDEX diary_entries_corrects ON diary_entries(corrects) WHERE corrects IS NOT NULL;

    CREATE TABLE lots (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES farm_orgs(id),
        season_id TEXT REFERENCES seasons(id), code TEXT NOT NULL, sequence INTEGER NOT NULL,
        product TEXT NOT NULL, crop TEXT NOT NULL, variety TEXT NOT NULL DEFAULT '',
        pack_date TEXT NOT NULL, quantity_kg REAL NOT NULL DEFAULT 0,
        gtin TEXT NOT NULL DEFAULT '', status TEXT NOT NULL DEFAULT 'open',
        notes TEXT NOT NULL DEFAULT '', {MUTABLE_SYNC_COLUMNS});
    CREATE INDEX lots_code ON lots(code);
    CREATE INDEX lots_org ON lots(org_id, pack_date);

    CREATE TABLE lot_harvests (
        id TEXT PRIMARY KEY, lot_id TEXT NOT NULL REFERENCES lots(id),
        entry_id TEXT NOT NULL REFERENCES diary_entries(id), {EVENT_SYNC_COLUMNS});
    CREATE INDEX lot_harvests_lot ON lot_harvests(lot_id);

    CREATE TABLE label_prints (
        id TEXT PRIMARY KEY, lot_id TEXT NOT NULL REFERENCES lots(id),
        template TEXT NOT NULL, copies INTEGER NOT NULL, start_position INTEGER NOT NULL DEFAULT 1,
        serial_from INTEGER, serial_to INTEGER, printed_at TEXT NOT NULL,
        printed_by TEXT NOT NULL DEFAULT '', {EVENT_SYNC_COLUMNS});
    CREATE INDEX label_prints_lot ON label_prints(lot_id);

    -- What the hub serves at the trace URL; id = the lot code.
    CREATE TABLE published_traces (
        id TEXT PRIMARY KEY, lot_id TEXT NOT NULL REFERENCES lots(id), lot_code TEXT NOT NULL,
        snapshot TEXT NOT NULL, published_at TEXT NOT NULL, {MUTABLE_SYNC_COLUMNS});
    """)


def run_script(db: Database, script: str) -> None:
    """Run statements one by one: sqlite3's executescript would COMMIT the open transaction."""
    statement = ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--") and not statement.strip():
            continue
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement in migration: {statement[:80]!r}")


def latest_version() -> int:
    return len(MIGRATIONS._migrations)


def known_names() -> list[str]:
    return [m.name for m in MIGRATIONS._migrations]


@MIGRATIONS(name="0008_indicator_targets")
def m0008_indicator_targets(db: Database) -> None:
    """Each indicator may carry the province's target share (0..1): reference data the hub
    publishes, or that a team sets for itself. None: no target."""
    run_script(db, "ALTER TABLE indicators ADD COLUMN target REAL;")
