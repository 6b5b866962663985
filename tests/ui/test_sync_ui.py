"""Sync in the app: enrollment and "Sync now" against the REAL hub process, automatic retries
when the hub is down, a revoked device, and the review page for conflicts and quarantine."""

from __future__ import annotations

import pytest

from dxkit.core.sync_review import review_count
from dxkit.core.synced import record_of
from dxkit.sync import engine
from dxkit.ui.context import AppContext
from dxkit.ui.sync_ui import (
    OFFLINE_PROBE_MAX,
    RETRY_MAX,
    SyncController,
    SyncReviewPage,
    retry_delay,
)
from dxkit.workspace import Workspace
from tests.sync.conftest import hub_server  # noqa: F401  (the real hub fixture)
from tests.ui.conftest import settle

DONG_THAP, MY_THO = "82", "28261"


@pytest.fixture(autouse=True)
def file_tokens(monkeypatch):
    monkeypatch.setenv("DXKIT_TOKEN_STORE", "file")


def enrollment_code(hub) -> str:
    team = hub.admin("team", "add", "--province", DONG_THAP, "--commune", MY_THO,
                     "--hamlet", "Ấp Mỹ Hưng")["team_id"]
    return hub.admin("enroll-code", "--team", team)["code"]


def quiet_controller(ctx: AppContext) -> SyncController:
    """A controller without random jitter (rand() = 0.5 is the middle) nor Qt's network watch."""
    return SyncController(ctx, ctx, rand=lambda: 0.5, watch_network=False)


def test_enroll_in_settings_then_sync_now_shows_online_and_last_sync(
        window, ws, qtbot, hub_server):
    page = window.show_section("settings")
    box = page.sync_box
    assert window.online_label.text() == "● Ngoại tuyến"
    assert window.online_label.toolTip() == "Chưa đăng ký đồng bộ"
    assert box.enroll_form.isVisibleTo(box) and not box.enrolled_info.isVisibleTo(box)

    box.server_edit.setText(hub_server.url)
    box.code_edit.setText("KHONG-CO-MA-NAY")
    box.enroll_button.click()
    settle(qtbot, window.ctx, lambda: box.code_field.error_text() != "")
    assert "mã" in box.code_field.error_text()
    assert not window.sync.enrolled

    box.code_edit.setText(enrollment_code(hub_server))
    box.enroll_button.click()
    settle(qtbot, window.ctx, lambda: box.enrolled_info.isVisibleTo(box))
    assert not box.enroll_form.isVisibleTo(box)
    assert box.server_label.text() == hub_server.url
    assert "Ấp Mỹ Hưng" in box.team_label.text()
    assert window.sync.timer.isActive()  # the first automatic attempt is on its way

    assert ws.pending_changes() > 0
    box.sync_button.click()
    assert window.sync.busy and not box.sync_button.isEnabled()
    assert window.sync.sync_now() is False  # never two at once
    settle(qtbot, window.ctx, lambda: not window.sync.busy
           and window.pending_label.text() == "0 thay đổi chờ đồng bộ")
    assert window.online_label.text() == "● Trực tuyến"
    assert window.last_sync_label.text() == "Đồng bộ lần cuối: 09:30 20/11/2026"
    assert 4 * 60 <= window.sync.next_delay <= 6 * 60  # the next one: 5 min ±20 %
    assert box.sync_button.isEnabled() and "Đã gửi" in box.message_label.text()


def test_enroll_with_a_hub_that_does_not_answer_says_so_next_to_the_address(
        ctx, qtbot, hub_server):
    from dxkit.ui.sync_ui import SyncSettingsBox

    hub_server.stop()
    box = SyncSettingsBox(ctx)
    qtbot.addWidget(box)
    box.server_edit.setText(hub_server.url)
    box.code_edit.setText("ABC")
    box.enroll()
    settle(qtbot, ctx, lambda: box.server_field.error_text() != "")
    assert "Không" in box.server_field.error_text() or "không" in box.server_field.error_text()
    assert box.code_field.error_text() == ""
    box.server_edit.setText("")
    box.enroll()
    assert box.server_field.error_text() == "Hãy nhập địa chỉ máy chủ."


def test_a_hub_that_is_down_means_offline_and_a_backoff(ctx, ws, qtbot, hub_server):
    engine.enroll(ws, hub_server.url, enrollment_code(hub_server), device_name="laptop")
    hub_server.stop()
    controller = quiet_controller(ctx)
    settle(qtbot, ctx, lambda: controller.enrolled)
    assert controller.online is None and controller.timer.isActive()

    controller.attempt()  # what the timer does: probe, then sync
    settle(qtbot, ctx, lambda: not controller.busy)
    assert controller.online is False and controller.failures == 1
    assert controller.next_delay == pytest.approx(30)
    assert controller.timer.isActive()

    assert controller.sync_now()  # by hand, the same hub: a sentence, no exception
    settle(qtbot, ctx, lambda: not controller.busy)
    assert controller.online is False and controller.failures == 2
    assert controller.next_delay == pytest.approx(OFFLINE_PROBE_MAX)  # 60 s capped at 50 s
    assert controller.message.startswith("Không kết nối được máy chủ")


def test_backoff_doubles_to_fifteen_minutes_with_jitter():
    assert [retry_delay(n, RETRY_MAX, lambda: 0.5) for n in range(1, 8)] == [
        30, 60, 120, 240, 480, 900, 900]
    assert retry_delay(1, RETRY_MAX, lambda: 0.0) == pytest.approx(24)
    assert retry_delay(6, RETRY_MAX, lambda: 1.0) == pytest.approx(1080)
    # Offline: probing never waits longer than 60 s, whatever the jitter.
    assert max(retry_delay(n, OFFLINE_PROBE_MAX, lambda: 1.0) for n in range(1, 9)) <= 60


def test_a_revoked_device_stops_syncing_and_keeps_its_data(window, ws, qtbot,
                                                         hub_server):
    engine.enroll(ws, hub_server.url, enrollment_code(hub_server), device_name="laptop")
    window.sync.refresh()
    settle(qtbot, window.ctx, lambda: window.sync.enrolled)
    hub_server.admin("devices", "revoke", ws.meta()["sync_device_id"])
    households = ws.households.count()
    assert window.sync.sync_now()
    settle(qtbot, window.ctx, lambda: not window.sync.busy)
    assert "thu hồi" in window.sync.revoked
    assert not window.sync.timer.isActive() and window.sync.next_delay is None
    assert window.online_label.text() == "● Đồng bộ đã dừng"
    window.sync.attempt()
    assert not window.sync.busy  # no automatic attempt once refused
    box = window.show_section("settings").sync_box
    assert box.revoked_label.isVisibleTo(box) and box.enroll_form.isVisibleTo(box)
    assert ws.households.count() == households and ws.pending_changes() > 0


# -- review ---------------------------------------------------------------------------------
def send(source: Workspace, target: Workspace) -> None:
    """The source's outbox applied to the target, as a pull would (no hub needed)."""
    rows = source.conn.execute(
        "SELECT table_name, row_id FROM outbox WHERE table_name IN ('hamlets', 'households') "
        "GROUP BY table_name, row_id ORDER BY min(seq)").fetchall()
    with target.transaction() as tx:
        for table, row_id in rows:
            tx.apply_remote(record_of(source.conn, table, row_id))


@pytest.fixture
def conflicted(tmp_path):
    """Laptop b shows its own phone number; laptop a's rival edit is listed for review."""
    a, b = Workspace.open(tmp_path / "a"), Workspace.open(tmp_path / "b")
    a.catalog.add_hamlet("Ấp Mỹ Hưng")
    household = a.households.add(code="MH-001", head_name="Nguyễn Văn Đồng",
                                 hamlet="Ấp Mỹ Hưng", phone="0912345678").value
    send(a, b)
    a.conn.execute("DELETE FROM outbox")
    b.conn.execute("DELETE FROM outbox")
    a.households.update(household.id, phone="0987654321")
    b.households.update(household.id, phone="0911111111")
    send(a, b)
    yield b, household
    a.close()
    b.close()


@pytest.fixture
def review_page(conflicted, qtbot):
    b, _household = conflicted
    context = AppContext(b)
    page = SyncReviewPage(context)
    qtbot.addWidget(page)
    yield page
    context.tasks.shutdown()


def test_review_lists_the_conflict_and_using_the_other_value_edits_the_household(
        conflicted, review_page, qtbot):
    b, household = conflicted
    page, ctx = review_page, review_page.ctx
    settle(qtbot, ctx, lambda: page.conflicts_table.rowCount() == 1)
    assert review_count(b) == 1
    cells = [page.conflicts_table.item(0, c).text() for c in range(6)]
    assert cells == ["Hộ gia đình", "MH-001 — Nguyễn Văn Đồng", "SĐT",
                     "0911111111", "0987654321", "Giá trị của máy này"]
    assert not page.use_other_button.isEnabled()  # nothing chosen yet
    page.conflicts_table.selectRow(0)
    assert page.use_other_button.isEnabled() and page.keep_button.isEnabled()
    page.use_other_button.click()
    settle(qtbot, ctx, lambda: page.conflicts_table.rowCount() == 0)
    assert b.households.get(household.id).phone == "0987654321"
    assert b.conn.execute("SELECT count(*) FROM sync_conflicts WHERE resolved_at IS NULL"
                          ).fetchone()[0] == 0
    assert review_count(b) == 0
    assert b.pending_changes() > 0  # a normal local edit, sent with the next sync


def test_keep_the_value_shown_and_remove_a_quarantined_record(conflicted, review_page, qtbot):
    b, household = conflicted
    page, ctx = review_page, review_page.ctx
    b.conn.execute("INSERT INTO sync_quarantine (table_name, row_id, direction, reason, record, "
                   "at) VALUES ('visits', 'abcdef0123', 'push', 'out_of_scope', '{}', "
                   "'2026-11-20T09:30:00+00:00')")
    page.refresh()
    settle(qtbot, ctx, lambda: page.quarantine_table.rowCount() == 1)
    assert page.quarantine_table.item(0, 2).text() == "out_of_scope"
    assert review_count(b) == 2
    page.conflicts_table.selectRow(0)
    page.keep_button.click()
    settle(qtbot, ctx, lambda: page.conflicts_table.rowCount() == 0)
    assert b.households.get(household.id).phone == "0911111111"
    page.quarantine_table.selectRow(0)
    page.remove_button.click()
    settle(qtbot, ctx, lambda: page.quarantine_table.rowCount() == 0)
    assert review_count(b) == 0


def test_status_bar_offers_the_review_when_something_needs_it(window, ws, qtbot):
    household = ws.households.add(code="MH-009", head_name="Trần Văn Nam",
                                  hamlet="Ấp Mỹ Hưng").value
    ws.conn.execute("INSERT INTO sync_conflicts (table_name, row_id, field, local_value, "
                    "local_clock, remote_value, remote_clock, winner, detected_at) VALUES "
                    "('households', ?, 'address', '\"Số 1\"', 'x', '\"Số 2\"', 'y', 'local', "
                    "'2026-11-20T09:30:00')", (household.id,))
    window.refresh_status()
    settle(qtbot, window.ctx, lambda: window.review_button.isVisible())
    assert window.review_button.text() == "1 cần xem lại"
    window.review_button.click()
    assert window.current_section() == "review"


def test_a_sync_that_installed_a_course_says_so_with_its_notes(ctx):
    controller = quiet_controller(ctx)
    report = engine.SyncReport(pushed=2, pulled=1,
                               courses_installed=["vn.test.ky-nang-thu 2026.12.1"],
                               course_titles={"vn.test.ky-nang-thu 2026.12.1": "Khóa học thử"},
                               notes=["Gói khóa học vn.x phiên bản 1 từ máy chủ chưa được cài."])
    controller._synced(report)
    lines = controller.message.split("\n")
    assert lines[0].startswith("Đã gửi")
    assert lines[1:] == ["Đã cài khóa học: Khóa học thử",
                         "Gói khóa học vn.x phiên bản 1 từ máy chủ chưa được cài."]
    controller.stop()
