"""Course packs: the open format trainers and provinces write (docs/course-pack.md), read and
checked before anything is kept.

`read_pack` takes a folder or a .zip and returns a `CoursePack` only when nothing is wrong;
otherwise it raises `PackRefused` listing every problem it found (file, place, one sentence).
Memory stays bounded whatever the pack holds: every read stops at a cap (pack_files.py).
Indicator codes come from the caller, so this module needs no households catalogue.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import posixpath
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import unquote

from dxkit.core import i18n
from dxkit.core.errors import DxError
from dxkit.core.i18n import _, counted, format_number, ngettext
from dxkit.core.resources import shipped
from dxkit.core.text import nfc
from dxkit.lessons import pack_files, pack_markdown
from dxkit.lessons.pack_files import (
    MAX_IMAGE_BYTES,
    MAX_IMAGE_SIDE,
    MAX_MANIFEST_BYTES,
    MAX_TEXT_FILE_BYTES,
    FolderSource,
    Source,
    ZipSource,
    name_problem,
)

FORMAT = "dxkit-course-pack/1"
MANIFEST = "course.json"
LICENCE_FILE = "LICENSE.txt"
SCHEMA_FILE = "course-pack.schema.json"

ID_PATTERN = r"[a-z0-9][a-z0-9.-]{2,79}"
VERSION_PATTERN = r"[0-9A-Za-z.-]{1,40}"
LESSON_ID_PATTERN = r"[a-z0-9][a-z0-9-]{1,59}"
ITEM_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,59}"  # skills, quiz items, choices
LANGUAGE_PATTERN = r"[a-z]{2,3}"
INDICATOR_PATTERN = r"[a-z][a-z0-9_]{1,39}"  # households.catalog.CODE_PATTERN
DATE_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"

MAX_LESSONS = 100
MAX_SKILLS = 12
MAX_QUIZ = 30
MAX_AUTHORS = 50
MIN_OBJECTIVES, MAX_OBJECTIVES = 2, 8
MIN_CHOICES, MAX_CHOICES = 2, 6
MIN_MINUTES, MAX_MINUTES = 10, 600
# Characters, in one language.
TITLE_LENGTH = 200
SUMMARY_LENGTH = 3000
LINE_LENGTH = 500  # an objective, a skill, a choice, an author, the licence
PROMPT_LENGTH = 1000
EXPLANATION_LENGTH = 2000
MAX_PROBLEMS = 500  # listed; a pack with more is refused with the first ones

LINK_SCHEMES = frozenset({"https", "http", "mailto", "tel"})
IMAGE_SUFFIXES = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}

QuizType = Literal["single", "multiple", "true_false"]
QUIZ_TYPES: tuple[QuizType, ...] = ("single", "multiple", "true_false")
QUIZ_RULES = ("pass_mark", "m_of_n", "all")

_HTML_IN_TEXT = re.compile(r"<(?:/?[A-Za-z]|[!?])[^\s<>]{0,30}")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


# --- problems ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One reason a pack is refused: the file inside the pack ("" for the pack itself), the
    place in it (a JSON path such as lessons[3].quiz[2].answer, counted from 0, or a line of
    a Markdown file) and one sentence in the reader's language."""

    file: str
    message: str
    path: str = ""
    line: int | None = None

    def __str__(self) -> str:
        if self.line is not None:
            return _("{file}, line {line}: {message}").format(
                file=self.file, line=format_number(self.line), message=self.message)
        where = ": ".join(part for part in (self.file, self.path) if part)
        return f"{where}: {self.message}" if where else self.message


class PackRefused(DxError):
    """The pack was not read: `problems` lists everything wrong with it. Nothing was kept."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = tuple(problems)
        heading = counted(len(self.problems), "The course pack is refused: {count} problem.",
                          "The course pack is refused: {count} problems.")
        super().__init__("\n".join([heading, *(str(p) for p in self.problems)]))


class _Problems:
    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, file: str, message: str, path: str = "", line: int | None = None) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(Problem(file, message, path, line))
        elif len(self.items) == MAX_PROBLEMS:
            self.items.append(Problem("", _("There are more problems; fix these first.")))


# --- the pack ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A text in each language of the pack; `get` falls back to Vietnamese."""

    values: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, values: Mapping[str, str]) -> Text:
        return cls(tuple(sorted(values.items())))

    def get(self, language: str | None = None) -> str:
        found = dict(self.values)
        return found.get(language or i18n.language()) or found["vi"]

    def as_dict(self) -> dict[str, str]:
        return dict(self.values)


@dataclass(frozen=True)
class TextList:
    """A list of texts in each language (a lesson's objectives); `get` falls back to vi."""

    values: tuple[tuple[str, tuple[str, ...]], ...]

    def get(self, language: str | None = None) -> tuple[str, ...]:
        found = dict(self.values)
        return found.get(language or i18n.language()) or found["vi"]


@dataclass(frozen=True)
class Choice:
    id: str
    text: Text


@dataclass(frozen=True)
class QuizItem:
    """A question. `answer` is the set of right choice ids, or True/False for true_false."""

    id: str
    type: QuizType
    prompt: Text
    choices: tuple[Choice, ...]
    answer: frozenset[str] | bool
    explanation: Text | None

    def is_right(self, response: Collection[str] | bool) -> bool:
        """A learner's response is right when it is exactly the answer."""
        if isinstance(self.answer, bool) or isinstance(response, bool):
            return response is self.answer
        return frozenset(response) == self.answer


@dataclass(frozen=True)
class Skill:
    id: str
    text: Text


@dataclass(frozen=True)
class QuizRule:
    """How one quiz attempt passes: pass_mark (every item asked, right/asked >= share),
    m_of_n (at least n items asked, at least m right) or all (every item asked and right)."""

    rule: Literal["pass_mark", "m_of_n", "all"]
    share: float | None = None
    m: int | None = None
    n: int | None = None

    def passed(self, asked: int, right: int, quiz_size: int) -> bool:
        if asked <= 0 or right < 0 or right > asked:
            return False
        if self.rule == "m_of_n":
            assert self.m is not None and self.n is not None
            return asked >= self.n and right >= self.m
        if asked < quiz_size:
            return False
        if self.rule == "all":
            return right == asked
        assert self.share is not None
        return Fraction(right, asked) >= Fraction(repr(self.share))


@dataclass(frozen=True)
class MasteryRule:
    """A lesson is mastered when its skills part holds ("all" of its skills shown, or at
    least k distinct ones) and, for a lesson with a quiz, one attempt passes `quiz`."""

    skills: Literal["all"] | int
    quiz: QuizRule | None


@dataclass(frozen=True)
class CompletionRule:
    """A learner completes the course with `lessons_mastered` lessons mastered ("all" or at
    least k) and at least `attendance_share` of the class's sessions attended."""

    lessons_mastered: Literal["all"] | int
    attendance_share: float

    def met(self, mastered: int, lessons: int, attended: int, sessions: int) -> bool:
        needed = lessons if self.lessons_mastered == "all" else self.lessons_mastered
        if mastered < needed:
            return False
        share = Fraction(attended, sessions) if sessions else Fraction(0)
        return share >= Fraction(repr(self.attendance_share))


@dataclass(frozen=True)
class Lesson:
    id: str
    title: Text
    minutes: int
    objectives: TextList
    content: Text  # the lesson's Markdown in each language (NFC, "\n" line ends)
    content_files: Text  # where that Markdown is in the pack
    indicator: str | None
    skills: tuple[Skill, ...]
    quiz: tuple[QuizItem, ...]
    mastery: MasteryRule
    images: tuple[str, ...]  # the images its Markdown shows (paths inside the pack)

    def skills_met(self, shown: Collection[str]) -> bool:
        """The skills part of mastery: distinct skills of this lesson shown."""
        count = len({skill.id for skill in self.skills} & set(shown))
        needed = len(self.skills) if self.mastery.skills == "all" else self.mastery.skills
        return count >= needed

    def attempt_passes(self, asked: int, right: int) -> bool:
        """The quiz part of mastery for one attempt (always true without a quiz)."""
        if self.mastery.quiz is None:
            return True
        return self.mastery.quiz.passed(asked, right, len(self.quiz))


@dataclass(frozen=True)
class PackFile:
    """A file the pack keeps besides course.json: Markdown, an image or the licence."""

    path: str
    size: int
    sha256: str
    kind: Literal["markdown", "image", "licence"]
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class CoursePack:
    """A checked pack. `manifest` is course.json in canonical form (sorted keys, no spaces);
    `digest` the sha256 of that and of every kept file, the same for a folder and its zip:
    two packs with one (id, version) and different digests are different content."""

    id: str
    version: str
    as_of: dt.date
    title: Text
    summary: Text
    licence: str
    authors: tuple[str, ...]
    languages: tuple[str, ...]
    completion: CompletionRule
    lessons: tuple[Lesson, ...]
    files: tuple[PackFile, ...]
    licence_text: str | None
    manifest: str
    digest: str
    source: Path = field(compare=False)
    format: str = FORMAT

    def lesson(self, lesson_id: str) -> Lesson:
        for lesson in self.lessons:
            if lesson.id == lesson_id:
                return lesson
        raise KeyError(lesson_id)

    def read_file(self, path: str) -> bytes:
        """A kept file's bytes (an image, to store it), read again from the source and
        checked against the digest taken when the pack was read."""
        wanted = next((f for f in self.files if f.path == path), None)
        if wanted is None:
            raise KeyError(path)
        problems = _Problems()
        source = _open_source(self.source, problems)
        data = None
        if source is not None:
            try:
                if wanted.path in source.files:
                    data = source.read(wanted.path, wanted.size)
            finally:
                source.close()
        if data is None or hashlib.sha256(data).hexdigest() != wanted.sha256:
            raise PackRefused([Problem(path, _("The pack changed after it was checked; "
                                               "import it again."))])
        return data


def pack_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of course.json shipped with dxkit."""
    text = shipped(SCHEMA_FILE, package="dxkit.lessons").read_text(encoding="utf-8")
    return cast(dict[str, Any], json.loads(text))


def read_pack(path: Path, indicator_codes: Collection[str] | None = None) -> CoursePack:
    """The pack in the folder or .zip at `path`, checked in full; PackRefused lists every
    problem. `indicator_codes`: the household indicator codes a lesson may name (None: any
    code written like one)."""
    problems = _Problems()
    source = _open_source(path, problems)
    pack = None
    if source is not None:
        try:
            pack = _Reader(path, source, problems, indicator_codes).read()
        finally:
            source.close()
    if problems.items or pack is None:
        raise PackRefused(problems.items)
    return pack


def _open_source(path: Path, problems: _Problems) -> Source | None:
    def report(file: str, message: str) -> None:
        problems.add(file, message)

    if path.is_dir():
        return FolderSource(path, report)
    if path.is_file() and path.suffix.lower() == ".zip":
        source = ZipSource(path, report)
        if source.archive is None:  # not a zip dxkit reads: reported
            return None
        return source
    problems.add("", _("No course pack here: a pack is a folder or a .zip file."))
    return None


# --- reading -------------------------------------------------------------------------------


class _Object(dict[str, Any]):
    """A JSON object that remembers the keys given twice (json keeps the last silently)."""

    twice: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    result = _Object(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        twice: list[str] = []
        for key, _value in pairs:
            if key in seen:
                twice.append(key)
            seen.add(key)
        result.twice = tuple(twice)
    return result


def _no_constant(name: str) -> None:
    raise ValueError(name)


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class _Reader:
    def __init__(self, path: Path, source: Source, problems: _Problems,
                 indicator_codes: Collection[str] | None) -> None:
        self.path = path
        self.source = source
        self.problems = problems
        self.indicators = None if indicator_codes is None else frozenset(indicator_codes)
        self.languages: tuple[str, ...] = ("vi",)
        self.kept: dict[str, PackFile] = {}
        self.markdown: dict[str, str | None] = {}
        self.images: dict[str, PackFile | None] = {}
        self.images_of: dict[str, list[str]] = {}  # Markdown file -> the images it shows
        self.links: list[tuple[str, int, str, str]] = []  # (file, line, target, resolved)

    # -- problems and shapes --

    def bad(self, path: str, message: str) -> None:
        self.problems.add(MANIFEST, message, path)

    def obj(self, value: object, path: str, required: Iterable[str],
            optional: Iterable[str] = ()) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.bad(path, _("Must be an object (named fields in braces)."))
            return None
        for key in getattr(value, "twice", ()):
            self.bad(_join(path, key), _("This field is given twice."))
        required, optional = tuple(required), tuple(optional)
        for key in required:
            if key not in value:
                self.bad(_join(path, key), _("This field is required."))
        for key in value:
            if key not in required and key not in optional:
                self.bad(_join(path, key),
                         _("This field is not part of the format; check its spelling."))
        return value

    def array(self, value: object, path: str, low: int, high: int) -> list[Any] | None:
        if not isinstance(value, list):
            self.bad(path, _("Must be a list."))
            return None
        if not low <= len(value) <= high:
            self.bad(path, ngettext("The list must hold from {low} to {count} item.",
                                    "The list must hold from {low} to {count} items.",
                                    high).format(low=format_number(low),
                                                 count=format_number(high)))
        return value

    def string(self, value: object, path: str, length: int, pattern: str | None = None,
               pattern_message: str = "") -> str | None:
        if not isinstance(value, str):
            self.bad(path, _("Must be text."))
            return None
        if not value.strip():
            self.bad(path, _("Must not be empty."))
            return None
        if len(value) > length:
            self.bad(path, ngettext("At most {count} character.", "At most {count} characters.",
                                    length).format(count=format_number(length)))
            return None
        if pattern is not None:
            if not re.fullmatch(pattern, value):
                self.bad(path, pattern_message)
                return None
            return value
        if _CONTROL_IN_TEXT.search(value):
            self.bad(path, _("The text contains a control character."))
            return None
        tag = _HTML_IN_TEXT.search(value)
        if tag:
            self.bad(path, _("Text may not contain HTML tags (found “{tag}”).").format(
                tag=tag.group()))
            return None
        return nfc(value)

    def integer(self, value: object, path: str, low: int, high: int) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.bad(path, _("Must be a whole number."))
            return None
        if not low <= value <= high:
            self.bad(path, _("Must be between {low} and {high}.").format(
                low=format_number(low), high=format_number(high)))
            return None
        return value

    def share(self, value: object, path: str, zero_allowed: bool) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.bad(path, _("Must be a number."))
            return None
        if value > 1 or value < 0 or (value == 0 and not zero_allowed):
            self.bad(path, _("Must be a number from 0 to 1.") if zero_allowed else
                     _("Must be a number above 0 and at most 1."))
            return None
        return float(value)

    def all_or_count(self, value: object, path: str, high: int) -> Literal["all"] | int | None:
        if value == "all":
            return "all"
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= max(
                high, 1):
            self.bad(path, _("Must be “all” or a whole number from 1 to {high}.").format(
                high=format_number(max(high, 1))))
            return None
        return value

    def text(self, value: object, path: str, length: int) -> Text | None:
        found = self._languages(value, path)
        if found is None:
            return None
        values = {lang: self.string(found[lang], _join(path, lang), length)
                  for lang in self.languages if lang in found}
        if len(values) != len(self.languages) or None in values.values():
            return None
        return Text.of(cast(dict[str, str], values))

    def _languages(self, value: object, path: str) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.bad(path, _("Must be an object (named fields in braces)."))
            return None
        for key in getattr(value, "twice", ()):
            self.bad(_join(path, key), _("This field is given twice."))
        for lang in self.languages:
            if lang not in value:
                self.bad(_join(path, lang), _("The text in “{language}” is missing: the pack "
                                              "lists that language.").format(language=lang))
        for key in value:
            if key not in self.languages:
                self.bad(_join(path, key), _("“{language}” is not one of the pack's "
                                             "languages.").format(language=key))
        return value

    def ids(self, items: Iterable[tuple[str | None, str]]) -> None:
        seen: set[str] = set()
        for item_id, path in items:
            if item_id is None:
                continue
            if item_id in seen:
                self.bad(path, _("The id “{id}” is used twice.").format(id=item_id))
            seen.add(item_id)

    # -- course.json --

    def read(self) -> CoursePack | None:
        source = self.source
        if MANIFEST not in source.files:
            if MANIFEST not in source.refused:
                self.problems.add("", _("The pack has no course.json at its top (or inside "
                                        "its one top-level folder)."))
            return None
        data = source.read(MANIFEST, MAX_MANIFEST_BYTES)
        text = None if data is None else self._decode(MANIFEST, data)
        if text is None:
            return None
        try:
            manifest = json.loads(text, object_pairs_hook=_object, parse_constant=_no_constant)
        except json.JSONDecodeError as error:
            self.problems.add(MANIFEST, _("This is not valid JSON (line {line}, column "
                                          "{column}).").format(
                line=format_number(error.lineno), column=format_number(error.colno)))
            return None
        except (ValueError, RecursionError):
            self.problems.add(MANIFEST, _("This is not valid JSON: it holds a value JSON does "
                                          "not allow or is nested too deeply."))
            return None
        return self._manifest(manifest)

    def _manifest(self, manifest: object) -> CoursePack | None:
        top = self.obj(manifest, "", ("format", "id", "version", "as_of", "title", "summary",
                                      "licence", "authors", "languages", "completion",
                                      "lessons"), ("$schema",))
        if top is None:
            return None
        if "format" in top and top["format"] != FORMAT:
            self.bad("format", _("Must be “{expected}”.").format(expected=FORMAT))
        if "$schema" in top:
            self.string(top["$schema"], "$schema", LINE_LENGTH)
        self._pack_languages(top.get("languages"))
        pack_id = self.string(top.get("id"), "id", 80, ID_PATTERN, _(
            "A pack id is 3 to 80 lowercase letters, digits, dots and hyphens, starting with "
            "a letter or a digit (vn.province.course-name).")) if "id" in top else None
        version = self.string(top.get("version"), "version", 40, VERSION_PATTERN, _(
            "A version is 1 to 40 letters, digits, dots and hyphens (2026.12.1)."
        )) if "version" in top else None
        as_of = self._date(top["as_of"], "as_of") if "as_of" in top else None
        title = self.text(top["title"], "title", TITLE_LENGTH) if "title" in top else None
        summary = self.text(top["summary"], "summary",
                            SUMMARY_LENGTH) if "summary" in top else None
        licence = self.string(top["licence"], "licence",
                              LINE_LENGTH) if "licence" in top else None
        authors: list[str | None] = []
        if "authors" in top:
            listed = self.array(top["authors"], "authors", 1, MAX_AUTHORS) or []
            authors = [self.string(a, _join("authors", i), LINE_LENGTH)
                       for i, a in enumerate(listed)]
        lessons: list[Lesson | None] = []
        if "lessons" in top:
            listed = self.array(top["lessons"], "lessons", 1, MAX_LESSONS) or []
            lessons = [self._lesson(item, _join("lessons", i)) for i, item in enumerate(listed)]
            self.ids((item.get("id") if isinstance(item, dict) and isinstance(
                item.get("id"), str) else None, _join(_join("lessons", i), "id"))
                for i, item in enumerate(listed))
        completion = self._completion(top["completion"], len(lessons)) if (
            "completion" in top) else None
        self._check_links()
        licence_text = self._licence()
        if (self.problems.items or pack_id is None or version is None or as_of is None
                or title is None or summary is None or licence is None
                or completion is None or None in authors or None in lessons):
            return None
        files = tuple(sorted(self.kept.values(), key=lambda f: f.path))
        canonical = json.dumps(manifest, ensure_ascii=False, sort_keys=True,
                               separators=(",", ":"))
        digest = hashlib.sha256(b"dxkit-course-pack-digest/1\n")
        digest.update(canonical.encode("utf-8") + b"\n")
        for kept in files:
            digest.update(f"{kept.path}\t{kept.size}\t{kept.sha256}\n".encode())
        return CoursePack(
            id=pack_id, version=version, as_of=as_of, title=title, summary=summary,
            licence=licence, authors=tuple(cast(list[str], authors)), languages=self.languages,
            completion=completion, lessons=tuple(cast(list[Lesson], lessons)), files=files,
            licence_text=licence_text, manifest=canonical, digest=digest.hexdigest(),
            source=self.path)

    def _pack_languages(self, value: object) -> None:
        if value is None:
            return
        listed = self.array(value, "languages", 1, 10)
        if listed is None:
            return
        found: list[str] = []
        for i, lang in enumerate(listed):
            checked = self.string(lang, _join("languages", i), 3, LANGUAGE_PATTERN, _(
                "A language is a two- or three-letter code such as vi or en."))
            if checked in found:
                self.bad(_join("languages", i), _("“{language}” is listed twice.").format(
                    language=checked))
            elif checked is not None:
                found.append(checked)
        if "vi" not in found:
            self.bad("languages", _("The languages must include vi (Vietnamese)."))
        self.languages = ("vi", *(lang for lang in found if lang != "vi"))

    def _date(self, value: object, path: str) -> dt.date | None:
        checked = self.string(value, path, 10, DATE_PATTERN, _(
            "Must be a date written YYYY-MM-DD."))
        if checked is None:
            return None
        try:
            return dt.date.fromisoformat(checked)
        except ValueError:
            self.bad(path, _("Must be a date written YYYY-MM-DD."))
            return None

    def _completion(self, value: object, lessons: int) -> CompletionRule | None:
        rule = self.obj(value, "completion", ("lessons_mastered", "attendance_share"))
        if rule is None:
            return None
        mastered = self.all_or_count(rule["lessons_mastered"], "completion.lessons_mastered",
                                     lessons) if "lessons_mastered" in rule else None
        share = self.share(rule["attendance_share"], "completion.attendance_share",
                           zero_allowed=True) if "attendance_share" in rule else None
        if mastered is None or share is None:
            return None
        return CompletionRule(mastered, share)

    # -- lessons --

    def _lesson(self, value: object, path: str) -> Lesson | None:
        lesson = self.obj(value, path, ("id", "title", "minutes", "objectives", "content",
                                        "skills", "mastery"), ("indicator", "quiz"))
        if lesson is None:
            return None
        lesson_id = self.string(lesson.get("id"), _join(path, "id"), 60, LESSON_ID_PATTERN, _(
            "A lesson id is 2 to 60 lowercase letters, digits and hyphens, starting with a "
            "letter or a digit.")) if "id" in lesson else None
        title = self.text(lesson["title"], _join(path, "title"),
                          TITLE_LENGTH) if "title" in lesson else None
        minutes = self.integer(lesson["minutes"], _join(path, "minutes"), MIN_MINUTES,
                               MAX_MINUTES) if "minutes" in lesson else None
        objectives = self._objectives(lesson["objectives"], _join(
            path, "objectives")) if "objectives" in lesson else None
        content, files, images = self._content(lesson["content"], _join(
            path, "content")) if "content" in lesson else (None, None, ())
        indicator = None
        if "indicator" in lesson:
            indicator = self._indicator(lesson["indicator"], _join(path, "indicator"))
        skills: list[Skill | None] = []
        if "skills" in lesson:
            listed = self.array(lesson["skills"], _join(path, "skills"), 1, MAX_SKILLS) or []
            skills = [self._skill(s, _join(_join(path, "skills"), i))
                      for i, s in enumerate(listed)]
            self.ids((s.id if s else None, _join(_join(_join(path, "skills"), i), "id"))
                     for i, s in enumerate(skills))
        quiz: list[QuizItem | None] = []
        if "quiz" in lesson:
            listed = self.array(lesson["quiz"], _join(path, "quiz"), 0, MAX_QUIZ) or []
            quiz = [self._quiz_item(q, _join(_join(path, "quiz"), i))
                    for i, q in enumerate(listed)]
            self.ids((q.id if q else None, _join(_join(_join(path, "quiz"), i), "id"))
                     for i, q in enumerate(quiz))
        mastery = self._mastery(lesson["mastery"], _join(path, "mastery"), len(skills),
                                len(quiz)) if "mastery" in lesson else None
        if (lesson_id is None or title is None or minutes is None or objectives is None
                or content is None or files is None or mastery is None
                or None in skills or None in quiz
                or ("indicator" in lesson and indicator is None)):
            return None
        return Lesson(lesson_id, title, minutes, objectives, content, files, indicator,
                      tuple(cast(list[Skill], skills)), tuple(cast(list[QuizItem], quiz)),
                      mastery, tuple(images))

    def _objectives(self, value: object, path: str) -> TextList | None:
        found = self._languages(value, path)
        if found is None:
            return None
        result: dict[str, tuple[str, ...]] = {}
        for lang in self.languages:
            if lang not in found:
                continue
            where = _join(path, lang)
            listed = self.array(found[lang], where, MIN_OBJECTIVES, MAX_OBJECTIVES)
            if listed is None:
                continue
            texts = [self.string(t, _join(where, i), LINE_LENGTH) for i, t in enumerate(listed)]
            if None not in texts and MIN_OBJECTIVES <= len(texts) <= MAX_OBJECTIVES:
                result[lang] = tuple(cast(list[str], texts))
        if len(result) != len(self.languages):
            return None
        return TextList(tuple(sorted(result.items())))

    def _indicator(self, value: object, path: str) -> str | None:
        code = self.string(value, path, 40, INDICATOR_PATTERN, _(
            "An indicator code is lowercase letters, digits and underscores (vneid_level2)."))
        if code is not None and self.indicators is not None and code not in self.indicators:
            self.bad(path, _("“{code}” is not a household indicator dxkit knows.").format(
                code=code))
            return None
        return code

    def _skill(self, value: object, path: str) -> Skill | None:
        skill = self.obj(value, path, ("id", "text"))
        if skill is None:
            return None
        skill_id = self._item_id(skill, path)
        text = self.text(skill["text"], _join(path, "text"), LINE_LENGTH) if (
            "text" in skill) else None
        return Skill(skill_id, text) if skill_id is not None and text is not None else None

    def _item_id(self, item: dict[str, Any], path: str) -> str | None:
        if "id" not in item:
            return None
        return self.string(item["id"], _join(path, "id"), 60, ITEM_ID_PATTERN, _(
            "An id is 1 to 60 letters, digits, hyphens, dots or underscores, starting with a "
            "letter or a digit."))

    def _quiz_item(self, value: object, path: str) -> QuizItem | None:
        item = self.obj(value, path, ("id", "type", "prompt", "answer"),
                        ("choices", "explanation"))
        if item is None:
            return None
        item_id = self._item_id(item, path)
        kind = item.get("type")
        if "type" in item and kind not in QUIZ_TYPES:
            self.bad(_join(path, "type"), _("Must be one of: {values}.").format(
                values=", ".join(QUIZ_TYPES)))
            kind = None
        prompt = self.text(item["prompt"], _join(path, "prompt"), PROMPT_LENGTH) if (
            "prompt" in item) else None
        explanation = self.text(item["explanation"], _join(path, "explanation"),
                                EXPLANATION_LENGTH) if "explanation" in item else None
        choices: list[Choice | None] = []
        answer: frozenset[str] | bool | None = None
        if kind == "true_false":
            if "choices" in item:
                self.bad(_join(path, "choices"), _("A true/false question has no choices."))
            if "answer" in item:
                if isinstance(item["answer"], bool):
                    answer = item["answer"]
                else:
                    self.bad(_join(path, "answer"), _("Must be true or false."))
        elif kind is not None:
            choices, answer = self._choices(item, path, kind)
        if (item_id is None or kind is None or prompt is None or answer is None
                or None in choices or ("explanation" in item and explanation is None)):
            return None
        return QuizItem(item_id, kind, prompt, tuple(cast(list[Choice], choices)), answer,
                        explanation)

    def _choices(self, item: dict[str, Any], path: str,
                 kind: str) -> tuple[list[Choice | None], frozenset[str] | None]:
        where = _join(path, "choices")
        if "choices" not in item:
            self.bad(where, _("This field is required."))
            return [], None
        listed = self.array(item["choices"], where, MIN_CHOICES, MAX_CHOICES) or []
        choices: list[Choice | None] = []
        for i, value in enumerate(listed):
            choice = self.obj(value, _join(where, i), ("id", "text"))
            choice_id = self._item_id(choice, _join(where, i)) if choice else None
            text = self.text(choice["text"], _join(_join(where, i), "text"), LINE_LENGTH) if (
                choice and "text" in choice) else None
            choices.append(Choice(choice_id, text) if choice_id and text else None)
        self.ids((c.id if c else None, _join(_join(where, i), "id"))
                 for i, c in enumerate(choices))
        if "answer" not in item:
            return choices, None
        where = _join(path, "answer")
        answer = item["answer"]
        if not isinstance(answer, list) or not all(isinstance(a, str) for a in answer):
            self.bad(where, _("Must be a list of choice ids."))
            return choices, None
        known = {c.get("id") for c in listed if isinstance(c, dict)}
        right = frozenset(answer)
        problem = False
        if len(right) != len(answer):
            self.bad(where, _("A choice is named twice in the answer."))
            problem = True
        for choice_id in answer:
            if choice_id not in known:
                self.bad(where, _("The answer names “{id}”, which is not one of the "
                                  "choices.").format(id=choice_id))
                problem = True
        if kind == "single" and len(right) != 1:
            self.bad(where, _("A single-choice question has exactly one right choice."))
            problem = True
        if kind == "multiple" and not 1 <= len(right) <= len(listed) - 1:
            self.bad(where, _("A multiple-choice question has at least one right choice and "
                              "at least one wrong one."))
            problem = True
        return choices, None if problem else right

    def _mastery(self, value: object, path: str, skills: int,
                 quiz: int) -> MasteryRule | None:
        rule = self.obj(value, path, ("skills",), ("quiz",))
        if rule is None:
            return None
        skill_rule = self.all_or_count(rule["skills"], _join(path, "skills"), skills) if (
            "skills" in rule) else None
        quiz_rule = None
        where = _join(path, "quiz")
        if "quiz" in rule and quiz == 0:
            self.bad(where, _("This lesson has no quiz, so its mastery rule has no quiz "
                              "part."))
            return None
        if "quiz" not in rule and quiz > 0:
            self.bad(where, _("This lesson has a quiz: say how an attempt passes (pass_mark, "
                              "m_of_n or all)."))
            return None
        if "quiz" in rule:
            quiz_rule = self._quiz_rule(rule["quiz"], where, quiz)
            if quiz_rule is None:
                return None
        return None if skill_rule is None else MasteryRule(skill_rule, quiz_rule)

    def _quiz_rule(self, value: object, path: str, quiz: int) -> QuizRule | None:
        name = value.get("rule") if isinstance(value, dict) else None
        keys = {"pass_mark": ("share",), "m_of_n": ("m", "n"), "all": ()}
        rule = self.obj(value, path, ("rule", *keys.get(str(name), ())))
        if rule is None or "rule" not in rule:
            return None
        if name not in keys:
            self.bad(_join(path, "rule"), _("Must be one of: {values}.").format(
                values=", ".join(QUIZ_RULES)))
            return None
        if name == "pass_mark":
            share = self.share(rule.get("share"), _join(path, "share"),
                               zero_allowed=False) if "share" in rule else None
            return None if share is None else QuizRule("pass_mark", share=share)
        if name == "m_of_n":
            m = self.integer(rule["m"], _join(path, "m"), 1, MAX_QUIZ) if "m" in rule else None
            n = self.integer(rule["n"], _join(path, "n"), 1, MAX_QUIZ) if "n" in rule else None
            if m is None or n is None:
                return None
            if m > n:
                self.bad(_join(path, "m"), _("m cannot be more than n."))
                return None
            if n > quiz:
                self.bad(_join(path, "n"), ngettext(
                    "n cannot be more than the lesson's quiz, which has {count} question.",
                    "n cannot be more than the lesson's quiz, which has {count} questions.",
                    quiz).format(count=format_number(quiz)))
                return None
            return QuizRule("m_of_n", m=m, n=n)
        return QuizRule("all")

    # -- files --

    def _content(self, value: object,
                 path: str) -> tuple[Text | None, Text | None, list[str]]:
        found = self._languages(value, path)
        if found is None:
            return None, None, []
        texts: dict[str, str] = {}
        files: dict[str, str] = {}
        images: list[str] = []
        for lang in self.languages:
            if lang not in found:
                continue
            where = _join(path, lang)
            name = found[lang]
            if not isinstance(name, str):
                self.bad(where, _("Must be text."))
                continue
            problem = name_problem(name)
            if problem is None and not (name.startswith("lessons/") and name.endswith(".md")):
                problem = _("A lesson's text is a .md file in the lessons folder.")
            if problem:
                self.bad(where, f"“{name}”: {problem}")
                continue
            if name not in self.source.files:
                if name not in self.source.refused:
                    self.bad(where, _("The file “{file}” is not in the pack.").format(file=name))
                continue
            if name not in self.markdown:
                self.markdown[name] = self._read_markdown(name)
            text = self.markdown[name]
            if text is not None:
                texts[lang], files[lang] = text, name
                images.extend(self.images_of.get(name, []))
        if len(texts) != len(self.languages):
            return None, None, images
        return Text.of(texts), Text.of(files), list(dict.fromkeys(images))

    def _decode(self, name: str, data: bytes) -> str | None:
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            self.problems.add(name, _("The file is not UTF-8 text."),
                              line=data[:error.start].count(b"\n") + 1)
            return None

    def _read_markdown(self, name: str) -> str | None:
        data = self.source.read(name, MAX_TEXT_FILE_BYTES)
        text = None if data is None else self._decode(name, data)
        if data is None or text is None:
            return None
        self.kept[name] = PackFile(name, len(data), hashlib.sha256(data).hexdigest(),
                                   "markdown")
        text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
        references, findings = pack_markdown.scan(text)
        for finding in findings:
            if finding.kind == "html":
                message = _("Raw HTML is not allowed in a lesson (found “{tag}”); write "
                            "Markdown, or &lt; for a less-than sign.").format(tag=finding.text)
            else:
                message = _("The text contains a control character ({code}).").format(
                    code=finding.text)
            self.problems.add(name, message, line=finding.line)
        images: list[str] = []
        for reference in references:
            resolved = self._reference(name, reference)
            if resolved is not None:
                images.append(resolved)
        self.images_of[name] = images
        return None if findings else text

    def _reference(self, name: str, reference: pack_markdown.Reference) -> str | None:
        """Checks one destination; the image path inside the pack it names, if any."""
        target = reference.target.strip()
        line = reference.line
        found = pack_markdown.scheme(target)
        if found is not None and len(found) > 1:
            if reference.kind == "image":
                self.problems.add(name, _("An image must be a file of the pack, not a web "
                                          "address (“{target}”).").format(target=target),
                                  line=line)
            elif found not in LINK_SCHEMES:
                self.problems.add(name, _("Links to “{scheme}:” addresses are not allowed; "
                                          "link to https pages.").format(scheme=found),
                                  line=line)
            return None
        if reference.kind == "link":
            target = target.split("#", 1)[0].split("?", 1)[0]
            if not target:
                return None
        path = unquote(target)
        resolved, problem = _resolve(posixpath.dirname(name), path)
        if problem is not None or resolved is None:
            self.problems.add(name, f"“{target}”: {problem}", line=line)
            return None
        suffix = posixpath.splitext(resolved)[1].lower()
        if reference.kind == "link" and suffix not in IMAGE_SUFFIXES:
            self.links.append((name, line, target, resolved))
            return None
        if suffix not in IMAGE_SUFFIXES:
            self.problems.add(name, _("An image must be a .png, .jpg or .jpeg file of the pack "
                                      "(“{target}”).").format(target=target), line=line)
            return None
        if resolved not in self.source.files:
            if resolved not in self.source.refused:
                self.problems.add(name, _("The image “{target}” is not in the pack.").format(
                    target=target), line=line)
            return None
        if resolved not in self.images:
            self.images[resolved] = self._image(resolved, IMAGE_SUFFIXES[suffix], suffix)
        return resolved if self.images[resolved] else None

    def _image(self, name: str, expected: str, suffix: str) -> PackFile | None:
        data = self.source.read(name, MAX_IMAGE_BYTES)
        if data is None:
            return None
        kind = pack_files.image_kind(data)
        if kind is None:
            self.problems.add(name, _("This file is not a real PNG or JPEG image: its first "
                                      "bytes say otherwise."))
            return None
        if kind != expected:
            self.problems.add(name, _("This file is a {kind} image but its name ends in "
                                      "“{suffix}”.").format(kind=kind.upper(), suffix=suffix))
            return None
        header = pack_files.image_header(data)
        if header is None:
            self.problems.add(name, _("The image's size cannot be read from its header: the "
                                      "file is damaged."))
            return None
        if header.width > MAX_IMAGE_SIDE or header.height > MAX_IMAGE_SIDE:
            self.problems.add(name, _("An image may be at most {max}×{max} px; this one is "
                                      "{width}×{height} px.").format(
                max=MAX_IMAGE_SIDE, width=header.width, height=header.height))
            return None
        kept = PackFile(name, len(data), hashlib.sha256(data).hexdigest(), "image",
                        header.width, header.height)
        self.kept[name] = kept
        return kept

    def _check_links(self) -> None:
        lessons = {name for name, text in self.markdown.items() if text is not None}
        for name, line, target, resolved in self.links:
            if resolved not in lessons and resolved not in self.markdown:
                self.problems.add(name, _("A link inside the pack must name an image or a "
                                          "lesson of this pack (“{target}”).").format(
                    target=target), line=line)

    def _licence(self) -> str | None:
        if LICENCE_FILE not in self.source.files:
            return None
        data = self.source.read(LICENCE_FILE, MAX_TEXT_FILE_BYTES)
        text = None if data is None else self._decode(LICENCE_FILE, data)
        if data is None or text is None:
            return None
        self.kept[LICENCE_FILE] = PackFile(LICENCE_FILE, len(data),
                                           hashlib.sha256(data).hexdigest(), "licence")
        return unicodedata.normalize("NFC", text.replace("\r\n", "\n"))


def _resolve(folder: str, target: str) -> tuple[str | None, str | None]:
    """A Markdown destination resolved against its file's folder: the path inside the pack,
    or why it is refused (it leaves the pack, or names something no pack file could be)."""
    if "\\" in target:
        return None, name_problem(target)
    if target.startswith("/") or re.match(r"^[A-Za-z]:", target):
        return None, name_problem(target)
    parts = folder.split("/") if folder else []
    for part in target.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None, name_problem("../")
            parts.pop()
        else:
            parts.append(part)
    resolved = "/".join(parts)
    problem = name_problem(resolved)
    return (None, problem) if problem else (resolved, None)
