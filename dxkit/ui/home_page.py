""""Hôm nay": the team's day on one page — who to return to, what waits to sync, how far the
indicators are from their targets, and what the team did lately. Every block leads on to the
section where the work is done."""

from __future__ import annotations

import datetime as dt
import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dxkit.core.i18n import _, format_date, format_datetime, format_number, ngettext
from dxkit.households.indicators import RollupRow
from dxkit.households.today import TodaySummary, today_summary
from dxkit.households.visits import FollowUp
from dxkit.ui.appearance import HINT_STYLE, scaled_font
from dxkit.ui.context import AppContext
from dxkit.ui.followups_page import OVERDUE_COLOUR, due_text
from dxkit.ui.page import Page
from dxkit.ui.sync_ui import controller_for

WATCHED_TABLES = ("visits", "visit_items", "households", "people", "hamlets",
                  "team_members", "indicators", "indicator_answers", "person_indicators")
FOLLOW_UPS_LISTED = 5  # the most overdue first; the follow-ups section has the rest
LAST_SYNC_META = "last_sync_at"


def percent(share: float) -> str:
    return format_number(round(share * 100)) + " %"


def indicator_line(row: RollupRow) -> str:
    """"Có VNeID mức 2: 45 % (mục tiêu 80 %)"."""
    if row.target is None:
        return _("{name}: {share}").format(name=row.name, share=percent(row.share))
    return _("{name}: {share} (target {target})").format(
        name=row.name, share=percent(row.share), target=percent(row.target))


def follow_up_line(follow_up: FollowUp) -> str:
    return f"{follow_up.head_name} ({follow_up.household_code}) — {due_text(follow_up)}"


class HomePage(Page):
    """Blocks of the day; built once, filled from one read on the database thread."""

    WATCHED = WATCHED_TABLES
    section_requested = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.summary: TodaySummary | None = None
        self.pending: int | None = None  # counted on the database thread: the outbox can be long
        self.sync = controller_for(ctx)
        self._build()
        self.sync.changed.connect(self._show_sync)
        self.retranslate()
        self.refresh()

    # -- building -------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.heading = QLabel()
        scaled_font(self.heading, 1.5, bold=True)
        layout.addWidget(self.heading)
        top = QHBoxLayout()
        self.follow_ups_box, follow_ups = _box()
        self.follow_ups_count = QLabel()
        self.follow_ups_count.setTextFormat(Qt.TextFormat.RichText)
        scaled_font(self.follow_ups_count, 1.2)
        self.follow_ups_list = QLabel()
        self.follow_ups_list.setWordWrap(True)
        self.follow_ups_button = QPushButton()
        self.follow_ups_button.clicked.connect(lambda: self.section_requested.emit("followups"))
        for widget in (self.follow_ups_count, self.follow_ups_list):
            follow_ups.addWidget(widget)
        follow_ups.addStretch(1)
        follow_ups.addWidget(self.follow_ups_button, 0, Qt.AlignmentFlag.AlignLeft)
        top.addWidget(self.follow_ups_box, 3)
        side = QVBoxLayout()
        self.sync_box, sync = _box()
        self.pending_label = QLabel()
        self.last_sync_label = QLabel()
        self.last_sync_label.setWordWrap(True)
        self.sync_button = QPushButton()
        self.sync_button.clicked.connect(self.sync_now)
        for widget in (self.pending_label, self.last_sync_label):
            sync.addWidget(widget)
        sync.addWidget(self.sync_button, 0, Qt.AlignmentFlag.AlignLeft)
        side.addWidget(self.sync_box)
        self.week_box, week = _box()
        self.week_label = QLabel()
        self.week_label.setWordWrap(True)
        week.addWidget(self.week_label)
        side.addWidget(self.week_box)
        top.addLayout(side, 2)
        layout.addLayout(top)
        bottom = QHBoxLayout()
        self.indicators_box, indicators = _box()
        self.indicator_grid = QGridLayout()
        indicators.addLayout(self.indicator_grid)
        self.indicators_hint = QLabel()
        self.indicators_hint.setStyleSheet(HINT_STYLE)
        self.indicators_hint.setWordWrap(True)
        indicators.addWidget(self.indicators_hint)
        indicators.addStretch(1)
        self.indicators_button = QPushButton()
        self.indicators_button.clicked.connect(
            lambda: self.section_requested.emit("indicators"))
        indicators.addWidget(self.indicators_button, 0, Qt.AlignmentFlag.AlignLeft)
        bottom.addWidget(self.indicators_box, 3)
        self.recent_box, recent = _box()
        self.recent_label = QLabel()
        self.recent_label.setTextFormat(Qt.TextFormat.RichText)
        self.recent_label.setWordWrap(True)
        recent.addWidget(self.recent_label)
        recent.addStretch(1)
        bottom.addWidget(self.recent_box, 2)
        layout.addLayout(bottom, 1)

    def retranslate(self) -> None:
        self.follow_ups_box.setTitle(_("Follow-ups for today"))
        self.follow_ups_button.setText(_("Open the follow-ups"))
        self.sync_box.setTitle(_("Sync"))
        self.sync_button.setText(_("Sync now"))
        self.week_box.setTitle(_("The last seven days"))
        self.indicators_box.setTitle(_("Indicators against targets"))
        self.indicators_button.setText(_("Open the indicators"))
        self.recent_box.setTitle(_("Latest visits"))
        self._show()
        self._show_sync()

    # -- loading --------------------------------------------------------------------------
    def refresh(self) -> None:
        ws = self.ws
        (self.query(lambda _progress: (today_summary(ws), ws.pending_changes()), key="today")
         .success(self._loaded).run())

    def _loaded(self, loaded: tuple[TodaySummary, int]) -> None:
        self.summary, self.pending = loaded
        self._show()
        self._show_sync()

    # -- showing --------------------------------------------------------------------------
    def _show(self) -> None:
        summary = self.summary
        day = summary.day if summary else self.ws.today()
        self.heading.setText(_("Today, {date}").format(date=format_date(day)))
        if summary is None:
            return
        self._show_follow_ups(summary)
        self._show_week(summary)
        self._show_indicators(summary)
        self._show_recent(summary)

    def _show_follow_ups(self, summary: TodaySummary) -> None:
        overdue, due = len(summary.overdue), len(summary.due_today)
        if not overdue and not due:
            self.follow_ups_count.setText(html.escape(_("No household is due for a return "
                                                        "visit today.")))
            self.follow_ups_list.setText("")
            return
        parts = []
        if overdue:
            late = ngettext("{count} overdue", "{count} overdue", overdue).format(
                count=format_number(overdue))
            parts.append(f'<b style="color: {OVERDUE_COLOUR.name()};">{html.escape(late)}</b>')
        if due:
            parts.append(html.escape(ngettext("{count} due today", "{count} due today",
                                              due).format(count=format_number(due))))
        self.follow_ups_count.setText(" · ".join(parts))
        listed = (summary.overdue + summary.due_today)[:FOLLOW_UPS_LISTED]
        lines = [follow_up_line(f) for f in listed]
        rest = overdue + due - len(listed)
        if rest > 0:
            lines.append(ngettext("and {count} more", "and {count} more", rest).format(
                count=format_number(rest)))
        self.follow_ups_list.setText("\n".join(lines))

    def _show_week(self, summary: TodaySummary) -> None:
        visits = ngettext("{count} visit", "{count} visits", summary.visits_this_week).format(
            count=format_number(summary.visits_this_week))
        households = ngettext("{count} household", "{count} households",
                              summary.households_this_week).format(
            count=format_number(summary.households_this_week))
        self.week_label.setText(_("{visits} to {households}.").format(
            visits=visits, households=households))

    def _show_indicators(self, summary: TodaySummary) -> None:
        while self.indicator_grid.count():
            item = self.indicator_grid.takeAt(0)
            if item is not None and item.widget() is not None:
                item.widget().deleteLater()
        rows = summary.indicators_with_target or summary.indicators
        for number, row in enumerate(rows):
            label = QLabel(indicator_line(row))
            label.setWordWrap(True)
            bar = QProgressBar()
            bar.setRange(0, 100)
            bar.setValue(round(row.share * 100))
            bar.setTextVisible(False)
            bar.setMaximumHeight(12)
            bar.setAccessibleName(indicator_line(row))
            if row.met is False:
                bar.setStyleSheet(f"QProgressBar::chunk {{ background: "
                                  f"{OVERDUE_COLOUR.name()}; }}")
            self.indicator_grid.addWidget(label, number, 0)
            self.indicator_grid.addWidget(bar, number, 1)
        self.indicator_grid.setColumnStretch(0, 3)
        self.indicator_grid.setColumnStretch(1, 2)
        if not summary.indicators_with_target:
            hint = _("No targets are set yet; the province publishes them, or set them in the "
                     "indicators section.")
        else:
            hint = _("Share of the people registered at each indicator's counted age.")
        self.indicators_hint.setText(hint)

    def _show_recent(self, summary: TodaySummary) -> None:
        if not summary.recent:
            self.recent_label.setText(html.escape(_("No visit recorded yet.")))
            return
        lines = []
        for visit in summary.recent:
            items = ngettext("{count} item", "{count} items", visit.items).format(
                count=format_number(visit.items))
            who = ", ".join(visit.recorders)
            lines.append(
                f"<b>{html.escape(visit.head_name)}</b> ({html.escape(visit.hamlet)}) — "
                f"{html.escape(items)}<br><span style='color: #555;'>"
                f"{html.escape(format_datetime(visit.visited_at))} · {html.escape(who)}</span>")
        self.recent_label.setText("<br>".join(lines))

    def _show_sync(self) -> None:
        meta = self.ws.meta()
        last = meta.get(LAST_SYNC_META)
        if not self.sync.enrolled:
            self.pending_label.setText(_("This laptop is not enrolled with the hub yet."))
            self.last_sync_label.setText(_("Enroll it in Settings to send the team's work up."))
            self.sync_button.setVisible(False)
            return
        pending = self.pending or 0
        self.pending_label.setText(ngettext(
            "{count} change waiting to sync", "{count} changes waiting to sync",
            pending).format(count=format_number(pending)) if self.pending is not None else "")
        self.last_sync_label.setText(_("Last sync: {when}").format(
            when=_when(last) if last else _("never synced")))
        self.sync_button.setVisible(True)
        self.sync_button.setEnabled(not self.sync.busy)

    def sync_now(self) -> None:
        self.sync.sync_now()
        self._show_sync()


def _box() -> tuple[QGroupBox, QVBoxLayout]:
    box = QGroupBox()
    box.setFlat(False)
    layout = QVBoxLayout(box)
    return box, layout


def _when(text: str) -> str:
    try:
        return format_datetime(dt.datetime.fromisoformat(text))
    except ValueError:
        return text

