"""The sections listed in the main window's navigation. Only working sections appear here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QWidget

from dxkit.core.i18n import _
from dxkit.ui.context import AppContext

REPORTS_KEYS = "Ctrl+B"  # "Báo cáo"; no page or dialog uses Ctrl+B


@dataclass(frozen=True)
class Section:
    key: str
    title: Callable[[], str]  # called each time so a language switch shows the new title
    factory: Callable[[AppContext], QWidget]
    scrolls: bool = False  # a long form: shown in a scroll area, never taller than the screen
    icon: str = ""  # dxkit/resources/icons/<icon>.svg; the section's key when empty
    # A key of the section's own (e.g. "Ctrl+B"). Sections without one take Ctrl+1…9, then
    # Ctrl+0, in the order listed (the main window's SWITCH_KEYS), so a section given its own
    # key leaves the others' digits as they were. It must not clash with another shortcut.
    shortcut: str = ""

    @property
    def icon_name(self) -> str:
        return self.icon or self.key


def _today(ctx: AppContext) -> QWidget:
    from dxkit.ui.home_page import HomePage

    return HomePage(ctx)


def _households(ctx: AppContext) -> QWidget:
    from dxkit.ui.households_page import HouseholdsPage

    return HouseholdsPage(ctx)


def _settings(ctx: AppContext) -> QWidget:
    from dxkit.ui.settings_page import SettingsPage

    return SettingsPage(ctx)


def _followups(ctx: AppContext) -> QWidget:
    from dxkit.ui.followups_page import FollowUpsPage

    return FollowUpsPage(ctx)


def _indicators(ctx: AppContext) -> QWidget:
    from dxkit.ui.indicators_page import IndicatorsPage

    return IndicatorsPage(ctx)


def _reports(ctx: AppContext) -> QWidget:
    from dxkit.ui.reports_page import ReportsPage

    return ReportsPage(ctx)


def _classes(ctx: AppContext) -> QWidget:
    from dxkit.ui.lessons.classes_page import ClassesPage

    return ClassesPage(ctx)


def _farm(ctx: AppContext) -> QWidget:
    from dxkit.ui.farm_page import FarmPage

    return FarmPage(ctx)


def _lots(ctx: AppContext) -> QWidget:
    from dxkit.ui.lots_page import LotsPage

    return LotsPage(ctx)


def _transfer(ctx: AppContext) -> QWidget:
    from dxkit.ui.import_export_page import ImportExportPage

    return ImportExportPage(ctx)


def _review(ctx: AppContext) -> QWidget:
    from dxkit.ui.sync_ui import SyncReviewPage

    return SyncReviewPage(ctx)


SECTIONS: list[Section] = [
    Section("today", lambda: _("Today"), _today, scrolls=True),
    Section("households", lambda: _("Households"), _households),
    Section("followups", lambda: _("Follow-ups"), _followups),
    Section("indicators", lambda: _("Indicators"), _indicators),
    Section("reports", lambda: _("Reports"), _reports, shortcut=REPORTS_KEYS),
    Section("classes", lambda: _("Classes"), _classes),
    Section("farm", lambda: _("Production diary"), _farm),
    Section("lots", lambda: _("Lots & labels"), _lots),
    Section("transfer", lambda: _("Import & export"), _transfer),
    Section("review", lambda: _("Sync review"), _review),
    Section("settings", lambda: _("Settings"), _settings, scrolls=True),
]
