"""Course packs the province publishes through the hub (issue 12 §1): checked in full before
the hub stores them, learnt of by laptops from a counter on the pull answer (a quiet sync stays
one request), downloaded once within a size cap, checked again on the laptop and installed;
a pack the laptop refuses is a note of the sync and nothing of it is stored."""

from __future__ import annotations

import copy
import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from dxkit.core import i18n
from dxkit.lessons.packs import PackRefused, read_pack
from dxkit.sync import engine
from dxkit.sync.client import HubClient
from dxkit.sync.hub.database import open_database
from tests.lessons.packs_setup import manifest, write_pack, zip_folder
from tests.support.hub_process import dxkit_command
from tests.sync.test_e2e_sync import (  # noqa: F401  (fixtures: file tokens, hub, laptops)
    file_tokens,
    hub,
    laptops,
    new_team,
)

# Packs are the province's, the same for every team: each test gets a hub of its own, so
# no test sees another's publications.
pytestmark = pytest.mark.fresh_hub
HUB_BACKENDS = ("sqlite", "postgresql")
SQLITE_ONLY = {"test_a_broken_pack_is_refused_at_publish_with_every_problem_and_nothing_kept",
               "test_a_pack_over_the_size_cap_is_not_downloaded"}
COURSE = "vn.test.ky-nang-thu"


def pack_zip(tmp_path: Path, name: str, version: str = "2026.12.1", title: str = "") -> Path:
    data = manifest()
    data["version"] = version
    if title:
        data["title"] = {"vi": title, "en": title}
    folder = write_pack(tmp_path / name, copy.deepcopy(data))
    return zip_folder(folder, tmp_path / f"{name}.zip")


def installed(ws) -> set[tuple[str, str]]:
    return {(c.id, c.version) for c in ws.lessons.courses()}


def stored_rows(ws, version: str) -> int:
    return ws.conn.execute("SELECT count(*) FROM course_packs WHERE course_id = ? AND "
                           "version = ?", (COURSE, version)).fetchone()[0] + ws.conn.execute(
        "SELECT count(*) FROM course_pack_files WHERE course_id = ? AND version = ?",
        (COURSE, version)).fetchone()[0]


@pytest.fixture
def calls(monkeypatch):
    """How often this process asked the hub for its pack list and for a pack."""
    counted = {"list": 0, "download": 0}
    for method, name in (("course_packs", "list"), ("download_pack", "download")):
        original = getattr(HubClient, method)

        def counting(self, *args, _original=original, _name=name, **kwargs):
            counted[_name] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(HubClient, method, counting)
    return counted


def tamper(hub, version: str, data: bytes | None = None, **columns) -> None:
    """Change what the hub stores of a published pack behind its back."""
    database = open_database(hub.db_path)
    try:
        with database.write() as conn:
            if data is not None:
                conn.execute("DELETE FROM course_pack_chunks WHERE course_id = ? AND "
                             "version = ?", (COURSE, version))
                conn.execute("INSERT INTO course_pack_chunks (course_id, version, n, data) "
                             "VALUES (?, ?, 0, ?)", (COURSE, version, data))
            for name, value in columns.items():
                conn.execute(f"UPDATE course_packs SET {name} = ? WHERE course_id = ? AND "
                             "version = ?", (value, COURSE, version))
    finally:
        database.close()


def test_a_published_pack_reaches_a_laptop_once(hub, laptops, tmp_path, calls):
    a = laptops("a", new_team(hub))
    path = pack_zip(tmp_path, "pack")
    published = hub.admin("courses", "publish", str(path))
    pack = read_pack(path)
    assert published["published"] is True
    assert (published["id"], published["version"], published["digest"]) == (
        COURSE, "2026.12.1", pack.digest)
    assert published["size"] == path.stat().st_size
    assert published["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert [(p["id"], p["version"]) for p in hub.admin("courses", "list")] == [
        (COURSE, "2026.12.1")]

    first = engine.sync(a)
    assert first.courses_installed == [f"{COURSE} 2026.12.1"] and first.notes == []
    assert (COURSE, "2026.12.1") in installed(a)
    assert a.lessons.course(COURSE).digest == pack.digest
    assert calls == {"list": 1, "download": 1}

    second = engine.sync(a)  # catches up with what the first sync pushed
    quiet = engine.sync(a)
    assert second.courses_installed == quiet.courses_installed == []
    assert calls == {"list": 1, "download": 1}  # never asked again
    assert quiet.requests == 1  # a quiet sync is still its one pull


def test_publishing_again_the_folder_of_the_same_pack_changes_nothing(hub, tmp_path):
    folder = write_pack(tmp_path / "pack")
    first = hub.admin("courses", "publish", str(zip_folder(folder, tmp_path / "pack.zip")))
    again = hub.admin("courses", "publish", str(folder))  # a canonical zip of the same content
    assert again["published"] is False
    assert again["digest"] == first["digest"] and again["sha256"] == first["sha256"]
    assert len(hub.admin("courses", "list")) == 1


def test_a_folder_is_published_as_a_canonical_zip_a_laptop_installs(hub, laptops, tmp_path):
    folder = write_pack(tmp_path / "pack")
    published = hub.admin("courses", "publish", str(folder))
    assert published["digest"] == read_pack(folder).digest
    a = laptops("a", new_team(hub))
    assert engine.sync(a).courses_installed == [f"{COURSE} 2026.12.1"]
    assert a.lessons.course(COURSE).digest == published["digest"]


def test_the_same_version_with_other_content_is_refused_at_publish(hub, laptops, tmp_path):
    hub.admin("courses", "publish", str(pack_zip(tmp_path, "one")))
    other = pack_zip(tmp_path, "two", title="Một khóa học khác")
    with pytest.raises(AssertionError, match="failed"):
        hub.admin("courses", "publish", str(other))
    [kept] = hub.admin("courses", "list")
    assert kept["digest"] == read_pack(tmp_path / "one.zip").digest


def test_a_new_publication_costs_a_quiet_sync_two_requests_more(hub, laptops, tmp_path,
                                                               calls):
    a = laptops("a", new_team(hub))
    for _ in range(2):
        engine.sync(a)
    assert engine.sync(a).requests == 1
    hub.admin("courses", "publish", str(pack_zip(tmp_path, "pack")))
    # No record moved: the pull answer's counter alone says something was published.
    report = engine.sync(a)
    assert report.courses_installed == [f"{COURSE} 2026.12.1"]
    assert report.requests == 3 and calls == {"list": 1, "download": 1}
    assert engine.sync(a).requests == 1
    hub.admin("courses", "publish", str(pack_zip(tmp_path, "next", version="2026.12.2")))
    assert engine.sync(a).courses_installed == [f"{COURSE} 2026.12.2"]
    assert calls == {"list": 2, "download": 2}  # only the pack it lacked
    assert installed(a) >= {(COURSE, "2026.12.1"), (COURSE, "2026.12.2")}


def test_a_broken_pack_is_refused_at_publish_with_every_problem_and_nothing_kept(hub,
                                                                                 tmp_path):
    data = manifest()
    data["version"] = "không hợp lệ"
    folder = write_pack(tmp_path / "broken", data, changes={
        "lessons/02-thanh-toan.vi.md": None,
        "lessons/01-dien-thoai.vi.md": b"# Bai\n\n<script>alert(1)</script>\n"})
    broken = zip_folder(folder, tmp_path / "broken.zip")
    language = i18n.language()
    i18n.set_language("en")
    try:
        with pytest.raises(PackRefused) as refused:
            read_pack(broken)
        expected = [str(problem) for problem in refused.value.problems]
    finally:
        i18n.set_language(language)
    assert len(expected) >= 3
    done = subprocess.run(dxkit_command("hub", "--db", str(hub.db_path), "courses", "publish",
                                        str(broken)),
                          capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, "DXKIT_LANG": "en"})
    assert done.returncode != 0
    assert f"{len(expected)} problems" in done.stderr
    for problem in expected:
        assert problem in done.stderr
    assert hub.admin("courses", "list") == []


def test_a_hub_serving_other_bytes_is_refused_and_nothing_is_stored(hub, laptops, tmp_path):
    a = laptops("a", new_team(hub))
    path = pack_zip(tmp_path, "pack")
    hub.admin("courses", "publish", str(path))
    damaged = bytearray(path.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF  # same size, other bytes than the list's sha256
    tamper(hub, "2026.12.1", data=bytes(damaged))
    report = engine.sync(a)  # the sync itself goes through
    assert report.courses_installed == [] and len(report.notes) == 1
    assert "do not match" in report.notes[0] or "không khớp" in report.notes[0]
    assert (COURSE, "2026.12.1") not in installed(a) and stored_rows(a, "2026.12.1") == 0
    # Bytes matching the list but another pack's content than its digest says: refused too.
    other = pack_zip(tmp_path, "other", title="Khóa học bị tráo").read_bytes()
    tamper(hub, "2026.12.1", data=other, sha256=hashlib.sha256(other).hexdigest(),
           size=len(other))
    hub.admin("courses", "publish", str(pack_zip(tmp_path, "next", version="2026.12.2")))
    again = engine.sync(a)
    assert again.courses_installed == [f"{COURSE} 2026.12.2"] and len(again.notes) == 1
    assert "2026.12.1" in again.notes[0]
    assert stored_rows(a, "2026.12.1") == 0


def test_a_hub_serving_a_pack_that_fails_the_check_is_refused(hub, laptops, tmp_path):
    a = laptops("a", new_team(hub))
    hub.admin("courses", "publish", str(pack_zip(tmp_path, "pack")))
    folder = write_pack(tmp_path / "evil", changes={
        "lessons/01-dien-thoai.vi.md": b"# Bai\n\n<script>alert(1)</script>\n"})
    evil = zip_folder(folder, tmp_path / "evil.zip").read_bytes()
    tamper(hub, "2026.12.1", data=evil, sha256=hashlib.sha256(evil).hexdigest(),
           size=len(evil))
    report = engine.sync(a)
    assert report.courses_installed == [] and len(report.notes) == 1
    assert "01-dien-thoai.vi.md" in report.notes[0]  # the laptop's own check names it
    assert stored_rows(a, "2026.12.1") == 0


def test_a_hub_sending_more_than_it_listed_is_cut_off(hub, laptops, tmp_path, calls):
    a = laptops("a", new_team(hub))
    path = pack_zip(tmp_path, "pack")
    hub.admin("courses", "publish", str(path))
    tamper(hub, "2026.12.1", size=path.stat().st_size // 2)
    report = engine.sync(a)
    assert calls["download"] == 1 and report.courses_installed == []
    assert len(report.notes) == 1 and stored_rows(a, "2026.12.1") == 0


def test_a_pack_over_the_size_cap_is_not_downloaded(hub, laptops, tmp_path, calls,
                                                    monkeypatch):
    a = laptops("a", new_team(hub))
    path = pack_zip(tmp_path, "pack")
    hub.admin("courses", "publish", str(path))
    monkeypatch.setattr(engine, "MAX_COURSE_PACK_BYTES", path.stat().st_size - 1)
    report = engine.sync(a)
    assert calls == {"list": 1, "download": 0}
    assert report.courses_installed == [] and len(report.notes) == 1
    assert stored_rows(a, "2026.12.1") == 0


def test_the_report_names_the_installed_course_by_its_title(hub, laptops, tmp_path):
    from dxkit.cli.sync import report_lines

    a = laptops("a", new_team(hub))
    hub.admin("courses", "publish", str(pack_zip(tmp_path, "pack", title="Kỹ năng số thử")))
    report = engine.sync(a)
    assert report.course_titles == {f"{COURSE} 2026.12.1": "Kỹ năng số thử"}
    assert report.to_dict()["course_titles"] == report.course_titles
    assert engine.report_notes(report) == ["Đã cài khóa học: Kỹ năng số thử"]
    assert report_lines(report)[-1] == "Đã cài khóa học: Kỹ năng số thử"
    report.notes.append("Một ghi chú.")
    assert engine.report_notes(report)[-1] == "Một ghi chú."
