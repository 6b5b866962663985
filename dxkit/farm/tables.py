"""The farm tables that sync (the farm domain declares them to the kernel in domain.py).

Pesticide products and bans are reference data: the rows every device ships with carry
SHIPPED_CLOCK and uuid5 ids (see registry.py); the province's updates and a cooperative's own
products are ordinary synced rows.
"""

from __future__ import annotations

from dxkit.core.synced import SyncedTable

ORG_FIELDS = ("name", "name_key", "kind", "short_code", "address", "province_code",
              "commune_code", "gs1_company_prefix", "certification")
MEMBER_FIELDS = ("org_id", "name", "name_key", "person_id", "role")
PLOT_FIELDS = ("org_id", "member_id", "name", "name_key", "growing_area_code", "area_ha", "crop",
               "variety", "location", "latitude", "longitude", "certification")
SEASON_FIELDS = ("org_id", "name", "name_key", "crop", "starts_on", "ends_on")
PRODUCT_FIELDS = ("name", "name_key", "active_ingredients", "phi_days", "formulation",
                  "registrant", "source", "kind", "active")
BAN_FIELDS = ("ingredient", "effective_on", "reference")
ENTRY_FIELDS = ("plot_id", "season_id", "kind", "action", "corrects", "on_date", "details",
                "product_id", "product_name", "active_ingredients", "quantity", "unit",
                "quantity_kg", "area_ha", "compliant", "findings", "reason", "recorded_by")
LOT_FIELDS = ("org_id", "season_id", "code", "sequence", "product", "crop", "variety",
              "pack_date", "quantity_kg", "gtin", "status", "notes")
LOT_HARVEST_FIELDS = ("lot_id", "entry_id")
PRINT_FIELDS = ("lot_id", "template", "copies", "start_position", "serial_from", "serial_to",
                "printed_at", "printed_by")
TRACE_FIELDS = ("lot_id", "lot_code", "snapshot", "published_at")

TABLES = (
    SyncedTable("farm_orgs", "mutable", ORG_FIELDS),
    SyncedTable("farm_org_members", "mutable", MEMBER_FIELDS, personal=("name", "name_key"),
                depends_on=("farm_orgs", "people")),
    SyncedTable("plots", "mutable", PLOT_FIELDS,
                depends_on=("farm_orgs", "farm_org_members")),
    SyncedTable("seasons", "mutable", SEASON_FIELDS, depends_on=("farm_orgs",)),
    # Reference tables (same ids on every device and team: shipped rows, and a cooperative's own
    # product's uuid5 id from its name).
    SyncedTable("pesticide_products", "mutable", PRODUCT_FIELDS, reference=True),
    SyncedTable("pesticide_bans", "mutable", BAN_FIELDS, reference=True),
    SyncedTable("diary_entries", "event", ENTRY_FIELDS,
                depends_on=("plots", "seasons", "pesticide_products")),
    SyncedTable("lots", "mutable", LOT_FIELDS, depends_on=("farm_orgs", "seasons")),
    SyncedTable("lot_harvests", "event", LOT_HARVEST_FIELDS,
                depends_on=("lots", "diary_entries")),
    SyncedTable("label_prints", "event", PRINT_FIELDS, depends_on=("lots",)),
    # id = the lot code, which only the team's own cooperatives keep unique: the hub keeps
    # published traces per team and serves them at /t/<team key>/<lot code> (trace_ids.py).
    SyncedTable("published_traces", "mutable", TRACE_FIELDS, depends_on=("lots",),
                team_keyed=True),
)

FARM_TABLES = ("farm_orgs", "farm_org_members", "plots", "seasons", "pesticide_products",
               "pesticide_bans", "diary_entries", "lots", "lot_harvests", "label_prints",
               "published_traces")
