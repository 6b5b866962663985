"""Logging a visit at a doorstep: household, who went, what help each person got, follow-up.

Built for speed and the keyboard: type a few letters of a code or name and press Enter to pick
the household; the current team member is already ticked; what earlier visits left open is
listed and already ticked as done for the same people; in the grid (visit_grid.py) the arrows
move, Space cycles a cell's outcome and Tab moves on; Alt+7 sets the follow-up a week ahead;
Ctrl+Enter saves. Plain Enter never closes the dialog by accident. What was saved is said in
the main window's status bar.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QDate, QDateTime, QSize, Qt, QTime
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dxkit.core.i18n import _, counted, format_date, ngettext
from dxkit.core.progress import Progress
from dxkit.core.synced import OpResult
from dxkit.households.catalog import SupportItem
from dxkit.households.roster import Household, Person
from dxkit.households.visits import OUTCOMES, Outcome, PendingItem, Visit, VisitItem, outcome_label
from dxkit.ui.appearance import HINT_STYLE, scaled_font
from dxkit.ui.context import AppContext
from dxkit.ui.fitting import DIALOGS, FlowLayout, SideScroll, fit_to_screen, scrolled_body
from dxkit.ui.household_forms import fullest_household
from dxkit.ui.operations import Op
from dxkit.ui.taskman import Task
from dxkit.ui.visit_grid import CellKey, GridRow, VisitGrid
from dxkit.ui.widgets import error_label

INVALID_FIELD_STYLE = "border: 1px solid #b3261e;"
PENDING_STYLE = "background: #fff1c7; padding: 4px;"  # the amber of pending cells
PREFERRED_SIZE = QSize(1180, 760)  # on a screen that has the room
QUICK_FOLLOW_UPS = (7, 14, 30)  # Alt+7, Alt+1, Alt+3: the first digit


@dataclass
class _Detail:
    """The outcome and reason of one ticked item, shown under the grid."""

    label: QLabel
    outcome: QComboBox
    reason: QLineEdit
    error: QLabel

    def widgets(self) -> list[QWidget]:
        return [self.label, self.outcome, self.reason, self.error]


def _to_qdatetime(value: dt.datetime) -> QDateTime:
    return QDateTime(QDate(value.year, value.month, value.day),
                     QTime(value.hour, value.minute, value.second))


def _to_qdate(value: dt.date) -> QDate:
    return QDate(value.year, value.month, value.day)


class VisitDialog(QDialog):
    """Record a new visit, or (through `VisitDialog.amend`) correct an earlier one."""

    def __init__(self, ctx: AppContext, household_id: str | None = None,
                 parent: QWidget | None = None, amending: Visit | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.ws = ctx.ws
        self.household: Household | None = None
        self.people: list[Person] = []
        self.support_items: list[SupportItem] = self.ws.catalog.support_items()
        self.amending = amending  # a correction starts from the visit, not from what is open
        self.saved: Visit | None = None
        self.saving = False  # a save is on its way to the database thread
        self.grid: VisitGrid | None = None
        self.pending: list[PendingItem] = []
        self.details: dict[CellKey, _Detail] = {}
        self._kept_reasons: dict[CellKey, str] = {}
        self.saved_message = ""
        self.errors: dict[str, QLabel] = {}
        self.setWindowTitle(_("Record a visit"))
        self._build()
        if household_id:
            self.choose_household(household_id)
        else:
            self._show_picker(True)
            self.household_search.setFocus()
        fit_to_screen(self, PREFERRED_SIZE)

    # -- construction -------------------------------------------------------------------
    @classmethod
    def amend(cls, ctx: AppContext, visit_id: str, parent: QWidget | None = None
              ) -> VisitDialog:
        """A dialog prefilled from a visit; saving records a correction with a reason."""
        visit = ctx.ws.visits.get(visit_id)
        dialog = cls(ctx, visit.household_id, parent, amending=visit)
        dialog._prefill(visit)
        return dialog

    def _build(self) -> None:
        # The form scrolls as a whole on a short screen; Save and Cancel stay in view.
        layout = scrolled_body(self, self._build_buttons())
        self.errors["visit"] = error_label()
        layout.addWidget(self.errors["visit"])
        layout.addLayout(self._build_household_picker())
        layout.addLayout(self._build_when_and_who())
        grid_title = QLabel(_("Support given, one row per person: arrows move, Space sets "
                              "done → partly → not done → none, Tab moves on"))
        grid_title.setStyleSheet("font-weight: 600;")
        grid_title.setWordWrap(True)
        layout.addWidget(grid_title)
        self.pending_label = QLabel()  # what earlier visits left open, pre-marked in the grid
        self.pending_label.setWordWrap(True)
        self.pending_label.setStyleSheet(PENDING_STYLE)
        self.pending_label.hide()
        layout.addWidget(self.pending_label)
        self.grid_area = SideScroll()  # every person's row; wider than a netbook: it scrolls
        self.grid_area.setFrameShape(QFrame.Shape.StyledPanel)
        layout.addWidget(self.grid_area)
        self.errors["items"] = error_label()
        layout.addWidget(self.errors["items"])
        self.details_box = QWidget()  # one line per ticked item
        QVBoxLayout(self.details_box).setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.details_box)
        layout.addLayout(self._build_notes_and_follow_up())
        self.reason_row = QWidget()
        reason_layout = QHBoxLayout(self.reason_row)
        reason_layout.setContentsMargins(0, 0, 0, 0)
        reason_layout.addWidget(QLabel(_("Reason for the correction:")))
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText(_("Required: what was wrong in the earlier record"))
        reason_layout.addWidget(self.reason_edit, 1)
        self.errors["reason"] = error_label()
        reason_layout.addWidget(self.errors["reason"])
        self.reason_row.hide()
        layout.addWidget(self.reason_row)
        layout.addStretch(1)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.save)
        self._rebuild_grid()

    def _build_buttons(self) -> QDialogButtonBox:
        self.buttons = QDialogButtonBox()
        self.save_button = self.buttons.addButton(_("Save (Ctrl+Enter)"),
                                                  QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton(_("Cancel"),
                                                    QDialogButtonBox.ButtonRole.RejectRole)
        for button in (self.save_button, self.cancel_button):
            button.setAutoDefault(False)
        self.save_button.clicked.connect(self.save)
        self.cancel_button.clicked.connect(self.reject)
        return self.buttons

    def _build_household_picker(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel(_("Household:")))
        box = QVBoxLayout()
        self.household_search = QLineEdit()
        self.household_search.setPlaceholderText(
            _("Type a household code, a name or a phone number, then Enter"))
        self.household_search.textEdited.connect(self._search_households)
        self.household_search.returnPressed.connect(self._choose_first_result)
        self.household_search.installEventFilter(self)
        box.addWidget(self.household_search)
        self.household_results = QListWidget()
        self.household_results.setMaximumHeight(140)
        self.household_results.itemActivated.connect(
            lambda item: self.choose_household(item.data(Qt.ItemDataRole.UserRole)))
        self.household_results.hide()
        box.addWidget(self.household_results)
        self.household_label = QLabel()
        self.household_label.setWordWrap(True)  # a long address must not widen the form
        scaled_font(self.household_label, 1.2, bold=True)
        box.addWidget(self.household_label)
        self.errors["household"] = error_label()
        box.addWidget(self.errors["household"])
        row.addLayout(box, 1)
        self.change_household_button = QPushButton(_("Change household"))
        self.change_household_button.setAutoDefault(False)
        self.change_household_button.clicked.connect(lambda: self._show_picker(True))
        row.addWidget(self.change_household_button, 0, Qt.AlignmentFlag.AlignTop)
        return row

    def _build_when_and_who(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel(_("When:")))
        self.visited_at = QDateTimeEdit(_to_qdatetime(self.ws.now()))
        self.visited_at.setDisplayFormat("dd/MM/yyyy HH:mm")
        self.visited_at.setCalendarPopup(True)
        when = QVBoxLayout()
        when.addWidget(self.visited_at)
        self.errors["visited_at"] = error_label()
        when.addWidget(self.errors["visited_at"])
        row.addLayout(when)
        row.addSpacing(24)
        row.addWidget(QLabel(_("Team members:")))
        who = QVBoxLayout()
        boxes = FlowLayout()  # a large team takes two lines rather than a wider window
        members = self.ws.catalog.members()
        current = self.ws.settings.get("current_member_id")
        if not current and len(members) == 1:
            current = members[0].id  # a team of one is always the recorder
        self.member_boxes: dict[str, QCheckBox] = {}
        for member in members:
            box = QCheckBox(member.name)
            box.setChecked(member.id == current)
            if member.id == current:
                box.setToolTip(_("You (Settings: who is using this laptop)"))
            self.member_boxes[member.id] = box
            boxes.addWidget(box)
        if not self.member_boxes:
            boxes.addWidget(QLabel(_("No team members yet: add them in Settings.")))
        who.addLayout(boxes)
        self.errors["members"] = error_label()
        who.addWidget(self.errors["members"])
        row.addLayout(who, 1)
        return row

    def _build_notes_and_follow_up(self) -> QHBoxLayout:
        row = QHBoxLayout()
        notes = QVBoxLayout()
        notes.addWidget(QLabel(_("Notes:")))
        self.notes = QPlainTextEdit()
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(64)
        notes.addWidget(self.notes)
        row.addLayout(notes, 1)
        follow = QVBoxLayout()
        self.follow_up_box = QCheckBox(_("Follow-up on"))
        follow.addWidget(self.follow_up_box)
        line = QHBoxLayout()
        self.follow_up_date = QDateEdit(_to_qdate(self.ws.today() + dt.timedelta(days=7)))
        self.follow_up_date.setDisplayFormat("dd/MM/yyyy")
        self.follow_up_date.setCalendarPopup(True)
        self.follow_up_date.setEnabled(False)
        self.follow_up_box.toggled.connect(self.follow_up_date.setEnabled)
        line.addWidget(self.follow_up_date)
        self.quick_buttons: list[QPushButton] = []
        for days in QUICK_FOLLOW_UPS:
            button = QPushButton(counted(days, "+{count} day", "+{count} days"))
            button.setAutoDefault(False)
            keys = f"Alt+{str(days)[0]}"  # a shortcut, not a mnemonic: "&" would add a second
            button.setToolTip(ngettext("Follow up {days} day after the visit ({keys})",
                                       "Follow up {days} days after the visit ({keys})",
                                       days).format(days=days, keys=keys))
            button.clicked.connect(lambda _checked=False, d=days: self.set_follow_up_in(d))
            QShortcut(QKeySequence(keys), self, button.click)
            line.addWidget(button)
            self.quick_buttons.append(button)
        follow.addLayout(line)
        self.errors["follow_up_on"] = error_label()
        follow.addWidget(self.errors["follow_up_on"])
        follow.addStretch(1)
        row.addLayout(follow)
        return row

    # -- household ----------------------------------------------------------------------
    def _show_picker(self, picking: bool) -> None:
        self.household_search.setVisible(picking)
        self.household_results.setVisible(picking and self.household_results.count() > 0)
        self.household_label.setVisible(not picking)
        self.change_household_button.setVisible(not picking and self.amending is None)
        if picking:
            self.household_search.setFocus()

    def _search_households(self, text: str) -> None:
        self.household_results.clear()
        for household in self.ws.households.search(text, limit=20):
            item = QListWidgetItem(self._describe(household))
            item.setData(Qt.ItemDataRole.UserRole, household.id)
            self.household_results.addItem(item)
        if self.household_results.count():
            self.household_results.setCurrentRow(0)
        self.household_results.setVisible(self.household_results.count() > 0)

    def _choose_first_result(self) -> None:
        item = self.household_results.currentItem() or self.household_results.item(0)
        if item is not None:
            self.choose_household(item.data(Qt.ItemDataRole.UserRole))

    def eventFilter(self, watched, event) -> bool:
        # Down arrow in the search box moves into the result list.
        if (watched is self.household_search and isinstance(event, QKeyEvent)
                and event.type() == QKeyEvent.Type.KeyPress
                and event.key() == Qt.Key.Key_Down and self.household_results.count()):
            self.household_results.setFocus()
            return True
        return super().eventFilter(watched, event)

    @staticmethod
    def _describe(household: Household) -> str:
        parts = [household.code, household.head_name, household.hamlet]
        if household.address:
            parts.append(household.address)
        return " · ".join(parts)

    def choose_household(self, household_id: str) -> None:
        self.household = self.ws.households.get(household_id)
        self.people = self.ws.people.in_household(household_id)
        self.household_label.setText(self._describe(self.household))
        self.errors["household"].hide()
        self._kept_reasons.clear()
        self._rebuild_grid()
        self._show_picker(False)
        self.pending = self.ws.visits.pending(household_id) if self.amending is None else []
        self._mark_pending()

    def _mark_pending(self) -> None:
        """Mark in amber what earlier visits left open, and list it above the grid.

        What the latest visit left open is what this return is for: it is ticked as done
        already (one Space away from saying otherwise). Older leftovers are only marked:
        months on, whether they still apply is the recorder's call."""
        assert self.grid is not None
        names = {row.person_id: row.name for row in self._rows()}
        items = {item.code: item.name for item in self.support_items}
        ticked, older = [], []
        for pending in self.pending:
            key = (pending.person_id, pending.support_item_code)
            if key not in self.grid.cells:
                continue  # an item the catalogue no longer offers
            note = self._pending_note(pending)
            self.grid.mark_pending(key, note)
            line = f"{names[pending.person_id]} — {items[pending.support_item_code]}: {note}"
            if pending.from_last_visit:
                self.grid.set_outcome(key, "done")
                ticked.append(line)
            else:
                older.append(line)
        self._show_pending_list(ticked, older)
        first = next((p for p in self.pending if p.from_last_visit), None)
        self.grid.focus_cell((first.person_id, first.support_item_code) if first
                             else next(iter(self.grid.cells)))

    def _show_pending_list(self, ticked: list[str], older: list[str]) -> None:
        parts = []
        if ticked:
            parts += [_("Left open by the last visit, now ticked as done (press Space on a "
                        "cell to change it):"), *ticked]
        if older:
            parts += [_("Still open from earlier visits (marked in amber, not ticked):"),
                      *older]
        self.pending_label.setText("\n".join(parts))
        self.pending_label.setVisible(bool(parts))

    @staticmethod
    def _pending_note(pending: PendingItem) -> str:
        note = _("{outcome} on {date}").format(outcome=outcome_label(pending.outcome),
                                               date=format_date(pending.visited_at.date()))
        return f"{note} ({pending.reason})" if pending.reason else note

    # -- the people × support items grid ------------------------------------------------
    def _rows(self) -> list[GridRow]:
        """A grid row for every person, then one for the household as a whole."""
        today = self.ws.today()
        rows: list[GridRow] = []
        for person in self.people:
            age = person.age_on(today)
            extra = [person.relationship] if person.relationship else []
            if age is not None:
                extra.append(counted(age, "{count} yr", "{count} yrs"))
            rows.append(GridRow(person.id, person.full_name, " · ".join(extra)))
        rows.append(GridRow(None, _("Household as a whole"), _("help not tied to one person")))
        return rows

    def _rebuild_grid(self) -> None:
        if self.household is None:
            self.grid = None
            hint = QLabel(_("Choose a household first."))
            hint.setStyleSheet(HINT_STYLE)
            self.grid_area.setWidget(hint)
        else:
            self.grid = VisitGrid(self._rows(), self.support_items)
            self.grid.changed.connect(self._cell_changed)
            self.grid_area.setWidget(self.grid)
        self._rebuild_details()

    def _cell_changed(self, key: CellKey) -> None:
        """A new or cleared cell adds or drops its outcome line; another outcome only
        changes the line's choice (rebuilding would take the focus away)."""
        if (key in self.details) == (self._outcome(key) is not None):
            detail = self.details.get(key)
            if detail is not None:
                detail.outcome.setCurrentIndex(OUTCOMES.index(self._outcome(key) or "done"))
            return
        self._rebuild_details()

    def _outcome(self, key: CellKey) -> Outcome | None:
        return self.grid.outcome(key) if self.grid is not None else None

    def _rebuild_details(self) -> None:
        """One line per ticked item: outcome (done by default) and a reason."""
        for key, detail in self.details.items():
            self._kept_reasons[key] = detail.reason.text()
        self.details.clear()
        holder = QWidget()
        grid = QGridLayout(holder)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(2)
        names = {row.person_id: row.name for row in self._rows()}
        items = {item.code: item.name for item in self.support_items}
        given = self.grid.given() if self.grid is not None else {}
        row = 0
        for key, outcome in given.items():
            person_id, code = key
            detail = self._make_detail(key, f"{names[person_id]} — {items[code]}", outcome,
                                       self._kept_reasons.get(key, ""))
            for column, widget in enumerate(detail.widgets()):
                grid.addWidget(widget, row, column)
            self.details[key] = detail
            row += 1
        if not row:
            hint = QLabel(_("Mark the support given in the grid; each marked item gets an "
                            "outcome and a reason here."))
            hint.setStyleSheet(HINT_STYLE)
            grid.addWidget(hint, 0, 0, 1, 4)
        grid.setColumnStretch(2, 1)
        self._show_details(holder)
        self._update_tab_order()

    def _show_details(self, holder: QWidget) -> None:
        """Put the new outcome lines where the old ones were."""
        layout = self.details_box.layout()
        old = layout.takeAt(0)
        if old is not None and old.widget() is not None:
            old.widget().hide()
            old.widget().deleteLater()
        layout.addWidget(holder)

    def _make_detail(self, key: CellKey, text: str, outcome: str, reason: str) -> _Detail:
        label = QLabel(text)
        combo = QComboBox()
        for value in OUTCOMES:
            combo.addItem(outcome_label(value), value)
        combo.setCurrentIndex(OUTCOMES.index(outcome) if outcome in OUTCOMES else 0)
        reason_edit = QLineEdit(reason)
        reason_edit.setMinimumWidth(220)
        detail = _Detail(label, combo, reason_edit, error_label())

        def on_outcome(_index: int = 0) -> None:
            if self.grid is not None:
                self.grid.set_outcome(key, combo.currentData())  # the cell shows it too
            required = combo.currentData() == "not_done"
            reason_edit.setPlaceholderText(
                _("Reason (required)") if required else _("Note (optional)"))
            if not required:
                self._mark_detail(detail, "")

        combo.currentIndexChanged.connect(on_outcome)
        reason_edit.textEdited.connect(lambda _text: self._mark_detail(detail, ""))
        on_outcome()
        return detail

    @staticmethod
    def _mark_detail(detail: _Detail, message: str) -> None:
        detail.error.setText(message)
        detail.error.setVisible(bool(message))
        detail.reason.setStyleSheet(INVALID_FIELD_STYLE if message else "")

    def _update_tab_order(self) -> None:
        """Members → grid (person by person) → outcomes → notes → follow-up → Save."""
        # Every cell is in the chain, but only the grid's current one takes Tab: the grid is
        # one stop, as a table is.
        cells = list(self.grid.cells.values()) if self.grid is not None else []
        chain: list[QWidget] = [self.household_search, self.household_results,
                                self.visited_at, *self.member_boxes.values(), *cells]
        for detail in self.details.values():
            chain += [detail.outcome, detail.reason]
        chain += [self.notes, self.follow_up_box, self.follow_up_date, *self.quick_buttons,
                  self.reason_edit, self.save_button, self.cancel_button]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    # -- values -------------------------------------------------------------------------
    def tick(self, person_id: str | None, code: str, outcome: Outcome | None = "done",
             reason: str = "") -> None:
        """Set one cell's outcome (None clears it) and reason (dialog samples, scripts)."""
        assert self.grid is not None
        self.grid.set_outcome((person_id, code), outcome)
        detail = self.details.get((person_id, code))
        if detail is not None:
            detail.reason.setText(reason)

    def items(self) -> list[VisitItem]:
        assert all(self._outcome(key) == d.outcome.currentData()
                   for key, d in self.details.items())
        return [VisitItem(code, detail.outcome.currentData(), person_id,
                          detail.reason.text().strip())
                for (person_id, code), detail in self.details.items()]

    def member_ids(self) -> list[str]:
        return [member_id for member_id, box in self.member_boxes.items() if box.isChecked()]

    def visit_time(self) -> dt.datetime:
        value = self.visited_at.dateTime()
        day, time = value.date(), value.time()
        return dt.datetime(day.year(), day.month(), day.day(), time.hour(), time.minute())

    def follow_up_on(self) -> dt.date | None:
        if not self.follow_up_box.isChecked():
            return None
        day = self.follow_up_date.date()
        return dt.date(day.year(), day.month(), day.day())

    def set_follow_up_in(self, days: int) -> None:
        self.follow_up_box.setChecked(True)
        self.follow_up_date.setDate(_to_qdate(self.visit_time().date()
                                              + dt.timedelta(days=days)))

    def _prefill(self, visit: Visit) -> None:
        self.amending = visit
        self.setWindowTitle(_("Correct a visit"))
        self.visited_at.setDateTime(_to_qdatetime(visit.visited_at))
        for member_id, box in self.member_boxes.items():
            box.setChecked(member_id in visit.member_ids)
        assert self.grid is not None
        for item in visit.items:
            key = (item.person_id, item.support_item_code)
            self._kept_reasons[key] = item.reason
            if key in self.grid.cells:  # a person erased since keeps no row
                self.grid.set_outcome(key, item.outcome)
        self.notes.setPlainText(visit.notes)
        if visit.follow_up_on:
            self.follow_up_box.setChecked(True)
            self.follow_up_date.setDate(_to_qdate(visit.follow_up_on))
        self.reason_row.show()
        self.change_household_button.hide()
        self.reason_edit.setFocus()

    # -- saving -------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Plain Enter must not close the form half-filled; Ctrl+Enter saves.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.modifiers():
            event.accept()
            return
        super().keyPressEvent(event)

    def _clear_errors(self) -> None:
        for label in self.errors.values():
            label.hide()
        for detail in self.details.values():
            self._mark_detail(detail, "")

    def show_errors(self, fields: dict[str, str]) -> None:
        """Each message next to the part of the form it is about."""
        for name, message in fields.items():
            label = self.errors.get(name, self.errors["visit"])
            label.setText(message)
            label.show()
        if "items" in fields:
            for detail in self.details.values():
                if detail.outcome.currentData() == "not_done" and not detail.reason.text().strip():
                    self._mark_detail(detail, _("Why was it not done?"))

    def save(self) -> bool:
        """Record the visit on the database thread; returns whether it was sent.

        The form stays responsive while another task (an import, the demo) holds the
        database. On success `saved` is set and the dialog accepted; rule errors come back
        next to the fields they concern."""
        if self.saving:
            return False
        self._clear_errors()
        if self.household is None:
            self.show_errors({"household": _("Choose the household that was visited.")})
            return False
        work = self._operation()  # widget values are read here, on the UI thread
        (Op(self.ctx, self, work)
         .while_running(self._set_saving)
         .success(self._saved)
         .invalid(lambda error: self.show_errors(error.fields))
         .run())
        return True

    def _set_saving(self, saving: bool) -> None:
        self.saving = saving
        self.save_button.setEnabled(not saving)

    def _saved(self, result: OpResult[Visit]) -> None:
        self.saved = result.value
        assert self.household is not None
        self.saved_message = saved_message(result.value, self.household.code)
        self.ctx.notice.emit(self.saved_message)  # the status bar says what was saved
        self.accept()

    def _operation(self) -> Callable[[Progress], OpResult[Visit]]:
        visits, items = self.ws.visits, self.items()
        options = {"visited_at": self.visit_time(), "member_ids": self.member_ids(),
                   "notes": self.notes.toPlainText(), "follow_up_on": self.follow_up_on()}
        if self.amending is not None:
            visit_id, reason = self.amending.id, self.reason_edit.text()
            return lambda _progress: visits.amend(visit_id, items, reason=reason, **options)
        assert self.household is not None
        household_id = self.household.id
        return lambda _progress: visits.add(household_id, items, **options)


def saved_message(visit: Visit, household_code: str) -> str:
    """"Lượt thăm hộ MH-0123 đã lưu: 3 đã xong, 1 chưa xong; hẹn quay lại 27/11/2026."."""
    counts = [(sum(1 for i in visit.items if i.outcome == outcome), outcome)
              for outcome in OUTCOMES]
    given = ", ".join(f"{count} {outcome_label(outcome)}" for count, outcome in counts if count)
    if visit.kind == "amend":
        text = _("Correction of the visit to {code} saved: {given}.")
    else:
        text = _("Visit to {code} saved: {given}.")
    text = text.format(code=household_code, given=given)
    if visit.follow_up_on:
        text += " " + _("Follow-up on {date}.").format(date=format_date(visit.follow_up_on))
    return text


def void_visit(ctx: AppContext, visit_id: str, parent: QWidget | None = None,
               reason: str | None = None,
               on_voided: Callable[[Visit], None] | None = None) -> Task | None:
    """Void a visit recorded by mistake, asking why (the original stays in the history).

    The void is recorded on the database thread; `on_voided` gets the void event. Returns the
    task, or None when the user cancelled. A refusal is explained in a message box."""
    if reason is None:
        reason, ok = QInputDialog.getText(
            parent, _("Void a visit"),
            _("Why is this visit being voided? (for example: wrong household)"))
        if not ok:
            return None
    visits, why = ctx.ws.visits, reason
    op = Op(ctx, parent, lambda _progress: visits.void(visit_id, reason=why))
    if on_voided is not None:
        op.success(lambda result: on_voided(result.value))
    return op.run()


@DIALOGS.register("visit form")
def _sample_visit_form(ctx: AppContext, parent: QWidget) -> QDialog:
    """A new visit to the fullest household, a few items ticked (their outcome lines show)."""
    household = fullest_household(ctx.ws)
    dialog = VisitDialog(ctx, household.id, parent)
    people = dialog.people
    dialog.tick(people[0].id, "vneid_level2")
    dialog.tick(people[-1].id, "payment_account", "not_done", "Chưa mang CCCD")
    dialog.tick(None, "online_safety")
    dialog.set_follow_up_in(14)
    return dialog


@DIALOGS.register("return visit")
def _sample_return_visit(ctx: AppContext, parent: QWidget) -> QDialog:
    """A visit to the household earlier visits left the most open for: all pre-marked."""
    ws = ctx.ws
    household = max(ws.households.list(), key=lambda h: len(ws.visits.pending(h.id)))
    return VisitDialog(ctx, household.id, parent)


@DIALOGS.register("visit correction")
def _sample_visit_correction(ctx: AppContext, parent: QWidget) -> QDialog:
    """Correcting the latest visit that still counts: the reason line shows too."""
    ws = ctx.ws
    visits = [v for h in ws.households.list() for v in ws.visits.history(h.id) if v.effective]
    latest = max(visits, key=lambda v: v.visited_at)
    return VisitDialog.amend(ctx, latest.id, parent)
