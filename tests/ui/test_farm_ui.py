"""The farm diary and the lots & labels screens, on the farm demo (three plots, three lots,
one of them non-compliant: a harvest inside a pre-harvest interval).

No timing: where a test needs an answer still on its way, the database thread is held on a
gate and results are awaited."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QMessageBox

from dxkit.core import i18n
from dxkit.core.errors import Cancelled
from dxkit.core.progress import Progress
from dxkit.farm import printing
from dxkit.farm.demo_farm import fill_farm_demo
from dxkit.farm.printing import label_offset, preview_lot_labels
from dxkit.labels.verify import VerifyReport, verify_pdf
from dxkit.ui.farm_page import FarmPage
from dxkit.ui.label_printing import paint_pdf, render_for_preview, set_up_printer
from dxkit.ui.lots_page import LotsPage
from tests.ui.conftest import settle

RICE, LATE_RICE, MANGO = "Ruộng lúa ông Sáu", "Ruộng lúa bà Hai", "Vườn xoài Cao Lãnh"


@pytest.fixture
def farm(ws):
    """The demo's lots: (compliant rice, non-compliant rice, compliant mango)."""
    return fill_farm_demo(ws).lots


@pytest.fixture(autouse=True)
def _no_work_left_behind(request, qtbot):
    """A change notified near a test's end starts refreshes: let them finish before the task
    manager shuts down."""
    context = request.getfixturevalue("ctx") if "ctx" in request.fixturenames else None
    yield
    if context is not None:
        quiet(qtbot, context)


def cells(model, row):
    return [model.index(row, c).data() for c in range(model.columnCount())]


def farm_page(ctx, qtbot) -> FarmPage:
    page = FarmPage(ctx)
    qtbot.addWidget(page)
    settle(qtbot, ctx, lambda: page.loaded and page.timeline_loaded)
    return page


def lots_page(ctx, qtbot) -> LotsPage:
    page = LotsPage(ctx)
    qtbot.addWidget(page)
    settle(qtbot, ctx, lambda: page.loaded and page.detail_loaded)
    return page


def quiet(qtbot, ctx):
    """Wait until no background work is left (a change starts refreshes that start reads)."""
    qtbot.waitUntil(lambda: not ctx.tasks.active, timeout=5000)


def hold_database(ctx) -> threading.Event:
    """Keep the database thread busy until the returned event is set."""
    gate = threading.Event()
    ctx.tasks.run(lambda _progress: gate.wait(10), cancellable=False)
    return gate


def message_boxes() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets()
            if isinstance(w, QMessageBox) and w.isVisible()]


def choose_plot(page, qtbot, ctx, name):
    page.timeline_loaded = False
    page.select_plot(name)
    settle(qtbot, ctx, lambda: page.timeline_loaded)


def test_plots_and_the_season_timeline(ctx, qtbot, farm):
    page = farm_page(ctx, qtbot)
    assert page.org_combo.currentText() == "HTX Dịch vụ Nông nghiệp Tân Mỹ Xanh"
    assert page.season_combo.currentText() == "Đông Xuân 2025–2026"
    rows = {cells(page.plots_model, r)[0]: cells(page.plots_model, r)
            for r in range(page.plots_model.rowCount())}
    assert rows[RICE] == [RICE, "Lúa", "OM18", "2,4", "DT-MT-LUA-012", "VietGAP"]
    assert set(rows) == {RICE, LATE_RICE, MANGO}
    choose_plot(page, qtbot, ctx, LATE_RICE)
    assert "Ruộng lúa bà Hai (Lúa)" in page.timeline_title.text()
    harvest = cells(page.timeline_model, page.timeline_model.rowCount() - 1)
    assert harvest[1] == "Thu hoạch" and harvest[3].startswith("11,5 tấn")
    assert harvest[2] == "Không đạt yêu cầu"
    assert "Thu hoạch ngày 04/03/2026 nhưng Virtako 40WG" in harvest[3]
    red = page.timeline_model.index(page.timeline_model.rowCount() - 1, 2).data(
        Qt.ItemDataRole.ForegroundRole)
    assert red.color().name() == "#b3261e"
    # The mango garden's voided fertiliser stays in the timeline, struck through, with why.
    choose_plot(page, qtbot, ctx, MANGO)
    texts = [cells(page.timeline_model, r) for r in range(page.timeline_model.rowCount())]
    assert [t[2] == "Đã hủy" and "Ghi nhầm vườn" in t[3] for t in texts].count(True) == 1
    struck = next(r for r, t in enumerate(texts) if "NPK 16-16-8" in t[3])
    assert page.timeline_model.index(struck, 3).data(Qt.ItemDataRole.FontRole).strikeOut()


def test_banned_product_warns_in_the_picker_and_marks_the_entry(ctx, qtbot, farm):
    page = farm_page(ctx, qtbot)
    choose_plot(page, qtbot, ctx, RICE)
    form = page.form
    form.set_kind("pesticide")
    assert form.rows["product"].isVisibleTo(form) and not form.rows["quantity"].isVisibleTo(form)
    form.product.setText("Chess 50WG")
    settle(qtbot, ctx, lambda: "pymetrozine" in form.product_info.text())
    assert form.ban_banner.isHidden() and "7 ngày" in form.product_info.text()
    form.product.setText("Regent 800WG")  # fipronil, banned since 12/02/2021
    settle(qtbot, ctx, lambda: not form.ban_banner.isHidden())
    assert "fipronil" in form.ban_banner.text() and "12/02/2021" in form.ban_banner.text()
    form.on.setDate(QDate(2020, 6, 1))  # before the ban: no banner
    settle(qtbot, ctx, lambda: form.ban_banner.isHidden())
    form.on.setDate(QDate(2026, 11, 20))
    settle(qtbot, ctx, lambda: not form.ban_banner.isHidden())
    form.dose.setText("0,5")
    form.dose_unit.setCurrentText("kg/ha")
    form.texts["applied_by"].setText("Nguyễn Văn Sáu")
    before = page.timeline_model.rowCount()
    assert form.save()
    settle(qtbot, ctx, lambda: page.last_warning is not None)
    assert "fipronil" in page.last_warning.text()
    settle(qtbot, ctx, lambda: page.timeline_model.rowCount() == before + 1)
    added = page.timeline_model.rows[-1]
    assert added.product_name == "Regent 800WG" and not added.compliant
    assert cells(page.timeline_model, before)[2] == "Không đạt yêu cầu"
    assert "fipronil" in cells(page.timeline_model, before)[3]
    assert form.product.text() == ""  # ready for the next entry


def test_missing_fields_are_shown_next_to_them(ctx, qtbot, farm):
    page = farm_page(ctx, qtbot)
    form = page.form
    form.set_kind("pesticide")
    assert form.save()
    settle(qtbot, ctx, lambda: form.rows["product"].error_text() != "")
    assert form.rows["applied_by"].error_text() == "Ghi rõ ai đã phun."


def test_void_from_the_timeline_asks_why(ctx, qtbot, farm, monkeypatch):
    page = farm_page(ctx, qtbot)
    choose_plot(page, qtbot, ctx, RICE)
    observation = next(e for e in page.timeline_model.rows if e.kind == "observation")
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Ghi nhầm ruộng", True))
    count = page.timeline_model.rowCount()
    page.void_entry(observation)
    settle(qtbot, ctx, lambda: page.timeline_model.rowCount() == count + 1)
    voided = next(e for e in page.timeline_model.rows if e.id == observation.id)
    assert not voided.effective
    assert any("Ghi nhầm ruộng" in cells(page.timeline_model, r)[3] for r in range(count + 1))


def test_amending_an_entry_records_a_correction(ctx, qtbot, farm):
    page = farm_page(ctx, qtbot)
    choose_plot(page, qtbot, ctx, RICE)
    harvest = next(e for e in page.timeline_model.rows if e.kind == "harvest" and e.effective)
    dialog = page.amend_entry(harvest)
    form = dialog.form
    assert form.quantity.text() == "16,4" and form.quantity_unit.currentData() == "tan"
    form.quantity.setText("16,6")
    assert form.save()
    settle(qtbot, ctx, lambda: form.rows["reason"].error_text() != "")  # a reason is required
    form.reason.setText("Cân lại lần hai")
    assert form.save()
    settle(qtbot, ctx, lambda: any(e.reason == "Cân lại lần hai"
                                   for e in page.timeline_model.rows))
    assert page.timeline_model.rows[-1].quantity == 16.6


def test_lots_show_compliance_and_the_reasons(ctx, qtbot, farm, ws):
    good, bad, _fruit = farm
    page = lots_page(ctx, qtbot)
    rows = {cells(page.model, r)[0]: cells(page.model, r) for r in range(page.model.rowCount())}
    assert rows[good.code][1:] == ["Gạo OM18 VietGAP", "12/03/2026", "16.400 kg", "Đạt"]
    assert rows[bad.code][4] == "Không đạt"
    page.detail_loaded = False
    page.select_lot(bad.code)
    settle(qtbot, ctx, lambda: page.detail_loaded)
    reasons = ws.farm.lots.status(bad.code).reasons
    assert reasons and all(r in page.detail.toPlainText() for r in reasons)
    designer = page.designer
    assert all(r in designer.reasons.text() for r in reasons)
    assert not designer.reasons.isHidden()
    for button in (designer.save_button, designer.print_button, designer.preview_button):
        assert not button.isEnabled()


def test_live_preview_and_save_pdf(ctx, qtbot, farm, ws, tmp_path, monkeypatch):
    good = farm[0]
    page = lots_page(ctx, qtbot)
    page.select_lot(good.code)
    designer = page.designer
    assert designer.save_button.isEnabled() and designer.reasons.isHidden()
    qtbot.waitUntil(lambda: designer.preview_image is not None, timeout=5000)
    assert designer.preview_image.width() > 100
    designer.set_template("a4-3x7")
    designer.copies.setValue(5)
    designer.start.setValue(4)
    assert "5 tem" in designer.summary.text()
    assert designer.picker.buttons[2].toolTip() == "đã dùng"
    target = tmp_path / "nhan.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    runs = len(ws.farm.lots.print_runs(good.code))
    designer.save_pdf()
    settle(qtbot, ctx, lambda: target.exists())
    report = verify_pdf(target)
    assert report.count == 5 and {c.payload for c in report.codes} == set(
        ws.farm.lots.qr_payloads(good.code))
    assert len(ws.farm.lots.print_runs(good.code)) == runs + 1
    quiet(qtbot, ctx)


def test_printing_paints_the_pages_and_checks_large_jobs(ctx, qtbot, farm, ws, tmp_path,
                                                         monkeypatch):
    good = farm[0]
    job = preview_lot_labels(ws, good.code, "a4-3x7", copies=4, start=2)
    printer = QPrinter()
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    printer.setResolution(200)
    set_up_printer(printer, job.template)
    assert paint_pdf(printer, job.pdf) == 1
    assert verify_pdf(tmp_path / "printed.pdf", dpi=200).count == 4

    page = lots_page(ctx, qtbot)
    page.select_lot(good.code)
    designer = page.designer
    designer.copies.setValue(60)

    def to_pdf(printer):
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(tmp_path / "sent.pdf"))
        printer.setResolution(150)
        return True

    monkeypatch.setattr(designer, "choose_printer", to_pdf)
    real_verify = printing.verify_pdf

    def one_code_lost(pdf, progress=None):
        report = real_verify(pdf, progress=progress)
        return VerifyReport(report.count - 1, report.codes[1:], report.pages, report.dpi)

    monkeypatch.setattr(printing, "verify_pdf", one_code_lost)
    runs = len(ws.farm.lots.print_runs(good.code))
    designer.print_labels()
    qtbot.waitUntil(lambda: "59" in designer.message, timeout=30_000)
    assert not (tmp_path / "sent.pdf").exists()  # refused: one code did not read back
    assert len(ws.farm.lots.print_runs(good.code)) == runs  # and nothing recorded
    quiet(qtbot, ctx)


def test_custom_sheet_dialog_shows_what_is_wrong(ctx, qtbot, farm, ws):
    page = lots_page(ctx, qtbot)
    dialog = page.designer.measure_sheet()
    dialog.name.setText("tem-hop-qua")
    dialog.label[0].setValue(100.0)  # three 100 mm labels across an A4 sheet
    dialog.pitch[0].setValue(100.0)
    assert not dialog.save()
    fields = dialog.errors.fields
    assert "không vừa" in fields["margins"].error_text()
    dialog.grid[0].setValue(2)
    dialog.margins[0].setValue(5.0)
    assert dialog.save()
    assert page.designer.template_combo.currentData() == "tem-hop-qua"
    assert page.designer.template().per_page == 14


def test_create_a_lot_from_new_harvests(ctx, qtbot, farm, ws):
    rice = ws.farm.orgs.plot(RICE)
    season = ws.farm.orgs.seasons()[0]
    new = ws.farm.diary.record(rice, season, "harvest", dt.date(2026, 3, 20), quantity="2 tạ").value
    page = lots_page(ctx, qtbot)
    dialog = page.create_lot()
    settle(qtbot, ctx, lambda: dialog.loaded)
    assert dialog.harvests.count() == 1 and "200" not in dialog.harvests.item(0).text()
    dialog.save()  # nothing ticked
    settle(qtbot, ctx, lambda: dialog.errors.fields["harvests"].error_text() != "")
    dialog.tick(new.id)
    dialog.product.setText("Gạo OM18 vụ phụ")
    dialog.save()
    settle(qtbot, ctx, lambda: page.model.rowCount() == 4)
    assert "Gạo OM18 vụ phụ" in [lot.product for lot in page.model.rows]
    quiet(qtbot, ctx)


def test_pages_in_english_and_after_a_language_switch(farm, window, qtbot):
    farm_view = window.show_section("farm")
    assert isinstance(farm_view, FarmPage)
    i18n.set_language("en")
    window.ctx.language_changed.emit("en")
    farm_view = window.show_section("farm")
    settle(qtbot, window.ctx, lambda: farm_view.loaded)
    assert farm_view.plots_model.headerData(0, Qt.Orientation.Horizontal) == "Plot"
    lots_view = window.show_section("lots")
    settle(qtbot, window.ctx, lambda: lots_view.loaded)
    assert {cells(lots_view.model, r)[4] for r in range(3)} == {"Passes", "Fails"}
    assert "Production diary" in window.nav_titles() and "Lots & labels" in window.nav_titles()


def test_print_sends_the_pages_and_records_the_run(ctx, qtbot, farm, ws, tmp_path,
                                                   monkeypatch):
    good = farm[0]
    page = lots_page(ctx, qtbot)
    page.select_lot(good.code)
    designer = page.designer
    designer.copies.setValue(3)
    sent = tmp_path / "sent.pdf"

    def to_pdf(printer):
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(sent))
        printer.setResolution(200)
        return True

    monkeypatch.setattr(designer, "choose_printer", to_pdf)
    runs = len(ws.farm.lots.print_runs(good.code))
    designer.print_labels()
    qtbot.waitUntil(lambda: "máy in" in designer.message, timeout=10_000)
    assert designer.message == "Đã gửi 3 tem đến máy in (1 trang)."
    assert verify_pdf(sent, dpi=200).count == 3
    assert len(ws.farm.lots.print_runs(good.code)) == runs + 1
    settle(qtbot, ctx, lambda: "3 tem" in page.detail.toPlainText())
    quiet(qtbot, ctx)


def test_print_preview_paints_without_recording(ctx, qtbot, farm, ws):
    good = farm[0]
    page = lots_page(ctx, qtbot)
    page.select_lot(good.code)
    designer = page.designer
    designer.set_template("thermal-50x30")
    assert designer.picker.isHidden() and designer.start.maximum() == 1
    runs = len(ws.farm.lots.print_runs(good.code))
    designer.print_preview()
    qtbot.waitUntil(lambda: getattr(designer, "preview_dialog", None) is not None,
                    timeout=10_000)
    designer.preview_dialog.reject()
    assert len(ws.farm.lots.print_runs(good.code)) == runs
    designer.preview_dialog = None
    designer.print_preview()
    qtbot.waitUntil(lambda: designer.preview_dialog is not None, timeout=10_000)
    designer.preview_dialog.accept()  # what the dialog does once it has printed
    settle(qtbot, ctx, lambda: len(ws.farm.lots.print_runs(good.code)) == runs + 1)
    assert ws.farm.lots.print_runs(good.code)[-1].template == "thermal-50x30"


def test_a_shared_lot_code_can_be_replaced_from_the_lots_page(ctx, qtbot, farm, ws):
    good, _bad, fruit = farm
    with ws.transaction() as tx:  # as the other laptop's lot would arrive by sync
        tx.update("lots", fruit.id, {"code": good.code})
    page = lots_page(ctx, qtbot)
    page.table.selectRow(next(i for i, lot in enumerate(page.model.rows) if lot.id == fruit.id))
    settle(qtbot, ctx, lambda: not page.recode_button.isHidden())
    assert not page.designer.print_button.isEnabled()
    page.recode_button.click()
    settle(qtbot, ctx, lambda: ws.farm.lots.get(fruit.id).code != good.code)
    assert not ws.farm.lots.shares_code(good.id) and ws.farm.lots.get(good.id).compliant
    settle(qtbot, ctx, lambda: page.recode_button.isHidden())
    quiet(qtbot, ctx)


def test_serials_printed_twice_are_shown_in_the_lot_detail(ctx, qtbot, farm, ws):
    good = farm[0]  # the demo printed serials 1-21 for it
    with ws.transaction() as tx:  # another laptop's run, numbered before they synced
        tx.append("label_prints", {"lot_id": good.id, "template": "a4-3x7", "copies": 5,
                                   "start_position": 1, "serial_from": 20, "serial_to": 24,
                                   "printed_at": "2026-11-20T08:00:00", "printed_by": "B"})
    page = lots_page(ctx, qtbot)
    page.select_lot(good.code)
    settle(qtbot, ctx, lambda: "20–21" in page.detail.toPlainText())
    assert "hai lần" in page.detail.toPlainText()
    quiet(qtbot, ctx)


# -- answers that arrive late ---------------------------------------------------------------
def test_the_detail_of_a_lot_chosen_meanwhile_wins(ctx, qtbot, farm, monkeypatch):
    good, bad, fruit = farm
    page = lots_page(ctx, qtbot)
    page.select_lot(fruit.code)
    settle(qtbot, ctx, lambda: fruit.code in page.detail.toPlainText())
    shown, show = [], page._show_detail
    monkeypatch.setattr(page, "_show_detail",
                        lambda lot, *rest: (shown.append(lot.code), show(lot, *rest)))
    gate = hold_database(ctx)
    page.select_lot(bad.code)  # its detail is asked for, then superseded before it is read
    page.select_lot(good.code)
    gate.set()
    settle(qtbot, ctx, lambda: bool(shown))
    quiet(qtbot, ctx)
    assert shown == [good.code]
    assert page.detail.toPlainText().startswith(good.code)
    assert page.detail_status.compliant


def test_a_product_check_answered_after_the_kind_changed_is_dropped(ctx, qtbot, farm):
    page = farm_page(ctx, qtbot)
    choose_plot(page, qtbot, ctx, RICE)
    form = page.form
    form.set_kind("pesticide")
    gate = hold_database(ctx)
    form.product.setText("Regent 800WG")  # banned: its answer would raise the red banner
    form.set_kind("fertiliser")  # no pesticide any more: nothing to warn about
    gate.set()
    quiet(qtbot, ctx)
    assert form.ban_banner.isHidden() and form.product_info.text() == ""
    assert form.warning is None


def test_a_timeline_answered_after_the_organisation_changed_is_dropped(ctx, qtbot, farm, ws):
    ws.farm.orgs.add("Tổ hợp tác Rau sạch Mỹ Hưng")  # no plots, no seasons yet
    page = farm_page(ctx, qtbot)
    choose_plot(page, qtbot, ctx, RICE)
    gate = hold_database(ctx)
    page.org_combo.setCurrentIndex(page.org_combo.findText("Tổ hợp tác Rau sạch Mỹ Hưng"))
    page.select_plot(MANGO)  # the old list is still shown: its timeline is asked for
    gate.set()
    quiet(qtbot, ctx)
    assert page.plots_model.rowCount() == 0 and page.timeline_model.rowCount() == 0
    assert page.timeline_title.text() == "Thêm thửa và mùa vụ để bắt đầu ghi nhật ký."


# -- progress and cancel ----------------------------------------------------------------------
def test_print_preview_reports_progress_and_can_be_cancelled(ctx, qtbot, farm, ws):
    good = farm[0]
    page = lots_page(ctx, qtbot)
    page.select_lot(good.code)
    designer = page.designer
    designer.set_template("a4-3x7")
    designer.copies.setValue(30)  # two pages
    quiet(qtbot, ctx)
    steps = []  # what the status bar hears of labelled work (the live preview has none)
    ctx.tasks.progressed.connect(lambda task, value, maximum, label: steps.append(
        (label, value, maximum)) if task.label else None)
    runs = len(ws.farm.lots.print_runs(good.code))

    gate = hold_database(ctx)
    task = designer.print_preview()
    assert task is not None and task.label == "Đang vẽ tem" and task.cancellable
    task.cancel()  # before its turn: it stops at its first checkpoint
    gate.set()
    quiet(qtbot, ctx)
    assert getattr(designer, "preview_dialog", None) is None
    assert designer.message == "" and message_boxes() == []  # a cancel is no error
    assert len(ws.farm.lots.print_runs(good.code)) == runs

    steps.clear()
    designer.print_preview()
    qtbot.waitUntil(lambda: getattr(designer, "preview_dialog", None) is not None,
                    timeout=10_000)
    drawn = [(value, maximum) for label, value, maximum in steps if label == "Đang vẽ tem"]
    assert drawn and drawn[-1] == (30, 30)
    pages = [(value, maximum) for label, value, maximum in steps
             if label == "Đang chuẩn bị bản xem trước khi in"]
    assert pages == [(0, 2), (1, 2), (2, 2)]
    designer.preview_dialog.reject()
    assert len(ws.farm.lots.print_runs(good.code)) == runs


def test_preview_pages_are_made_one_at_a_time_and_stop_on_cancel(farm, ws):
    job = preview_lot_labels(ws, farm[0].code, "a4-3x7", copies=30)
    seen = []
    pages = render_for_preview(job.pdf, dpi=30, progress=Progress(
        on_change=lambda value, maximum, label: seen.append((value, maximum))))
    assert len(pages) == 2 and seen == [(0, 2), (1, 2), (2, 2)]
    cancelled = Progress()
    cancelled.cancel()
    with pytest.raises(Cancelled):
        render_for_preview(job.pdf, dpi=30, progress=cancelled)


# -- issue 10 §7: a full sheet, the trace address confirmed, the printer's offset -------------
def test_copies_fill_the_sheet_until_the_user_types_a_number(ctx, qtbot, farm):
    page = lots_page(ctx, qtbot)
    page.select_lot(farm[0].code)
    designer = page.designer
    designer.set_template("a4-3x7")
    assert designer.copies.value() == 21
    assert "21 tem trên 1 trang" in designer.summary.text()
    designer.picker.buttons[3].click()  # the sheet's first three labels are used
    assert designer.start.value() == 4 and designer.copies.value() == 18
    designer.set_template("thermal-40x30")
    assert designer.copies.value() == 1
    designer.set_template("a4-2x7")
    assert designer.copies.value() == 14
    designer.copies.setValue(5)  # typed: kept from now on
    designer.set_template("a4-3x8")
    assert designer.copies.value() == 5
    designer.full_sheet_button.click()
    assert designer.copies.value() == 24
    quiet(qtbot, ctx)


def test_the_first_print_asks_to_confirm_the_trace_address(ctx, qtbot, farm, ws, tmp_path,
                                                             monkeypatch):
    good = farm[0]
    ws.settings.set("farm.trace_base_url_confirmed", None)  # a workspace that never printed
    page = lots_page(ctx, qtbot)
    page.select_lot(good.code)
    designer = page.designer
    designer.set_template("a4-3x7")
    target = tmp_path / "tem.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    runs = len(ws.farm.lots.print_runs(good.code))
    assert designer.print_preview() is None  # asked first
    dialog = designer.address_dialog
    assert dialog.isVisible() and dialog.address.text() == "https://truyxuat.dongthap.gov.vn/t/"
    dialog.reject()
    quiet(qtbot, ctx)
    assert getattr(designer, "preview_dialog", None) is None
    designer.save_pdf()
    dialog = designer.address_dialog
    assert not target.exists() and len(ws.farm.lots.print_runs(good.code)) == runs
    dialog.address.setText("truyxuat.tinh")
    assert not dialog.save()
    assert "https://" in dialog.errors.fields["trace_base_url"].error_text()
    assert not ws.farm.trace_base_url_confirmed
    dialog.address.setText("https://truyxuat.tinh.vn/t/")
    assert dialog.save()  # confirmed: the PDF is saved straight away
    settle(qtbot, ctx, lambda: target.exists())
    assert ws.farm.trace_base_url_confirmed
    assert all(code.payload.startswith("https://truyxuat.tinh.vn/t/")
               for code in verify_pdf(target).codes)
    assert len(ws.farm.lots.print_runs(good.code)) == runs + 1
    quiet(qtbot, ctx)
    designer.address_dialog = None
    designer.save_pdf()  # confirmed once: not asked again
    assert designer.address_dialog is None
    settle(qtbot, ctx, lambda: len(ws.farm.lots.print_runs(good.code)) == runs + 2)
    quiet(qtbot, ctx)


def test_the_printer_offset_is_kept_per_stock_and_moves_the_labels(ctx, qtbot, farm, ws,
                                                                   tmp_path, monkeypatch):
    good = farm[0]
    page = lots_page(ctx, qtbot)
    page.select_lot(good.code)
    designer = page.designer
    designer.set_template("a4-3x7")
    designer.copies.setValue(1)
    plain, moved = tmp_path / "plain.pdf", tmp_path / "moved.pdf"
    target = [plain]
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target[0]), ""))
    designer.save_pdf()
    settle(qtbot, ctx, lambda: plain.exists())
    designer.offset_x.setValue(-1.5)
    designer.offset_y.setValue(2.0)
    assert label_offset(ws, "a4-3x7") == (-1.5, 2.0)
    designer.set_template("a4-3x8")
    assert designer.offset() == (0.0, 0.0)
    designer.set_template("a4-3x7")
    assert designer.offset() == (-1.5, 2.0)
    designer.copies.setValue(1)
    target[0] = moved
    designer.save_pdf()
    settle(qtbot, ctx, lambda: moved.exists())
    before, after = verify_pdf(plain).codes[0], verify_pdf(moved).codes[0]
    assert after.x_mm - before.x_mm == pytest.approx(-1.5, abs=0.1)
    assert after.y_mm - before.y_mm == pytest.approx(2.0, abs=0.1)
    quiet(qtbot, ctx)


# -- issue 10 §7: each kind its own products; a pesticide outside the registry ----------------
def test_each_kind_offers_its_own_products(ctx, qtbot, farm, ws):
    page = farm_page(ctx, qtbot)
    choose_plot(page, qtbot, ctx, RICE)
    form = page.form
    registry = {p.name for p in ws.farm.registry.products(include_inactive=True)}

    def offered() -> set[str]:
        return set(form.products_model.stringList())

    def caption() -> str:
        return form.form.labelForField(form.rows["product"]).text()

    form.set_kind("pesticide")
    settle(qtbot, ctx, lambda: "Virtako 40WG" in offered())
    assert offered() <= registry and caption() == "Thuốc bảo vệ thực vật:"
    form.set_kind("fertiliser")
    settle(qtbot, ctx, lambda: "Urê" in offered())
    assert not offered() & registry and "NPK 16-16-8" in offered()
    assert caption() == "Phân bón:" and not form.rows["ingredients"].isVisibleTo(form)
    form.product.setText("Regent 800WG")  # a pesticide's name typed as a fertiliser
    quiet(qtbot, ctx)
    assert form.ban_banner.isHidden() and form.product_info.text() == ""
    form.dose.setText("100")
    form.dose_unit.setCurrentText("kg/ha")
    before = page.timeline_model.rowCount()
    assert form.save()
    settle(qtbot, ctx, lambda: page.timeline_model.rowCount() == before + 1)
    added = page.timeline_model.rows[-1]
    assert added.kind == "fertiliser" and added.compliant and added.product_id is None
    form.set_kind("seed")
    settle(qtbot, ctx, lambda: "OM18" in offered())
    assert not offered() & registry and caption() == "Giống:"
    quiet(qtbot, ctx)


def test_a_pesticide_outside_the_registry_is_recorded_with_its_ingredients(ctx, qtbot, farm):
    page = farm_page(ctx, qtbot)
    choose_plot(page, qtbot, ctx, RICE)
    form = page.form
    form.set_kind("pesticide")
    assert form.rows["ingredients"].isVisibleTo(form)
    form.product.setText("Virtako 40WG")  # in the registry: its ingredients, not to be typed
    settle(qtbot, ctx, lambda: not form.ingredients.isEnabled())
    assert "hiamethoxam" in form.ingredients.text()
    assert "active_ingredients" not in form.details()
    form.product.setText("Thuốc trừ sâu chợ huyện")
    settle(qtbot, ctx, lambda: form.ingredients.isEnabled())
    assert form.ingredients.text() == "" and "hoạt chất" in form.product_info.text()
    form.ingredients.setText("Abamectin, Fipronil")  # typed: checked as it would be recorded
    settle(qtbot, ctx, lambda: not form.ban_banner.isHidden())
    assert "Fipronil" in form.ban_banner.text() and "12/02/2021" in form.ban_banner.text()
    assert "cách ly" in form.product_info.text()
    form.ingredients.setText("Abamectin")
    settle(qtbot, ctx, lambda: form.ban_banner.isHidden())
    form.ingredients.setText("Abamectin + Fipronil")
    settle(qtbot, ctx, lambda: not form.ban_banner.isHidden())
    form.dose.setText("1")
    form.texts["applied_by"].setText("Nguyễn Văn Sáu")
    before = page.timeline_model.rowCount()
    assert form.save()
    settle(qtbot, ctx, lambda: page.timeline_model.rowCount() == before + 1)
    added = page.timeline_model.rows[-1]
    assert added.product_name == "Thuốc trừ sâu chợ huyện" and added.product_id is None
    assert added.active_ingredients == ("Abamectin", "Fipronil") and not added.compliant
    assert form.ingredients.text() == ""  # ready for the next entry
    quiet(qtbot, ctx)
    dialog = page.amend_entry(added)  # a correction starts from what was typed
    assert dialog.form.ingredients.text() == "Abamectin + Fipronil"
    dialog.form.ingredients.setText("Abamectin")
    dialog.form.reason.setText("Ghi nhầm hoạt chất")
    assert dialog.form.save()
    settle(qtbot, ctx, lambda: any(e.reason == "Ghi nhầm hoạt chất"
                                   for e in page.timeline_model.rows))
    corrected = next(e for e in page.timeline_model.rows if e.reason == "Ghi nhầm hoạt chất")
    assert corrected.active_ingredients == ("Abamectin",) and corrected.compliant
    quiet(qtbot, ctx)
