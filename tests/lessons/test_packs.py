"""Course packs are read only when every check passes, and a refused pack lists every problem
(docs/course-pack.md). Hostile packs are made on the fly: zip bombs, lying zip headers, paths
that leave the pack, symbolic links, HTML and script in Markdown, javascript: links, fake and
oversized images."""

from __future__ import annotations

import json
import os
import struct
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from dxkit.core.i18n import set_language
from dxkit.households.catalog import DEFAULT_INDICATORS
from dxkit.lessons import pack_files
from dxkit.lessons.packs import (
    CompletionRule,
    PackRefused,
    Problem,
    QuizRule,
    pack_schema,
    read_pack,
)
from tests.lessons.packs_setup import (
    jpeg,
    lesson,
    manifest,
    png,
    png_header_only,
    write_pack,
    zip_folder,
)

INDICATORS = [code for code, *_rest in DEFAULT_INDICATORS]
COURSES = Path(__file__).resolve().parents[2] / "dxkit" / "resources" / "courses"
MiB = 1024 * 1024


@pytest.fixture(autouse=True)
def english():
    set_language("en")
    yield
    set_language("vi")


def refused(path: Path, **kwargs: Any) -> list[Problem]:
    with pytest.raises(PackRefused) as caught:
        read_pack(path, **kwargs)
    assert caught.value.problems, "a refusal names its problems"
    return list(caught.value.problems)


def has(problems: list[Problem], text: str, file: str | None = None,
        path: str | None = None) -> bool:
    return any(text in p.message and (file is None or p.file == file)
               and (path is None or p.path == path) for p in problems)


def schema_errors(data: object) -> list[str]:
    validator = jsonschema.Draft202012Validator(
        pack_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(data)]


# --- a valid pack ---------------------------------------------------------------------------


def test_a_valid_folder_pack_is_read_whole(tmp_path):
    pack = read_pack(write_pack(tmp_path / "pack"), indicator_codes=INDICATORS)
    assert (pack.id, pack.version, pack.as_of.isoformat()) == (
        "vn.test.ky-nang-thu", "2026.12.1", "2026-12-01")
    assert pack.languages == ("vi", "en")
    assert pack.title.get("en") == "A test course" and pack.title.get("vi") == "Khóa học thử"
    assert pack.title.get("fr") == "Khóa học thử"  # falls back to Vietnamese
    first, second = pack.lessons
    assert first.indicator == "smartphone" and second.indicator is None
    assert first.content.get("vi").startswith("# Điện thoại an toàn")
    assert first.content_files.get("en") == "lessons/01-dien-thoai.en.md"
    assert first.images == ("images/khoa.png", "images/qr.jpg")
    assert second.images == ("images/ảnh qr.png",)
    assert [q.type for q in first.quiz] == ["single", "multiple", "true_false"]
    assert first.quiz[0].answer == frozenset({"b"}) and first.quiz[2].answer is True
    assert first.quiz[1].explanation is None
    assert first.objectives.get("en") == ("Objective one", "Objective two")
    images = {f.path: f for f in pack.files if f.kind == "image"}
    assert (images["images/qr.jpg"].width, images["images/qr.jpg"].height) == (640, 480)
    assert (images["images/khoa.png"].width, images["images/khoa.png"].height) == (40, 30)
    assert pack.read_file("images/khoa.png") == png(40, 30)
    assert pack.licence_text is not None and "CC BY" in pack.licence_text
    assert json.loads(pack.manifest) == manifest()


def test_the_valid_manifest_passes_the_json_schema():
    assert schema_errors(manifest()) == []


def shipped_packs() -> list[Path]:
    if not COURSES.is_dir():
        return []
    return sorted(p for p in COURSES.iterdir() if (p / "course.json").is_file())


@pytest.mark.parametrize("which", ["synthetic", *(p.name for p in shipped_packs())])
def test_every_shipped_pack_reads_and_passes_the_schema(which, tmp_path):
    """The course dxkit ships (resources/courses/<id>/) and the synthetic pack: read without a
    problem against the households catalogue's indicators, and valid under the schema."""
    folder = write_pack(tmp_path / "pack") if which == "synthetic" else COURSES / which
    pack = read_pack(folder, indicator_codes=INDICATORS)
    assert pack.id == json.loads((folder / "course.json").read_text("utf-8"))["id"]
    assert schema_errors(json.loads((folder / "course.json").read_text("utf-8"))) == []
    zipped = read_pack(zip_folder(folder, tmp_path / "pack.zip"), indicator_codes=INDICATORS)
    assert zipped.digest == pack.digest


def test_a_zip_reads_like_its_folder_with_or_without_a_top_folder(tmp_path):
    folder = write_pack(tmp_path / "pack")
    digest = read_pack(folder).digest
    assert read_pack(zip_folder(folder, tmp_path / "flat.zip")).digest == digest
    nested = zip_folder(folder, tmp_path / "nested.zip", prefix="khoa-hoc/",
                        extra={"__MACOSX/khoa-hoc/._course.json": b"junk"})
    assert read_pack(nested).digest == digest


def test_the_digest_follows_content_not_layout(tmp_path):
    folder = write_pack(tmp_path / "a")
    spaced = write_pack(tmp_path / "b", raw_manifest=json.dumps(manifest(), indent=8).encode())
    assert read_pack(folder).digest == read_pack(spaced).digest
    changed = write_pack(tmp_path / "c", changes={"images/khoa.png": png(41, 30)})
    assert read_pack(changed).digest != read_pack(folder).digest


def test_a_file_changed_after_reading_is_refused_when_read_again(tmp_path):
    folder = write_pack(tmp_path / "pack")
    pack = read_pack(folder)
    (folder / "images" / "khoa.png").write_bytes(png(40, 31))
    with pytest.raises(PackRefused) as caught:
        pack.read_file("images/khoa.png")
    assert "changed" in caught.value.problems[0].message


def test_a_byte_order_mark_and_windows_line_ends_are_accepted(tmp_path):
    text = json.dumps(manifest(), ensure_ascii=False).encode("utf-8")
    folder = write_pack(tmp_path / "pack", raw_manifest=b"\xef\xbb\xbf" + text, changes={
        "lessons/02-thanh-toan.vi.md": "\ufeff# Bài 2\r\n\r\nNội dung\r\n".encode()})
    assert read_pack(folder).lessons[1].content.get("vi") == "# Bài 2\n\nNội dung\n"


# --- the rules learners are measured by -----------------------------------------------------


def test_quiz_rules_and_completion_have_their_documented_meaning(tmp_path):
    pass_mark = QuizRule("pass_mark", share=0.8)
    assert pass_mark.passed(asked=5, right=4, quiz_size=5)
    assert not pass_mark.passed(asked=5, right=3, quiz_size=5)
    assert not pass_mark.passed(asked=4, right=4, quiz_size=5)  # every item must be asked
    assert QuizRule("pass_mark", share=0.7).passed(asked=10, right=7, quiz_size=10)
    m_of_n = QuizRule("m_of_n", m=4, n=5)
    assert m_of_n.passed(asked=5, right=4, quiz_size=10)
    assert not m_of_n.passed(asked=4, right=4, quiz_size=10)
    assert not QuizRule("all").passed(asked=3, right=2, quiz_size=3)
    assert QuizRule("all").passed(asked=3, right=3, quiz_size=3)
    rule = CompletionRule("all", 0.75)
    assert rule.met(mastered=8, lessons=8, attended=6, sessions=8)
    assert not rule.met(mastered=8, lessons=8, attended=5, sessions=8)
    assert not rule.met(mastered=7, lessons=8, attended=8, sessions=8)
    assert CompletionRule(6, 0.5).met(mastered=6, lessons=8, attended=4, sessions=8)
    first = read_pack(write_pack(tmp_path / "pack")).lessons[0]
    assert first.skills_met({"ky-nang-1", "ky-nang-2", "khac"})
    assert not first.skills_met({"ky-nang-1", "khac"})
    assert first.attempt_passes(asked=3, right=3) and not first.attempt_passes(3, 2)


# --- course.json refused ---------------------------------------------------------------------


def test_missing_fields_wrong_types_and_unknown_fields_are_each_named(tmp_path):
    data = manifest()
    del data["licence"]
    data["lessons"][0]["minutes"] = "90"
    data["lessons"][1]["minuts"] = 90
    data["completion"]["attendance_share"] = True
    data["lessons"][0]["title"] = {"vi": "Bài 1"}  # the pack lists en too
    data["lessons"][0]["skills"][0]["text"]["fr"] = "Fait"
    problems = refused(write_pack(tmp_path / "pack", data))
    assert has(problems, "required", "course.json", "licence")
    assert has(problems, "whole number", "course.json", "lessons[0].minutes")
    assert has(problems, "not part of the format", "course.json", "lessons[1].minuts")
    assert has(problems, "a number", "course.json", "completion.attendance_share")
    assert has(problems, "missing", "course.json", "lessons[0].title.en")
    assert has(problems, "not one of the pack's languages", path="lessons[0].skills[0].text.fr")
    assert len(problems) == 6


def test_bad_identifiers_dates_and_formats_are_refused(tmp_path):
    data = manifest()
    data.update(format="dxkit-course-pack/2", id="Khoa Hoc", version="1 0", as_of="2026-02-30")
    data["languages"] = ["en", "en"]
    problems = refused(write_pack(tmp_path / "pack", data))
    for path in ("format", "id", "version", "as_of"):
        assert has(problems, "", path=path), path
    assert has(problems, "listed twice", path="languages[1]")
    assert has(problems, "must include vi", path="languages")


def test_duplicate_ids_and_json_keys_are_refused(tmp_path):
    data = manifest()
    data["lessons"][1]["id"] = "dien-thoai"
    data["lessons"][0]["skills"][1]["id"] = "ky-nang-1"
    data["lessons"][0]["quiz"][1]["choices"][2]["id"] = "a"
    data["lessons"][0]["quiz"][2]["id"] = "q1"
    problems = refused(write_pack(tmp_path / "a", data))
    assert has(problems, "used twice", path="lessons[1].id")
    assert has(problems, "used twice", path="lessons[0].skills[1].id")
    assert has(problems, "used twice", path="lessons[0].quiz[1].choices[2].id")
    assert has(problems, "used twice", path="lessons[0].quiz[2].id")
    text = json.dumps(manifest()).replace('"licence": "CC BY 4.0"',
                                          '"licence": "CC BY 4.0", "licence": "MIT"')
    problems = refused(write_pack(tmp_path / "b", raw_manifest=text.encode()))
    assert has(problems, "given twice", path="licence")


def test_answers_must_name_choices_and_fit_the_question_type(tmp_path):
    data = manifest()
    quiz = data["lessons"][0]["quiz"]
    quiz[0]["answer"] = ["z"]
    quiz[1]["answer"] = ["a", "b", "c"]  # every choice right: nothing to tell apart
    quiz[2]["answer"] = "yes"
    quiz[2]["choices"] = quiz[0]["choices"]
    problems = refused(write_pack(tmp_path / "pack", data))
    assert has(problems, "“z”, which is not one of the choices", path="lessons[0].quiz[0].answer")
    assert has(problems, "at least one wrong one", path="lessons[0].quiz[1].answer")
    assert has(problems, "true or false", path="lessons[0].quiz[2].answer")
    assert has(problems, "no choices", path="lessons[0].quiz[2].choices")


def test_impossible_mastery_and_completion_rules_are_refused(tmp_path):
    data = manifest()
    data["lessons"][0]["mastery"] = {"skills": 3, "quiz": {"rule": "m_of_n", "m": 4, "n": 5}}
    data["lessons"][1]["mastery"] = {"skills": "all", "quiz": {"rule": "all"}}
    data["completion"]["lessons_mastered"] = 3
    problems = refused(write_pack(tmp_path / "a", data))
    assert has(problems, "from 1 to 2", path="lessons[0].mastery.skills")
    assert has(problems, "which has 3 questions", path="lessons[0].mastery.quiz.n")
    assert has(problems, "has no quiz", path="lessons[1].mastery.quiz")
    assert has(problems, "from 1 to 2", path="completion.lessons_mastered")
    data = manifest()
    data["lessons"][0]["mastery"]["quiz"] = {"rule": "m_of_n", "m": 3, "n": 2}
    assert has(refused(write_pack(tmp_path / "b", data)), "m cannot be more than n",
               path="lessons[0].mastery.quiz.m")
    data = manifest()
    del data["lessons"][0]["mastery"]["quiz"]
    data["lessons"][1]["mastery"]["quiz"] = {"rule": "pass_mark", "share": 0}
    problems = refused(write_pack(tmp_path / "c", data))
    assert has(problems, "say how an attempt passes", path="lessons[0].mastery.quiz")


def test_indicator_codes_are_checked_against_the_ones_given(tmp_path):
    data = manifest()
    data["lessons"][1]["indicator"] = "facebook_account"
    folder = write_pack(tmp_path / "pack", data)
    assert has(refused(folder, indicator_codes=INDICATORS), "not a household indicator",
               path="lessons[1].indicator")
    assert read_pack(folder).lessons[1].indicator == "facebook_account"  # no catalogue given
    data["lessons"][1]["indicator"] = "Facebook!"
    assert has(refused(write_pack(tmp_path / "b", data)), "indicator code",
               path="lessons[1].indicator")


def test_html_in_manifest_text_is_refused(tmp_path):
    data = manifest()
    data["title"]["vi"] = "Khóa <b>đậm</b>"
    data["lessons"][0]["quiz"][0]["prompt"]["en"] = "Click <a href='x'>here</a>"
    problems = refused(write_pack(tmp_path / "pack", data))
    assert has(problems, "HTML", path="title.vi")
    assert has(problems, "HTML", path="lessons[0].quiz[0].prompt.en")


def test_a_manifest_that_is_not_json_or_too_large_is_refused(tmp_path):
    problems = refused(write_pack(tmp_path / "a", raw_manifest=b'{"format": "x",\n "id": }'))
    assert problems == [Problem("course.json", "This is not valid JSON (line 2, column 8).")]
    problems = refused(write_pack(tmp_path / "b", raw_manifest=b'{"minutes": NaN}'))
    assert has(problems, "not valid JSON", "course.json")
    big = json.dumps(manifest()).encode() + b" " * pack_files.MAX_MANIFEST_BYTES
    assert has(refused(write_pack(tmp_path / "c", raw_manifest=big)), "larger than",
               "course.json")
    (tmp_path / "d").mkdir()
    assert has(refused(tmp_path / "d"), "no course.json")
    (tmp_path / "e.txt").write_text("x")
    assert has(refused(tmp_path / "e.txt"), "a folder or a .zip")


@pytest.mark.parametrize("change", [
    {"minutes": 5}, {"id": "X"}, {"quiz": [{"id": "q", "type": "essay", "prompt": {"vi": "a"},
                                          "answer": []}]},
    {"mastery": {"skills": "all", "quiz": {"rule": "m_of_n", "m": 1}}},
    {"title": {"vi": "<script>alert(1)</script>", "en": "x"}},
    {"content": {"vi": "../course.json", "en": "lessons/x.en.md"}},
    {"objectives": {"vi": ["một"], "en": ["one", "two"]}},
])
def test_the_schema_and_the_reader_refuse_the_same_lesson_faults(change, tmp_path):
    data = manifest()
    data["lessons"][1].update(change)
    assert schema_errors(data)
    assert any(p.path.startswith("lessons[1]") for p in refused(write_pack(tmp_path / "p", data)))


# --- Markdown refused ------------------------------------------------------------------------


@pytest.mark.parametrize("markdown", [
    "Chào <script>alert(1)</script>",
    'Ảnh <img src="x.png" onerror="alert(1)">',
    "<!-- ghi chú -->",
    "<div>\nkhối\n</div>",
    "chữ `<iframe src=x>`",
])
def test_raw_html_in_markdown_is_refused_with_its_line(markdown, tmp_path):
    folder = write_pack(tmp_path / "pack", changes={
        "lessons/02-thanh-toan.vi.md": f"# Bài 2\n\n{markdown}\n".encode()})
    problems = refused(folder)
    assert problems and all(p.file == "lessons/02-thanh-toan.vi.md" for p in problems)
    assert problems[0].line == 3 and "HTML" in problems[0].message


@pytest.mark.parametrize(("link", "scheme"), [
    ("[bấm](javascript:alert(1))", "javascript"),
    ("[bấm](JaVaScRiPt:alert(1))", "javascript"),
    ("[bấm](java&#x09;script:alert(1))", "javascript"),
    ("[bấm](java\\&#x3A;script) [x](&#106;avascript&colon;alert(1))", "javascript"),
    ("<javascript:alert(1)>", "javascript"),
    ("[x](data:text/html;base64,PHNjcmlwdD4=)", "data"),
    ("[x](file:///etc/passwd)", "file"),
    ("[x][r]\n\n[r]: vbscript:msgbox", "vbscript"),
    ("> [x][r]\n>\n> [r]: javascript:alert(1)", "javascript"),
    ("- [x][r]\n- [r]:\n  <data:text/html,x>", "data"),
    ("Bước [1]: javascript:alert(1) [x][1]", "javascript"),
    ("[a [b](javascript:x) c](https://vneid.gov.vn)", "javascript"),
    ("[x]( \n javascript:alert(1) \"tiêu đề\")", "javascript"),
    ("[x](<ftp://example.vn/a b>)", "ftp"),
])
def test_dangerous_links_are_refused(link, scheme, tmp_path):
    folder = write_pack(tmp_path / "pack", changes={
        "lessons/02-thanh-toan.en.md": f"# Lesson 2\n\n{link}\n".encode()})
    problems = refused(folder)
    assert has(problems, f"“{scheme}:”", "lessons/02-thanh-toan.en.md")


@pytest.mark.parametrize(("image", "reason"), [
    ("../../secret.png", "outside the pack"),
    ("../../../etc/x.png", "outside the pack"),
    ("/etc/x.png", "outside the pack"),
    ("C:/Windows/x.png", "outside the pack"),
    ("..\\images\\khoa.png", "backslash"),
    ("..%2F..%2Fsecret.png", "outside the pack"),
    ("https://example.vn/x.png", "not a web address"),
    ("../images/khong-co.png", "not in the pack"),
    ("../LICENSE.txt", ".png, .jpg or .jpeg"),
])
def test_images_must_be_files_inside_the_pack(image, reason, tmp_path):
    folder = write_pack(tmp_path / "pack", changes={
        "lessons/02-thanh-toan.vi.md": f"# Bài 2\n\n![ảnh]({image})\n".encode()})
    assert has(refused(folder), reason, "lessons/02-thanh-toan.vi.md")


def test_a_relative_link_must_name_a_lesson_or_image_of_the_pack(tmp_path):
    folder = write_pack(tmp_path / "pack", changes={
        "lessons/02-thanh-toan.vi.md": b"# B\n\n[x](../course.json) [y](03-khong-co.vi.md)\n"})
    problems = refused(folder)
    assert len(problems) == 2 and has(problems, "must name an image or a lesson")


def test_text_that_is_not_utf8_is_refused_with_its_line(tmp_path):
    folder = write_pack(tmp_path / "pack", changes={
        "lessons/02-thanh-toan.vi.md": "# Bài 2\n\nCà phê\n".encode("cp1258")})
    assert refused(folder) == [Problem("lessons/02-thanh-toan.vi.md",
                                       "The file is not UTF-8 text.", line=1)]


def test_missing_lesson_files_are_refused(tmp_path):
    folder = write_pack(tmp_path / "pack", changes={"lessons/01-dien-thoai.en.md": None})
    assert has(refused(folder), "“lessons/01-dien-thoai.en.md” is not in the pack",
               "course.json", "lessons[0].content.en")
    data = manifest()
    data["lessons"][0]["content"]["vi"] = "../ngoai.md"
    assert has(refused(write_pack(tmp_path / "b", data)), "outside the pack",
               path="lessons[0].content.vi")


# --- images refused --------------------------------------------------------------------------


def test_a_fake_png_is_refused(tmp_path):
    folder = write_pack(tmp_path / "pack", changes={
        "images/khoa.png": b"<svg onload=alert(1)></svg>"})
    assert refused(folder) == [Problem("images/khoa.png", "This file is not a real PNG or JPEG "
                                                          "image: its first bytes say otherwise.")]


def test_an_image_named_for_another_kind_is_refused(tmp_path):
    folder = write_pack(tmp_path / "pack", changes={"images/khoa.png": jpeg()})
    assert has(refused(folder), "JPEG image but its name ends in “.png”", "images/khoa.png")


def test_an_image_whose_header_claims_huge_dimensions_is_refused(tmp_path):
    folder = write_pack(tmp_path / "pack", changes={
        "images/khoa.png": png_header_only(4001, 200), "images/qr.jpg": jpeg(300, 60000)})
    problems = refused(folder)
    assert has(problems, "at most 4000×4000 px; this one is 4001×200 px", "images/khoa.png")
    assert has(problems, "this one is 300×60000 px", "images/qr.jpg")
    # The size is read from the header, wherever a JPEG's frame header is.
    folder = write_pack(tmp_path / "b", changes={"images/qr.jpg": jpeg(800, 600, exif=200_000)})
    qr = next(f for f in read_pack(folder).files if f.path == "images/qr.jpg")
    assert (qr.width, qr.height) == (800, 600)


def test_a_damaged_image_header_is_refused(tmp_path):
    damaged = bytearray(png(40, 30))
    damaged[20] ^= 0xFF  # the height, under the header's CRC
    folder = write_pack(tmp_path / "pack", changes={"images/khoa.png": bytes(damaged),
                                                    "images/qr.jpg": b"\xff\xd8\xff\xd9"})
    problems = refused(folder)
    assert has(problems, "cannot be read from its header", "images/khoa.png")
    assert has(problems, "cannot be read from its header", "images/qr.jpg")


def test_an_image_over_the_size_cap_is_refused(tmp_path):
    width = 1000
    noise = os.urandom((width * 3 + 1) * 800)
    big = png(width, 800, noise)
    assert len(big) > pack_files.MAX_IMAGE_BYTES
    folder = write_pack(tmp_path / "pack", changes={"images/khoa.png": big})
    assert has(refused(folder), "at most 2.0 MB", "images/khoa.png")
    assert has(refused(zip_folder(folder, tmp_path / "p.zip")), "at most 2.0 MB",
               "images/khoa.png")


# --- folders and zips refused ----------------------------------------------------------------


def test_symbolic_links_in_a_folder_pack_are_refused(tmp_path):
    outside = tmp_path / "secret.png"
    outside.write_bytes(png())
    folder = write_pack(tmp_path / "pack", changes={"images/khoa.png": None})
    try:
        os.symlink(outside, folder / "images" / "khoa.png")
        os.symlink(tmp_path, folder / "tren")
    except (OSError, NotImplementedError):
        pytest.skip("this system makes no symbolic links")
    problems = refused(folder)
    assert has(problems, "symbolic link", "images/khoa.png")
    assert has(problems, "symbolic link", "tren")
    assert not has(problems, "not in the pack")  # reported once, as the link it is


@pytest.mark.parametrize(("name", "reason"), [
    ("../x.txt", "outside the pack"),
    ("lessons/../../x.txt", "outside the pack"),
    ("/etc/cron.d/x", "outside the pack"),
    ("C:/Windows/x.dll", "outside the pack"),
    ("images\\..\\..\\x.png", "backslash"),
    ("images/x.png:stream", "may not hold"),
    ("images/x.png.", "ends with a dot"),
])
def test_zip_entries_with_unsafe_names_are_refused(name, reason, tmp_path):
    archive = zip_folder(write_pack(tmp_path / "pack"), tmp_path / "p.zip", extra={name: b"x"})
    assert has(refused(archive), reason, name)


def test_zip_entries_whose_names_differ_only_in_case_are_refused(tmp_path):
    archive = zip_folder(write_pack(tmp_path / "pack"), tmp_path / "p.zip",
                         extra={"images/KHOA.png": png()})
    assert has(refused(archive), "same name", "images/KHOA.png")


def test_a_symbolic_link_stored_in_a_zip_is_refused(tmp_path):
    archive = zip_folder(write_pack(tmp_path / "pack", changes={"images/khoa.png": None}),
                         tmp_path / "p.zip")
    with zipfile.ZipFile(archive, "a") as zipped:
        link = zipfile.ZipInfo("images/khoa.png")
        link.external_attr = (0o120777 << 16)
        zipped.writestr(link, "/etc/passwd")
    problems = refused(archive)
    assert has(problems, "symbolic link", "images/khoa.png")


def test_a_zip_bomb_is_refused_from_its_directory_without_inflating_it(tmp_path):
    folder = write_pack(tmp_path / "pack")
    archive = tmp_path / "bomb.zip"
    zip_folder(folder, archive)
    with zipfile.ZipFile(archive, "a", zipfile.ZIP_DEFLATED) as zipped:
        with zipped.open("images/bomb.png", "w", force_zip64=False) as member:
            for _ in range(200):
                member.write(b"\x00" * MiB)  # 200 MiB of zeros: about 200 KB compressed
        zipped.writestr("images/ratio.png", b"\x00" * (MiB + 1), zipfile.ZIP_DEFLATED)
    assert archive.stat().st_size < 2 * MiB
    tracemalloc.start()
    try:
        problems = refused(archive)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert has(problems, "at most 2.0 MB; this one is 200.0 MB", "images/bomb.png")
    assert has(problems, "possible zip bomb", "images/ratio.png")
    assert has(problems, "add up to more than 128.0 MB")
    assert peak < 8 * MiB


def test_a_zip_whose_directory_understates_a_member_is_refused_while_reading(tmp_path):
    """Headers lie: the directory says 600 bytes, the member inflates to 50 MiB. Reading
    stops at what the directory says; memory stays small."""
    folder = write_pack(tmp_path / "pack", changes={
        "lessons/02-thanh-toan.vi.md": b"# B\n\n" + b"a" * (50 * MiB)})
    archive = zip_folder(folder, tmp_path / "lie.zip")
    data = bytearray(archive.read_bytes())
    name = b"lessons/02-thanh-toan.vi.md"
    (directory,) = struct.unpack("<I", data[-6:-2])  # the directory's offset, in the end record
    at = directory
    while True:  # the directory entry of that member
        assert data[at:at + 4] == b"PK\x01\x02"
        name_length, extra, comment = struct.unpack("<HHH", data[at + 28:at + 34])
        if data[at + 46:at + 46 + name_length] == name:
            break
        at += 46 + name_length + extra + comment
    data[at + 24:at + 28] = struct.pack("<I", 600)  # uncompressed size
    archive.write_bytes(bytes(data))
    tracemalloc.start()
    try:
        problems = refused(archive)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert has(problems, "", "lessons/02-thanh-toan.vi.md")
    assert peak < 8 * MiB


def test_the_entry_count_and_total_size_caps_hold(tmp_path, monkeypatch):
    folder = write_pack(tmp_path / "pack")
    monkeypatch.setattr(pack_files, "MAX_FILES", 5)
    assert has(refused(zip_folder(folder, tmp_path / "p.zip")), "at most 5 files")
    assert has(refused(folder), "at most 5 files")
    monkeypatch.setattr(pack_files, "MAX_FILES", 1000)
    monkeypatch.setattr(pack_files, "MAX_PACK_BYTES", 2000)
    assert has(refused(folder), "add up to more than")


def test_a_file_that_is_not_a_zip_is_refused(tmp_path):
    fake = tmp_path / "pack.zip"
    fake.write_bytes(b"PK\x03\x04 not really")
    assert refused(fake) == [Problem("", "This is not a readable .zip file.")]


# --- every problem -----------------------------------------------------------------------------


def test_every_problem_is_listed_not_just_the_first(tmp_path):
    data = manifest()
    del data["summary"]
    folder = write_pack(tmp_path / "pack", data, changes={
        "images/qr.jpg": b"GIF89a not a jpeg",
        "lessons/02-thanh-toan.en.md": b"# B\n\n<script>alert(1)</script>\n"})
    problems = refused(zip_folder(folder, tmp_path / "p.zip"))
    assert sorted((p.file, p.path, p.line or 0) for p in problems) == [
        ("course.json", "summary", 0),
        ("images/qr.jpg", "", 0),
        ("lessons/02-thanh-toan.en.md", "", 3)]


def test_a_refusal_speaks_vietnamese(tmp_path):
    data = manifest()
    data["lessons"].append(lesson("ba", 3))
    set_language("vi")
    with pytest.raises(PackRefused) as caught:
        read_pack(write_pack(tmp_path / "pack", data))
    text = str(caught.value)
    assert text.startswith("Gói khóa học bị từ chối: 2 lỗi.")
    assert "không có trong gói" in text
