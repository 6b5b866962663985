"""One household: details, people with their indicators, and the visit history with corrections."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dxkit.core.errors import NotFound
from dxkit.core.i18n import _, format_coordinate, format_date, format_datetime
from dxkit.core.synced import Changes
from dxkit.households.cccd import sex_label
from dxkit.households.fields import HOUSEHOLD
from dxkit.households.roster import Household, Person
from dxkit.households.visits import Visit, outcome_label
from dxkit.lessons.ui_queries import classes_of_person
from dxkit.ui.context import AppContext
from dxkit.ui.fitting import DIALOGS, fit_to_screen
from dxkit.ui.household_forms import HouseholdForm, PersonForm, fullest_household
from dxkit.ui.operations import Op
from dxkit.ui.widgets import RECORD_VISIT_KEYS, module_available, show_message

EXPORT_MODULE = "dxkit.households.exporting"
VISIT_FORM_MODULE = "dxkit.ui.visit_form"
# Past this many changed visits (an import, the demo) one reload is cheaper than looking each
# visit up to see whether it is this household's.
VISITS_LOOKED_UP = 20
PREFERRED_SIZE = QSize(1120, 760)  # on a screen that has the room
CLASS_LIST_HEIGHT = 90  # a few classes; more scroll
NOTICE_STYLE = "background: #e3f1e3; color: #14521a; padding: 4px;"  # 8.6:1


class HouseholdView(QDialog):
    """Opened from the households list; stays in sync with changes made anywhere."""

    def __init__(self, ctx: AppContext, household_id: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.household_id = household_id
        self.household: Household | None = None
        self.last_message: QMessageBox | None = None
        self.people: list[Person] = []
        self.visit_ids: set[str] = set()
        self._build()
        ctx.changed.connect(self._on_changed)
        self.reload()
        fit_to_screen(self, PREFERRED_SIZE)

    # -- layout -------------------------------------------------------------------------
    def _build(self) -> None:
        self.heading = QLabel()
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.heading.setFont(font)
        self.heading.setWordWrap(True)
        self.details = self._build_details()

        self.edit_household_button = QPushButton(_("Edit household"))
        self.add_person_button = QPushButton(_("Add person"))
        self.edit_household_button.clicked.connect(self.edit_household)
        self.add_person_button.clicked.connect(self.add_person)
        top_buttons = QHBoxLayout()  # beside the heading: the tables get the height
        top_buttons.addWidget(self.heading, 1)
        top_buttons.addWidget(self.edit_household_button)
        top_buttons.addWidget(self.add_person_button)
        self.visit_button: QPushButton | None = None
        if module_available(VISIT_FORM_MODULE):
            self.visit_button = QPushButton(_("Record a visit (Ctrl+R)"))
            self.visit_button.clicked.connect(self.record_visit)
            top_buttons.addWidget(self.visit_button)
            QShortcut(QKeySequence(RECORD_VISIT_KEYS), self, self.record_visit)
        # What the last visit recorded from here saved; this window may hide the status bar.
        self.notice = QLabel()
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet(NOTICE_STYLE)
        self.notice.hide()

        self.people_table = QTableWidget(0, 7)
        self.people_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.people_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.people_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.people_table.verticalHeader().hide()
        self.people_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.people_table.horizontalHeader().setStretchLastSection(True)
        self.people_table.itemSelectionChanged.connect(self._person_selected)
        self.people_table.doubleClicked.connect(lambda _index: self.edit_person())

        self.edit_person_button = QPushButton(_("Edit person"))
        self.delete_person_button = QPushButton(_("Delete this person's data"))
        self.edit_person_button.clicked.connect(self.edit_person)
        self.delete_person_button.clicked.connect(self.delete_person)
        person_buttons = QHBoxLayout()
        person_buttons.addWidget(self.edit_person_button)
        person_buttons.addWidget(self.delete_person_button)
        self.export_person_button: QPushButton | None = None
        if module_available(EXPORT_MODULE):
            self.export_person_button = QPushButton(_("Export this person's data"))
            self.export_person_button.clicked.connect(self.export_person)
            person_buttons.addWidget(self.export_person_button)
        person_buttons.addStretch()

        self.indicator_list = QListWidget()
        self.indicator_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.indicator_list.setWordWrap(True)
        self.indicator_list.setHorizontalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.indicator_box = QGroupBox(_("Digital indicators"))
        indicator_layout = QVBoxLayout(self.indicator_box)
        indicator_layout.addWidget(self.indicator_list)
        # The person's classes: a line per class, course and how far they are.
        self.class_list = QListWidget()
        self.class_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.class_list.setWordWrap(True)
        self.class_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.class_list.setMaximumHeight(CLASS_LIST_HEIGHT)
        self.class_caption = QLabel(_("Classes:"))
        indicator_layout.addWidget(self.class_caption)
        indicator_layout.addWidget(self.class_list)

        people_box = QGroupBox(_("People"))
        people_layout = QVBoxLayout(people_box)
        people_layout.addWidget(self.people_table)
        people_layout.addLayout(person_buttons)
        people_row = QSplitter()
        people_row.addWidget(people_box)
        people_row.addWidget(self.indicator_box)
        people_row.setSizes([730, 370])

        self.visit_tree = QTreeWidget()
        self.visit_tree.setColumnCount(5)
        self.visit_tree.setAlternatingRowColors(True)
        visits_box = QGroupBox(_("Visit history"))
        visits_layout = QVBoxLayout(visits_box)
        visits_layout.addWidget(self.visit_tree)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(people_row)
        splitter.addWidget(visits_box)

        layout = QVBoxLayout(self)
        layout.addLayout(top_buttons)
        layout.addWidget(self.notice)
        layout.addLayout(self.details)
        layout.addWidget(splitter, 1)

    def _build_details(self) -> QGridLayout:
        """Hamlet and address, phone and GPS side by side, then the notes: two lines fewer
        than one field a line, for the people and visits on a short screen."""
        self.hamlet_label, self.address_label = QLabel(), QLabel()
        self.phone_label, self.gps_label, self.notes_label = QLabel(), QLabel(), QLabel()
        for label in (self.address_label, self.notes_label):
            label.setWordWrap(True)
        details = QGridLayout()
        details.setColumnStretch(1, 1)
        details.setColumnStretch(3, 1)
        for index, (title, label) in enumerate((
                (_(HOUSEHOLD["hamlet"].label), self.hamlet_label),
                (_(HOUSEHOLD["address"].label), self.address_label),
                (_(HOUSEHOLD["phone"].label), self.phone_label),
                (_("GPS"), self.gps_label),
                (_(HOUSEHOLD["notes"].label), self.notes_label))):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            row, column = divmod(index, 2)
            details.addWidget(QLabel(title), row, 2 * column)
            details.addWidget(label, row, 2 * column + 1, 1, 3 if index == 4 else 1)
        return details

    # -- data ---------------------------------------------------------------------------
    def reload(self) -> None:
        ws = self.ctx.ws
        try:
            self.household = ws.households.get(self.household_id)
        except NotFound:
            self.close()
            return
        h = self.household
        self.setWindowTitle(_("Household {code}").format(code=h.code))
        self.heading.setText(f"{h.code} — {h.head_name}")
        self.hamlet_label.setText(h.hamlet)
        self.address_label.setText(h.address)
        self.phone_label.setText(h.phone)
        self.gps_label.setText(_("{latitude}; {longitude}").format(
            latitude=format_coordinate(h.latitude), longitude=format_coordinate(h.longitude))
            if h.latitude is not None and h.longitude is not None else "")
        self.notes_label.setText(h.notes)
        selected = self.selected_person()
        self.people = ws.people.in_household(self.household_id)
        self._fill_people(selected.id if selected else None)
        visits = ws.visits.history(self.household_id)
        self.visit_ids = {v.id for v in visits}
        self._fill_visits(visits)

    def _fill_people(self, keep_id: str | None) -> None:
        table = self.people_table
        table.setHorizontalHeaderLabels([_("Full name"), _("Sex"), _("Born (age)"),
                                         _("Relationship"), _("Phone"), _("Citizen ID"),
                                         _("Consent")])
        table.setRowCount(len(self.people))
        today = self.ctx.ws.today()
        for row, person in enumerate(self.people):
            born = ""
            if person.birth_year:
                born = f"{person.birth_year} ({person.age_on(today)})"
            consent = _("✓ {date}").format(date=format_date(person.consent_on)) \
                if person.consent else "✗"
            cells = (person.full_name, sex_label(person.sex), born, person.relationship,
                     person.masked_phone, person.masked_cccd, consent)
            for column, text in enumerate(cells):
                table.setItem(row, column, QTableWidgetItem(text))
        target = next((i for i, p in enumerate(self.people) if p.id == keep_id), 0)
        if self.people:
            table.selectRow(target)
        self._person_selected()

    def selected_person(self) -> Person | None:
        rows = self.people_table.selectionModel().selectedRows() \
            if self.people_table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.people):
            return None
        return self.people[rows[0].row()]

    def _person_selected(self) -> None:
        person = self.selected_person()
        for button in (self.edit_person_button, self.delete_person_button,
                       self.export_person_button):
            if button is not None:
                button.setEnabled(person is not None)
        self.indicator_list.clear()
        self._fill_classes(person)
        if person is None:
            self.indicator_box.setTitle(_("Digital indicators"))
            return
        self.indicator_box.setTitle(_("Digital indicators: {name}").format(
            name=person.full_name))
        values = {v.code: v for v in self.ctx.ws.indicators.for_person(person.id)}
        for indicator in self.ctx.ws.catalog.indicators():
            value = values.get(indicator.code)
            if value is not None and value.value:
                text = _("✓ {name} (since {date})").format(name=indicator.name,
                                                            date=format_date(value.as_of))
            else:
                text = f"✗ {indicator.name}"
            QListWidgetItem(text, self.indicator_list)

    def _fill_classes(self, person: Person | None) -> None:
        self.class_list.clear()
        classes = classes_of_person(self.ctx.ws, person.id) if person is not None else []
        for entry in classes:
            text = _("{class_name} ({course}): {mastered}/{lessons} lessons mastered").format(
                class_name=entry.class_name, course=entry.course_title,
                mastered=entry.mastered, lessons=entry.lessons)
            if entry.completed:
                text = _("{line}, completed").format(line=text)
            elif entry.needing_help:
                text = _("{line}, {count} need help").format(line=text,
                                                              count=entry.needing_help)
            QListWidgetItem(text, self.class_list)
        self.class_caption.setVisible(bool(classes))
        self.class_list.setVisible(bool(classes))

    def _fill_visits(self, visits: list[Visit]) -> None:
        ws = self.ctx.ws
        tree = self.visit_tree
        tree.clear()
        tree.setHeaderLabels([_("When / who"), _("Support"), _("Outcome"), _("Follow-up"),
                              _("Status")])
        members = {m.id: m.name for m in ws.catalog.members(include_inactive=True)}
        items = {s.code: s.name for s in ws.catalog.support_items()}
        names = {p.id: p.full_name for p in self.people}
        by_id = {v.id: v for v in visits}
        for visit in visits:
            status, struck = self._visit_status(visit, by_id)
            member_names = ", ".join(members.get(m, "?") for m in visit.member_ids)
            top = QTreeWidgetItem([format_datetime(visit.visited_at), member_names, "",
                                   format_date(visit.follow_up_on), status])
            for item in visit.items:
                person = names.get(item.person_id or "", "") if item.person_id else \
                    _("Whole household")
                outcome = outcome_label(item.outcome)
                if item.reason:
                    outcome = f"{outcome}: {item.reason}"
                QTreeWidgetItem(top, [person or _("(data deleted)"),
                                      items.get(item.support_item_code, item.support_item_code),
                                      outcome, "", ""])
            if struck:
                _strike(top)
            tree.addTopLevelItem(top)
            top.setExpanded(visit.effective)
        for column in range(tree.columnCount()):
            tree.resizeColumnToContents(column)

    @staticmethod
    def _visit_status(visit: Visit, by_id: dict[str, Visit]) -> tuple[str, bool]:
        """A label saying whether this record still counts, and why not."""
        if visit.kind == "void":
            return _("Cancellation of an earlier visit: {reason}").format(
                reason=visit.reason), False
        if visit.superseded_by:
            later = [by_id[i] for i in visit.superseded_by if i in by_id]
            if any(v.kind == "void" for v in later):
                reason = next(v.reason for v in later if v.kind == "void")
                return _("cancelled: {reason}").format(reason=reason), True
            reason = later[0].reason if later else ""
            return _("corrected: {reason}").format(reason=reason), True
        if visit.kind == "amend":
            return _("Correction: {reason}").format(reason=visit.reason), False
        return "", False

    def _on_changed(self, changes: Changes) -> None:
        if self._concerns_household(changes):
            self.reload()
        elif changes.touched("indicator_answers") or changes.touched("lesson_events") \
                or changes.touched("class_learners"):
            self._person_selected()  # an answer only shows in the selected person's list

    def _concerns_household(self, changes: Changes) -> bool:
        """Whether a change elsewhere alters what this window shows (most do not: every save
        in the app is announced to every open window)."""
        ws = self.ctx.ws
        if self.household_id in changes.ids("households"):
            return True
        if self.household is not None and self.household.hamlet_id in changes.ids("hamlets"):
            return True
        if changes.touched("team_members"):
            return True  # member names in the visit history
        people = changes.ids("people")
        known_people = {p.id for p in self.people}
        if people & known_people:
            return True
        if people - known_people and (people - known_people) & {
                p.id for p in ws.people.in_household(self.household_id)}:
            return True  # someone added to this household
        visits = changes.ids("visits")
        if visits & self.visit_ids:
            return True
        new_visits = visits - self.visit_ids
        if len(new_visits) > VISITS_LOOKED_UP:
            return True
        return any(self._visit_household(v) == self.household_id for v in new_visits)

    def _visit_household(self, visit_id: str) -> str | None:
        try:
            return self.ctx.ws.visits.get(visit_id).household_id
        except NotFound:
            return None

    # -- actions ------------------------------------------------------------------------
    def edit_household(self) -> HouseholdForm:
        form = HouseholdForm(self.ctx, self.household, parent=self)
        form.open()
        return form

    def add_person(self) -> PersonForm:
        form = PersonForm(self.ctx, self.household_id, parent=self)
        form.open()
        return form

    def edit_person(self) -> PersonForm | None:
        person = self.selected_person()
        if person is None:
            return None
        form = PersonForm(self.ctx, self.household_id, person, parent=self)
        form.open()
        return form

    def record_visit(self) -> QDialog | None:
        from dxkit.ui.visit_form import VisitDialog  # written separately; optional here

        dialog = VisitDialog(self.ctx, self.household_id, parent=self)
        dialog.accepted.connect(lambda: self.show_notice(dialog.saved_message))
        dialog.open()
        return dialog

    def show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def delete_person(self, confirmed: bool = False) -> None:
        person = self.selected_person()
        if person is None:
            return
        if not confirmed and not self._confirm_delete(person):
            return
        people, person_id = self.ctx.ws.people, person.id
        Op(self.ctx, self, lambda _progress: people.delete(person_id)).run()

    def _confirm_delete(self, person: Person) -> bool:
        box = QMessageBox(QMessageBox.Icon.Warning, _("Delete this person's data"), _(
            "Delete the personal data of {name}?").format(name=person.full_name), parent=self)
        box.setInformativeText(_(
            "Their name, sex, birth date, relationship, phone number, citizen ID, consent and "
            "notes are erased for good, with their digital indicators. Past visits stay in the "
            "records without their name, so the hamlet's counts stay correct. This cannot be "
            "undone."))
        delete = box.addButton(_("Delete"), QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(_("Cancel"), QMessageBox.ButtonRole.RejectRole)
        box.exec()
        return box.clickedButton() is delete

    def export_person(self, path: str | None = None) -> None:
        person = self.selected_person()
        if person is None:
            return
        if path is None:
            suggested = str(Path.home() / f"{person.full_name or 'person'}.json")
            path, _filter = QFileDialog.getSaveFileName(
                self, _("Export this person's data"), suggested, _("JSON files (*.json)"))
            if not path:
                return
        target = Path(path)
        ws, person_id = self.ctx.ws, person.id

        def work(_progress: Any) -> Path:
            from dxkit.households import exporting

            return Path(exporting.export_person(ws, person_id, target))

        (Op(self.ctx, self, work)
         .with_progress(_("Exporting personal data…"), cancellable=False)
         .success(self._exported)
         .run())

    def _exported(self, path: Path) -> None:
        self.last_message = show_message(self, _("Saved to {path}.").format(path=path))


@DIALOGS.register("household page")
def _sample_household_view(ctx: AppContext, parent: QWidget) -> QDialog:
    return HouseholdView(ctx, fullest_household(ctx.ws).id, parent)


def _strike(item: QTreeWidgetItem) -> None:
    for column in range(item.columnCount() or 5):
        font = QFont(item.font(column))
        font.setStrikeOut(True)
        item.setFont(column, font)
        item.setForeground(column, Qt.GlobalColor.gray)
    for index in range(item.childCount()):
        _strike(item.child(index))
