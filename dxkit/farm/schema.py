"""The farm domain's numbered migrations (names are global: see dxkit.core.schema)."""

from __future__ import annotations

from sqlite_utils import Database

from dxkit.core.domain import migration
from dxkit.core.schema import EVENT_SYNC_COLUMNS, MUTABLE_SYNC_COLUMNS, run_script


@migration("0007_farm")
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


MIGRATIONS = (m0007_farm,)
