"""Households and the people in them: validation, storage, personal-data rights."""

from __future__ import annotations

import builtins
import datetime as dt
import re
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from dxkit.core.errors import NotFound, ValidationError
from dxkit.core.fields import (
    FieldType,
    boolean,
    date,
    integer,
    one_of,
    real,
    ref,
    text,
)
from dxkit.core.i18n import _
from dxkit.core.merge import Erasure, Requires, Rules
from dxkit.core.phones import mask_phone, normalize_phone
from dxkit.core.synced import Area, OpResult, SyncedTable
from dxkit.core.text import folded_key, nfc
from dxkit.households import search as search_index
from dxkit.households.catalog import NAME_LENGTH, PHONE, Hamlet
from dxkit.households.cccd import mask_cccd, validate_cccd
from dxkit.households.codes import next_code
from dxkit.households.fields import HOUSEHOLD_EDITABLE, PERSON_EDITABLE, operation_inputs

if TYPE_CHECKING:
    from dxkit.core.synced import Tx
    from dxkit.households.workspace import HouseholdsWorkspace as Workspace

# The limits clean_household and clean_person enforce, and each synced field's type
# (dxkit.core.fields): what the hub and every laptop accept. Folded keys are at most as long
# as what they fold.
CODE_LENGTH, ADDRESS_LENGTH, NOTES_LENGTH, RELATIONSHIP_LENGTH = 40, 500, 2000, 100
HOUSEHOLD_TYPES: dict[str, FieldType] = {
    "code": text(CODE_LENGTH), "code_key": text(CODE_LENGTH),
    "head_name": text(NAME_LENGTH), "head_key": text(NAME_LENGTH), "hamlet_id": ref(),
    "address": text(ADDRESS_LENGTH), "phone": PHONE, "notes": text(NOTES_LENGTH),
    # Inside Vietnam, as clean_household requires.
    "latitude": real(8.0, 24.0, nullable=True), "longitude": real(102.0, 110.0, nullable=True)}
PERSON_TYPES: dict[str, FieldType] = {
    "household_id": ref(), "full_name": text(NAME_LENGTH), "name_key": text(NAME_LENGTH),
    "sex": one_of("M", "F", nullable=True), "birth_date": date(nullable=True),
    # clean_person takes 1900 to this year; the type cannot know this year.
    "birth_year": integer(1900, 2200, nullable=True),
    "relationship": text(RELATIONSHIP_LENGTH), "phone": PHONE,
    "cccd": text(12, r"([0-9]{12})?"), "consent": boolean(),
    "consent_on": date(nullable=True), "consent_by": text(NAME_LENGTH, nullable=True),
    "notes": text(NOTES_LENGTH), "purged": boolean()}
HOUSEHOLD_FIELDS = tuple(HOUSEHOLD_TYPES)
PERSON_FIELDS = tuple(PERSON_TYPES)
PERSONAL_FIELDS = ("full_name", "name_key", "sex", "birth_date", "birth_year", "relationship",
                   "phone", "cccd", "notes")
HEAD_FIELDS = ("head_name", "head_key", "phone")  # a household's fields about its head

# What an erased person's row holds, on every laptop and on the hub, whatever edit of it was
# made elsewhere before or after: nothing personal, no consent, the tombstone and the flag.
ERASED = (*((name, "") for name in ("full_name", "name_key", "relationship", "phone", "cccd",
                                     "notes")),
          *((name, None) for name in ("sex", "birth_date", "birth_year", "consent_on",
                                      "consent_by")),
          ("consent", 0), ("purged", 1), ("deleted", 1))
PERSON_RULES = Rules(
    erasure=Erasure(flag="purged", cleared=ERASED),
    # No citizen ID without consent, after every merge too: a correction of the ID made on
    # one laptop while consent was withdrawn on another is cleared, not kept.
    requires=(Requires("cccd", "consent", ""),),
)

TABLES = (
    SyncedTable("households", "mutable", HOUSEHOLD_FIELDS,
                personal=HEAD_FIELDS, depends_on=("hamlets",), types=HOUSEHOLD_TYPES,
                area=Area.own("hamlet_id")),
    SyncedTable("people", "mutable", PERSON_FIELDS, personal=PERSONAL_FIELDS,
                depends_on=("households",), rules=PERSON_RULES, types=PERSON_TYPES,
                area=Area.via("household_id", "households")),
)


@dataclass(frozen=True)
class Household:
    id: str
    local_id: int
    code: str
    head_name: str
    hamlet_id: str
    hamlet: str
    address: str
    phone: str
    notes: str
    latitude: float | None
    longitude: float | None
    updated_at: str

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("local_id")
        return data


@dataclass(frozen=True)
class Person:
    id: str
    household_id: str
    full_name: str
    sex: str | None
    birth_date: dt.date | None
    birth_year: int | None
    relationship: str
    phone: str
    cccd: str
    consent: bool
    consent_on: dt.date | None
    consent_by: str
    notes: str
    deleted: bool

    @property
    def masked_cccd(self) -> str:
        return mask_cccd(self.cccd)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    def age_on(self, day: dt.date) -> int | None:
        if self.birth_date:
            before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
            return day.year - self.birth_date.year - before_birthday
        return day.year - self.birth_year if self.birth_year else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("birth_date", "consent_on"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


_HOUSEHOLD_SELECT = """
SELECT h.local_id, h.id, h.code, h.head_name, h.hamlet_id, m.name AS hamlet, h.address,
       h.phone, h.notes, h.latitude, h.longitude, h.updated_at
FROM households h JOIN hamlets m ON m.id = h.hamlet_id
"""


def household_from_row(row: sqlite3.Row) -> Household:
    return Household(
        id=row["id"], local_id=row["local_id"], code=row["code"], head_name=row["head_name"],
        hamlet_id=row["hamlet_id"], hamlet=row["hamlet"], address=row["address"],
        phone=row["phone"], notes=row["notes"], latitude=row["latitude"],
        longitude=row["longitude"], updated_at=row["updated_at"],
    )


def person_from_row(row: sqlite3.Row) -> Person:
    return Person(
        id=row["id"], household_id=row["household_id"], full_name=row["full_name"],
        sex=row["sex"], birth_date=_date(row["birth_date"]), birth_year=row["birth_year"],
        relationship=row["relationship"], phone=row["phone"], cccd=row["cccd"],
        consent=bool(row["consent"]), consent_on=_date(row["consent_on"]),
        consent_by=row["consent_by"] or "", notes=row["notes"], deleted=bool(row["deleted"]),
    )


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


# -- validation --------------------------------------------------------------------------------
def clean_household(ws: Workspace, data: Mapping[str, Any], existing_id: str | None = None,
                    head_erased: bool = False,
                    find_hamlet: Callable[[str], Hamlet] | None = None) -> dict[str, Any]:
    """Validate every field at once; the error maps each bad field to a sentence.

    `find_hamlet` replaces the catalogue's lookup (an import resolves each name once)."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    code = nfc(data.get("code")).upper()
    if not code:
        errors["code"] = _("A household needs a code.")
    elif len(code) > CODE_LENGTH:
        errors["code"] = _("A household code has at most 40 characters.")
    else:
        clash = ws.conn.execute(
            "SELECT id FROM households WHERE code_key = ? AND deleted = 0", (folded_key(code),)
        ).fetchone()
        if clash and clash["id"] != existing_id:
            errors["code"] = _("Household code {code} is already used in this commune.").format(
                code=code)
    out.update(code=code, code_key=folded_key(code))
    head = nfc(data.get("head_name"))
    if not head and not head_erased:
        errors["head_name"] = _("Enter the name of the head of household.")
    out.update(head_name=head, head_key=folded_key(head))
    try:
        out["hamlet_id"] = (find_hamlet or ws.catalog.hamlet)(str(data.get("hamlet") or "")).id
    except NotFound as exc:
        errors["hamlet"] = exc.message
    out["address"] = nfc(data.get("address"))
    out["notes"] = nfc(data.get("notes"))
    try:
        out["phone"] = normalize_phone(data.get("phone"))
    except ValidationError as exc:
        errors.update(exc.fields)
    for name, label, low, high in (("latitude", _("latitude"), 8.0, 24.0),
                                   ("longitude", _("longitude"), 102.0, 110.0)):
        value = data.get(name)
        if value in (None, ""):
            out[name] = None
            continue
        try:
            number = float(str(value).replace(",", "."))
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            errors[name] = _("The GPS {name} must be a number between {low} and {high} "
                             "(inside Vietnam).").format(name=label, low=low, high=high)
        out[name] = number
    # The pair rule only when both values are readable: a bad longitude is not the latitude's
    # fault, and the form shows each message next to its own field.
    gps_errors = "latitude" in errors or "longitude" in errors
    if not gps_errors and (out["latitude"] is None) != (out["longitude"] is None):
        errors["latitude"] = _("Give both latitude and longitude, or neither.")
    _check_lengths(out, {"head_name": NAME_LENGTH, "address": ADDRESS_LENGTH,
                         "notes": NOTES_LENGTH}, errors)
    if errors:
        raise ValidationError(errors)
    return out


def _check_lengths(values: Mapping[str, Any], limits: Mapping[str, int],
                   errors: dict[str, str]) -> None:
    for name, limit in limits.items():
        if len(values.get(name) or "") > limit and name not in errors:
            errors[name] = _("This is too long: at most {limit} characters.").format(limit=limit)


# The usual answers to "relationship to the head", as they are written in household books.
HEAD_RELATIONSHIP = "Chủ hộ"
RELATIONSHIPS = (HEAD_RELATIONSHIP, "Vợ", "Chồng", "Con", "Cha", "Mẹ", "Cháu", "Con dâu", "Con rể",
                 "Anh/chị/em", "Ông", "Bà", "Họ hàng khác")

SEXES = {"m": "M", "nam": "M", "male": "M", "f": "F", "nu": "F", "nữ": "F", "female": "F"}


def parse_sex(value: Any) -> str | None:
    text = folded_key(str(value or ""))
    if not text:
        return None
    if text not in SEXES:
        raise ValidationError({"sex": _("Sex must be Nam or Nữ (male or female).")})
    return SEXES[text]


_DAY_FIRST = re.compile(r"([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})")


def parse_birth(value: Any) -> tuple[dt.date | None, int | None]:
    """A birth date (dd/mm/yyyy or ISO) or a birth year alone; older people often know only the
    year."""
    if value in (None, ""):
        return None, None
    if isinstance(value, dt.datetime):
        return value.date(), value.year
    if isinstance(value, dt.date):
        return value, value.year
    if isinstance(value, int | float):
        value = str(int(value))
    text = str(value).strip()
    try:
        if text.isdigit() and len(text) == 4:
            return None, int(text)
        day_first = _DAY_FIRST.fullmatch(text)
        if day_first:  # 05/09/1968, 5.9.1968, 05-09-1968: how Vietnamese write a date
            day, month, year = (int(p) for p in day_first.groups())
            parsed = dt.date(year, month, day)
        else:
            parsed = dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError({"birth": _(
            "Write the birth date as dd/mm/yyyy (for example 05/09/1968), or only the year."
        )}) from None
    return parsed, parsed.year


def clean_person(data: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    name = nfc(data.get("full_name"))
    if not name:
        errors["full_name"] = _("Enter the person's full name.")
    out.update(full_name=name, name_key=folded_key(name))
    try:
        out["sex"] = parse_sex(data.get("sex"))
    except ValidationError as exc:
        errors.update(exc.fields)
        out["sex"] = None
    birth_date, birth_year = None, None
    try:
        if data.get("birth_date") not in (None, ""):
            birth_date, birth_year = parse_birth(data.get("birth_date"))
        elif data.get("birth_year") not in (None, ""):
            birth_date, birth_year = parse_birth(str(data.get("birth_year")))
    except ValidationError as exc:
        errors.update(exc.fields)
    if birth_year is not None and not 1900 <= birth_year <= today.year:
        errors["birth"] = _("The birth year must be between 1900 and {year}.").format(
            year=today.year)
    elif birth_date and birth_date > today:
        errors["birth"] = _("The birth date cannot be in the future.")
    out.update(birth_date=birth_date.isoformat() if birth_date else None, birth_year=birth_year)
    out["relationship"] = nfc(data.get("relationship"))
    out["notes"] = nfc(data.get("notes"))
    try:
        out["phone"] = normalize_phone(data.get("phone"))
    except ValidationError as exc:
        errors.update(exc.fields)
    try:
        consent = parse_consent(data.get("consent"))
    except ValidationError as exc:
        errors.update(exc.fields)
        consent = False
    try:
        out["cccd"] = validate_cccd(data.get("cccd"), birth_year, out.get("sex"))
    except ValidationError as exc:
        errors.update(exc.fields)
        out["cccd"] = ""
    if out.get("cccd") and not consent:
        errors["cccd"] = _("A citizen ID can only be stored once the person has consented to "
                           "their data being stored.")
    out["consent"] = 1 if consent else 0
    _check_lengths(out, {"full_name": NAME_LENGTH, "relationship": RELATIONSHIP_LENGTH,
                         "notes": NOTES_LENGTH}, errors)
    if errors:
        raise ValidationError(errors)
    return out


_YES = {"1", "co", "x", "yes", "y", "true", "dong y"}
_NO = {"", "0", "khong", "no", "n", "false", "none"}


def parse_consent(value: Any) -> bool:
    """Consent is only ever a clear yes; anything unclear is refused, never read as yes."""
    if isinstance(value, bool):
        return value
    text = folded_key(str(value if value is not None else ""))
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValidationError({"consent": _("Consent must be yes (Có) or no (Không).")})


# Which stored columns each operation keyword writes: an update touches only what was given.
HOUSEHOLD_INPUTS = operation_inputs(HOUSEHOLD_EDITABLE)
PERSON_INPUTS = operation_inputs(PERSON_EDITABLE)


def _given(values: Mapping[str, Any], data: Mapping[str, Any],
           inputs: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
    unknown = set(data) - set(inputs)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    columns = {column for key in data for column in inputs[key]}
    return {column: values[column] for column in columns if column in values}


def forget_head(tx: Tx, person_id: str, erased: Mapping[str, Any]) -> None:
    """Clear the household's head fields when the erased person (`erased`: their values just
    before) was its head, and its phone when it was theirs. A local edit: it goes to the
    other laptops, where a head name typed before the erasure arrived is cleared the same
    way. The household keeps no link to its head's row, so "was the head" is read from the
    relationship or from the name."""
    row = tx.conn.execute(
        "SELECT h.id, h.head_key, h.phone FROM households h JOIN people p "
        "ON p.household_id = h.id WHERE p.id = ?", (person_id,)).fetchone()
    if row is None:
        return
    name_key = erased.get("name_key") or ""
    was_head = folded_key(str(erased.get("relationship") or "")) == folded_key(
        HEAD_RELATIONSHIP) or bool(name_key and row["head_key"] == name_key)
    if was_head:
        cleared = dict.fromkeys(HEAD_FIELDS, "")
    elif row["phone"] and row["phone"] == erased.get("phone"):
        cleared = {"phone": ""}
    else:
        return
    tx.update("households", row["id"], cleared)  # writes only what is not empty yet
    # Conflicts of these fields hold the head's values even where they are empty already.
    tx.forget("households", row["id"], cleared)


# -- services ----------------------------------------------------------------------------------
class Households:
    # `list` below is a method (`ws.households.list()`): in this class body the type is
    # spelled `builtins.list`.
    def __init__(self, ws: Workspace):
        self.ws = ws

    def add(self, **data: Any) -> OpResult[Household]:
        with self.ws.transaction() as tx:  # the code stays unique even with two writers
            row_id = tx.insert("households", clean_household(self.ws, data))
        return OpResult(self.get(row_id), tx.changes)

    def update(self, household_id: str, **data: Any) -> OpResult[Household]:
        """Change the given fields only; read, check and write in one transaction so an edit
        made meanwhile by another process is neither lost nor reverted."""
        with self.ws.transaction() as tx:
            current = self.get(household_id)
            merged = {**current.to_dict(), "hamlet": current.hamlet_id, **data}
            # Only an erasure empties the head: the household stays editable until a new
            # head is entered.
            values = clean_household(self.ws, merged, existing_id=household_id,
                                     head_erased=not current.head_name)
            tx.update("households", household_id, _given(values, data, HOUSEHOLD_INPUTS))
        return OpResult(self.get(household_id), tx.changes)

    def suggest_code(self, hamlet_id: str | None) -> str:
        """A free code for a new household of that hamlet, continuing the hamlet's numbering
        or the team's (see codes.py); "" when there is nothing to go on."""
        codes: dict[str, list[str]] = {}
        for row in self.ws.conn.execute(
                "SELECT hamlet_id, code FROM households WHERE deleted = 0"):
            codes.setdefault(row["hamlet_id"], []).append(row["code"])
        names = {h.id: h.name for h in self.ws.catalog.hamlets()}
        return next_code(hamlet_id or "", codes, names)

    def get(self, household_id: str) -> Household:
        row = self.ws.conn.execute(_HOUSEHOLD_SELECT + " WHERE h.id = ?",
                                   (household_id,)).fetchone()
        if row is None:
            raise NotFound(_("No household with id {id}.").format(id=household_id))
        return household_from_row(row)

    def by_code(self, code: str) -> Household:
        row = self.ws.conn.execute(
            _HOUSEHOLD_SELECT + " WHERE h.code_key = ? AND h.deleted = 0", (folded_key(code),)
        ).fetchone()
        if row is None:
            raise NotFound(_("No household with code {code}.").format(code=code))
        return household_from_row(row)

    def find(self, code_or_id: str) -> Household:
        try:
            return self.by_code(code_or_id)
        except NotFound:
            return self.get(code_or_id)

    def local_ids(self, hamlet_id: str | None = None) -> builtins.list[int]:
        """Keys of all live households in list order; rows are fetched by `by_local_ids`."""
        if hamlet_id:
            rows = self.ws.conn.execute(
                "SELECT local_id FROM households INDEXED BY households_hamlet "
                "WHERE deleted = 0 AND hamlet_id = ? ORDER BY code_key", (hamlet_id,))
        else:
            rows = self.ws.conn.execute(
                "SELECT local_id FROM households INDEXED BY households_code "
                "WHERE deleted = 0 ORDER BY code_key")
        return [r[0] for r in rows]

    def by_local_ids(self, local_ids: Sequence[int]) -> builtins.list[Household]:
        if not local_ids:
            return []
        marks = ",".join("?" * len(local_ids))
        rows = self.ws.conn.execute(_HOUSEHOLD_SELECT + f" WHERE h.local_id IN ({marks})",
                                    tuple(local_ids))
        by_key = {r["local_id"]: household_from_row(r) for r in rows}
        return [by_key[k] for k in local_ids if k in by_key]

    def list(self, hamlet_id: str | None = None) -> builtins.list[Household]:
        where = "WHERE h.deleted = 0" + (" AND h.hamlet_id = ?" if hamlet_id else "")
        rows = self.ws.conn.execute(_HOUSEHOLD_SELECT + where + " ORDER BY h.code_key",
                                    (hamlet_id,) if hamlet_id else ())
        return [household_from_row(r) for r in rows]

    def count(self) -> int:
        return int(self.ws.conn.execute("SELECT count(*) FROM households WHERE deleted = 0"
                                        ).fetchone()[0])

    def search_keys(self, query: str, limit: int = 50, hamlet_id: str | None = None
                    ) -> builtins.list[int]:
        """Keys of the households matching a typed query, best first (see search.py)."""
        hits = search_index.search(self.ws.conn, query, limit=limit, hamlet_id=hamlet_id)
        return [hit.local_id for hit in hits]

    def search(self, query: str, limit: int = 50, hamlet_id: str | None = None
               ) -> builtins.list[Household]:
        return self.by_local_ids(self.search_keys(query, limit, hamlet_id))


class People:
    def __init__(self, ws: Workspace):
        self.ws = ws

    def add(self, household_id: str, **data: Any) -> OpResult[Person]:
        with self.ws.transaction() as tx:
            self.ws.households.get(household_id)
            values = clean_person(data, self.ws.today())
            values["household_id"] = household_id
            if values["consent"]:
                values.update(consent_on=self.ws.today().isoformat(), consent_by=self.ws.actor)
            row_id = tx.insert("people", values)
        return OpResult(self.get(row_id), tx.changes)

    def update(self, person_id: str, **data: Any) -> OpResult[Person]:
        """Change the given fields only, read and written in one transaction (see
        Households.update)."""
        with self.ws.transaction() as tx:
            current = self.get(person_id)
            if current.deleted:
                raise NotFound(_("This person's data was deleted."))
            base = current.to_dict()
            merged = {**base, "birth_date": base["birth_date"] or base["birth_year"], **data}
            if "birth_year" in data and "birth_date" not in data:
                merged["birth_date"] = None  # a year alone replaces the stored date
            withdrawn = current.consent and not parse_consent(merged.get("consent"))
            if withdrawn:
                # Withdrawing consent clears the citizen ID instead of refusing the withdrawal.
                merged["cccd"] = ""
            values = clean_person(merged, self.ws.today())
            if values["consent"] != current.consent:
                values.update(consent_on=self.ws.today().isoformat(), consent_by=self.ws.actor)
            tx.update("people", person_id, _given(values, data, PERSON_INPUTS))
        return OpResult(self.get(person_id), tx.changes)

    def get(self, person_id: str) -> Person:
        row = self.ws.conn.execute("SELECT * FROM people WHERE id = ?", (person_id,)).fetchone()
        if row is None:
            raise NotFound(_("No person with id {id}.").format(id=person_id))
        return person_from_row(row)

    def in_household(self, household_id: str) -> list[Person]:
        rows = self.ws.conn.execute(
            "SELECT * FROM people WHERE household_id = ? AND deleted = 0 ORDER BY local_id",
            (household_id,))
        return [person_from_row(r) for r in rows]

    def count(self) -> int:
        return int(self.ws.conn.execute("SELECT count(*) FROM people WHERE deleted = 0"
                                        ).fetchone()[0])

    def export(self, person_id: str) -> dict[str, Any]:
        """Everything stored about one person (the right of access)."""
        person = self.get(person_id)
        conn = self.ws.conn
        household = self.ws.households.get(person.household_id)
        items = conn.execute(
            "SELECT v.id AS visit_id, v.kind, v.visited_at, i.support_item_code, i.outcome, "
            "i.reason FROM visit_items i JOIN visits v ON v.id = i.visit_id "
            "WHERE i.person_id = ? ORDER BY v.visited_at", (person_id,)).fetchall()
        answers = conn.execute(
            "SELECT indicator_code, value, answered_on, recorded_by FROM indicator_answers "
            "WHERE person_id = ? ORDER BY answered_on", (person_id,)).fetchall()
        indicators = conn.execute(
            "SELECT indicator_code, value, as_of FROM person_indicators WHERE person_id = ?",
            (person_id,)).fetchall()
        audit = conn.execute(
            "SELECT at, actor, action, fields FROM audit_log WHERE row_id = ? ORDER BY seq",
            (person_id,)).fetchall()
        return {
            "person": person.to_dict(),
            "household": {"code": household.code, "hamlet": household.hamlet,
                          "address": household.address},
            "support_received": [dict(r) for r in items],
            "indicator_answers": [dict(r) for r in answers],
            "indicators": [dict(r) for r in indicators],
            "changes": [dict(r) for r in audit],
        }

    def delete(self, person_id: str) -> OpResult[Person]:
        """Erase a person: the table's erasure rule clears every personal field here and,
        once synced, everywhere; answer and visit events keep only the tombstoned id. The
        same commit hooks as for an erasure received by sync clear the rest (derived rows,
        the search index, the household's head fields, the review lists)."""
        person = self.get(person_id)
        with self.ws.transaction() as tx:
            tx.delete("people", person_id)
        return OpResult(self.get(person.id), tx.changes)
