"""Small forms of the farm screens: organisation, plot and season dialogs, and the shared
FormDialog that shows each ValidationError message next to its field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from dxkit.core.errors import ValidationError
from dxkit.core.i18n import _
from dxkit.farm.model import Org
from dxkit.farm.pesticides import CROPS, crop_name
from dxkit.ui.context import AppContext
from dxkit.ui.fitting import DIALOGS, fit_to_screen, scrolled_body
from dxkit.ui.operations import Op
from dxkit.ui.widgets import FieldErrors, FieldWithError, save_cancel_buttons


def to_qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def from_qdate(day: QDate) -> dt.date:
    return dt.date(day.year(), day.month(), day.day())


def date_edit(day: dt.date) -> QDateEdit:
    edit = QDateEdit(to_qdate(day))
    edit.setDisplayFormat("dd/MM/yyyy")
    edit.setCalendarPopup(True)
    return edit


def crop_combo(blank: str | None = None) -> QComboBox:
    combo = QComboBox()
    if blank is not None:
        combo.addItem(blank, "")
    for code in CROPS:
        combo.addItem(crop_name(code), code)
    return combo


def value_of(widget: QWidget) -> Any:
    """What a form editor holds, as the core operations take it."""
    if isinstance(widget, QLineEdit):
        return widget.text().strip()
    if isinstance(widget, QComboBox):
        return widget.currentData()
    if isinstance(widget, QDateEdit):
        return from_qdate(widget.date())
    if isinstance(widget, FieldWithError):
        return value_of(widget.editor)
    raise TypeError(type(widget))


class FormDialog(QDialog):
    """A dialog of labelled editors keyed like the operation's ValidationError fields. `work`
    gets {key: value} and runs on the database thread; `saved` holds its result's value."""

    def __init__(self, ctx: AppContext, title: str,
                 rows: list[tuple[str, str, QWidget]],
                 work: Callable[[dict[str, Any]], Any], parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx, self.work = ctx, work
        self.saved: Any = None
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        layout = scrolled_body(self, save_cancel_buttons(self))  # the buttons stay in view
        general = QLabel()
        layout.addWidget(general)
        self.errors = FieldErrors(general)
        form = QFormLayout()
        self.editors: dict[str, QWidget] = {}
        for key, label, editor in rows:
            self.editors[key] = editor
            form.addRow(label, self.errors.add(key, FieldWithError(editor)))
        layout.addLayout(form)
        fit_to_screen(self)

    def values(self) -> dict[str, Any]:
        return {key: value_of(editor) for key, editor in self.editors.items()}

    def save(self) -> None:
        self.errors.clear()
        values, work = self.values(), self.work  # read here, on the UI thread
        (Op(self.ctx, self, lambda _progress: work(values))
         .success(self._saved)
         .invalid(self.show_invalid)
         .run())

    def show_invalid(self, error: ValidationError) -> None:
        self.errors.show(error.fields)

    def _saved(self, result: Any) -> None:
        self.saved = getattr(result, "value", result)
        self.accept()


def org_dialog(ctx: AppContext, parent: QWidget | None = None) -> FormDialog:
    farm = ctx.ws.farm
    rows: list[tuple[str, str, QWidget]] = [
        ("name", _("Name:"), QLineEdit()),
        ("short_code", _("Short code (on lot codes):"), QLineEdit()),
        ("address", _("Address:"), QLineEdit()),
        ("certification", _("Certification:"), QLineEdit()),
    ]
    rows[1][2].setPlaceholderText(_("for example TMX; suggested from the name if left blank"))
    return FormDialog(ctx, _("Add an organisation"), rows,
                      lambda v: farm.orgs.add(v.pop("name"), **v), parent)


def plot_dialog(ctx: AppContext, org: Org, parent: QWidget | None = None) -> FormDialog:
    farm = ctx.ws.farm
    area = QLineEdit()
    area.setPlaceholderText(_("hectares, for example 1,5"))
    rows: list[tuple[str, str, QWidget]] = [
        ("name", _("Plot name:"), QLineEdit()),
        ("crop", _("Crop:"), crop_combo()),
        ("variety", _("Variety:"), QLineEdit()),
        ("area_ha", _("Area (ha):"), area),
        ("growing_area_code", _("Growing-area code:"), QLineEdit()),
        ("location", _("Location:"), QLineEdit()),
        ("certification", _("Certification:"), QLineEdit()),
    ]

    def work(values: dict[str, Any]) -> Any:
        return farm.orgs.add_plot(org.id, values.pop("name"), crop=values.pop("crop"), **values)

    return FormDialog(ctx, _("Add a plot to {org}").format(org=org.name), rows, work, parent)


def season_dialog(ctx: AppContext, org: Org, parent: QWidget | None = None) -> FormDialog:
    farm, today = ctx.ws.farm, ctx.ws.today()
    name = QLineEdit()
    name.setPlaceholderText(_("for example Đông Xuân 2026–2027"))
    rows: list[tuple[str, str, QWidget]] = [
        ("name", _("Season name:"), name),
        ("starts_on", _("First day:"), date_edit(today)),
        ("ends_on", _("Last day:"), date_edit(today + dt.timedelta(days=120))),
        ("crop", _("Crop:"), crop_combo(_("Any crop"))),
    ]

    def work(values: dict[str, Any]) -> Any:
        return farm.orgs.add_season(org.id, values.pop("name"), **values)

    return FormDialog(ctx, _("Add a season to {org}").format(org=org.name), rows, work, parent)


@DIALOGS.register("organisation form")
def _sample_org_form(ctx: AppContext, parent: QWidget) -> QDialog:
    return org_dialog(ctx, parent)


@DIALOGS.register("plot form")
def _sample_plot_form(ctx: AppContext, parent: QWidget) -> QDialog:
    return plot_dialog(ctx, ctx.ws.farm.orgs.all()[0], parent)


@DIALOGS.register("season form")
def _sample_season_form(ctx: AppContext, parent: QWidget) -> QDialog:
    return season_dialog(ctx, ctx.ws.farm.orgs.all()[0], parent)
