"""Support visits: immutable events, corrections that amend or void, and follow-ups."""

from __future__ import annotations

import builtins
import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from dxkit.core.errors import NotFound, ValidationError
from dxkit.core.fields import FieldType, date, json_list, one_of, ref, text, timestamp
from dxkit.core.i18n import _
from dxkit.core.sqlbatch import select_in
from dxkit.core.synced import Area, OpResult, SyncedTable
from dxkit.core.text import nfc
from dxkit.households import followups
from dxkit.households.catalog import CODE_PATTERN, NAME_LENGTH
from dxkit.households.followups import Closure

if TYPE_CHECKING:
    from dxkit.households.workspace import HouseholdsWorkspace as Workspace

TEXT_LENGTH = 2000  # a visit's notes, a correction's reason, why support was not done
# Each synced field's type (dxkit.core.fields): what the hub and every laptop accept.
VISIT_TYPES: dict[str, FieldType] = {
    "household_id": ref(), "kind": one_of("visit", "amend", "void"),
    "corrects": ref(nullable=True), "visited_at": timestamp(),
    "member_ids": json_list(10_000),  # the team members' ids
    "notes": text(TEXT_LENGTH), "follow_up_on": date(nullable=True),
    "reason": text(TEXT_LENGTH), "recorded_by": text(NAME_LENGTH)}
VISIT_ITEM_TYPES: dict[str, FieldType] = {
    "visit_id": ref(), "person_id": ref(nullable=True),
    "support_item_code": text(40, CODE_PATTERN),
    "outcome": one_of("done", "partly", "not_done"), "reason": text(TEXT_LENGTH)}

TABLES = (
    SyncedTable("visits", "event", tuple(VISIT_TYPES), depends_on=("households",),
                types=VISIT_TYPES, area=Area.via("household_id", "households")),
    SyncedTable("visit_items", "event", tuple(VISIT_ITEM_TYPES),
                depends_on=("visits", "people"), types=VISIT_ITEM_TYPES,
                area=Area.via("visit_id", "visits")),
)

class Keep:
    """Marks an amend argument left out: keep the original's value (None means clear)."""


KEEP = Keep()

Outcome = Literal["done", "partly", "not_done"]
OUTCOMES: tuple[Outcome, ...] = ("done", "partly", "not_done")

# A visit is effective unless it is a void or a later correction names it.
EFFECTIVE = ("v.kind != 'void' AND NOT EXISTS "
             "(SELECT 1 FROM visits c WHERE c.corrects = v.id)")


def outcome_label(outcome: str) -> str:
    return {"done": _("done"), "partly": _("partly done"), "not_done": _("not done")}[outcome]


@dataclass(frozen=True)
class VisitItem:
    support_item_code: str
    outcome: Outcome
    person_id: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class Visit:
    id: str
    household_id: str
    kind: str
    corrects: str | None
    visited_at: dt.datetime
    member_ids: tuple[str, ...]
    notes: str
    follow_up_on: dt.date | None
    reason: str
    recorded_by: str
    created_at: str
    items: tuple[VisitItem, ...] = ()
    superseded_by: tuple[str, ...] = field(default=())

    @property
    def effective(self) -> bool:
        return self.kind != "void" and not self.superseded_by

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "household_id": self.household_id, "kind": self.kind,
            "corrects": self.corrects, "visited_at": self.visited_at.isoformat(),
            "member_ids": list(self.member_ids), "notes": self.notes,
            "follow_up_on": self.follow_up_on.isoformat() if self.follow_up_on else None,
            "reason": self.reason, "recorded_by": self.recorded_by,
            "effective": self.effective, "superseded_by": list(self.superseded_by),
            "items": [{"person_id": i.person_id, "support_item_code": i.support_item_code,
                       "outcome": i.outcome, "reason": i.reason} for i in self.items],
        }


@dataclass(frozen=True)
class FollowUp:
    visit_id: str
    household_id: str
    household_code: str
    head_name: str
    hamlet_id: str
    hamlet: str
    due_on: dt.date
    visited_at: dt.datetime
    member_ids: tuple[str, ...]
    notes: str
    overdue_days: int  # > 0 overdue, 0 due today, < 0 due in that many days
    # The household's phone and address in full: a follow-up is worked by calling or going
    # there (see Visits.follow_ups on why the phone is not masked here).
    phone: str = ""
    address: str = ""
    # What the visit left partly or not done, each support item once: its name in the
    # current language (what people read), and its code (for scripts).
    pending: tuple[str, ...] = ()
    pending_codes: tuple[str, ...] = ()
    closed: Closure | None = None  # the close that settled it without a visit, if any

    @property
    def overdue(self) -> bool:
        return self.overdue_days > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "visit_id": self.visit_id, "household_id": self.household_id,
            "code": self.household_code, "head_name": self.head_name,
            "hamlet_id": self.hamlet_id, "hamlet": self.hamlet,
            "due_on": self.due_on.isoformat(), "visited_at": self.visited_at.isoformat(),
            "member_ids": list(self.member_ids), "notes": self.notes,
            "overdue": self.overdue, "overdue_days": self.overdue_days,
            "phone": self.phone, "address": self.address, "pending": list(self.pending),
            "pending_codes": list(self.pending_codes),
            "closed": self.closed.to_dict() if self.closed else None,
        }


@dataclass(frozen=True)
class PendingItem:
    """Support that a household's visits left open: its latest outcome is not "done"."""

    person_id: str | None  # None: help for the household as a whole
    support_item_code: str
    outcome: Outcome  # "partly" or "not_done", as last recorded
    reason: str
    visit_id: str  # the visit that left it open
    visited_at: dt.datetime
    from_last_visit: bool  # left by the household's latest visit: what a return is for


def open_items(visits: Sequence[Visit], present: Iterable[str]) -> list[PendingItem]:
    """The items whose latest outcome, over the effective `visits`, is partly or not done.

    A later "done" for the same person and item closes it; a person no longer among
    `present` (moved away, data erased) has nothing pending. Corrections and voids count as
    they do everywhere else: only effective visits are read."""
    people = set(present)
    effective = sorted((v for v in visits if v.effective),
                       key=lambda v: (v.visited_at, v.created_at))
    last_id = effective[-1].id if effective else None
    latest: dict[tuple[str | None, str], PendingItem] = {}
    for visit in effective:
        for item in visit.items:
            latest[(item.person_id, item.support_item_code)] = PendingItem(
                item.person_id, item.support_item_code, item.outcome, item.reason, visit.id,
                visit.visited_at, visit.id == last_id)
    return [item for item in latest.values()
            if item.outcome != "done" and (item.person_id is None or item.person_id in people)]


def _visit_from_row(row: sqlite3.Row, items: Sequence[VisitItem], superseded: Sequence[str]
                    ) -> Visit:
    return Visit(
        id=row["id"], household_id=row["household_id"], kind=row["kind"],
        corrects=row["corrects"], visited_at=dt.datetime.fromisoformat(row["visited_at"]),
        member_ids=tuple(json.loads(row["member_ids"])), notes=row["notes"],
        follow_up_on=dt.date.fromisoformat(row["follow_up_on"]) if row["follow_up_on"] else None,
        reason=row["reason"], recorded_by=row["recorded_by"], created_at=row["created_at"],
        items=tuple(items), superseded_by=tuple(superseded),
    )


class Visits:
    # `list` below is a method (`ws.visits.list()`): in this class body the type is
    # spelled `builtins.list`.
    def __init__(self, ws: Workspace):
        self.ws = ws

    # -- writing ------------------------------------------------------------------------
    def add(self, household_id: str, items: Sequence[VisitItem], *,
            visited_at: dt.datetime | None = None, member_ids: Sequence[str] = (),
            notes: str = "", follow_up_on: dt.date | None = None) -> OpResult[Visit]:
        return self._record("visit", None, household_id, items, visited_at, member_ids, notes,
                            follow_up_on, "")

    def amend(self, visit_id: str, items: Sequence[VisitItem], *, reason: str,
              visited_at: dt.datetime | None = None, member_ids: Sequence[str] | None = None,
              notes: str | None = None, follow_up_on: dt.date | Keep | None = KEEP
              ) -> OpResult[Visit]:
        """A correction carrying the full corrected content; the original stays in history.
        Fields not given keep the original's value; `follow_up_on=None` clears the follow-up."""
        with self.ws.transaction():  # no other writer can correct this version in between
            original = self._correctable(visit_id, reason)
            return self._record(
                "amend", visit_id, original.household_id, items, visited_at or original.visited_at,
                member_ids if member_ids is not None else original.member_ids,
                notes if notes is not None else original.notes,
                original.follow_up_on if isinstance(follow_up_on, Keep) else follow_up_on, reason)

    def void(self, visit_id: str, *, reason: str) -> OpResult[Visit]:
        with self.ws.transaction():
            original = self._correctable(visit_id, reason)
            return self._record("void", visit_id, original.household_id, (), original.visited_at,
                                original.member_ids, "", None, reason)

    def _correctable(self, visit_id: str, reason: str) -> Visit:
        original = self.get(visit_id)
        if not original.effective:
            raise ValidationError({"visit": _(
                "This visit was already corrected or voided; correct the latest version.")})
        if not nfc(reason):
            raise ValidationError({"reason": _("Say why the visit is being corrected.")})
        return original

    def _record(self, kind: str, corrects: str | None, household_id: str,
                items: Sequence[VisitItem], visited_at: dt.datetime | None,
                member_ids: Sequence[str], notes: str, follow_up_on: dt.date | None,
                reason: str) -> OpResult[Visit]:
        # Read and check inside the write transaction: nothing can change in between.
        with self.ws.transaction() as tx:
            household = self.ws.households.get(household_id)
            when = (visited_at or self.ws.now()).replace(microsecond=0)
            self._validate(household.id, items, when, member_ids, follow_up_on, kind)
            _check_lengths(notes, reason, items)
            visit_id = tx.append("visits", {
                "household_id": household.id, "kind": kind, "corrects": corrects,
                "visited_at": when.isoformat(), "member_ids": json.dumps(list(member_ids)),
                "notes": nfc(notes), "follow_up_on": follow_up_on.isoformat()
                if follow_up_on else None, "reason": nfc(reason), "recorded_by": self.ws.actor,
            })
            for item in items:
                tx.append("visit_items", {
                    "visit_id": visit_id, "person_id": item.person_id,
                    "support_item_code": item.support_item_code, "outcome": item.outcome,
                    "reason": nfc(item.reason),
                })
        return OpResult(self.get(visit_id), tx.changes)

    def _validate(self, household_id: str, items: Sequence[VisitItem], when: dt.datetime,
                  member_ids: Sequence[str], follow_up_on: dt.date | None, kind: str) -> None:
        errors: dict[str, str] = {}
        if when > self.ws.now() + dt.timedelta(hours=1):
            errors["visited_at"] = _("The visit time cannot be in the future.")
        known_members = {m.id for m in self.ws.catalog.members(include_inactive=True)}
        if kind != "void" and not member_ids:
            errors["members"] = _("Choose the team member(s) who made the visit.")
        elif kind != "void" and set(member_ids) - known_members:
            # (A void keeps the voided visit's members, who may be another team's: a commune
            # team voids a visit a hamlet team recorded.)
            errors["members"] = _("One of the team members is unknown.")
        if follow_up_on and follow_up_on < when.date():
            errors["follow_up_on"] = _("The follow-up date cannot be before the visit.")
        if kind != "void" and not items:
            errors["items"] = _("Tick at least one kind of support given.")
        codes = {s.code for s in self.ws.catalog.support_items()}
        residents = {p.id for p in self.ws.people.in_household(household_id)}
        for item in items:
            if item.support_item_code not in codes:
                errors["items"] = _("Unknown support item {code}.").format(
                    code=item.support_item_code)
            elif item.outcome not in OUTCOMES:
                errors["items"] = _("The outcome must be done, partly done or not done.")
            elif item.person_id is not None and item.person_id not in residents:
                errors["items"] = _("A person in the visit does not belong to this household.")
            elif item.outcome == "not_done" and not nfc(item.reason):
                errors["items"] = _("Give a reason for support that was not done.")
        if errors:
            raise ValidationError(errors)

    # -- reading ------------------------------------------------------------------------
    def get(self, visit_id: str) -> Visit:
        visits = self._load("v.id = ?", (visit_id,))
        if not visits:
            raise NotFound(_("No visit with id {id}.").format(id=visit_id))
        return visits[0]

    def history(self, household_id: str) -> builtins.list[Visit]:
        """Every event for a household, corrections included, newest first."""
        return self._load("v.household_id = ?", (household_id,), order="v.visited_at DESC, "
                          "v.created_at DESC")

    def pending(self, household_id: str) -> builtins.list[PendingItem]:
        """What the household's visits left partly or not done, still open, person by person:
        the next visit starts from these."""
        present = [p.id for p in self.ws.people.in_household(household_id)]
        return open_items(self.history(household_id), present)

    def list(self, *, since: dt.date | None = None, until: dt.date | None = None,
             hamlet_id: str | None = None, member_id: str | None = None,
             include_corrected: bool = False, limit: int | None = None) -> builtins.list[Visit]:
        where, args = ["1 = 1"], []
        if not include_corrected:
            where.append(EFFECTIVE)
        if since:
            where.append("v.visited_at >= ?")
            args.append(since.isoformat())
        if until:
            where.append("v.visited_at < ?")
            args.append((until + dt.timedelta(days=1)).isoformat())
        if hamlet_id:
            where.append("v.household_id IN (SELECT id FROM households WHERE hamlet_id = ?)")
            args.append(hamlet_id)
        if member_id:
            where.append("EXISTS (SELECT 1 FROM json_each(v.member_ids) WHERE value = ?)")
            args.append(member_id)
        return self._load(" AND ".join(where), tuple(args), order="v.visited_at DESC",
                          limit=limit)

    def _load(self, where: str, args: tuple[str, ...], order: str = "v.visited_at",
              limit: int | None = None) -> builtins.list[Visit]:
        conn = self.ws.conn
        sql = f"SELECT v.* FROM visits v WHERE {where} ORDER BY {order}"
        if limit:
            sql += f" LIMIT {int(limit)}"
        rows = conn.execute(sql, args).fetchall()
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        items: dict[str, list[VisitItem]] = {i: [] for i in ids}
        superseded: dict[str, list[str]] = {i: [] for i in ids}
        for r in select_in(conn, "SELECT visit_id, person_id, support_item_code, outcome, reason "
                                 "FROM visit_items WHERE visit_id IN ({marks}) ORDER BY rowid",
                           ids):
            items[r["visit_id"]].append(VisitItem(r["support_item_code"], r["outcome"],
                                                  r["person_id"], r["reason"]))
        for r in select_in(conn, "SELECT id, corrects FROM visits WHERE corrects IN ({marks})",
                           ids):
            superseded[r["corrects"]].append(r["id"])
        return [_visit_from_row(r, items[r["id"]], superseded[r["id"]]) for r in rows]

    # -- follow-ups ---------------------------------------------------------------------
    def follow_ups(self, *, today: dt.date | None = None, within_days: int = 7,
                   hamlet_id: str | None = None, member_id: str | None = None,
                   include_closed: bool = False) -> builtins.list[FollowUp]:
        """Follow-ups due within `within_days` or overdue, and not yet met by a later visit
        nor closed (`include_closed`: the closed ones too, with their close).

        Each carries the household's phone in full, unlike the household list, which masks
        it (DOMAIN.md, Law 91/2025): calling is what this list is for, it names only the
        households the team has to reach now, and the number is the one the household gave
        the team for that. Citizen IDs never appear here."""
        today = today or self.ws.today()
        horizon = (today + dt.timedelta(days=within_days)).isoformat()
        where, args = ["f.due_on <= ?", "h.deleted = 0"], [horizon]
        if not include_closed:
            where.append("f.closed_by IS NULL")
        if hamlet_id:
            where.append("h.hamlet_id = ?")
            args.append(hamlet_id)
        if member_id:
            where.append("EXISTS (SELECT 1 FROM json_each(v.member_ids) WHERE value = ?)")
            args.append(member_id)
        return self._follow_ups(" AND ".join(where), args, today,
                                index="INDEXED BY open_follow_ups_due")

    def follow_up(self, visit_id: str, *, today: dt.date | None = None) -> FollowUp:
        """The follow-up this visit leaves standing (closed or not); a visit a later one met,
        corrected or voided has none."""
        self._standing(visit_id)
        found = self._follow_ups("f.visit_id = ?", [visit_id], today or self.ws.today())
        if not found:
            raise ValidationError({"follow_up": _(
                "This visit has no follow-up still standing: a later visit met it, or the "
                "visit was corrected or voided.")})
        return found[0]

    def follow_up_of(self, household_id: str, *, today: dt.date | None = None) -> FollowUp:
        """The household's standing follow-up (closed or not)."""
        household = self.ws.households.get(household_id)
        found = self._follow_ups("f.household_id = ?", [household.id],
                                 today or self.ws.today())
        if not found:
            raise ValidationError({"follow_up": _(
                "Household {code} has no follow-up standing.").format(code=household.code)})
        return found[0]

    def close_follow_up(self, visit_id: str, reason: str, *, note: str = "",
                        member_id: str | None = None) -> OpResult[Closure]:
        """Close the follow-up this visit set, without a visit: `reason` is one of
        followups.REASONS ("other" needs a note). It leaves the due and overdue lists; a
        reopen brings it back (followups.py says how laptops agree). Returns the close."""
        with self.ws.transaction() as tx:
            # Read from the events, not from open_follow_ups: inside a caller's transaction
            # the derived table is brought up to date only at its commit.
            self._standing(visit_id)
            errors: dict[str, str] = {}
            if followups.standing_closes(self.ws.conn, visit_id):
                errors["follow_up"] = _("This follow-up is already closed.")
            clean = nfc(note)
            if reason not in followups.REASONS:
                errors["reason"] = _("Choose why the follow-up is closed.")
            elif reason == "other" and not clean:
                errors["note"] = _("Say in the note why the follow-up is closed.")
            if len(clean) > followups.NOTE_LENGTH:
                errors["note"] = _("This is too long: at most {limit} characters.").format(
                    limit=followups.NOTE_LENGTH)
            recorder = self._recorder(member_id, errors)
            if errors:
                raise ValidationError(errors)
            close_id = tx.append("follow_up_closures", {
                "visit_id": visit_id, "kind": "close", "corrects": None, "reason": reason,
                "note": clean, "recorded_at": self.ws.now().replace(microsecond=0).isoformat(),
                "member_id": recorder})
            close = followups.closure(self.ws.conn, close_id)
        return OpResult(close, tx.changes)

    def reopen_follow_up(self, visit_id: str, *, member_id: str | None = None
                         ) -> OpResult[builtins.list[Closure]]:
        """Undo the close(s) of this visit's follow-up: it is due again as it was. Returns
        the reopen events (one per close undone)."""
        with self.ws.transaction() as tx:
            self._standing(visit_id)
            closes = followups.standing_closes(self.ws.conn, visit_id)
            errors: dict[str, str] = {}
            if not closes:
                errors["follow_up"] = _("This follow-up is not closed.")
            recorder = self._recorder(member_id, errors)
            if errors:
                raise ValidationError(errors)
            when = self.ws.now().replace(microsecond=0).isoformat()
            reopened = [followups.closure(self.ws.conn, tx.append("follow_up_closures", {
                "visit_id": close.visit_id, "kind": "reopen", "corrects": close.id,
                "reason": None, "note": "", "recorded_at": when, "member_id": recorder}))
                for close in closes]
        return OpResult(reopened, tx.changes)

    def _standing(self, visit_id: str) -> Visit:
        """The visit, if it is its household's latest effective one and set a follow-up."""
        visit = self.get(visit_id)
        latest = self.ws.conn.execute(_LATEST_EFFECTIVE, (visit.household_id,)).fetchone()
        if latest is None or latest[0] != visit_id or not latest[1]:
            raise ValidationError({"follow_up": _(
                "This visit has no follow-up still standing: a later visit met it, or the "
                "visit was corrected or voided.")})
        return visit

    def _recorder(self, member_id: str | None, errors: dict[str, str]) -> str | None:
        """The team member a close or reopen is recorded for: the one given, else the one
        chosen in the settings (if still known), else none."""
        known = {m.id for m in self.ws.catalog.members(include_inactive=True)}
        if member_id is not None:
            if member_id not in known:
                errors["member"] = _("One of the team members is unknown.")
            return member_id
        chosen = self.ws.settings.get("current_member_id")
        return chosen if chosen in known else None

    def _follow_ups(self, where: str, args: Sequence[str], today: dt.date,
                    index: str = "") -> builtins.list[FollowUp]:
        rows = self.ws.conn.execute(
            "SELECT v.id, v.household_id, h.code, h.head_name, h.hamlet_id, m.name AS hamlet,"
            " h.phone, h.address, f.due_on, f.closed_by, v.visited_at, v.member_ids, v.notes "
            f"FROM open_follow_ups f {index} "
            "JOIN visits v ON v.id = f.visit_id JOIN households h ON h.id = f.household_id "
            "JOIN hamlets m ON m.id = h.hamlet_id "
            f"WHERE {where} ORDER BY f.due_on, h.code_key", tuple(args)).fetchall()
        pending = self._pending_codes(r["id"] for r in rows)
        names = {i.code: i.name for i in self.ws.catalog.support_items(include_retired=True)}
        closes = {c.id: c for c in (followups.closure_from_row(r) for r in select_in(
            self.ws.conn, "SELECT * FROM follow_up_closures WHERE id IN ({marks})",
            [r["closed_by"] for r in rows if r["closed_by"]]))}
        result = []
        for r in rows:
            due = dt.date.fromisoformat(r["due_on"])
            codes = pending.get(r["id"], ())
            result.append(FollowUp(
                visit_id=r["id"], household_id=r["household_id"], household_code=r["code"],
                head_name=r["head_name"], hamlet_id=r["hamlet_id"], hamlet=r["hamlet"],
                due_on=due,
                visited_at=dt.datetime.fromisoformat(r["visited_at"]),
                member_ids=tuple(json.loads(r["member_ids"])), notes=r["notes"],
                overdue_days=(today - due).days, phone=r["phone"], address=r["address"],
                pending=tuple(names.get(code, code) for code in codes), pending_codes=codes,
                closed=closes.get(r["closed_by"]) if r["closed_by"] else None))
        return result

    def _pending_codes(self, visit_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """Per visit, the support items it left partly or not done for someone still in the
        household (or for the household as a whole), each once, in the order recorded.

        A follow-up's visit is its household's latest effective one, so these are exactly
        the household's pending items `from_last_visit` (Visits.pending, open_items); read
        here for a whole list at once."""
        latest: dict[str, dict[tuple[str | None, str], str]] = {}
        for r in select_in(
                self.ws.conn,
                "SELECT i.visit_id, i.person_id, i.support_item_code, i.outcome, "
                "i.person_id IS NULL OR p.id IS NOT NULL AS present "
                "FROM visit_items i JOIN visits v ON v.id = i.visit_id "
                "LEFT JOIN people p ON p.id = i.person_id AND p.household_id = v.household_id "
                "AND p.deleted = 0 WHERE i.visit_id IN ({marks}) ORDER BY i.rowid",
                builtins.list(visit_ids)):
            outcome = r["outcome"] if r["present"] else "done"  # gone: nothing to do for them
            latest.setdefault(r["visit_id"], {})[(r["person_id"], r["support_item_code"])] = \
                outcome
        return {visit_id: tuple(dict.fromkeys(code for (_person, code), outcome in items.items()
                                              if outcome != "done"))
                for visit_id, items in latest.items()}


def _check_lengths(notes: str, reason: str, items: Sequence[VisitItem]) -> None:
    """The texts of a visit fit their synced fields (VISIT_TYPES)."""
    too_long = _("This is too long: at most {limit} characters.").format(limit=TEXT_LENGTH)
    errors = {name: too_long for name, value in (("notes", notes), ("reason", reason))
              if len(nfc(value)) > TEXT_LENGTH}
    if any(len(nfc(item.reason)) > TEXT_LENGTH for item in items):
        errors["items"] = too_long
    if errors:
        raise ValidationError(errors)


_LATEST_EFFECTIVE = f"""
SELECT v.id, v.follow_up_on FROM visits v INDEXED BY visits_latest
WHERE v.household_id = ? AND {EFFECTIVE}
ORDER BY v.visited_at DESC, v.created_at DESC LIMIT 1
"""


def refresh_follow_ups(conn: sqlite3.Connection, household_ids: Iterable[str] | None = None
                       ) -> None:
    """Re-derive the standing follow-up of these households (or of all) from their visits,
    and the close that settled it, if any (followups.py)."""
    if household_ids is None:
        conn.execute("DELETE FROM open_follow_ups")
        household_ids = [r[0] for r in conn.execute("SELECT DISTINCT household_id FROM visits")]
    standing: list[tuple[str, str, str, str | None]] = []
    met: list[tuple[str]] = []
    for household_id in household_ids:
        latest = conn.execute(_LATEST_EFFECTIVE, (household_id,)).fetchone()
        if latest is not None and latest[1]:
            standing.append((household_id, latest[0], latest[1],
                             followups.closed_by(conn, latest[0])))
        else:
            met.append((household_id,))
    conn.executemany(
        "INSERT INTO open_follow_ups (household_id, visit_id, due_on, closed_by) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (household_id) DO UPDATE SET "
        "visit_id = excluded.visit_id, due_on = excluded.due_on, "
        "closed_by = excluded.closed_by", standing)
    conn.executemany("DELETE FROM open_follow_ups WHERE household_id = ?", met)
