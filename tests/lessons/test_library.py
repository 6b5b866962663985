"""Installed course packs: the shipped one at open, imports, immutability per version."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dxkit.core.errors import DxError, NotFound
from dxkit.lessons import library
from dxkit.lessons.packs import PackRefused
from dxkit.workspace import Workspace
from tests.lessons.conftest import COURSE
from tests.lessons.packs_setup import manifest, write_pack, zip_folder


def _packs(ws: Workspace) -> list[tuple[str, str, str]]:
    return [tuple(r) for r in ws.conn.execute(
        "SELECT course_id, version, digest FROM course_packs ORDER BY 1, 2")]


def test_the_shipped_course_is_installed_at_open_and_not_rewritten(fresh_ws: Workspace):
    found = fresh_ws.lessons.courses()
    assert [(c.id, c.lessons, c.origin) for c in found] == [
        (library.SHIPPED_COURSE, 12, "shipped")]
    pack = fresh_ws.lessons.course(library.SHIPPED_COURSE)
    assert len(pack.lessons) == 12 and pack.digest == found[0].digest
    stamp = fresh_ws.conn.execute("SELECT installed_at FROM course_packs").fetchone()[0]
    assert fresh_ws.lessons.refresh_shipped() is False
    path = fresh_ws.path
    fresh_ws.close()
    with Workspace.open(path) as again:
        assert again.conn.execute("SELECT installed_at FROM course_packs").fetchone()[0] == stamp
        # Installed packs are local: they never reach the outbox.
        assert again.conn.execute("SELECT count(*) FROM outbox WHERE table_name LIKE "
                                  "'course_pack%'").fetchone()[0] == 0


def test_the_stored_pack_reads_back_identically_from_the_database(ws: Workspace,
                                                                   tmp_path: Path):
    source = write_pack(tmp_path / "pack")
    imported = ws.lessons.import_pack(source).value
    shutil.rmtree(source)  # the stored copy is all there is now
    pack = ws.lessons.course(COURSE)
    assert pack.digest == imported.digest
    assert pack.read_file("images/khoa.png").startswith(b"\x89PNG")
    # The folder written from the database is written again if someone removes it.
    shutil.rmtree(ws.path / library.PACKS_FOLDER)
    library._cache.clear()
    assert ws.lessons.course(COURSE).digest == imported.digest


def test_importing_the_same_pack_twice_changes_nothing(ws: Workspace, tmp_path: Path):
    folder = write_pack(tmp_path / "pack")
    first = ws.lessons.import_pack(folder)
    assert first.changes
    again = ws.lessons.import_pack(zip_folder(folder, tmp_path / "pack.zip"))
    assert not again.changes and again.value.digest == first.value.digest


def test_the_same_version_with_other_content_is_refused(ws: Workspace, tmp_path: Path):
    ws.lessons.import_pack(write_pack(tmp_path / "one"))
    before = _packs(ws)
    other = manifest()
    other["title"]["vi"] = "Khóa học thử (sửa)"
    with pytest.raises(DxError, match=r"2026\.12\.1"):
        ws.lessons.import_pack(write_pack(tmp_path / "two", other))
    assert _packs(ws) == before


def test_a_new_version_installs_beside_the_old_and_becomes_the_default(ws: Workspace,
                                                                        tmp_path: Path):
    ws.lessons.import_pack(write_pack(tmp_path / "one"))
    newer = manifest()
    newer["version"] = "2026.12.10"
    ws.lessons.import_pack(write_pack(tmp_path / "two", newer))
    assert ws.lessons.course(COURSE).version == "2026.12.10"
    assert ws.lessons.course(COURSE, "2026.12.1").version == "2026.12.1"
    assert [c.version for c in ws.lessons.courses() if c.id == COURSE] == [
        "2026.12.10", "2026.12.1"]
    with pytest.raises(NotFound):
        ws.lessons.course(COURSE, "1.0")
    with pytest.raises(NotFound):
        ws.lessons.course("vn.khong-co")


def test_a_broken_pack_is_refused_whole(ws: Workspace, tmp_path: Path):
    data = manifest()
    data["lessons"][0]["quiz"][0]["answer"] = ["z"]
    before = _packs(ws)
    with pytest.raises(PackRefused):
        ws.lessons.import_pack(write_pack(tmp_path / "bad", data,
                                          changes={"lessons/02-thanh-toan.vi.md": None}))
    assert _packs(ws) == before


def test_a_lesson_naming_an_indicator_the_catalogue_lacks_is_refused(ws: Workspace,
                                                                      tmp_path: Path):
    data = manifest()
    data["lessons"][0]["indicator"] = "khong_co_chi_tieu"
    with pytest.raises(PackRefused, match="khong_co_chi_tieu"):
        ws.lessons.import_pack(write_pack(tmp_path / "bad", data))


def test_versions_sort_naturally():
    ordered = sorted(["2026.12.9", "2026.12.10", "2026.2.1", "2026.12.1-b"],
                     key=library.version_key)
    assert ordered == ["2026.2.1", "2026.12.1-b", "2026.12.9", "2026.12.10"]
