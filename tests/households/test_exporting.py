"""Exports re-import cleanly, keep Vietnamese readable in Excel and never show purged people."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from dxkit.core.errors import Cancelled, DxError
from dxkit.core.progress import Progress
from dxkit.households.exporting import (
    HOUSEHOLD_HEADERS,
    PEOPLE_HEADERS,
    VISIT_HEADERS,
    export_households,
    export_people,
    export_person,
    export_visits,
)
from dxkit.households.importing import apply_import, plan_import
from dxkit.households.visits import VisitItem
from dxkit.workspace import Workspace


@pytest.fixture
def team(ws: Workspace) -> Workspace:
    """Two households, three people (one with CCCD and consent), one household with no one."""
    dong = ws.households.add(code="MH-001", head_name="Nguyễn Văn Đồng", hamlet="Ấp Mỹ Hưng",
                             address="12 Lê Lợi", phone="0912345678", notes="Nhà có ao",
                             latitude=10.3601, longitude=106.3654).value
    ws.people.add(dong.id, full_name="Nguyễn Văn Đồng", sex="Nam", birth_date="05/09/1968",
                  relationship="Chủ hộ", phone="0987654321", cccd="087068000123", consent=True)
    ws.people.add(dong.id, full_name="Trần Thị Ánh", sex="Nữ", birth_date="1972",
                  relationship="Vợ")
    ws.households.add(code="K3-010", head_name="Lê Thị Hoa Phượng", hamlet="Khóm 3")
    return ws


def people_of(ws: Workspace) -> set[tuple]:
    return {(h.code, h.head_name, h.hamlet, h.address, h.phone, h.notes, h.latitude,
             h.longitude, p.full_name, p.sex, p.birth_date, p.birth_year, p.relationship,
             p.phone, p.cccd, p.consent)
            for h in ws.households.list() for p in ws.people.in_household(h.id)}


def households_of(ws: Workspace) -> set[tuple]:
    return {(h.code, h.head_name, h.hamlet, h.address, h.phone, h.notes, h.latitude,
             h.longitude) for h in ws.households.list()}


@pytest.fixture
def other_ws(tmp_path: Path):
    """Another laptop of the same team: same hamlets, no households yet."""
    other = Workspace.open(tmp_path / "other")
    other.freeze_time(dt.datetime(2026, 11, 20, 9, 30))
    for name in ("Ấp Mỹ Hưng", "Khóm 3", "Ấp Đông Hòa"):
        other.catalog.add_hamlet(name)
    yield other
    other.close()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_people_export_round_trips(team: Workspace, other_ws: Workspace, tmp_path: Path,
                                   fmt: str) -> None:
    path = tmp_path / f"nhan-khau.{fmt}"
    assert export_people(team, path, fmt) == 3  # two people + the household nobody is in
    result = apply_import(other_ws, path)
    assert result.value.counts.new_households == 2 and result.value.counts.new_people == 2
    assert people_of(other_ws) == people_of(team)
    assert households_of(other_ws) == households_of(team)
    # Into the workspace it came from: nothing to do.
    outbox = team.pending_changes()
    again = apply_import(team, path)
    counts = again.value.counts
    assert (counts.unchanged_households, counts.unchanged_people) == (2, 2)
    assert (counts.new_households + counts.updated_households + counts.new_people
            + counts.updated_people) == 0
    assert team.pending_changes() == outbox and not again.changes


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_households_export_round_trips(team: Workspace, other_ws: Workspace, tmp_path: Path,
                                       fmt: str) -> None:
    path = tmp_path / f"ho.{fmt}"
    assert export_households(team, path, fmt) == 2
    apply_import(other_ws, path)
    assert households_of(other_ws) == households_of(team)
    assert plan_import(team, path).counts.unchanged_households == 2


def test_csv_is_utf8_with_bom_and_vietnamese_headers(team: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    export_people(team, path, "csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == PEOPLE_HEADERS
    head = next(r for r in rows if r[8] == "Nguyễn Văn Đồng")
    assert head[10] == "05/09/1968" and head[13] == "087068000123" and head[14] == "Có"
    # Nothing is masked: the file is for the team.
    assert "0987654321" in head


def test_xlsx_has_bold_header_widths_and_text_numbers(team: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "p.xlsx"
    export_people(team, path, "xlsx")
    book = load_workbook(path)
    sheet = book.active
    assert [c.value for c in sheet[1]] == PEOPLE_HEADERS
    assert all(c.font.bold for c in sheet[1])
    assert sheet.column_dimensions["A"].width >= 8
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    head = next(v for v in values if v[8] == "Nguyễn Văn Đồng")
    assert head[12] == "0987654321" and head[13] == "087068000123"  # kept as text
    book.close()


def test_purged_people_are_never_exported(team: Workspace, tmp_path: Path) -> None:
    household = team.households.by_code("MH-001")
    wife = team.people.in_household(household.id)[1]
    team.people.delete(wife.id)
    path = tmp_path / "p.csv"
    assert export_people(team, path, "csv") == 2
    assert "Trần Thị Ánh" not in path.read_text(encoding="utf-8-sig")


def test_export_person_writes_readable_json(team: Workspace, tmp_path: Path) -> None:
    person = team.people.in_household(team.households.by_code("MH-001").id)[0]
    path = export_person(team, person.id, tmp_path / "nguoi.json")
    text = path.read_text(encoding="utf-8")
    assert "Nguyễn Văn Đồng" in text  # ensure_ascii=False
    data = json.loads(text)
    assert data["person"]["cccd"] == "087068000123"
    assert data["household"]["code"] == "MH-001"
    assert json.loads(export_person(team, person.id)) == data  # no path: the text


def test_visits_export(team: Workspace, tmp_path: Path) -> None:
    household = team.households.by_code("MH-001")
    head = team.people.in_household(household.id)[0]
    member = team.catalog.member("Lê Thị Hoa")
    team.visits.add(household.id, items=[VisitItem("vneid_level2", "done", head.id)],
                    visited_at=dt.datetime(2026, 11, 18, 8, 0), member_ids=[member.id],
                    follow_up_on=dt.date(2026, 11, 25))
    voided = team.visits.add(household.id, items=[VisitItem("qr_payment", "partly")],
                             visited_at=dt.datetime(2026, 11, 19, 8, 0),
                             member_ids=[member.id]).value
    team.visits.void(voided.id, reason="Nhập nhầm")
    path = tmp_path / "v.csv"
    assert export_visits(team, path, "csv") == 1
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0] == VISIT_HEADERS
    assert rows[1][:5] == ["18/11/2026 08:00", "MH-001", "Nguyễn Văn Đồng", "Ấp Mỹ Hưng",
                           "Nguyễn Văn Đồng"]
    assert rows[1][8] == "Lê Thị Hoa" and rows[1][9] == "25/11/2026"
    assert export_visits(team, tmp_path / "v.xlsx", "xlsx") == 1


def test_cancelled_export_keeps_the_old_file(team: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "ho.csv"
    path.write_text("old", encoding="utf-8")
    progress = Progress()
    progress.cancel()
    with pytest.raises(Cancelled):
        export_households(team, path, "csv", progress)
    assert path.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".ho.csv")] == []
    export_households(team, path, "csv")
    assert path.read_text(encoding="utf-8-sig").splitlines()[0] == ",".join(HOUSEHOLD_HEADERS)


def test_unknown_format_is_refused(team: Workspace, tmp_path: Path) -> None:
    with pytest.raises(DxError):
        export_households(team, tmp_path / "x.ods", "ods")  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_text_that_looks_like_a_formula_stays_text_and_round_trips(ws, tmp_path, fmt):
    ws.households.add(code="MH-777", head_name="=1+1", hamlet="Ấp Mỹ Hưng",
                      address='=HYPERLINK("http://x","y")', notes="@SUM(A1)")
    path = tmp_path / f"out.{fmt}"
    export_households(ws, path, fmt)
    if fmt == "xlsx":
        cells = next(r for r in load_workbook(path).active.iter_rows()
                     if r[0].value == "MH-777")
        assert "=1+1" in [c.value for c in cells] and all(c.data_type != "f" for c in cells)
    else:
        text = path.read_text(encoding="utf-8-sig")
        assert "'=1+1" in text and "\n=" not in text and ",=" not in text
    again = plan_import(ws, path)
    assert again.ok and again.counts.unchanged_households == ws.households.count()


def test_control_characters_are_never_stored(ws):
    household = ws.households.add(code="MH-778", head_name="Lê\x00 Văn\x1b An",
                                  hamlet="Ấp Mỹ Hưng").value
    assert household.head_name == "Lê Văn An"
