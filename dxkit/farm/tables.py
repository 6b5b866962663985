"""The farm tables that sync (the farm domain declares them to the kernel in domain.py).

Pesticide products and bans are reference data: the rows every device ships with carry
SHIPPED_CLOCK and uuid5 ids (see registry.py); the province's updates and a cooperative's own
products are ordinary synced rows.

Each synced field has its type (dxkit.core.fields): what the hub and every laptop accept. The
forms' own checks (orgs.py, diary.py, lots.py) keep what a person types inside these; a value
that slips past them is refused by the write itself, never by the hub after the fact.
"""

from __future__ import annotations

from dxkit.core.fields import (
    FieldType,
    boolean,
    date,
    integer,
    json_list,
    json_object,
    one_of,
    real,
    ref,
    text,
    timestamp,
)
from dxkit.core.synced import Area, SyncedTable
from dxkit.farm.model import ENTRY_KINDS, ORG_KINDS

NAME_LENGTH = 200         # names of organisations, people, plots, seasons, products
TEXT_LENGTH = 2000        # notes, a correction's reason, each text detail of a diary entry
PLACE_LENGTH = 500        # an address, a plot's location
CODE = r"[a-z][a-z0-9_]{1,39}"  # crop codes (pesticides.CROPS): dragon_fruit
LOT_CODE = r"[A-Z]{2,5}-[0-9]{6}-[0-9]{3,4}-[0-9A-Z]"  # gs1.make_lot_code: MD-261122-007-K
MAX_AREA_HA = 100_000.0   # orgs._clean_plot's largest plot
MAX_QUANTITY = 1e9        # of any unit as entered (diary quantities)
MAX_KG = 1e12             # a quantity in kg (1e9 tấn)
JSON_LENGTH = 50_000      # a diary entry's details or findings (JSON)
SNAPSHOT_LENGTH = 500_000  # a published trace record (JSON): a push request is at most 1 MiB
MAX_LABELS = 10_000       # lots.MAX_LABELS_PER_RUN

ORG_TYPES: dict[str, FieldType] = {
    "name": text(NAME_LENGTH), "name_key": text(NAME_LENGTH), "kind": one_of(*ORG_KINDS),
    "short_code": text(5, r"[A-Z]{2,5}"),  # gs1.normalize_org_short
    "address": text(PLACE_LENGTH), "province_code": text(100), "commune_code": text(100),
    "gs1_company_prefix": text(12, r"([0-9]{4,12})?"), "certification": text(NAME_LENGTH)}
MEMBER_TYPES: dict[str, FieldType] = {
    "org_id": ref(), "name": text(NAME_LENGTH), "name_key": text(NAME_LENGTH),
    "person_id": ref(nullable=True), "role": text(NAME_LENGTH)}
PLOT_TYPES: dict[str, FieldType] = {
    "org_id": ref(), "member_id": ref(nullable=True), "name": text(NAME_LENGTH),
    "name_key": text(NAME_LENGTH), "growing_area_code": text(100),
    "area_ha": real(0, MAX_AREA_HA, nullable=True), "crop": text(40, CODE),
    "variety": text(NAME_LENGTH), "location": text(PLACE_LENGTH),
    "latitude": real(-90, 90, nullable=True), "longitude": real(-180, 180, nullable=True),
    "certification": text(NAME_LENGTH)}
SEASON_TYPES: dict[str, FieldType] = {
    "org_id": ref(), "name": text(NAME_LENGTH), "name_key": text(NAME_LENGTH),
    "crop": text(40, f"({CODE})?"), "starts_on": date(), "ends_on": date(nullable=True)}
PRODUCT_TYPES: dict[str, FieldType] = {
    "name": text(NAME_LENGTH), "name_key": text(NAME_LENGTH),
    "active_ingredients": json_list(10_000), "phi_days": json_object(10_000),
    "formulation": text(100), "registrant": text(NAME_LENGTH),
    "source": one_of("shipped", "province", "cooperative"), "kind": text(100),
    "active": boolean()}
BAN_TYPES: dict[str, FieldType] = {
    "ingredient": text(NAME_LENGTH), "effective_on": date(), "reference": text(PLACE_LENGTH)}
ENTRY_TYPES: dict[str, FieldType] = {
    "plot_id": ref(), "season_id": ref(), "kind": one_of(*ENTRY_KINDS),
    "action": one_of("record", "amend", "void"), "corrects": ref(nullable=True),
    "on_date": date(), "details": json_object(JSON_LENGTH), "product_id": ref(nullable=True),
    "product_name": text(NAME_LENGTH), "active_ingredients": json_list(10_000),
    "quantity": real(0, MAX_QUANTITY, nullable=True), "unit": text(20),
    "quantity_kg": real(0, MAX_KG, nullable=True),
    "area_ha": real(0, MAX_AREA_HA, nullable=True), "compliant": boolean(),
    "findings": json_list(JSON_LENGTH), "reason": text(TEXT_LENGTH),
    "recorded_by": text(NAME_LENGTH)}
# A lot's variety (and the product named after it by default) joins its plots' varieties.
LOT_TYPES: dict[str, FieldType] = {
    "org_id": ref(), "season_id": ref(nullable=True), "code": text(20, LOT_CODE),
    "sequence": integer(1, 9999), "product": text(10 * NAME_LENGTH), "crop": text(40, CODE),
    "variety": text(10 * NAME_LENGTH), "pack_date": date(), "quantity_kg": real(0, MAX_KG),
    "gtin": text(14, r"([0-9]{14})?"), "status": text(20, r"[a-z_]+"),
    "notes": text(TEXT_LENGTH)}
LOT_HARVEST_TYPES: dict[str, FieldType] = {"lot_id": ref(), "entry_id": ref()}
PRINT_TYPES: dict[str, FieldType] = {
    "lot_id": ref(), "template": text(NAME_LENGTH), "copies": integer(1, MAX_LABELS),
    "start_position": integer(1, MAX_LABELS), "serial_from": integer(1, nullable=True),
    "serial_to": integer(1, nullable=True), "printed_at": timestamp(),
    "printed_by": text(NAME_LENGTH)}
TRACE_TYPES: dict[str, FieldType] = {
    "lot_id": ref(), "lot_code": text(20, LOT_CODE), "snapshot": json_object(SNAPSHOT_LENGTH),
    "published_at": timestamp()}

ORG_FIELDS = tuple(ORG_TYPES)
MEMBER_FIELDS = tuple(MEMBER_TYPES)
PLOT_FIELDS = tuple(PLOT_TYPES)
SEASON_FIELDS = tuple(SEASON_TYPES)
PRODUCT_FIELDS = tuple(PRODUCT_TYPES)
BAN_FIELDS = tuple(BAN_TYPES)
ENTRY_FIELDS = tuple(ENTRY_TYPES)
LOT_FIELDS = tuple(LOT_TYPES)
LOT_HARVEST_FIELDS = tuple(LOT_HARVEST_TYPES)
PRINT_FIELDS = tuple(PRINT_TYPES)
TRACE_FIELDS = tuple(TRACE_TYPES)

TABLES = (
    SyncedTable("farm_orgs", "mutable", ORG_FIELDS, types=ORG_TYPES, area=Area.team()),
    SyncedTable("farm_org_members", "mutable", MEMBER_FIELDS, personal=("name", "name_key"),
                depends_on=("farm_orgs", "people"), types=MEMBER_TYPES, area=Area.team()),
    SyncedTable("plots", "mutable", PLOT_FIELDS,
                depends_on=("farm_orgs", "farm_org_members"), types=PLOT_TYPES,
                area=Area.team()),
    SyncedTable("seasons", "mutable", SEASON_FIELDS, depends_on=("farm_orgs",),
                types=SEASON_TYPES, area=Area.team()),
    # Reference tables (same ids on every device and team: shipped rows, and a cooperative's own
    # product's uuid5 id from its name).
    SyncedTable("pesticide_products", "mutable", PRODUCT_FIELDS, reference=True,
                types=PRODUCT_TYPES, area=Area.team()),
    SyncedTable("pesticide_bans", "mutable", BAN_FIELDS, reference=True, types=BAN_TYPES,
                area=Area.team()),
    SyncedTable("diary_entries", "event", ENTRY_FIELDS,
                depends_on=("plots", "seasons", "pesticide_products"), types=ENTRY_TYPES,
                area=Area.team()),
    SyncedTable("lots", "mutable", LOT_FIELDS, depends_on=("farm_orgs", "seasons"),
                types=LOT_TYPES, area=Area.team()),
    SyncedTable("lot_harvests", "event", LOT_HARVEST_FIELDS,
                depends_on=("lots", "diary_entries"), types=LOT_HARVEST_TYPES,
                area=Area.team()),
    SyncedTable("label_prints", "event", PRINT_FIELDS, depends_on=("lots",),
                types=PRINT_TYPES, area=Area.team()),
    # id = the lot code, which only the team's own cooperatives keep unique: the hub keeps
    # published traces per team and serves them at /t/<team key>/<lot code> (trace_ids.py).
    SyncedTable("published_traces", "mutable", TRACE_FIELDS, depends_on=("lots",),
                types=TRACE_TYPES, team_keyed=True, area=Area.team()),
)

FARM_TABLES = ("farm_orgs", "farm_org_members", "plots", "seasons", "pesticide_products",
               "pesticide_bans", "diary_entries", "lots", "lot_harvests", "label_prints",
               "published_traces")
