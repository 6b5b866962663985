"""A workspace with the small test course installed, a class on it and four learners."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from dxkit.workspace import Workspace
from tests.lessons.packs_setup import write_pack

COURSE = "vn.test.ky-nang-thu"
STARTS = dt.date(2026, 11, 2)  # the tests' clock says 2026-11-20


@dataclass
class Setup:
    ws: Workspace
    class_id: str
    people: list[str]


def add_people(ws: Workspace, count: int, code: str = "MH-001") -> list[str]:
    household = ws.households.add(code=code, head_name="Nguyễn Văn Đồng",
                                  hamlet="Ấp Mỹ Hưng").value
    names = ["Nguyễn Văn Đồng", "Lê Thị Lan", "Trần Văn Bé", "Phạm Thị Mai", "Võ Văn Tư"]
    return [ws.people.add(household.id, full_name=f"{names[i % len(names)]} {i}",
                          birth_date="1970").value.id for i in range(count)]


@pytest.fixture
def course_ws(ws: Workspace, tmp_path: Path) -> Workspace:
    ws.lessons.import_pack(write_pack(tmp_path / "pack"))
    return ws


@pytest.fixture
def setup(course_ws: Workspace) -> Setup:
    ws = course_ws
    school_class = ws.lessons.add_class(COURSE, "Lớp thử", STARTS, trainers=["Lê Thị Hoa"],
                                        place="Nhà văn hóa", sessions_planned=4).value
    people = add_people(ws, 4)
    ws.lessons.enrol(school_class.id, people, on=STARTS)
    return Setup(ws, school_class.id, people)
