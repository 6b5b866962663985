"""Organisations, their members, plots and seasons: the mutable rows a diary hangs on."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from dxkit.core.errors import NotFound, ValidationError
from dxkit.core.i18n import _
from dxkit.core.synced import OpResult
from dxkit.core.text import folded_key, nfc
from dxkit.farm.gs1 import normalize_org_short, suggest_org_short
from dxkit.farm.model import ORG_KINDS, Org, OrgMember, Plot, Season
from dxkit.farm.pesticides import crop_code

if TYPE_CHECKING:
    from dxkit.farm.workspace import FarmWorkspace as Workspace

T = TypeVar("T", Org, Plot, Season, OrgMember)
_COMPANY_PREFIX = re.compile(r"\d{4,12}")
_ORG_INPUTS = ("name", "kind", "short_code", "address", "province_code", "commune_code",
               "gs1_company_prefix", "certification")
_PLOT_INPUTS = ("name", "crop", "area_ha", "growing_area_code", "variety", "location",
                "certification", "member", "latitude", "longitude")


def parse_date(value: Any) -> dt.date | None:
    """A date, an ISO text (2026-11-20) or a Vietnamese one (20/11/2026); None if unreadable."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = nfc(str(value or ""))
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return dt.datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        return None


def parse_number(value: Any) -> float | None:
    """1.5, "1,5" (Vietnamese decimal comma) or "1.234,5"; None when blank; raises ValueError."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return float(value)
    text = nfc(str(value)).replace(" ", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    return float(text)


def find_by_name(items: Sequence[T], name_or_id: str) -> T | None:
    """By id, then by folded name, then by an unambiguous folded-name ending or start."""
    wanted = folded_key(name_or_id)
    for item in items:
        if item.id == name_or_id or folded_key(item.name) == wanted:
            return item
    if not wanted:
        return None
    loose = [i for i in items if folded_key(i.name).endswith(" " + wanted)
             or folded_key(i.name).startswith(wanted + " ")]
    return loose[0] if len(loose) == 1 else None


def named(known: Sequence[T], name_or_id: str, unknown: str) -> T:
    """The item called `name_or_id` (folded match), or NotFound with the `unknown` sentence
    ({name}, {names}) listing what there is."""
    found = find_by_name(known, name_or_id)
    if found is None:
        names = ", ".join(item.name for item in known) or _("none yet")
        raise NotFound(unknown.format(name=name_or_id, names=names))
    return found


class OrgBook:
    """`ws.farm.orgs`: the organisations, their members, plots and seasons."""

    def __init__(self, ws: Workspace):
        self.ws = ws

    def _row(self, table: str, row_id: str) -> sqlite3.Row | None:
        """A row by id, deleted or not: old diary entries still name a removed plot."""
        row: sqlite3.Row | None = self.ws.conn.execute(
            f"SELECT * FROM {table} WHERE id = ?", (row_id,)).fetchone()
        return row

    def _rows_of(self, table: str, org: str | Org | None, order: str) -> list[sqlite3.Row]:
        """The table's live rows, of one organisation when `org` is given."""
        where, args = "deleted = 0", tuple[str, ...]()
        if org is not None:
            where, args = "deleted = 0 AND org_id = ?", (self.get(org).id,)
        return self.ws.conn.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY {order}",
                                    args).fetchall()

    # -- organisations ------------------------------------------------------------------
    def all(self) -> list[Org]:
        """Every organisation, by name."""
        rows = self.ws.conn.execute("SELECT * FROM farm_orgs WHERE deleted = 0 ORDER BY name_key")
        return [Org.from_row(r) for r in rows]

    def get(self, name_or_id: str | Org) -> Org:
        """By id, folded name ("htx my dong") or the short code of its lot codes."""
        if isinstance(name_or_id, Org):
            return name_or_id
        row = self._row("farm_orgs", name_or_id)
        if row is not None:
            return Org.from_row(row)
        known = self.all()
        found = find_by_name(known, name_or_id) or next(
            (o for o in known if o.short_code == nfc(name_or_id).upper()), None)
        if found is None:
            names = ", ".join(o.name for o in known) or _("none yet")
            raise NotFound(_("Unknown organisation “{name}”. Known organisations: {names}."
                             ).format(name=name_or_id, names=names))
        return found

    def add(self, name: str, **fields: Any) -> OpResult[Org]:
        with self.ws.transaction() as tx:
            values = self._clean_org({"name": name, **fields}, None)
            row_id = tx.insert("farm_orgs", values)
        return OpResult(self.get(row_id), tx.changes)

    def update(self, org: str | Org, **fields: Any) -> OpResult[Org]:
        with self.ws.transaction() as tx:
            current = self.get(org)
            values = self._clean_org({**current.to_dict(), **fields}, current.id)
            tx.update("farm_orgs", current.id, {k: values[k] for k in (*fields, "name_key")
                                                if k in values})
        return OpResult(self.get(current.id), tx.changes)

    def _clean_org(self, data: Mapping[str, Any], existing_id: str | None) -> dict[str, Any]:
        unknown = set(data) - {*_ORG_INPUTS, "id"}
        if unknown:
            raise TypeError(f"unknown organisation fields: {sorted(unknown)}")
        errors: dict[str, str] = {}
        name = nfc(data.get("name"))
        if not name:
            errors["name"] = _("An organisation needs a name.")
        elif any(folded_key(o.name) == folded_key(name) and o.id != existing_id
                 for o in self.all()):
            errors["name"] = _("There is already an organisation called {name}.").format(
                name=name)
        kind = nfc(data.get("kind")) or "cooperative"
        if kind not in ORG_KINDS:
            errors["kind"] = _("Unknown kind of organisation {kind}.").format(kind=kind)
        short = nfc(data.get("short_code")) or (suggest_org_short(name) if name else "")
        try:
            short = normalize_org_short(short)
        except ValidationError as exc:
            errors["short_code"] = exc.fields["org_short"]
        prefix = nfc(data.get("gs1_company_prefix")).replace(" ", "")
        if prefix and not _COMPANY_PREFIX.fullmatch(prefix):
            errors["gs1_company_prefix"] = _("A GS1 company prefix has 4 to 12 digits (in "
                                             "Vietnam it starts with 893).")
        if errors:
            raise ValidationError(errors)
        return {"name": name, "name_key": folded_key(name), "kind": kind, "short_code": short,
                "address": nfc(data.get("address")),
                "province_code": nfc(str(data.get("province_code") or "")),
                "commune_code": nfc(str(data.get("commune_code") or "")),
                "gs1_company_prefix": prefix, "certification": nfc(data.get("certification"))}

    # -- members ------------------------------------------------------------------------
    def members(self, org: str | Org | None = None) -> list[OrgMember]:
        return [OrgMember.from_row(r) for r in self._rows_of("farm_org_members", org,
                                                             "name_key")]

    def member(self, name_or_id: str, org: str | Org | None = None) -> OrgMember:
        return named(self.members(org), name_or_id,
                     _("Unknown member “{name}”. Members: {names}."))

    def add_member(self, org: str | Org, name: str = "", *, person_id: str | None = None,
                   role: str = "") -> OpResult[OrgMember]:
        """A member of the organisation; `person_id` links one of the workspace's people (the
        name then defaults to theirs)."""
        with self.ws.transaction() as tx:
            owner = self.get(org)
            clean = nfc(name)
            if person_id:
                try:
                    person = self.ws.people.get(person_id)
                except NotFound as exc:
                    raise ValidationError({"person": exc.message}) from exc
                clean = clean or person.full_name
            if not clean:
                raise ValidationError({"name": _("A member needs a name.")})
            row_id = tx.insert("farm_org_members", {
                "org_id": owner.id, "name": clean, "name_key": folded_key(clean),
                "person_id": person_id or None, "role": nfc(role)})
        return OpResult(self.member(row_id), tx.changes)

    # -- plots --------------------------------------------------------------------------
    def plots(self, org: str | Org | None = None) -> list[Plot]:
        return [Plot.from_row(r) for r in self._rows_of("plots", org, "name_key")]

    def plot(self, name_or_id: str | Plot, org: str | Org | None = None) -> Plot:
        if isinstance(name_or_id, Plot):
            return name_or_id
        row = self._row("plots", name_or_id)
        if row is not None:
            return Plot.from_row(row)
        return named(self.plots(org), name_or_id,
                     _("Unknown plot “{name}”. Known plots: {names}."))

    def add_plot(self, org: str | Org, name: str, *, crop: str, **fields: Any) -> OpResult[Plot]:
        with self.ws.transaction() as tx:
            owner = self.get(org)
            values = self._clean_plot(owner, {"name": name, "crop": crop, **fields}, None)
            row_id = tx.insert("plots", {"org_id": owner.id, **values})
        return OpResult(self.plot(row_id), tx.changes)

    def update_plot(self, plot: str | Plot, **fields: Any) -> OpResult[Plot]:
        with self.ws.transaction() as tx:
            current = self.plot(plot)
            merged = {**{k: v for k, v in current.to_dict().items() if k in _PLOT_INPUTS},
                      "member": current.member_id, **fields}
            values = self._clean_plot(self.get(current.org_id), merged, current.id)
            given = {"member_id" if k == "member" else k for k in fields} | {"name_key"}
            tx.update("plots", current.id, {k: v for k, v in values.items() if k in given})
        return OpResult(self.plot(current.id), tx.changes)

    def _clean_plot(self, org: Org, data: Mapping[str, Any], existing_id: str | None
                    ) -> dict[str, Any]:
        unknown = set(data) - set(_PLOT_INPUTS)
        if unknown:
            raise TypeError(f"unknown plot fields: {sorted(unknown)}")
        errors: dict[str, str] = {}
        name = nfc(data.get("name"))
        if not name:
            errors["name"] = _("A plot needs a name.")
        elif any(folded_key(p.name) == folded_key(name) and p.id != existing_id
                 for p in self.plots(org)):
            errors["name"] = _("{org} already has a plot called {name}.").format(
                org=org.name, name=name)
        crop = self._crop_code(data.get("crop"), errors)
        area = _number_field(data.get("area_ha"), "area_ha", errors)
        if area is not None and not 0 < area <= 100_000:
            errors["area_ha"] = _("The area must be more than 0 ha.")
        latitude = _number_field(data.get("latitude"), "latitude", errors)
        longitude = _number_field(data.get("longitude"), "longitude", errors)
        if (latitude is None) != (longitude is None) and "latitude" not in errors:
            errors["latitude"] = _("Give both latitude and longitude, or neither.")
        member_id = None
        if data.get("member"):
            try:
                member_id = self.member(str(data["member"]), org).id
            except NotFound as exc:
                errors["member"] = exc.message
        if errors:
            raise ValidationError(errors)
        return {"name": name, "name_key": folded_key(name), "crop": crop, "area_ha": area,
                "growing_area_code": nfc(data.get("growing_area_code")),
                "variety": nfc(data.get("variety")), "location": nfc(data.get("location")),
                "certification": nfc(data.get("certification")), "member_id": member_id,
                "latitude": latitude, "longitude": longitude}

    def _crop_code(self, value: Any, errors: dict[str, str]) -> str:
        text = nfc(str(value or ""))
        if not text:
            errors["crop"] = _("Choose the crop.")
            return ""
        try:
            return crop_code(text)
        except NotFound as exc:
            errors["crop"] = exc.message
            return text

    # -- seasons ------------------------------------------------------------------------
    def seasons(self, org: str | Org | None = None) -> list[Season]:
        return [Season.from_row(r) for r in self._rows_of("seasons", org,
                                                          "starts_on DESC, name_key")]

    def season(self, name_or_id: str | Season, org: str | Org | None = None) -> Season:
        if isinstance(name_or_id, Season):
            return name_or_id
        row = self._row("seasons", name_or_id)
        if row is not None:
            return Season.from_row(row)
        return named(self.seasons(org), name_or_id,
                     _("Unknown season “{name}”. Known seasons: {names}."))

    def add_season(self, org: str | Org, name: str, *, starts_on: Any, ends_on: Any = None,
                   crop: str = "") -> OpResult[Season]:
        """A growing season, e.g. "Đông Xuân 2026–2027" from 2026-11-15 to 2027-03-31."""
        with self.ws.transaction() as tx:
            owner = self.get(org)
            errors: dict[str, str] = {}
            clean = nfc(name)
            if not clean:
                errors["name"] = _("A season needs a name, for example Đông Xuân 2026–2027.")
            elif any(folded_key(s.name) == folded_key(clean) for s in self.seasons(owner)):
                errors["name"] = _("{org} already has a season called {name}.").format(
                    org=owner.name, name=clean)
            start, end = parse_date(starts_on), parse_date(ends_on) if ends_on else None
            if start is None:
                errors["starts_on"] = _("Give the first day of the season (dd/mm/yyyy).")
            if ends_on and end is None:
                errors["ends_on"] = _("The last day is not a date (dd/mm/yyyy).")
            elif start and end and end < start:
                errors["ends_on"] = _("The season cannot end before it starts.")
            crop_value = self._crop_code(crop, errors) if nfc(crop) else ""
            if errors:
                raise ValidationError(errors)
            assert start is not None
            row_id = tx.insert("seasons", {
                "org_id": owner.id, "name": clean, "name_key": folded_key(clean),
                "crop": crop_value, "starts_on": start.isoformat(),
                "ends_on": end.isoformat() if end else None})
        return OpResult(self.season(row_id), tx.changes)


def _number_field(value: Any, name: str, errors: dict[str, str]) -> float | None:
    try:
        return parse_number(value)
    except ValueError:
        errors[name] = _("Enter a number, for example 1,5.")
        return None
