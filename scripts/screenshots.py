#!/usr/bin/env python3
"""Render the real app offscreen on a generated demo workspace and save PNGs for the docs.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--lang vi|en]
                                            [--workspace DIR] [--households 600]
                                            [--size 1366x768 --scale 1.25]

The demo is generated with a fixed seed and a fixed "now", so the pictures only change when
the screens do. Without --workspace a temporary folder is used and removed afterwards.

Every section and every dialog registered in `dxkit.ui.fitting.DIALOGS` is drawn. `--size`
and `--scale` stand in a laptop's screen (physical pixels, Windows' display scaling) with a
taskbar of `--taskbar` pixels along the bottom: to see what a volunteer sees, try
`--size 1024x600` and `--size 1366x768 --scale 1.25`. The main window then fills the screen.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSize  # noqa: E402
from PySide6.QtGui import QFont, QFontDatabase  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from dxkit import demo  # noqa: E402
from dxkit.core import i18n  # noqa: E402
from dxkit.households.legacy_text import unicode_to_tcvn3  # noqa: E402
from dxkit.households.roster import Household  # noqa: E402
from dxkit.lessons.packs import read_pack  # noqa: E402
from dxkit.ui.app import create_main_window  # noqa: E402
from dxkit.ui.context import AppContext  # noqa: E402
from dxkit.ui.fitting import DIALOGS, room_on_screen  # noqa: E402
from dxkit.ui.lessons.learner_mode import LearnerQuizWindow  # noqa: E402
from dxkit.ui.lessons.presentation import PresentationWindow  # noqa: E402
from dxkit.ui.reports_page import INDICATORS  # noqa: E402
from dxkit.workspace import Workspace  # noqa: E402

NOW = dt.datetime(2026, 11, 20, 9, 30)
WINDOW_SIZE = (1280, 800)  # the main window, where the screen has the room
SCREEN_SIZE = "1920x1080"  # the default screen: every window gets the size it prefers
TASKBAR = 40  # logical pixels of Windows' taskbar along the bottom of the screen
# Dialogs whose pictures the README shows under another name.
DOC_NAMES = {"household page": "household"}
FONT_CANDIDATES = ("Noto Sans", "DejaVu Sans", "Segoe UI", "Arial")
COURSE = ROOT / "dxkit" / "resources" / "courses" / "vn.dxkit.ky-nang-so-co-ban"
SHOWN_LESSON = "vneid-muc-2"  # on the projector: its slide with a picture
SHOWN_QUESTION = ("thanh-toan-qr", "q4")  # the learner's screen: the most text of the course


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Let Qt run (queued task results, layouts) until the condition holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not reach the expected state in time")
        QApplication.processEvents()
        time.sleep(0.01)


def settle(widget: QWidget) -> None:
    for _ in range(5):
        QApplication.processEvents()
    widget.repaint()


def save(widget: QWidget, out: Path, name: str) -> Path:
    settle(widget)
    path = out / f"{name}.png"
    if not widget.grab().save(str(path)):
        raise OSError(f"could not write {path}")
    print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return path


def open_demo(folder: Path, households: int) -> Workspace:
    ws = Workspace.open(folder)
    ws.freeze_time(NOW)
    if ws.households.count() == 0:
        print(f"Generating a demo workspace with {households} households…")
        demo.generate(ws, seed=1, households=households)
        # The laptop's user: the visit form ticks them by default.
        ws.settings.set("current_member_id", ws.catalog.members()[0].id)
    elif ws.meta().get("demo") != "1":
        ws.close()
        sys.exit(f"{folder} holds real data; give an empty folder or a demo workspace.")
    return ws


def showcase_household(ws: Workspace) -> Household:
    """A household with several people and a few visits, so its page has something to show."""
    best, best_score = None, -1
    for household in ws.households.list():
        people = len(ws.people.in_household(household.id))
        visits = len(ws.visits.history(household.id))
        score = min(people, 5) * 10 + min(visits, 4)
        if score > best_score:
            best, best_score = household, score
    assert best is not None, "the demo has no households"
    return best


def sample_import_file(ws: Workspace, folder: Path) -> Path:
    """A commune office's list: a title, a numbering row, two known households, new ones typed
    in the TCVN3 font (one with a wife on a row of her own), one row with a mistake, totals and
    a signature block, so the preview shows conversions, assumptions, changes and a problem."""
    hamlets = [h.name for h in ws.catalog.hamlets()]
    known = ws.households.list()[:2]
    header = ["Mã hộ", "Chủ hộ", "Ấp/Khóm", "Họ và tên", "Giới tính", "Ngày sinh", "SĐT",
              "Đồng ý lưu dữ liệu"]
    rows = [[h.code, h.head_name, h.hamlet, "", "", "", "", ""] for h in known]
    people = [("Nguyễn Thị Thu Hằng", "Nữ", "14/02/1985", "0912345678"),
              ("Trương Văn Lực", "Nam", "1979", ""),
              ("Lâm Ngọc Ánh", "Nữ", "03/11/2001", "0387654321"),
              ("Đoàn Minh Quân", "Nam", "1994", "0868123456")]
    def tcvn3(text: str) -> str:  # as Excel shows a column typed with an ABC font
        return unicode_to_tcvn3(text).decode("cp1252")

    for i, (name, sex, born, phone) in enumerate(people):
        rows.append([f"NK-{i + 1:03d}", name, hamlets[i % len(hamlets)], tcvn3(name), sex, born,
                     phone, "Có"])
        if i == 1:  # his wife on the next row, the household cells left blank (merged)
            rows.append(["", "", "", tcvn3("Trương Thị Mai"), "Nữ", "12-05-1982", "", "Có"])
    rows.append(["NK-005", "Hồ Văn Tài", hamlets[0], tcvn3("Hồ Văn Tài"), "Nam", "31/02/1990",
                 "", "Có"])
    title = [["DANH SÁCH HỘ GIA ĐÌNH"], []]
    numbering = [[f"({i})" for i in range(1, len(header) + 1)]]
    signature = [["Tổng cộng", "7 hộ"], ["", "Người lập biểu", "", "", "TM. UBND XÃ"],
                 ["", "Lê Thị Lập", "", "", "Nguyễn Văn Chủ"]]
    path = folder / "danh-sach-ho-xa.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([*title, header, *numbering, *rows, *signature])
    return path


def use_font(app: QApplication) -> None:
    families = set(QFontDatabase.families())
    for family in FONT_CANDIDATES:
        if family in families:
            app.setFont(QFont(family, 10))
            return


def screen_size(text: str) -> tuple[int, int]:
    found = re.fullmatch(r"(\d+)x(\d+)", text)
    if found is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 1366x768")
    return int(found[1]), int(found[2])


def stand_in_screen(size: tuple[int, int], scale: float, taskbar: int, folder: Path) -> None:
    """Give Qt's offscreen platform (read when the QApplication starts) a screen of `size`
    physical pixels less the taskbar, scaled by `scale` as Windows' display setting does."""
    if not os.environ["QT_QPA_PLATFORM"].startswith("offscreen"):
        return
    width, height = size
    screen = {"name": "laptop", "x": 0, "y": 0, "width": width,
              "height": height - round(taskbar * scale), "logicalDpi": 96,
              "logicalBaseDpi": 96, "dpr": 1}
    config = folder / "screen.json"
    config.write_text(json.dumps({"screens": [screen]}), encoding="utf-8")
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
    os.environ["QT_SCALE_FACTOR"] = str(scale)


def shoot_dialogs(ctx: AppContext, window: QWidget, out: Path) -> list[Path]:
    """Every registered dialog, as fit_to_screen sized it."""
    shots = []
    DIALOGS.load_all()
    for name in DIALOGS.names():
        dialog = DIALOGS.build(name, ctx, window)
        if name == "visit form":
            dialog.notes.setPlainText(  # type: ignore[attr-defined]
                "Hẹn quay lại sau 2 tuần để kích hoạt VNeID mức 2 cho chị.")
        dialog.show()
        ctx.tasks.wait_idle()
        shots.append(save(dialog, out, DOC_NAMES.get(name, name.replace(" ", "-"))))
        dialog.close()
    return shots


def shoot_lessons(out: Path, full_screen: QSize) -> list[Path]:
    """The lesson on the projector and the learner's quiz, at the size of the whole screen
    (both run full screen, over the taskbar)."""
    language = i18n.language()
    pack = read_pack(COURSE)
    shots = []
    presentation = PresentationWindow(pack, SHOWN_LESSON, language)
    presentation.resize(full_screen)
    presentation.show()
    settle(presentation)
    presentation.show_slide(next(i for i, slide in enumerate(presentation.slides)
                                 if "![" in slide.markdown))
    bar = presentation.view.verticalScrollBar()
    bar.setValue(bar.maximum())  # the picture, at the end of the slide
    shots.append(save(presentation, out, "lesson-presentation"))
    presentation.close()

    lesson_id, item_id = SHOWN_QUESTION
    lesson = pack.lesson(lesson_id)
    quiz = LearnerQuizWindow(lesson, language, lambda result: None)
    quiz.resize(full_screen)
    quiz.show()
    for item in lesson.quiz:
        if item.id == item_id:
            break
        quiz.answer(item.answer)
        quiz.next_question()
    quiz.choose(0)  # a multiple-choice item: one answer ticked, Done enabled
    shots.append(save(quiz, out, "learner-quiz"))
    quiz.done()
    shots.append(save(quiz, out, "learner-quiz-answer"))
    quiz.leave()
    return shots


def take(ws: Workspace, out: Path, scratch: Path) -> list[Path]:
    window = create_main_window(ws)
    ctx = window.ctx
    window.resize(QSize(*WINDOW_SIZE).boundedTo(room_on_screen(window)))
    window.show()
    settle(window)
    shots: list[Path] = []
    try:
        today = window.show_section("today")
        wait_for(lambda: today.summary is not None)  # type: ignore[attr-defined]
        shots.append(save(window, out, "today"))

        households = window.show_section("households")
        household = showcase_household(ws)
        households.select_household(household.id)  # type: ignore[attr-defined]
        shots.append(save(window, out, "households"))
        shots += shoot_dialogs(ctx, window, out)

        followups = window.show_section("followups")
        followups.within_days.setValue(14)  # type: ignore[attr-defined]
        wait_for(lambda: followups.loaded)  # type: ignore[attr-defined]
        followups.table.selectRow(0)  # type: ignore[attr-defined]  # its actions enabled
        shots.append(save(window, out, "follow-ups"))

        indicators = window.show_section("indicators")
        wait_for(lambda: indicators.loaded)  # type: ignore[attr-defined]
        shots.append(save(window, out, "indicators"))

        # The official population of each hamlet, as a commune office would enter it (a
        # little above the people registered there), so the report shows both shares.
        for hamlet in ws.catalog.hamlets():
            if hamlet.population_15 is None:
                counted = max(r.population for r in ws.indicators.rollup(hamlet_id=hamlet.id))
                ctx.notify(ws.catalog.set_population(
                    hamlet.id, round(counted * 1.25) + 5, round(counted * 1.1)).changes)
        reports = window.show_section("reports")  # last month, every hamlet
        wait_for(lambda: reports.report is not None  # type: ignore[attr-defined]
                 and not reports.building)  # type: ignore[attr-defined]
        shots.append(save(window, out, "reports-summary"))
        reports.tabs.setCurrentIndex(INDICATORS)  # type: ignore[attr-defined]
        shots.append(save(window, out, "reports"))

        classes = window.show_section("classes")
        wait_for(lambda: classes.rows_loaded)  # type: ignore[attr-defined]
        classes.open_selected()  # type: ignore[attr-defined]  # the demo's class in progress
        wait_for(lambda: classes.view is not None)  # type: ignore[attr-defined]
        shots.append(save(window, out, "classes"))

        transfer = window.show_section("transfer")
        transfer.start_import(sample_import_file(ws, scratch))  # type: ignore[attr-defined]
        wait_for(lambda: transfer.plan is not None)  # type: ignore[attr-defined]
        shots.append(save(window, out, "import-preview"))

        farm = window.show_section("farm")
        wait_for(lambda: farm.loaded)  # type: ignore[attr-defined]
        farm.select_plot("Ruộng lúa bà Hai")  # type: ignore[attr-defined]
        wait_for(lambda: farm.timeline_model.rowCount() > 0)  # type: ignore[attr-defined]
        farm.form.set_kind("pesticide")  # type: ignore[attr-defined]
        farm.form.product.setText("Regent 800WG")  # type: ignore[attr-defined]
        wait_for(lambda: not farm.form.ban_banner.isHidden())  # type: ignore[attr-defined]
        shots.append(save(window, out, "farm"))

        lots = window.show_section("lots")
        wait_for(lambda: lots.loaded)  # type: ignore[attr-defined]
        designer = lots.designer  # type: ignore[attr-defined]
        designer.start.setValue(4)
        wait_for(lambda: designer.preview_image is not None)
        shots.append(save(window, out, "labels"))

        settings = window.show_section("settings")
        shots.append(save(window, out, "settings"))
        scroll = window.stack.currentWidget()  # the FormScroll the settings page sits in
        scroll.ensureWidgetVisible(settings.backups_box)  # type: ignore[attr-defined]
        shots.append(save(window, out, "settings-backups"))

        window.show_section("review")
        shots.append(save(window, out, "sync-review"))
    finally:
        ctx.tasks.shutdown()
        window.close()
    return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--lang", choices=sorted(i18n.LANGUAGES), default="vi")
    parser.add_argument("--workspace", type=Path, help="demo workspace folder to (re)use")
    parser.add_argument("--households", type=int, default=600)
    parser.add_argument("--size", type=screen_size, default=SCREEN_SIZE,
                        help="the screen in physical pixels, e.g. 1024x600")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="Windows' display scaling, e.g. 1.25")
    parser.add_argument("--taskbar", type=int, default=TASKBAR,
                        help="the taskbar's height in logical pixels")
    args = parser.parse_args(argv)

    i18n.set_language(args.lang)
    scratch = Path(tempfile.mkdtemp(prefix="dxkit-shots-"))
    stand_in_screen(args.size, args.scale, args.taskbar, scratch)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    use_font(app)
    folder = args.workspace or scratch / "demo"
    args.out.mkdir(parents=True, exist_ok=True)
    ws = open_demo(folder, args.households)
    try:
        print(f"Saving screenshots to {args.out}:")
        take(ws, args.out, scratch)
        width, height = args.size
        shoot_lessons(args.out, QSize(round(width / args.scale), round(height / args.scale)))
    finally:
        ws.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
