"""Values for each kind of declared field type (dxkit.core.fields): one that fits (the default
of records built by hand), Hypothesis strategies of values that fit, and the values that must
not, each with the reason code the check answers.

Built from the declarations themselves, so every field of every registered table is covered,
including fields added after these tests were written.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from dxkit.core import fields as f

# One value matching each pattern the domains declare (a pattern missing here fails loudly).
PATTERN_EXAMPLES = {
    "[0-9]*": "0912345678",
    "([0-9]{12})?": "087195012345",
    "[a-z][a-z0-9_]{1,39}": "vneid_level2",
    "([a-z][a-z0-9_]{1,39})?": "rice",
    "[A-Z]{2,5}": "TMX",
    "([0-9]{4,12})?": "8930001",
    "[A-Z]{2,5}-[0-9]{6}-[0-9]{3,4}-[0-9A-Z]": "TMX-261122-001-K",
    "[a-z_]+": "open",
    "([0-9]{14})?": "08930001000017",
    "[a-z0-9][a-z0-9.-]{2,79}": "vn.dxkit.ky-nang-so-co-ban",  # course pack ids
    "[0-9A-Za-z.-]{1,40}": "2026.12.1",  # course pack versions
    "[a-z0-9][a-z0-9-]{1,59}": "vneid-muc-2",  # lesson ids
    "[A-Za-z0-9][A-Za-z0-9_.-]{0,59}": "cai-ung-dung",  # skill ids
}
SURROGATE, NUL = "\ud800", "\x00"
HUGE = 2**64  # above SQLite's INTEGER: sqlite3 raises OverflowError binding it


def example(kind: f.FieldType) -> Any:
    """A value that fits `kind`, and looks like real data."""
    if isinstance(kind, f.JsonText):
        return "[]" if kind.container == "list" else "{}"
    if isinstance(kind, f.Text):
        return "" if kind.pattern is None else PATTERN_EXAMPLES[kind.pattern.pattern]
    if isinstance(kind, f.Integer | f.Boolean):
        low, high = (0, 1) if isinstance(kind, f.Boolean) else (kind.minimum, kind.maximum)
        return min(max(0, low), high)
    if isinstance(kind, f.Real):
        return float(min(max(0.0, kind.minimum), kind.maximum))
    if isinstance(kind, f.OneOf):
        return kind.values[0]
    return _EXAMPLES[type(kind)]


_EXAMPLES: dict[type, Any] = {
    f.Date: "2026-11-20", f.Timestamp: "2026-11-20T08:30:00",
    f.Ref: "0190a000-0000-7000-8000-000000000001"}


def valid(kind: f.FieldType) -> st.SearchStrategy[Any]:
    """Values that fit `kind` (null too, where allowed)."""
    values = _valid(kind)
    return st.one_of(st.none(), values) if kind.nullable else values


def _valid(kind: f.FieldType) -> st.SearchStrategy[Any]:
    if isinstance(kind, f.JsonText):
        return st.just(example(kind))
    if isinstance(kind, f.Text):
        if kind.pattern is not None:
            return st.from_regex(kind.pattern, fullmatch=True).filter(
                lambda text: len(text) <= kind.max_len)
        return st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
                       max_size=min(kind.max_len, 300))
    if isinstance(kind, f.Boolean):
        return st.sampled_from((0, 1))
    if isinstance(kind, f.Integer):
        return st.integers(kind.minimum, kind.maximum)
    if isinstance(kind, f.Real):
        return st.floats(kind.minimum, kind.maximum, allow_nan=False, allow_infinity=False)
    if isinstance(kind, f.OneOf):
        return st.sampled_from(kind.values)
    if isinstance(kind, f.Date):
        return st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)).map(dt.date.isoformat)
    if isinstance(kind, f.Timestamp):
        return st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2100, 1, 1)).map(
            lambda moment: moment.isoformat(timespec="seconds"))
    return st.uuids().map(str)


def invalid(kind: f.FieldType) -> list[tuple[str, Any, str]]:
    """(what it is, a value that must not fit `kind`, the reason code expected)."""
    wrong_types: list[tuple[str, Any]] = [("a list", []), ("an object", {"x": 1}),
                                          ("a boolean", True)]
    cases = [(name, value, f.WRONG_TYPE) for name, value in wrong_types]
    if not kind.nullable:
        cases.append(("null", None, f.MISSING))
    for kinds, more in _INVALID:
        if isinstance(kind, kinds):
            cases.extend(more(kind))
            break
    return cases


def _text_cases(kind: f.FieldType) -> list[tuple[str, Any, str]]:
    assert isinstance(kind, f.Text)
    good = example(kind)
    cases = [("a number for text", 7, f.WRONG_TYPE),
             ("text one character too long", "9" * (kind.max_len + 1), f.TOO_LONG),
             # The example's last character spoilt: the length stays within the limit.
             ("a lone surrogate", good[:-1] + SURROGATE, f.BAD_TEXT),
             ("a NUL character", good[:-1] + NUL, f.BAD_TEXT)]
    if kind.pattern is not None and not isinstance(kind, f.JsonText):
        cases.append(("text outside its pattern", "?", f.BAD_FORMAT))
    if isinstance(kind, f.JsonText):
        cases += [("text that is not JSON", "{not json", f.BAD_FORMAT),
                  ("JSON of the other shape", "{}" if kind.container == "list" else "[]",
                   f.BAD_FORMAT)]
    return cases


def _integer_cases(kind: f.FieldType) -> list[tuple[str, Any, str]]:
    assert isinstance(kind, f.Integer | f.Boolean)
    low, high = (0, 1) if isinstance(kind, f.Boolean) else (kind.minimum, kind.maximum)
    cases = [("text for a number", "1", f.WRONG_TYPE), ("a fraction", 0.5, f.WRONG_TYPE),
             ("an integer over 2**63", HUGE, f.OUT_OF_RANGE),
             ("an integer under -2**63", -HUGE, f.OUT_OF_RANGE)]
    if high < f.INT64_MAX:
        cases.append(("one over the maximum", high + 1, f.OUT_OF_RANGE))
    if low > f.INT64_MIN:
        cases.append(("one under the minimum", low - 1, f.OUT_OF_RANGE))
    return cases


def _real_cases(kind: f.FieldType) -> list[tuple[str, Any, str]]:
    assert isinstance(kind, f.Real)
    return [("text for a number", "1.5", f.WRONG_TYPE),
            ("infinity", math.inf, f.NOT_FINITE), ("minus infinity", -math.inf, f.NOT_FINITE),
            ("NaN", math.nan, f.NOT_FINITE),
            ("an integer over 2**63", HUGE, f.OUT_OF_RANGE),
            ("over the maximum", kind.maximum + abs(kind.maximum) + 1.0, f.OUT_OF_RANGE),
            ("under the minimum", kind.minimum - abs(kind.minimum) - 1.0, f.OUT_OF_RANGE)]


def _one_of_cases(kind: f.FieldType) -> list[tuple[str, Any, str]]:
    assert isinstance(kind, f.OneOf)
    return [("a value not listed", "maybe", f.UNKNOWN_VALUE),
            ("a listed value in capitals", kind.values[0].upper() + "X", f.UNKNOWN_VALUE),
            ("a number", 1, f.WRONG_TYPE), ("a lone surrogate", SURROGATE, f.UNKNOWN_VALUE)]


def _date_cases(kind: f.FieldType) -> list[tuple[str, Any, str]]:
    return [("a day that does not exist", "2026-02-30", f.BAD_FORMAT),
            ("a date the Vietnamese way", "20/11/2026", f.BAD_FORMAT),
            ("full-width digits", "２０２６-11-20", f.BAD_FORMAT),
            ("a lone surrogate", "2026-11-2" + SURROGATE, f.BAD_FORMAT),
            ("a number", 20261120, f.WRONG_TYPE)]


def _timestamp_cases(kind: f.FieldType) -> list[tuple[str, Any, str]]:
    return [("an hour that does not exist", "2026-11-20T25:00:00", f.BAD_FORMAT),
            ("a date alone", "2026-11-20 and more", f.BAD_FORMAT),
            ("a NUL character", "2026-11-20T08:30:00\x00", f.BAD_FORMAT),
            ("a number", 1_700_000_000, f.WRONG_TYPE)]


def _ref_cases(kind: f.FieldType) -> list[tuple[str, Any, str]]:
    return [("an empty id", "", f.BAD_FORMAT), ("an id with a space", "a b", f.BAD_FORMAT),
            ("an id of 101 characters", "a" * 101, f.BAD_FORMAT),
            ("an id with a lone surrogate", "hh-" + SURROGATE, f.BAD_FORMAT),
            ("an id with a NUL", "hh\x00-1", f.BAD_FORMAT), ("a number", 7, f.WRONG_TYPE)]


_INVALID: list[tuple[type | tuple[type, ...],
                     Callable[[f.FieldType], list[tuple[str, Any, str]]]]] = [
    (f.Text, _text_cases), ((f.Integer, f.Boolean), _integer_cases), (f.Real, _real_cases),
    (f.OneOf, _one_of_cases), (f.Date, _date_cases), (f.Timestamp, _timestamp_cases),
    (f.Ref, _ref_cases)]
