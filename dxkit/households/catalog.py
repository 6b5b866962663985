"""The team's configurable lists: hamlets, team members, indicators and support items.

Indicators and support items ship with a Vietnamese default and are data the province can
replace by sync. Their ids are derived from their codes so every laptop seeds the same rows.

Hamlets are the team's reference data: the hub gives an enrolled laptop its team's hamlets,
and a hamlet typed on a laptop that knows its commune gets the id every laptop and the hub
give it (core.places.hamlet_id), so two laptops typing it offline make one row. Two live
rows of one hamlet (same folded name: typed before the commune was known, or from before
these ids) are merged wherever they meet (`merge_duplicate_hamlets`, run in every write
transaction that touches hamlets or households): the households of the other row are moved
to the survivor as ordinary synced edits, and the other row is deleted.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from dxkit.core.errors import NotFound, ValidationError
from dxkit.core.fields import FieldType, boolean, integer, real, text
from dxkit.core.hlc import HUB_DEVICE, device_part
from dxkit.core.i18n import _, language
from dxkit.core.phones import normalize_phone
from dxkit.core.places import hamlet_id, hamlet_id_of_key
from dxkit.core.sqlbatch import select_in
from dxkit.core.synced import Area, OpResult, SyncedTable, field_clocks
from dxkit.core.text import fold, folded_key, nfc
from dxkit.core.workspace import HUB_TEAM_KIND_META

if TYPE_CHECKING:
    from dxkit.core.synced import Tx
    from dxkit.households.workspace import HouseholdsWorkspace as Workspace

CODE_PATTERN = r"[a-z][a-z0-9_]{1,39}"  # indicator and support-item codes: vneid_level2
NAME_LENGTH = 200  # a person's, a hamlet's or a team member's name
CATALOG_NAME_LENGTH = 500  # an indicator's or support item's name, in one language

# Each synced field's type (dxkit.core.fields): what the hub and every laptop accept.
# A folded key is at most as long as what it folds (folding only drops marks and non-letters).
MAX_POPULATION = 10_000_000  # more people than any hamlet has: a typing slip
ADULT_AGE = 18  # an indicator counted from this age is a share of the official adults
HAMLET_TYPES: dict[str, FieldType] = {
    "name": text(NAME_LENGTH), "name_key": text(NAME_LENGTH),
    "sort_order": integer(0, 1_000_000),
    # The hamlet's official population aged 15 and over, and of adults (18 and over): the
    # denominators the province counts indicators against. Published by the province (hub
    # hamlets set) or entered by the team; None: not known.
    "population_15": integer(0, MAX_POPULATION, nullable=True),
    "population_18": integer(0, MAX_POPULATION, nullable=True)}
# Phones are stored normalised (core.phones): digits only, at most E.164's 15.
PHONE = text(15, r"[0-9]*")
MEMBER_TYPES: dict[str, FieldType] = {
    "name": text(NAME_LENGTH), "phone": PHONE, "active": boolean()}
INDICATOR_TYPES: dict[str, FieldType] = {
    "code": text(40, CODE_PATTERN), "name_vi": text(CATALOG_NAME_LENGTH),
    "name_en": text(CATALOG_NAME_LENGTH), "min_age": integer(0, 120),
    "sort_order": integer(0, 1_000_000), "active": boolean(),
    "target": real(0, 1, nullable=True)}
SUPPORT_ITEM_TYPES: dict[str, FieldType] = {
    "code": text(40, CODE_PATTERN), "name_vi": text(CATALOG_NAME_LENGTH),
    "name_en": text(CATALOG_NAME_LENGTH),
    "indicator_code": text(40, CODE_PATTERN, nullable=True),
    "sort_order": integer(0, 1_000_000), "active": boolean()}

TABLES = (
    SyncedTable("hamlets", "mutable", tuple(HAMLET_TYPES), types=HAMLET_TYPES,
                area=Area.hamlet()),
    SyncedTable("team_members", "mutable", tuple(MEMBER_TYPES), personal=("phone",),
                types=MEMBER_TYPES, area=Area.team()),
    SyncedTable("indicators", "mutable", tuple(INDICATOR_TYPES), reference=True,
                types=INDICATOR_TYPES, area=Area.team()),
    SyncedTable("support_items", "mutable", tuple(SUPPORT_ITEM_TYPES), reference=True,
                types=SUPPORT_ITEM_TYPES, area=Area.team()),
)

_CODE = re.compile(CODE_PATTERN)
_WHOLE_NUMBER = re.compile(r"[0-9]+|[0-9]{1,3}(?:[ .,][0-9]{3})+")  # 1250, 1.250, 1,250, 1 250
_CATALOG_NAMESPACE = uuid.UUID("5f1d1a8e-4a52-4f7b-9d0b-6b1e8c2a7d10")

# (code, Vietnamese, English, minimum age counted in roll-ups)
DEFAULT_INDICATORS = (
    ("smartphone", "Có điện thoại thông minh", "Owns a smartphone", 15),
    ("vneid_level2", "Có định danh điện tử VNeID mức 2", "Has VNeID level 2", 15),
    ("payment_account", "Có tài khoản thanh toán (ngân hàng, ví điện tử)",
     "Has a payment account (bank or e-wallet)", 15),
    ("online_public_services", "Sử dụng dịch vụ công trực tuyến",
     "Uses online public services", 18),
    ("digital_signature", "Có chữ ký số cá nhân", "Has a personal digital signature", 18),
    ("online_trade", "Mua bán trực tuyến", "Sells or buys online", 15),
    ("health_app", "Sử dụng ứng dụng y tế (VssID, sổ sức khỏe điện tử)",
     "Uses a health app (VssID, electronic health record)", 15),
    ("citizen_app", "Sử dụng ứng dụng công dân số của tỉnh", "Uses the provincial citizen app", 15),
)

# (code, Vietnamese, English, indicator a 'done' outcome establishes)
DEFAULT_SUPPORT_ITEMS = (
    ("smartphone_basics", "Hướng dẫn sử dụng điện thoại thông minh", "Smartphone basics", None),
    ("vneid_install", "Cài đặt ứng dụng VNeID", "Install VNeID", None),
    ("vneid_level2", "Kích hoạt định danh điện tử mức 2", "Activate VNeID level 2", "vneid_level2"),
    ("payment_account", "Mở tài khoản ngân hàng / ví điện tử", "Open a bank account or e-wallet",
     "payment_account"),
    ("qr_payment", "Hướng dẫn thanh toán bằng mã QR", "Paying by QR code", "payment_account"),
    ("online_public_service", "Nộp hồ sơ dịch vụ công trực tuyến",
     "Submit an online public service application", "online_public_services"),
    ("digital_signature", "Đăng ký chữ ký số cá nhân", "Register a personal digital signature",
     "digital_signature"),
    ("online_trade", "Đưa sản phẩm lên sàn thương mại điện tử", "List products on an e-commerce "
     "platform", "online_trade"),
    ("health_app", "Cài đặt VssID / sổ sức khỏe điện tử", "Install VssID / electronic health "
     "record", "health_app"),
    ("citizen_app", "Cài đặt ứng dụng công dân số của tỉnh", "Install the provincial citizen app",
     "citizen_app"),
    ("online_safety", "An toàn trên mạng, phòng chống lừa đảo", "Online safety and anti-fraud",
     None),
)


def catalog_id(kind: str, code: str) -> str:
    return str(uuid.uuid5(_CATALOG_NAMESPACE, f"{kind}:{code}"))


@dataclass(frozen=True)
class Hamlet:
    id: str
    name: str
    population_15: int | None = None  # official population aged 15 and over, if known
    population_18: int | None = None  # official number of adults (18 and over), if known
    # Whether the figure above is the province's: published through the hub (see `published`).
    population_15_published: bool = False
    population_18_published: bool = False


@dataclass(frozen=True)
class TeamMember:
    id: str
    name: str
    active: bool


@dataclass(frozen=True)
class Indicator:
    code: str
    name_vi: str
    name_en: str
    min_age: int
    target: float | None = None  # the share to reach (0..1), set by the province or team
    target_published: bool = False  # the target is the province's (see `published`)

    @property
    def name(self) -> str:
        return self.name_vi if language() == "vi" else self.name_en


def published(table: str, row: sqlite3.Row, field: str) -> bool:
    """Whether `field` of a row holds a figure the province published: its latest edit was
    stamped by the hub (a publication; a team's own edit carries its laptop's clock) and it
    is not empty. A team may still set its own figure later (the newer edit wins on every
    laptop); the app shows a published one locked."""
    clocks = field_clocks(table, cast("Mapping[str, Any]", row))
    return row[field] is not None and device_part(clocks[field]) == HUB_DEVICE


def parse_share(value: float | str | None) -> float | None:
    """0.8, "0,8", "80", "80%" or "80 %" -> 0.8; None or "" -> None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip().replace(",", ".")
    percent = text.endswith("%")
    try:
        number = float(text.rstrip("%").strip())
    except ValueError:
        number = -1.0
    if percent or number > 1:
        number /= 100
    if not 0 <= number <= 1:
        raise ValidationError({"target": _("A target is a share between 0 and 100%, for "
                                           "example 80%; “{value}” is not.").format(
                                               value=value)})
    return round(number, 4)


def official_population(hamlets: Sequence[Hamlet], min_age: int) -> int | None:
    """The official population an indicator counted from `min_age` is a share of, over
    `hamlets`: their adults (18 and over) for an indicator counted from 18 or more, else
    their population aged 15 and over; None when a hamlet lacks the figure, or without
    hamlets."""
    figures = [h.population_18 if min_age >= ADULT_AGE else h.population_15 for h in hamlets]
    if not figures or any(figure is None for figure in figures):
        return None
    return sum(figure or 0 for figure in figures)


def parse_population(value: int | str | None) -> int | None:
    """812, "812", "1.250", "1,250" or "1 250" -> the whole number; None or "" -> None;
    anything else (a fraction such as "12,5", a negative number, a word) -> -1, which the
    range check refuses."""
    if value is None or isinstance(value, int):
        return value
    text = value.strip()
    if not text:
        return None
    if not _WHOLE_NUMBER.fullmatch(text):
        return -1
    return int(re.sub(r"[ .,]", "", text))


def shipped_catalog() -> list[tuple[str, str, dict[str, object]]]:
    """(table, id, values) of the default indicators and support items."""
    rows: list[tuple[str, str, dict[str, object]]] = []
    for order, (code, vi, en, min_age) in enumerate(DEFAULT_INDICATORS):
        rows.append(("indicators", catalog_id("indicator", code), {
            "code": code, "name_vi": vi, "name_en": en, "min_age": min_age,
            "sort_order": order, "active": 1}))
    for order, (code, vi, en, indicator) in enumerate(DEFAULT_SUPPORT_ITEMS):
        rows.append(("support_items", catalog_id("support_item", code), {
            "code": code, "name_vi": vi, "name_en": en, "indicator_code": indicator,
            "sort_order": order, "active": 1}))
    return rows


@dataclass(frozen=True)
class SupportItem:
    code: str
    name_vi: str
    name_en: str
    indicator_code: str | None

    @property
    def name(self) -> str:
        return self.name_vi if language() == "vi" else self.name_en


class Catalog:
    def __init__(self, ws: Workspace):
        self.ws = ws

    # -- hamlets ------------------------------------------------------------------------
    def hamlets(self) -> list[Hamlet]:
        rows = self.ws.conn.execute(
            "SELECT * FROM hamlets WHERE deleted = 0 ORDER BY sort_order, name_key")
        return [Hamlet(r["id"], r["name"], r["population_15"], r["population_18"],
                       published("hamlets", r, "population_15"),
                       published("hamlets", r, "population_18"))
                for r in rows]

    def hamlet(self, name_or_id: str) -> Hamlet:
        """Find a hamlet by id or by name typed without diacritics; the error lists the known."""
        known = self.hamlets()
        wanted = folded_key(name_or_id)
        for hamlet in known:
            if hamlet.id == name_or_id or folded_key(hamlet.name) == wanted:
                return hamlet
        # "my hung" finds "Ấp Mỹ Hưng" when unambiguous.
        loose = [h for h in known if folded_key(h.name).endswith(" " + wanted)]
        if len(loose) == 1:
            return loose[0]
        names = ", ".join(h.name for h in known) or _("none yet")
        raise NotFound(_("Unknown hamlet “{name}”. Known hamlets: {names}. Add it first, in "
                         "Settings or with: dxkit hamlets add “{name}”.").format(
            name=name_or_id, names=names))

    def add_hamlet(self, name: str) -> OpResult[Hamlet]:
        """A hamlet of the team's commune. Its id is the one every laptop and the hub give
        this name in this commune, once the workspace knows its commune (dxkit team set, or
        enrollment); a laptop of a hamlet team adds none (its hamlet comes from the hub)."""
        clean = _hamlet_name(name)
        if any(folded_key(h.name) == folded_key(clean) for h in self.hamlets()):
            raise ValidationError({"name": _("There is already a hamlet called {name}.").format(
                name=clean)})
        meta = self.ws.meta()
        if meta.get(HUB_TEAM_KIND_META) == "hamlet":
            raise ValidationError({"name": _(
                "This laptop's team works in one hamlet only, which the hub gives it; a "
                "commune team can add hamlets.")})
        with self.ws.transaction() as tx:
            order = len(self.hamlets())
            values = {"name": clean, "name_key": folded_key(clean), "sort_order": order}
            row_id = tx.insert("hamlets", values, _new_hamlet_id(tx, meta, clean))
        return OpResult(Hamlet(row_id, clean), tx.changes)

    def rename_hamlet(self, hamlet_id: str, name: str) -> OpResult[Hamlet]:
        clean = _hamlet_name(name)
        if any(folded_key(h.name) == folded_key(clean) and h.id != hamlet_id
               for h in self.hamlets()):
            raise ValidationError({"name": _("There is already a hamlet called {name}.").format(
                name=clean)})
        with self.ws.transaction() as tx:
            tx.update("hamlets", hamlet_id, {"name": clean, "name_key": folded_key(clean)})
        return OpResult(self.hamlet(hamlet_id), tx.changes)

    def set_population(self, hamlet_id: str, aged_15: int | str | None,
                       adults: int | str | None) -> OpResult[Hamlet]:
        """The hamlet's official population aged 15 and over and its adults (18 and over),
        as the team knows them (None or "": unknown; typed text such as "1.250" is read as
        a whole number). The province usually publishes them; a newer publication replaces
        the team's figures and a later team entry the publication's, field by field (a
        figure given unchanged is not written, so it stays the province's)."""
        errors: dict[str, str] = {}
        figures: dict[str, int | None] = {}
        for key, value in (("population_15", aged_15), ("population_18", adults)):
            figure = parse_population(value)
            if figure is not None and not 0 <= figure <= MAX_POPULATION:
                errors[key] = _("A population is a whole number between 0 and {limit}."
                                ).format(limit=f"{MAX_POPULATION:,}".replace(",", "."))
            figures[key] = figure
        aged_15, adults = figures["population_15"], figures["population_18"]
        if aged_15 is not None and adults is not None and adults > aged_15:
            errors["population_18"] = _("There cannot be more adults than people aged 15 "
                                        "and over.")
        if errors:
            raise ValidationError(errors)
        hamlet = self.hamlet(hamlet_id)
        with self.ws.transaction() as tx:
            tx.update("hamlets", hamlet.id, {"population_15": aged_15,
                                              "population_18": adults})
        return OpResult(self.hamlet(hamlet.id), tx.changes)

    # -- team members -------------------------------------------------------------------
    def members(self, include_inactive: bool = False) -> list[TeamMember]:
        rows = self.ws.conn.execute(
            "SELECT id, name, active FROM team_members WHERE deleted = 0 "
            + ("" if include_inactive else "AND active = 1 ") + "ORDER BY name")
        return [TeamMember(r["id"], r["name"], bool(r["active"])) for r in rows]

    def member(self, name_or_id: str) -> TeamMember:
        wanted = fold(name_or_id)
        for m in self.members(include_inactive=True):
            if m.id == name_or_id or fold(m.name) == wanted:
                return m
        names = ", ".join(m.name for m in self.members()) or _("none yet")
        raise NotFound(_("Unknown team member “{name}”. Team members: {names}.").format(
            name=name_or_id, names=names))

    def add_member(self, name: str, phone: str = "") -> OpResult[TeamMember]:
        clean = nfc(name)
        if not clean:
            raise ValidationError({"name": _("A team member needs a name.")})
        _check_length("name", clean, NAME_LENGTH)
        with self.ws.transaction() as tx:
            row_id = tx.insert("team_members", {"name": clean, "phone": normalize_phone(phone),
                                                "active": 1})
        return OpResult(TeamMember(row_id, clean, True), tx.changes)

    # -- indicators and support items ---------------------------------------------------
    def indicators(self) -> list[Indicator]:
        rows = self.ws.conn.execute(
            "SELECT * FROM indicators WHERE deleted = 0 AND active = 1 ORDER BY sort_order")
        return [Indicator(r["code"], r["name_vi"], r["name_en"], r["min_age"], r["target"],
                          published("indicators", r, "target"))
                for r in rows]

    def set_target(self, code: str, target: float | str | None) -> OpResult[Indicator]:
        """The share of counted people an indicator should reach: 0.8, "80%", "80" or
        None (no target). Usually published by the province; a team may set its own."""
        share = parse_share(target)
        with self.ws.transaction() as tx:
            row = self.ws.conn.execute("SELECT id FROM indicators WHERE code = ? AND "
                                       "deleted = 0", (code,)).fetchone()
            if row is None:
                raise NotFound(_("There is no indicator {code}. Indicators: {codes}.").format(
                    code=code, codes=", ".join(i.code for i in self.indicators())))
            tx.update("indicators", row["id"], {"target": share})
        return OpResult(next(i for i in self.indicators() if i.code == code), tx.changes)

    def support_items(self, include_retired: bool = False) -> list[SupportItem]:
        """The items a visit can record; with retired ones too for naming past visits."""
        rows = self.ws.conn.execute(
            "SELECT code, name_vi, name_en, indicator_code FROM support_items "
            f"WHERE deleted = 0 {'' if include_retired else 'AND active = 1'} "
            "ORDER BY sort_order")
        return [SupportItem(r["code"], r["name_vi"], r["name_en"], r["indicator_code"])
                for r in rows]

    def add_indicator(self, code: str, name_vi: str, name_en: str, min_age: int = 15
                      ) -> OpResult[Indicator]:
        """A province's own indicator (its targets differ from province to province)."""
        clean = self._clean_entry(code, name_vi, name_en, "indicators")
        if not 0 <= min_age <= 120:
            raise ValidationError({"min_age": _("The minimum age must be between 0 and 120.")})
        with self.ws.transaction() as tx:
            tx.insert("indicators", {**clean, "min_age": min_age,
                                     "sort_order": self._next_order("indicators"), "active": 1})
        return OpResult(Indicator(clean["code"], clean["name_vi"], clean["name_en"], min_age),
                        tx.changes)

    def add_support_item(self, code: str, name_vi: str, name_en: str,
                         indicator_code: str | None = None) -> OpResult[SupportItem]:
        clean = self._clean_entry(code, name_vi, name_en, "support_items")
        if indicator_code and indicator_code not in {i.code for i in self.indicators()}:
            raise ValidationError({"indicator": _("Unknown indicator {code}.").format(
                code=indicator_code)})
        with self.ws.transaction() as tx:
            tx.insert("support_items", {**clean, "indicator_code": indicator_code or None,
                                        "sort_order": self._next_order("support_items"),
                                        "active": 1})
        return OpResult(SupportItem(clean["code"], clean["name_vi"], clean["name_en"],
                                    indicator_code or None), tx.changes)

    def set_active(self, table: str, code: str, active: bool) -> OpResult[str]:
        """Retire (or bring back) an indicator or support item. Never deleted: past visits
        name it."""
        if table not in ("indicators", "support_items"):
            raise ValueError(table)
        row = self.ws.conn.execute(f"SELECT id FROM {table} WHERE code = ? AND deleted = 0",
                                   (code,)).fetchone()
        if row is None:
            raise NotFound(_("Unknown code {code}.").format(code=code))
        with self.ws.transaction() as tx:
            tx.update(table, row["id"], {"active": int(active)})
        return OpResult(code, tx.changes)

    def _clean_entry(self, code: str, name_vi: str, name_en: str, table: str) -> dict[str, str]:
        errors: dict[str, str] = {}
        clean_code = (code or "").strip().lower()
        if not _CODE.fullmatch(clean_code):
            errors["code"] = _("A code uses only lowercase letters a-z, digits and _ "
                               "(for example vneid_level2).")
        elif self.ws.conn.execute(f"SELECT 1 FROM {table} WHERE code = ? AND deleted = 0",
                                  (clean_code,)).fetchone():
            errors["code"] = _("The code {code} is already in use.").format(code=clean_code)
        names = {"name_vi": nfc(name_vi), "name_en": nfc(name_en)}
        for key, value in names.items():
            if not value:
                errors[key] = _("Give the name in Vietnamese and in English.")
            elif len(value) > CATALOG_NAME_LENGTH:
                errors[key] = _too_long(CATALOG_NAME_LENGTH)
        if errors:
            raise ValidationError(errors)
        return {"code": clean_code, **names}

    def _next_order(self, table: str) -> int:
        return int(self.ws.conn.execute(
            f"SELECT coalesce(max(sort_order), -1) + 1 FROM {table}").fetchone()[0])

    def seed_defaults(self) -> None:
        """First open: the default Vietnamese indicator list and support-item catalogue."""
        with self.ws.transaction() as tx:
            for table, row_id, values in shipped_catalog():
                tx.insert_reference(table, values, row_id)


def _hamlet_name(name: str) -> str:
    clean = nfc(name)
    if not clean:
        raise ValidationError({"name": _("A hamlet needs a name.")})
    _check_length("name", clean, NAME_LENGTH)
    return clean


def _check_length(field: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise ValidationError({field: _too_long(limit)})


def _too_long(limit: int) -> str:
    return _("This is too long: at most {limit} characters.").format(limit=limit)


def _new_hamlet_id(tx: Tx, meta: dict[str, str], name: str) -> str | None:
    """The id every laptop and the hub give this hamlet of the workspace's commune, or None
    (a new uuid7) when the commune is not known yet or a row already has that id (a hamlet
    renamed since it was typed under this name)."""
    commune = meta.get("commune_code", "")
    if not commune.isdigit():
        return None
    wanted = hamlet_id(commune, name)
    taken = tx.conn.execute("SELECT 1 FROM hamlets WHERE id = ?", (wanted,)).fetchone()
    return None if taken else wanted


# -- one row per hamlet ---------------------------------------------------------------------------
def merge_duplicate_hamlets(tx: Tx) -> None:
    """Commit hook: two live hamlets with one folded name become one, and households left on
    a hamlet merged away move to the one that stayed (whether the merge was made here or
    arrived by sync). The survivor is the same on every laptop: first a row the hub has
    (not one still waiting for its first push from here), then the id `hamlet_id` gives the
    name in this commune, then the smaller id. Households move as ordinary synced edits of
    `hamlet_id`, so the rest of the team converges; the other row is deleted (a tombstone
    that syncs), or, if it never left this laptop, removed with its queued insert."""
    conn = tx.conn
    keys = set()
    touched = tx.changes.ids("hamlets")
    if touched:
        keys = {row[0] for row in select_in(
            conn, "SELECT DISTINCT name_key FROM hamlets WHERE id IN ({marks})",
            sorted(touched))}
    households = sorted(tx.changes.created.get("households", set())
                        | tx.changes.updated.get("households", set()))
    if households and conn.execute("SELECT 1 FROM hamlets WHERE deleted = 1 LIMIT 1"
                                   ).fetchone():
        keys.update(row[0] for row in select_in(
            conn, "SELECT DISTINCT m.name_key FROM households h JOIN hamlets m ON "
                  "m.id = h.hamlet_id WHERE m.deleted = 1 AND h.deleted = 0 AND "
                  "h.id IN ({marks})", households))
    if not keys:
        return
    commune = _meta_value(conn, "commune_code")
    for key in sorted(keys):
        rows = conn.execute("SELECT id, deleted FROM hamlets WHERE name_key = ?",
                            (key,)).fetchall()
        live = [row["id"] for row in rows if not row["deleted"]]
        if not live:
            continue
        survivor = min(live, key=lambda row_id: _survivor_rank(conn, commune, key, row_id))
        for other in (row["id"] for row in rows if row["id"] != survivor):
            _move_households(tx, other, survivor)
            if other in live:
                _retire_hamlet(tx, other)


def _survivor_rank(conn: sqlite3.Connection, commune: str, key: str, row_id: str
                   ) -> tuple[bool, bool, str]:
    waiting = conn.execute("SELECT 1 FROM outbox WHERE table_name = 'hamlets' AND row_id = ? "
                           "AND op = 'insert' LIMIT 1", (row_id,)).fetchone() is not None
    canonical = commune.isdigit() and row_id == hamlet_id_of_key(commune, key)
    return waiting, not canonical, row_id


def _move_households(tx: Tx, old: str, new: str) -> None:
    moving = [row[0] for row in tx.conn.execute(
        "SELECT id FROM households WHERE hamlet_id = ?", (old,))]
    for household in moving:
        tx.update("households", household, {"hamlet_id": new})


def _retire_hamlet(tx: Tx, hamlet: str) -> None:
    conn = tx.conn
    never_sent = conn.execute("SELECT 1 FROM outbox WHERE table_name = 'hamlets' AND "
                              "row_id = ? AND op = 'insert' LIMIT 1", (hamlet,)).fetchone()
    if never_sent is None:
        tx.delete("hamlets", hamlet)
        return
    conn.execute("DELETE FROM outbox WHERE table_name = 'hamlets' AND row_id = ?", (hamlet,))
    conn.execute("DELETE FROM hamlets WHERE id = ?", (hamlet,))
    tx.changes.deleted["hamlets"].add(hamlet)


def _meta_value(conn: sqlite3.Connection, key: str) -> str:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row and row[0] is not None else ""
