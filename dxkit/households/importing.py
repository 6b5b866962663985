"""Importing households and people from a spreadsheet: a dry run first, then all or nothing.

`plan_import` reads the file (see spreadsheets.py), validates every row with the same
validators the forms use, and says what would happen to each household and person without
writing anything. `apply_import` re-plans inside one write transaction and applies the plan
only if it has no errors. Matching makes imports idempotent: households by folded code,
people within a household by CCCD when given, else by folded full name + birth year. Only the
columns present in the file are compared and updated; a blank cell in a present column clears
the stored value (the file is the team's list).
"""

from __future__ import annotations

import heapq
import sqlite3
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from dxkit.core.errors import DxError, NotFound, ValidationError
from dxkit.core.i18n import _, counted
from dxkit.core.phones import normalize_phone
from dxkit.core.progress import Progress
from dxkit.core.synced import OpResult, Tx
from dxkit.core.text import folded_key, nfc
from dxkit.households.fields import (
    HOUSEHOLD_EDITABLE,
    PERSON_EDITABLE,
    column_inputs,
    column_stored,
    error_columns,
)
from dxkit.households.roster import clean_household, clean_person
from dxkit.households.spreadsheets import (
    COLUMN_BY_KEY,
    COLUMNS,
    Assumption,
    Notes,
    Problem,
    Severity,
    Table,
    Workbook,
    read_workbook,
    zero_restored_message,
)

if TYPE_CHECKING:
    from dxkit.households.catalog import Hamlet
    from dxkit.households.workspace import HouseholdsWorkspace as Workspace

Action = Literal["new", "update", "unchanged"]
PREVIEW_ROWS = 50
_CHECKPOINT = 500  # rows between progress updates / cancel checks
_BATCH = 2000  # new rows written per statement
# A first column numbering the rows ("STT"): layout, not data, and not worth a warning.
_NUMBERING_HEADERS = {"stt", "tt", "so tt", "so thu tu", "no", "#"}

# File column -> the stored columns it sets, the keyword its cells are given as, and the
# column a validation error is reported on.
_HOUSEHOLD_COLUMNS = column_stored(HOUSEHOLD_EDITABLE)
_HOUSEHOLD_INPUT = column_inputs(HOUSEHOLD_EDITABLE)
_HOUSEHOLD_FIELD_COLUMN = error_columns(HOUSEHOLD_EDITABLE)
_PERSON_COLUMNS = column_stored(PERSON_EDITABLE)
_PERSON_INPUT = {k: v for k, v in column_inputs(PERSON_EDITABLE).items() if k != "consent"}
_PERSON_FIELD_COLUMN = error_columns(PERSON_EDITABLE)
_PERSON_DETAILS = ("full_name", "sex", "birth", "phone", "cccd")
_YES = {"co", "x", "yes", "y", "1", "true", "dong y", "da dong y"}
_NO = {"", "khong", "no", "n", "0", "false", "chua", "khong dong y"}


class ImportRefused(DxError):
    """The file has problems; nothing was imported. `plan` lists every problem."""

    def __init__(self, plan: ImportPlan):
        super().__init__(counted(
            len(plan.errors),
            "The file was not imported because it has {count} problem; nothing was changed. "
            "Fix it and import again.",
            "The file was not imported because it has {count} problems; nothing was changed. "
            "Fix them and import again."))
        self.plan = plan


@dataclass
class ImportCounts:
    new_households: int = 0
    updated_households: int = 0
    unchanged_households: int = 0
    new_people: int = 0
    updated_people: int = 0
    unchanged_people: int = 0

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class PlannedRow:
    """One line of the dry run: what importing would do to a household or a person."""

    line: int
    entity: Literal["household", "person"]
    action: Action
    code: str
    name: str
    changed: tuple[str, ...] = ()  # file column headers whose values would change

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "entity": self.entity, "action": self.action,
                "code": self.code, "name": self.name, "changed": list(self.changed)}


@dataclass
class _HouseholdStep:
    line: int
    code: str
    key: str
    values: dict[str, Any]
    existing_id: str | None
    action: Action
    changed: tuple[str, ...]
    seen: dict[str, Any]  # normalised cell values, to spot conflicting later rows
    name: str = ""
    cells: dict[str, str | None] = field(default_factory=dict)  # the first row's cells
    order: int = 0  # rows read before this one, across sheets


@dataclass
class _PersonStep:
    line: int
    household_key: str
    name: str
    values: dict[str, Any]
    existing_id: str | None
    action: Action
    changed: tuple[str, ...]
    order: int = 0


@dataclass
class ImportPlan:
    """The dry run. `problems` holds errors and warnings; the import needs no errors."""

    path: str
    codec: str = ""
    total_rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    counts: ImportCounts = field(default_factory=ImportCounts)
    encodings: dict[str, str] = field(default_factory=dict)
    assumptions: list[Assumption] = field(default_factory=list)
    rows: list[PlannedRow] = field(default_factory=list)
    _households: list[_HouseholdStep] = field(default_factory=list, repr=False)
    _people: list[_PersonStep] = field(default_factory=list, repr=False)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "ok": self.ok, "codec": self.codec, "total_rows": self.total_rows,
            "counts": self.counts.to_dict(), "encodings": dict(self.encodings),
            "assumptions": [a.to_dict() for a in self.assumptions],
            "problems": [p.to_dict() for p in self.problems],
            "rows": [r.to_dict() for r in self.rows],
        }


# -- public API --------------------------------------------------------------------------------
def plan_import(ws: Workspace, path: str | Path, progress: Progress | None = None
                ) -> ImportPlan:
    """The dry run: every problem with its line and column, and what would change."""
    if progress:
        progress.update(value=0, maximum=0, label=_("Reading the file…"))
    book = read_workbook(path)
    return _Planner(ws, book, str(path), progress).run()


def apply_import(ws: Workspace, path: str | Path, progress: Progress | None = None
                 ) -> OpResult[ImportPlan]:
    """Plan again and apply it in one transaction; refuses the whole file on any error."""
    with ws.transaction() as tx:
        plan = plan_import(ws, path, progress)
        if not plan.ok:
            raise ImportRefused(plan)
        # The restore point: the workspace as it was before this import (the backup reads
        # the last committed state, which this open transaction has not changed yet).
        ws.backup_before("import")
        _apply(plan, tx, progress)
    return OpResult(plan, tx.changes)


# -- planning ----------------------------------------------------------------------------------
class _Planner:
    def __init__(self, ws: Workspace, book: Workbook, path: str, progress: Progress | None):
        self.ws = ws
        self.book = book
        self.table = book.tables[0]
        self.progress = progress
        self.plan = ImportPlan(path=path, codec=book.codec,
                               total_rows=sum(len(t.rows) for t in book.tables))
        self.notes = Notes()
        self.row: list[str] = []
        self.order = 0
        self.sheet_hamlet: str | None = None
        self.index: dict[str, int] = {}  # the current table's columns
        self.header: dict[str, str] = {}
        self.households: dict[str, _HouseholdStep | None] = {}  # None: the household is bad
        self.person_keys: dict[tuple[str, str, int | None], int] = {}
        self.cccd_lines: dict[str, int] = {}
        self.claimed: set[str] = set()
        self.hamlets: dict[str, Hamlet | NotFound] = {}
        self.today = ws.today()
        self.actor = ws.actor

    def run(self) -> ImportPlan:
        self.plan.problems.extend(self.book.problems)
        readable = [t for t in self.book.tables if self._check_columns(t)]
        if readable:
            self._load_existing()
            done = 0
            for table in readable:
                self._use(table)
                for line, row in zip(table.lines, table.rows, strict=True):
                    if self.progress and done % _CHECKPOINT == 0:
                        self.progress.update(value=done, maximum=self.plan.total_rows,
                                             label=_("Checking the rows…"))
                    self.order = done
                    done += 1
                    self._plan_row(line, row)
        self.plan.assumptions = self.book.assumptions + self.notes.assumptions()
        self._summarise()
        return self.plan

    def _use(self, table: Table) -> None:
        """Rows are read through their own table's header (lists may order columns
        differently)."""
        self.table = table
        self.index = {}
        self.header = {}
        self.sheet_hamlet = None if "hamlet" in table.fields else self._sheet_hamlet(table)
        for j, key in enumerate(table.fields):
            if key is not None and key not in self.index:
                self.index[key] = j
                self.header[key] = table.headers[j]

    # -- columns --------------------------------------------------------------------------
    def _problem(self, line: int, column: str, message: str, severity: Severity = "error"
                 ) -> None:
        self.plan.problems.append(Problem(line, column, message, severity, self.table.sheet))

    def _check_columns(self, table: Table) -> bool:
        """A table's column-level problems; its rows are checked only when it has none."""
        self.table = table
        errors = len(self.plan.errors)
        header_line = table.header_line
        seen: dict[str, str] = {}
        for header, key in zip(table.headers, table.fields, strict=True):
            if key is None:
                if header and folded_key(header) not in _NUMBERING_HEADERS:
                    self._problem(header_line, header, _(
                        "dxkit does not know this column; it is ignored."), "warning")
            elif key in seen:
                self._problem(header_line, header, _(
                    "This column appears twice (also as “{other}”); keep only one.").format(
                        other=seen[key]))
            else:
                seen[key] = header
        if "hamlet" not in seen and self._sheet_hamlet(table):
            seen["hamlet"] = table.sheet
            self.notes.add("hamlet_from_sheet", table.sheet, "", table.header_line, _(
                "The list has no hamlet column: its sheet's name is a hamlet of the team, so "
                "every household on it was taken to be in that hamlet."))
        for column in COLUMNS:
            if column.required and column.key not in seen:
                self._problem(header_line, column.header, _(
                    "The file has no “{column}” column, which is required. The header row "
                    "must name it.").format(column=column.header))
        for header, encoding in table.encodings.items():
            self.plan.encodings[self._encoding_key(table, header)] = encoding
            if encoding == "unknown":
                self._problem(header_line, header, _(
                    "The text in this column is in an encoding dxkit cannot recognise for "
                    "certain (neither Unicode nor one of the old TCVN3 or VNI fonts, or a mix). "
                    "Convert the column to Unicode (for example with UniKey's converter), save "
                    "the file as .xlsx or CSV UTF-8 and import it again."))
            elif encoding in ("tcvn3", "vni"):
                self._problem(header_line, header, _(
                    "This column was typed in the old {encoding} font encoding; it is converted "
                    "to Unicode.").format(encoding=encoding.upper()), "warning")
        return len(self.plan.errors) == errors

    def _encoding_key(self, table: Table, header: str) -> str:
        sheets = {t.sheet for t in self.book.tables}
        return header if len(sheets) < 2 else f"{table.sheet} › {header}"

    # -- existing data --------------------------------------------------------------------
    def _load_existing(self) -> None:
        conn = self.ws.conn
        self.existing_households = {
            r["code_key"]: r for r in conn.execute("SELECT * FROM households WHERE deleted = 0")}
        self.existing_people: dict[str, list[sqlite3.Row]] = defaultdict(list)
        for r in conn.execute("SELECT * FROM people WHERE deleted = 0 ORDER BY local_id"):
            self.existing_people[r["household_id"]].append(r)

    # -- rows -----------------------------------------------------------------------------
    def _cell(self, row: list[str], key: str) -> str | None:
        """The cell's text, or None when the file has no such column (a sheet named after a
        hamlet gives every row its hamlet)."""
        j = self.index.get(key)
        if j is None:
            return self.sheet_hamlet if key == "hamlet" else None
        return row[j]

    def _sheet_hamlet(self, table: Table) -> str | None:
        """The hamlet a sheet is named after ("Ấp Mỹ Hưng", "Mỹ Hưng"), if the team has it."""
        if not table.sheet:
            return None
        try:
            return self._hamlet(table.sheet).name
        except NotFound:
            return None

    def _plan_row(self, line: int, row: list[str]) -> None:
        self.row = row
        code = self._cell(row, "code") or ""
        key = folded_key(code)
        if not key and self._orphan(line, row):
            return
        if key and key in self.households:
            self._check_same_household(line, row, key)
        else:
            self._plan_household(line, row, key)
        # A row without a name only describes the household, unless it gives personal details
        # (then the missing name is reported rather than the details silently dropped).
        if any(self._cell(row, k) for k in _PERSON_DETAILS):
            self._plan_person(line, row, key)

    def _orphan(self, line: int, row: list[str]) -> bool:
        """A person's row with no household cells and no household above it to join (rows
        under one were given its code when the file was read): one sentence, not one per
        missing household field."""
        own = [k for k in _HOUSEHOLD_INPUT if k in self.index]
        if any(row[self.index[k]] for k in own) or not any(
                self._cell(row, k) for k in _PERSON_DETAILS):
            return False
        self._problem(line, self.header.get("code", COLUMN_BY_KEY["code"].header), _(
            "This row gives a person but no household, and there is no household above it "
            "to belong to. Give the household's code (and its details on its first row)."))
        return True

    def _plan_household(self, line: int, row: list[str], key: str) -> None:
        data = {_HOUSEHOLD_INPUT[k]: self._cell(row, k) for k in _HOUSEHOLD_INPUT}
        existing = self.existing_households.get(key) if key else None
        try:
            values = clean_household(self.ws, data, existing_id=existing["id"] if existing
                                     else None, find_hamlet=self._hamlet)
        except ValidationError as exc:
            for name, message in exc.fields.items():
                column = _HOUSEHOLD_FIELD_COLUMN.get(name, "code")
                self._problem(line, self.header.get(column, COLUMN_BY_KEY[column].header),
                              message)
            if key:
                self.households[key] = None
            return
        self._note_phone(line, "household_phone", values["phone"])
        step = _HouseholdStep(line, values["code"], key, values, None, "new", (),
                              self._normalised(row), values["head_name"],
                              {k: self._cell(row, k) for k in _HOUSEHOLD_INPUT}, self.order)
        if existing is not None:
            step.existing_id = existing["id"]
            changes = self._diff(values, existing, _HOUSEHOLD_COLUMNS)
            step.values = changes
            step.changed = tuple(self.header[k] for k in _HOUSEHOLD_COLUMNS
                                 if k in self.index and any(c in changes
                                                            for c in _HOUSEHOLD_COLUMNS[k]))
            step.action = "update" if changes else "unchanged"
        self.households[key] = step
        self.plan._households.append(step)

    def _note_phone(self, line: int, key: str, stored: str) -> None:
        """A number whose digits changed beyond the +84 prefix was repaired: say so."""
        cell = self._cell(self.row, key) or ""
        digits = "".join(ch for ch in cell if ch.isdigit())
        if not stored or digits == stored or (digits.startswith("84")
                                              and "0" + digits[2:] == stored):
            return
        if stored == "0" + digits:
            self.notes.add("zero_restored", self.table.sheet, self.header[key], line,
                           zero_restored_message())
        else:
            self.notes.add("phone_converted", self.table.sheet, self.header[key], line, _(
                "An old 11-digit mobile number was converted to its current 10-digit form."))

    def _diff(self, values: Mapping[str, Any], existing: sqlite3.Row,
              columns: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
        """Stored columns that the file sets (its columns only) to a different value."""
        stored = [c for k, cols in columns.items() if k in self.index for c in cols]
        return {c: values[c] for c in stored if existing[c] != values[c]}

    def _normalised(self, row: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in _HOUSEHOLD_INPUT:
            cell = self._cell(row, key)
            if cell is not None:
                out[key] = self._normalise(key, cell)
        return out

    def _hamlet(self, name: str) -> Hamlet:
        """The catalogue's answer for a hamlet name, looked up once per name."""
        if name not in self.hamlets:
            try:
                self.hamlets[name] = self.ws.catalog.hamlet(name)
            except NotFound as exc:
                self.hamlets[name] = exc
        found = self.hamlets[name]
        if isinstance(found, NotFound):
            raise found
        return found

    def _normalise(self, key: str, cell: str) -> Any:
        if key == "hamlet":
            try:
                return self._hamlet(cell).id
            except NotFound:
                return folded_key(cell)
        if key == "household_phone":
            try:
                return normalize_phone(cell)
            except ValidationError:
                return cell
        if key in ("latitude", "longitude"):
            try:
                return float(cell.replace(",", ".")) if cell else None
            except ValueError:
                return cell
        return folded_key(cell) if key == "code" else nfc(cell)

    def _check_same_household(self, line: int, row: list[str], key: str) -> None:
        """Household columns repeated on a later row must say the same (blank = not restated)."""
        step = self.households[key]
        if step is None:
            return
        for column, cell in ((k, self._cell(row, k)) for k in _HOUSEHOLD_INPUT):
            if not cell or cell == step.cells[column]:
                continue
            if self._normalise(column, cell) == step.seen.get(column):
                continue
            self._problem(line, self.header.get(column, self.table.sheet), _(
                "Household {code} is already on line {line} with different data: “{value}” "
                "here does not match. Give the household's details the same way on every row."
            ).format(code=step.code, line=step.line, value=cell))

    # -- people ---------------------------------------------------------------------------
    def _plan_person(self, line: int, row: list[str], household_key: str) -> None:
        data: dict[str, Any] = {_PERSON_INPUT[k]: self._cell(row, k) for k in _PERSON_INPUT}
        consent = self._consent(line, row)
        data["consent"] = consent is True
        try:
            values = clean_person(data, self.today)
        except ValidationError as exc:
            for name, message in exc.fields.items():
                column = _PERSON_FIELD_COLUMN.get(name, "full_name")
                self._problem(line, self.header.get(column, COLUMN_BY_KEY[column].header),
                              message)
            return
        self._note_phone(line, "phone", values["phone"])
        if consent is None or not self._unique_in_file(line, household_key, values):
            return
        household = self.households.get(household_key) if household_key else None
        if household is None:
            return  # its household has problems, already reported
        existing = self._match(household, values)
        step = _PersonStep(line, household_key, values["full_name"], values, None, "new", (),
                           self.order)
        if existing is None:
            if values["consent"]:
                values.update(consent_on=self.today.isoformat(), consent_by=self.actor)
        else:
            step.existing_id = existing["id"]
            self.claimed.add(existing["id"])
            changes = self._diff(values, existing, _PERSON_COLUMNS)
            if "consent" in changes:
                changes.update(consent_on=self.today.isoformat(), consent_by=self.actor)
                if not values["consent"]:
                    changes["cccd"] = ""  # consent withdrawn: the ID number goes with it
            step.values = changes
            step.changed = tuple(self.header[k] for k in _PERSON_COLUMNS
                                 if k in self.index and any(c in changes
                                                            for c in _PERSON_COLUMNS[k]))
            step.action = "update" if changes else "unchanged"
        self.plan._people.append(step)

    def _consent(self, line: int, row: list[str]) -> bool | None:
        """Có -> True, Không or blank -> False (never assumed); anything else is a problem."""
        text = folded_key(self._cell(row, "consent") or "")
        if text in _YES:
            return True
        if text in _NO:
            return False
        self._problem(line, self.header["consent"], _(
            "Write Có or Không for consent (blank means Không)."))
        return None

    def _unique_in_file(self, line: int, household_key: str, values: Mapping[str, Any]
                        ) -> bool:
        person_key = (household_key, values["name_key"], values["birth_year"])
        if person_key in self.person_keys:
            self._problem(line, self.header["full_name"], _(
                "{name} is already listed in this household on line {line}.").format(
                    name=values["full_name"], line=self.person_keys[person_key]))
            return False
        cccd = values["cccd"]
        if cccd and cccd in self.cccd_lines:
            self._problem(line, self.header["cccd"], _(
                "This citizen ID is already given on line {line}; one ID belongs to one "
                "person.").format(line=self.cccd_lines[cccd]))
            return False
        self.person_keys[person_key] = line
        if cccd:
            self.cccd_lines[cccd] = line
        return True

    def _match(self, household: _HouseholdStep, values: Mapping[str, Any]
               ) -> sqlite3.Row | None:
        """The stored person this row describes: same CCCD, else same name and birth year."""
        if household.existing_id is None:
            return None
        people = [p for p in self.existing_people.get(household.existing_id, ())
                  if p["id"] not in self.claimed]
        if values["cccd"]:
            for person in people:
                if person["cccd"] == values["cccd"]:
                    return person
        same_name = [p for p in people if p["name_key"] == values["name_key"]]
        for person in same_name:
            if person["birth_year"] == values["birth_year"]:
                return person
        # One side knows no birth year: the same name is the same person if unambiguous.
        loose = [p for p in same_name
                 if p["birth_year"] is None or values["birth_year"] is None]
        return loose[0] if len(loose) == 1 and len(same_name) == 1 else None

    # -- summary --------------------------------------------------------------------------
    def _summarise(self) -> None:
        counts = self.plan.counts
        for h in self.plan._households:
            name = _count_name(h.action, "households")
            setattr(counts, name, getattr(counts, name) + 1)
        for p in self.plan._people:
            name = _count_name(p.action, "people")
            setattr(counts, name, getattr(counts, name) + 1)
        # The preview: the first rows of the file.
        steps: list[_HouseholdStep | _PersonStep] = [*self.plan._households[:PREVIEW_ROWS],
                                                     *self.plan._people[:PREVIEW_ROWS]]
        first = heapq.nsmallest(PREVIEW_ROWS, steps, key=lambda s: (
            s.order, isinstance(s, _PersonStep)))
        self.plan.rows = [self._preview_row(step) for step in first]
        sheets = {t.sheet: i for i, t in reversed(list(enumerate(self.book.tables)))}
        self.plan.problems.sort(key=lambda p: (sheets.get(p.sheet, -1), p.line,
                                               p.severity != "error"))

    def _preview_row(self, step: _HouseholdStep | _PersonStep) -> PlannedRow:
        if isinstance(step, _HouseholdStep):
            return PlannedRow(step.line, "household", step.action, step.code, step.name,
                              step.changed)
        household = self.households[step.household_key]
        assert household is not None  # people are planned only under a valid household
        return PlannedRow(step.line, "person", step.action, household.code, step.name,
                          step.changed)


def _count_name(action: Action, entity: str) -> str:
    prefix = {"new": "new", "update": "updated", "unchanged": "unchanged"}[action]
    return f"{prefix}_{entity}"


# -- applying ----------------------------------------------------------------------------------
def _apply(plan: ImportPlan, tx: Tx, progress: Progress | None) -> None:
    steps = len(plan._households) + len(plan._people)
    done = 0

    def checkpoint(count: int) -> None:
        nonlocal done
        done += count
        if progress:
            progress.update(value=done, maximum=steps, label=_("Importing…"))

    # A step without an existing id is new; one with it is an update or unchanged. New rows
    # go in batches (one statement per batch), with progress and cancelling between them.
    ids = {h.key: h.existing_id for h in plan._households if h.existing_id is not None}
    new = [h for h in plan._households if h.existing_id is None]
    for start in range(0, len(new), _BATCH):
        batch = new[start:start + _BATCH]
        ids.update(zip((h.key for h in batch),
                       tx.insert_many("households", [h.values for h in batch]), strict=True))
        checkpoint(len(batch))
    for h in plan._households:
        if h.action == "update" and h.existing_id is not None:
            tx.update("households", h.existing_id, h.values)
    checkpoint(len(plan._households) - len(new))
    people = [p for p in plan._people if p.existing_id is None]
    for start in range(0, len(people), _BATCH):
        members = people[start:start + _BATCH]
        tx.insert_many("people", [{**p.values, "household_id": ids[p.household_key]}
                                  for p in members])
        checkpoint(len(members))
    for p in plan._people:
        if p.action == "update" and p.existing_id is not None:
            tx.update("people", p.existing_id, p.values)
    checkpoint(len(plan._people) - len(people))
    if progress:
        progress.update(value=steps, maximum=steps, label=_("Saving…"))
