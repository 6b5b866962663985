"""The trainers' page: the class list, the grid with its states, roll-call by keyboard in one
save, ticking skills and typing a paper score, a learner's quiz becoming an attempt, enrolling
by search, and a person's classes on the household page."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel

from dxkit.lessons.certificate_code import code_in, public_key_of, short_code, verify_code
from dxkit.lessons.certificate_pdf import payloads_in_file
from dxkit.lessons.ui_queries import class_rows, classes_of_person
from dxkit.sync.apply import META_SERVER, META_TEAM
from dxkit.sync.teamkey import CertificateSigning
from dxkit.ui.household_forms import PersonForm
from dxkit.ui.household_view import HouseholdView
from dxkit.ui.lessons.class_dialogs import (
    CertificatesDialog,
    EnrolDialog,
    NewLearnerForm,
    PackProblemsDialog,
    RollCallDialog,
)
from dxkit.ui.lessons.classes_page import SYMBOLS, ClassesPage
from dxkit.ui.lessons.learner_mode import QuizResult
from dxkit.ui.widgets import is_alive
from tests.lessons.conftest import COURSE, STARTS, Setup, add_people
from tests.lessons.packs_setup import write_pack
from tests.lessons.test_issuing import PROVINCE, SIGNER, complete
from tests.ui.conftest import settle


@pytest.fixture
def school(ws, tmp_path):
    ws.lessons.import_pack(write_pack(tmp_path / "pack"))
    school_class = ws.lessons.add_class(COURSE, "Lớp thử", STARTS, place="Nhà văn hóa",
                                        sessions_planned=4).value
    people = add_people(ws, 4)
    ws.lessons.enrol(school_class.id, people, on=STARTS)
    return school_class, people


@pytest.fixture
def page(ctx, qtbot, school):
    shown = ClassesPage(ctx)
    qtbot.addWidget(shown)
    shown.resize(1000, 600)
    shown.show()
    settle(qtbot, ctx, lambda: shown.rows_loaded)
    return shown


def open_class(page, qtbot, ctx, class_id):
    page.open_class(class_id)
    settle(qtbot, ctx, lambda: page.view is not None)


def closed(dialog) -> bool:
    """Saved dialogs close and (opened by the page) are deleted."""
    return not is_alive(dialog) or not dialog.isVisible()


def attendance(ws, class_id):
    return [(e["person_id"], e["kind"], e["on_date"]) for e in ws.lessons.events(class_id)
            if e["kind"] in ("present", "absent")]


def test_the_list_shows_the_class_with_its_learners_and_the_grid_its_states(
        page, ws, ctx, qtbot, school):
    school_class, people = school
    row = page.classes_model.rows[0]
    assert (row.name, row.learners, row.needing_help) == ("Lớp thử", 4, 0)
    assert page.classes_model.data(page.classes_model.index(0, 3)) == "4"
    ws.lessons.record(school_class.id, people[0], "dien-thoai",
                      skills=["ky-nang-1", "ky-nang-2"], quiz=(3, 3), on=STARTS)
    for _attempt in range(2):
        ws.lessons.record(school_class.id, people[1], "dien-thoai", quiz=(0, 3), on=STARTS)
    open_class(page, qtbot, ctx, school_class.id)
    model = page.grid_model
    assert model.rowCount() == 4
    assert model.headerData(1, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole) == \
        "Bài 1: Bài 1"
    by_name = {model.rows[r].person_id: r for r in range(model.rowCount())}
    mastered = model.index(by_name[people[0]], 1)
    helped = model.index(by_name[people[1]], 1)
    assert model.data(mastered) == SYMBOLS["mastered"]
    assert model.data(helped) == SYMBOLS["needs_help"]
    assert "cần hỗ trợ" in model.data(helped, Qt.ItemDataRole.ToolTipRole)
    assert model.data(model.index(by_name[people[2]], 1)) == SYMBOLS["not_started"]
    assert model.data(mastered, Qt.ItemDataRole.BackgroundRole).color().name() == "#c8e6c9"

    page.needs_help.setChecked(True)
    assert [r.person_id for r in model.rows] == [people[1]]
    assert class_rows(ws)[0].needing_help == 1


def test_roll_call_by_keyboard_records_every_learner_in_one_save(page, ws, ctx, qtbot, school):
    school_class, _people = school
    open_class(page, qtbot, ctx, school_class.id)
    dialog = page.roll_call()
    assert isinstance(dialog, RollCallDialog)
    names = [name for _id, name in dialog.learners]
    assert len(names) == 4
    qtbot.keyClick(dialog.table, Qt.Key.Key_P)       # 1st present, moves on
    qtbot.keyClick(dialog.table, Qt.Key.Key_V)       # 2nd absent
    qtbot.keyClick(dialog.table, Qt.Key.Key_Space)   # 3rd present
    qtbot.keyClick(dialog.table, Qt.Key.Key_Up)      # back to the 3rd
    qtbot.keyClick(dialog.table, Qt.Key.Key_A)       # 3rd absent after all
    qtbot.keyClick(dialog.table, Qt.Key.Key_P)       # 4th present
    assert dialog.count.text() == "2 có mặt, 2 vắng, 0 chưa điểm danh"
    assert [dialog.mark_of(r) for r in range(4)] == ["present", "absent", "absent", "present"]
    assert dialog.table.item(1, 3).text() == "● Vắng" and dialog.table.item(1, 2).text() == \
        "○ Có mặt"
    before = ws.pending_changes()
    calls = []
    original = ws.lessons.attendance
    ws.lessons.attendance = lambda *a, **k: calls.append(a) or original(*a, **k)
    dialog.save()
    settle(qtbot, ctx, lambda: closed(dialog))
    assert len(calls) == 1
    day = ws.today().isoformat()
    ids = [p for p, _n in dialog.learners]
    assert sorted(attendance(ws, school_class.id)) == sorted([
        (ids[0], "present", day), (ids[1], "absent", day), (ids[2], "absent", day),
        (ids[3], "present", day)])
    assert ws.pending_changes() > before


def test_roll_call_shows_the_recorded_marks_and_saves_only_changes(page, ws, ctx, qtbot,
                                                                 school):
    school_class, people = school
    today = ws.today()
    ws.lessons.attendance(school_class.id, today, [people[0], people[1]], [people[2]])
    ws.lessons.attendance(school_class.id, today, [people[2]], [people[1]])  # latest counts
    ws.lessons.attendance(school_class.id, STARTS, [people[3]], [])
    open_class(page, qtbot, ctx, school_class.id)
    dialog = page.roll_call()
    settle(qtbot, ctx, lambda: not dialog.loading)
    row = {person_id: r for r, (person_id, _name) in enumerate(dialog.learners)}
    assert [dialog.mark_of(row[p]) for p in people] == ["present", "absent", "present", None]
    assert not dialog.recorded_note.isHidden()
    assert dialog.count.text() == "2 có mặt, 1 vắng, 1 chưa điểm danh"
    # Saving unchanged marks adds no event.
    before = len(ws.lessons.events(school_class.id))
    dialog.save()
    settle(qtbot, ctx, lambda: closed(dialog))
    assert len(ws.lessons.events(school_class.id)) == before
    # The date changed: that day's marks show; saving records only the changed learner.
    again = page.roll_call()
    settle(qtbot, ctx, lambda: not again.loading)
    again.day.setDate(QDate(STARTS.year, STARTS.month, STARTS.day))
    settle(qtbot, ctx, lambda: not again.loading and again.mark_of(row[people[3]]) == "present")
    assert [again.mark_of(row[p]) for p in people[:3]] == [None, None, None]
    again.mark(row[people[0]], "absent")
    again.mark(row[people[3]], "present")  # as recorded: no new event
    assert again.changes() == {people[0]: "absent"}
    again.save()
    settle(qtbot, ctx, lambda: closed(again))
    assert len(ws.lessons.events(school_class.id)) == before + 1
    on_starts = [(e["person_id"], e["kind"]) for e in ws.lessons.events(school_class.id)
                 if e["on_date"] == STARTS.isoformat()]
    assert sorted(on_starts) == sorted([(people[3], "present"), (people[0], "absent")])


def test_a_roll_call_with_nobody_marked_says_so_and_writes_nothing(page, ws, ctx, qtbot, school):
    school_class, _people = school
    open_class(page, qtbot, ctx, school_class.id)
    dialog = page.roll_call()
    dialog.save()
    settle(qtbot, ctx, lambda: not dialog.error.isHidden())
    assert dialog.error.text() == "Hãy điểm danh ít nhất một học viên."
    assert attendance(ws, school_class.id) == []


def test_ticking_a_skill_and_typing_a_paper_score_record_events(page, ws, ctx, qtbot, school):
    school_class, people = school
    open_class(page, qtbot, ctx, school_class.id)
    row = next(r for r in range(page.grid_model.rowCount())
               if page.grid_model.rows[r].person_id == people[2])
    dialog = page.cell_clicked(page.grid_model.index(row, 1))
    assert [box.isChecked() for _id, box in dialog.skill_boxes] == [False, False]
    dialog.skill_boxes[0][1].setChecked(True)
    dialog.quiz.setText("2/3")
    dialog.save()
    settle(qtbot, ctx, lambda: closed(dialog))
    events = ws.lessons.events(school_class.id, people[2])
    assert [(e["kind"], e["skill_id"], e["correct"], e["total"], e["source"])
            for e in events] == [("skill", "ky-nang-1", None, None, "trainer"),
                                 ("quiz", None, 2, 3, "trainer")]
    detail = ws.lessons.learner_progress(school_class.id, people[2]).lessons[0]
    assert detail.skills == ["ky-nang-1"] and detail.attempts == 1
    # The grid follows the change.
    settle(qtbot, ctx, lambda: page.grid_model.data(page.grid_model.index(row, 1))
           == SYMBOLS["in_progress"])
    # Shown skills come back ticked and fixed; a bad score is refused with a sentence.
    again = page.cell_clicked(page.grid_model.index(row, 1))
    assert not again.skill_boxes[0][1].isEnabled() and again.skill_boxes[0][1].isChecked()
    again.quiz.setText("5/3")
    again.save()
    assert again.error.text() == "Điểm bài kiểm tra không thể lớn hơn tổng số câu: 5/3."
    assert len(ws.lessons.events(school_class.id, people[2])) == 2


def test_a_learner_quiz_result_becomes_an_attempt(page, ws, ctx, qtbot, school, monkeypatch):
    school_class, people = school
    open_class(page, qtbot, ctx, school_class.id)
    pick = page.learner_quiz()
    pick.learner.setCurrentIndex(pick.learner.findData(people[3]))
    assert pick.lesson.count() == 1  # only the lesson with a quiz
    started = []
    monkeypatch.setattr("dxkit.ui.lessons.learner_mode.LearnerQuizWindow.present",
                        lambda window: started.append(window))
    pick.accept()
    window = started[0]
    assert window in page.windows
    window.on_finished(QuizResult("dien-thoai", 3, 2, ()))
    settle(qtbot, ctx, lambda: len(ws.lessons.events(school_class.id, people[3])) == 1)
    event = ws.lessons.events(school_class.id, people[3])[0]
    assert (event["kind"], event["correct"], event["total"], event["source"]) == \
        ("quiz", 2, 3, "learner")
    window.leave()


def test_enrolling_by_search_and_a_whole_household(page, ws, ctx, qtbot, school):
    school_class, people = school
    household = ws.households.add(code="MH-002", head_name="Đặng Văn Sáu",
                                  hamlet="Ấp Mỹ Hưng").value
    newcomers = [ws.people.add(household.id, full_name=name, birth_date="1965").value.id
                 for name in ("Đặng Văn Sáu", "Huỳnh Thị Bảy")]
    open_class(page, qtbot, ctx, school_class.id)
    dialog = page.enrol()
    assert isinstance(dialog, EnrolDialog)
    qtbot.keyClicks(dialog.search_box, "dang van")
    settle(qtbot, ctx, lambda: dialog.results.topLevelItemCount() == 1)
    top = dialog.results.topLevelItem(0)
    assert top.text(0).startswith("MH-002")
    top.setCheckState(0, Qt.CheckState.Checked)  # the whole household
    assert set(dialog.chosen) == set(newcomers)
    dialog.save()
    settle(qtbot, ctx, lambda: closed(dialog))
    assert set(ws.lessons.learner_ids(school_class.id)) == set(people) | set(newcomers)
    # Enrolled people show as such next time, and cannot be ticked again.
    again = page.enrol()
    again.search_box.setText("MH-001")
    again.search()
    settle(qtbot, ctx, lambda: again.results.topLevelItemCount() == 1)
    child = again.results.topLevelItem(0).child(0)
    assert "đã có trong lớp" in child.text(0)
    assert not child.flags() & Qt.ItemFlag.ItemIsEnabled


def test_a_new_person_is_added_to_the_chosen_household_and_enrolled(page, ws, ctx, qtbot,
                                                                   school):
    school_class, people = school
    open_class(page, qtbot, ctx, school_class.id)
    dialog = page.enrol()
    assert dialog.new_person() is None  # no household chosen yet: it says so
    assert "chọn hộ" in dialog.error.text() and not dialog.error.isHidden()
    qtbot.keyClicks(dialog.search_box, "MH-001")
    settle(qtbot, ctx, lambda: dialog.results.topLevelItemCount() == 1)
    dialog.results.setCurrentItem(dialog.results.topLevelItem(0))
    form = dialog.new_person()
    assert isinstance(form, NewLearnerForm) and isinstance(form, PersonForm)
    assert "MH-001" in form.windowTitle() or any(
        "MH-001" in label.text() for label in form.findChildren(QLabel))
    # The household page's rules: consent is never pre-ticked, no citizen ID without it.
    assert not form.consent.isChecked() and not form.cccd.isEnabled()
    form.full_name.setText("")
    form.save()
    settle(qtbot, ctx, lambda: form.errors.fields["full_name"].error_text() != "")
    assert ws.people.count() == 4
    form.full_name.setText("Lê Văn Mới")
    form.birth.setText("1961")
    form.save()
    settle(qtbot, ctx, lambda: closed(form))
    new = [p for p in ws.people.in_household(ws.households.by_code("MH-001").id)
           if p.full_name == "Lê Văn Mới"]
    assert len(new) == 1 and not new[0].consent
    assert set(ws.lessons.learner_ids(school_class.id)) == set(people) | {new[0].id}
    assert "Lê Văn Mới" in dialog.added_label.text() and not dialog.added_label.isHidden()
    # The list shows them enrolled; Enrol with nobody ticked closes the dialog.
    settle(qtbot, ctx, lambda: any(
        "Lê Văn Mới" in dialog.results.topLevelItem(0).child(i).text(0)
        and "đã có trong lớp" in dialog.results.topLevelItem(0).child(i).text(0)
        for i in range(dialog.results.topLevelItem(0).childCount())))
    dialog.save()
    assert closed(dialog)


def test_a_new_class_opens_and_a_refused_pack_lists_its_problems(page, ws, ctx, qtbot, tmp_path):
    dialog = page.new_class()
    dialog.save()
    settle(qtbot, ctx, lambda: dialog.errors.fields["name"].error_text() != "")
    assert dialog.errors.fields["name"].error_text() == "Lớp học cần có tên."
    dialog.name.setText("Lớp buổi tối")
    dialog.save()
    settle(qtbot, ctx, lambda: page.view is not None
           and page.view.school_class.name == "Lớp buổi tối")
    assert page.stack.currentIndex() == 1

    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"not a zip")
    page.import_pack(str(broken))
    settle(qtbot, ctx, lambda: isinstance(page.last_dialog, PackProblemsDialog))
    assert page.last_dialog.problems.count() >= 1
    page.last_dialog.close()


def test_register_and_export_are_saved_and_certificates_explain_a_missing_key(
        page, ws, ctx, qtbot, school, tmp_path, monkeypatch):
    school_class, _people = school
    open_class(page, qtbot, ctx, school_class.id)
    opened = []
    monkeypatch.setattr(page, "open_file", opened.append)
    assert page.print_register(str(tmp_path / "so-diem-danh"))
    settle(qtbot, ctx, lambda: bool(opened))
    assert opened == [tmp_path / "so-diem-danh.pdf"]
    assert (tmp_path / "so-diem-danh.pdf").read_bytes().startswith(b"%PDF")
    assert page.export_grid(str(tmp_path / "bang.xlsx"))
    settle(qtbot, ctx, lambda: page.last_path == tmp_path / "bang.xlsx")
    assert (tmp_path / "bang.xlsx").stat().st_size > 0
    assert not page.certificates(str(tmp_path / "chung-nhan.pdf"))  # no key on this laptop
    assert "chưa có khóa cấp chứng nhận" in page.last_dialog.text()
    assert not (tmp_path / "chung-nhan.pdf").exists()


def test_a_learners_name_opens_the_household_which_lists_their_classes(
        page, ws, ctx, qtbot, school):
    school_class, people = school
    ws.lessons.record(school_class.id, people[0], "dien-thoai",
                      skills=["ky-nang-1", "ky-nang-2"], quiz=(3, 3), on=STARTS)
    open_class(page, qtbot, ctx, school_class.id)
    row = next(r for r in range(page.grid_model.rowCount())
               if page.grid_model.rows[r].person_id == people[0])
    view = page.cell_clicked(page.grid_model.index(row, 0))
    assert isinstance(view, HouseholdView)
    assert view.household_id == ws.people.get(people[0]).household_id
    mine = classes_of_person(ws, people[0])
    assert [(c.class_name, c.mastered, c.lessons, c.completed) for c in mine] == [
        ("Lớp thử", 1, 2, False)]
    target = next(i for i, p in enumerate(view.people) if p.id == people[0])
    view.people_table.selectRow(target)
    QApplication.processEvents()
    texts = [view.class_list.item(i).text() for i in range(view.class_list.count())]
    assert texts == ["Lớp thử (Khóa học thử): 1/2 bài đã thành thạo"]


def test_certificates_with_a_key_save_the_pdf_and_list_issued_and_withheld(
        page, ws, ctx, qtbot, school, tmp_path, monkeypatch):
    school_class, people = school
    complete(Setup(ws, school_class.id, people), people[0])
    ws.set_meta(META_TEAM, SIGNER.key_certificate.team_id)
    ws.set_meta(META_SERVER, "https://hub.example.vn")
    asked = []
    signing = CertificateSigning(SIGNER.key_certificate.team_id, SIGNER.signing_key,
                                 SIGNER.key_certificate, public_key_of(PROVINCE))
    monkeypatch.setattr("dxkit.sync.teamkey.certificate_signing",
                        lambda team_id: asked.append(team_id) or signing)
    target = tmp_path / "chung-nhan"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    open_class(page, qtbot, ctx, school_class.id)
    assert page.certificates()  # the path comes from the (patched) save dialog
    assert asked == [SIGNER.key_certificate.team_id]
    settle(qtbot, ctx, lambda: isinstance(page.last_dialog, CertificatesDialog))
    dialog = page.last_dialog
    pdf = tmp_path / "chung-nhan.pdf"
    assert dialog.report.path == pdf and pdf.read_bytes().startswith(b"%PDF")
    lines = [dialog.names.item(i).text() for i in range(dialog.names.count())]
    name = ws.people.get(people[0]).full_name
    stored = ws.conn.execute("SELECT code FROM certificates WHERE person_id = ?",
                             (people[0],)).fetchone()[0]
    assert lines[0] == f"✓ {name}: giấy chứng nhận {stored}"
    withheld = lines[1:]
    assert len(withheld) == 3 and all(line.startswith("✗ ") for line in withheld)
    assert all("chưa hoàn thành khóa học" in line for line in withheld)
    # The PDF's QR carries a code that verifies with the province key.
    codes = [code_in(payload) for payload in payloads_in_file(pdf)]
    assert len(codes) == 1 and codes[0] is not None
    assert verify_code(codes[0], public_key_of(PROVINCE)).valid
    assert short_code(codes[0]) == stored
