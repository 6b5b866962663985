"""English says "1 household" and "2 households" (core.i18n.counted, ngettext); Vietnamese has
one form and formats numbers its way (1.234)."""

from __future__ import annotations

from pathlib import Path

from dxkit.cli.common import person_line
from dxkit.cli.sync import report_lines
from dxkit.core import i18n
from dxkit.sync.engine import SyncReport
from tests.cli.conftest import Invoke


def test_backup_settings_say_one_day_and_many_days(dxkit: Invoke, team_dir: Path):
    one = dxkit(team_dir, "--lang", "en", "backup", "settings", "--keep-days", "1")
    assert "Backups are kept 1 day (the newest 3 always)" in one.stdout
    two = dxkit(team_dir, "--lang", "en", "backup", "settings", "--keep-days", "2")
    assert "Backups are kept 2 days (the newest 3 always)" in two.stdout
    assert "Bản sao lưu được giữ 2 ngày (luôn giữ 3 bản mới nhất)" in dxkit(
        team_dir, "backup", "settings").stdout


def test_households_list_and_export_count_one_and_many(dxkit: Invoke, filled_dir: Path,
                                                       tmp_path: Path):
    one = dxkit(filled_dir, "--lang", "en", "households", "list", "--hamlet", "Khom 3")
    assert one.stderr.strip() == "1 household."
    assert dxkit(filled_dir, "--lang", "en", "households", "list").stderr.strip() == (
        "3 households.")
    assert dxkit(filled_dir, "households", "list").stderr.strip() == "3 hộ."

    def export(*args: str) -> str:
        result = dxkit(filled_dir, "--lang", "en", "households", "export", *args)
        assert result.exit_code == 0, result.output
        return result.stdout

    assert "Exported 3 households to " in export("--out", str(tmp_path / "h.csv"))
    # Two people, and a row for each of the two households nobody is listed in.
    assert "Exported 4 rows of the people list to " in export("--what", "people", "--out",
                                                              str(tmp_path / "p.csv"))
    assert "Exported 1 visit row to " in export("--what", "visits", "--out",
                                                str(tmp_path / "v.csv"))


def test_a_person_is_one_year_old_or_two_years_old(ws):
    household = ws.households.add(code="MH-001", head_name="Nguyễn Văn Đồng",
                                  hamlet="Ấp Mỹ Hưng").value
    baby = ws.people.add(household.id, full_name="Nguyễn Thị Na", birth_date="01/01/2025").value
    older = ws.people.add(household.id, full_name="Nguyễn Văn Tí", birth_date="2024").value
    today = ws.today()
    try:
        i18n.set_language("en")
        assert "born Jan 1, 2025 (1 year old)" in person_line(baby, today)
        assert "born 2024 (2 years old)" in person_line(older, today)
    finally:
        i18n.set_language("vi")
    assert "sinh 01/01/2025 (1 tuổi)" in person_line(baby, today)


def test_a_sync_report_counts_records_changes_requests_and_bytes():
    one = SyncReport(pushed=1, pulled=1, conflicts=1, quarantined=1, held_back=1, received=1,
                     requests=1, bytes_sent=1, bytes_received=1)
    many = SyncReport(pushed=2, pulled=2, conflicts=2, quarantined=2, held_back=2, received=3,
                      requests=2, bytes_sent=1234, bytes_received=2)
    try:
        i18n.set_language("en")
        assert report_lines(one) == [
            "Sent: 1 record accepted by the hub.",
            "Received: 1 record (1 new or changed here).",
            "Merged: 1 same-field edit from two devices, listed for review.",
            "Held back: 1 record quarantined with a reason; 1 change still waiting to be sent.",
            "1 request, 1 byte sent, 1 byte received.",
        ]
        assert report_lines(many) == [
            "Sent: 2 records accepted by the hub.",
            "Received: 3 records, 2 of them new or changed here.",
            "Merged: 2 same-field edits from two devices, listed for review.",
            "Held back: 2 records quarantined with a reason; 2 changes still waiting to be "
            "sent.",
            "2 requests, 1,234 bytes sent, 2 bytes received.",
        ]
    finally:
        i18n.set_language("vi")
    assert report_lines(many)[3:] == [
        "Giữ lại: 2 bản ghi bị giữ lại kèm lý do; 2 thay đổi vẫn đang chờ gửi.",
        "2 yêu cầu, đã gửi 1.234 byte, đã nhận 2 byte.",
    ]
