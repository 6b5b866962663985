"""What a synced field may hold: the type every domain declares for each field it syncs.

One declaration serves every side. The hub refuses a pushed record whose value does not fit
(that record alone, with a reason code), a laptop holds back a pulled one (sync_quarantine)
instead of failing on it, and `Tx` refuses to write one, so a laptop never makes a record the
hub would refuse. A check is given whatever JSON decoded to (a list, an object, a boolean,
2**100, 1e999, a lone surrogate) and answers a reason code, or None when the value fits; it
never raises. Every text a check accepts is storable by SQLite and PostgreSQL alike (no NUL,
no lone surrogate) and every number fits SQLite's 64-bit INTEGER or is a finite REAL.

Reason codes (docs/sync-protocol.md): wrong_type, missing_value, too_long, bad_text,
bad_format, out_of_range, not_finite, unknown_value.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from dxkit.core.i18n import _, format_number

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # SQLite's INTEGER
MAX_ID_LENGTH = 100
# Row ids: uuid7/uuid5 text, and the few readable ids (a lot code, a publication's ids).
# ASCII letters and digits first, then also . _ : - ; explicit classes, since \d and \w
# match digits and letters of every script.
ID_PATTERN = re.compile(rf"[0-9A-Za-z][0-9A-Za-z._:-]{{0,{MAX_ID_LENGTH - 1}}}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL, and UTF-16 halves without a pair

WRONG_TYPE = "wrong_type"        # a list, an object, a boolean, a number for text, …
MISSING = "missing_value"        # null where the field always has a value
TOO_LONG = "too_long"            # text over its maximum length
BAD_TEXT = "bad_text"            # text neither database can store (NUL, lone surrogate)
BAD_FORMAT = "bad_format"        # not a date, a timestamp, an id, JSON or its pattern
OUT_OF_RANGE = "out_of_range"    # a number outside the declared range
NOT_FINITE = "not_finite"        # infinity (JSON has no NaN; the hub refuses it)
UNKNOWN_VALUE = "unknown_value"  # not one of the declared values
REASONS = (WRONG_TYPE, MISSING, TOO_LONG, BAD_TEXT, BAD_FORMAT, OUT_OF_RANGE, NOT_FINITE,
           UNKNOWN_VALUE)


def storable_text(value: str) -> bool:
    """Text SQLite and PostgreSQL both store: no NUL (PostgreSQL refuses it) and valid
    UTF-8 (no lone surrogate, which fails the encoding of a whole statement)."""
    if value.isascii():
        return "\x00" not in value
    return _UNSTORABLE.search(value) is None


@dataclass(frozen=True)
class FieldType:
    """The values one field may hold. `check` answers a reason code or None."""

    nullable: bool = field(default=False, kw_only=True)

    def check(self, value: object) -> str | None:
        raise NotImplementedError

    def explain(self, reason: str) -> str:
        """The reason as a sentence for the person who typed the value."""
        return _explain(reason)

    def _absent(self, value: object) -> str | None:
        """The answer for a value of a type the field never holds (None included)."""
        if value is None:
            return None if self.nullable else MISSING
        return WRONG_TYPE


@dataclass(frozen=True)
class Text(FieldType):
    max_len: int
    pattern: re.Pattern[str] | None = None

    def check(self, value: object) -> str | None:
        if type(value) is not str:
            return self._absent(value)
        if len(value) > self.max_len:
            return TOO_LONG
        # storable_text, inlined: this runs for every text of every record.
        if ("\x00" in value) if value.isascii() else (_UNSTORABLE.search(value) is not None):
            return BAD_TEXT
        if self.pattern is not None and self.pattern.fullmatch(value) is None:
            return BAD_FORMAT
        return None

    def explain(self, reason: str) -> str:
        if reason == TOO_LONG:
            return _("This is too long: at most {limit} characters.").format(
                limit=self.max_len)
        return _explain(reason)


@dataclass(frozen=True)
class JsonText(Text):
    """Text holding a JSON list or object (the app parses it when it shows the row)."""

    container: Literal["list", "object"] = "list"

    def check(self, value: object) -> str | None:
        problem = super().check(value)
        if problem is not None or not isinstance(value, str):  # a fault, or a null allowed
            return problem
        shape = _json_shape(value) if len(value) <= 1000 else _parsed_shape(value)
        return None if shape == self.container else BAD_FORMAT


@dataclass(frozen=True)
class Integer(FieldType):
    minimum: int = INT64_MIN
    maximum: int = INT64_MAX

    def __post_init__(self) -> None:
        if not INT64_MIN <= self.minimum <= self.maximum <= INT64_MAX:
            raise ValueError(f"an integer field's range must lie within SQLite's INTEGER: "
                             f"{self.minimum}..{self.maximum}")

    def check(self, value: object) -> str | None:
        if type(value) is not int:  # `type`, not isinstance: True is not a number here
            return self._absent(value)
        if not self.minimum <= value <= self.maximum:
            return OUT_OF_RANGE
        return None

    def explain(self, reason: str) -> str:
        return _range_explained(reason, self.minimum, self.maximum)


def _range_explained(reason: str, low: float, high: float) -> str:
    if reason == OUT_OF_RANGE:
        return _("This number must be between {low} and {high}.").format(
            low=format_number(low), high=format_number(high))
    return _explain(reason)


@dataclass(frozen=True)
class Boolean(FieldType):
    """Stored as INTEGER 0 or 1 (what SQLite gives back); JSON true/false are refused, since
    a laptop would store them as 1/0 and the two sides' digests would differ."""

    def check(self, value: object) -> str | None:
        if type(value) is not int:
            return self._absent(value)
        return None if value in (0, 1) else OUT_OF_RANGE

    def explain(self, reason: str) -> str:
        if reason == OUT_OF_RANGE:
            return _("This must be yes or no.")
        return _explain(reason)


@dataclass(frozen=True)
class Real(FieldType):
    minimum: float
    maximum: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.minimum) and math.isfinite(self.maximum)
                and self.minimum <= self.maximum):
            raise ValueError("a real field's range must be finite")

    def check(self, value: object) -> str | None:
        if type(value) is float:
            return self._within(value) if math.isfinite(value) else NOT_FINITE
        if type(value) is int:  # JSON writes 2.0 as 2 in some encoders
            return self._within(value)
        return self._absent(value)

    def _within(self, value: float) -> str | None:
        return None if self.minimum <= value <= self.maximum else OUT_OF_RANGE

    def explain(self, reason: str) -> str:
        return _range_explained(reason, self.minimum, self.maximum)


@dataclass(frozen=True)
class OneOf(FieldType):
    values: tuple[str, ...]

    def check(self, value: object) -> str | None:
        if type(value) is not str:
            return self._absent(value)
        return None if value in self.values else UNKNOWN_VALUE

    def explain(self, reason: str) -> str:
        if reason == UNKNOWN_VALUE:
            return _("This must be one of: {values}.").format(values=", ".join(self.values))
        return _explain(reason)


@dataclass(frozen=True)
class Date(FieldType):
    """An ISO date, 2026-11-20, as `date.isoformat()` writes it."""

    def check(self, value: object) -> str | None:
        if type(value) is not str:
            return self._absent(value)
        return None if len(value) == 10 and _is_date(value) else BAD_FORMAT


@dataclass(frozen=True)
class Timestamp(FieldType):
    """An ISO date and time, 2026-11-20T08:30:00, with or without its UTC offset."""

    def check(self, value: object) -> str | None:
        if type(value) is not str:
            return self._absent(value)
        if len(value) > 40 or _TIMESTAMP.fullmatch(value) is None:
            return BAD_FORMAT
        try:
            dt.datetime.fromisoformat(value)
        except ValueError:  # 2026-11-20T25:00:00
            return BAD_FORMAT
        return None


@dataclass(frozen=True)
class Ref(FieldType):
    """The id of a row (ID_PATTERN): another synced row this one references."""

    def check(self, value: object) -> str | None:
        if type(value) is not str:
            return self._absent(value)
        return None if ID_PATTERN.fullmatch(value) else BAD_FORMAT


# -- how domains declare their fields ---------------------------------------------------------
def text(max_len: int, pattern: str | None = None, *, nullable: bool = False) -> Text:
    """Text of at most `max_len` characters, matching `pattern` (whole text) if given."""
    return Text(max_len, re.compile(pattern) if pattern else None, nullable=nullable)


def json_list(max_len: int, *, nullable: bool = False) -> JsonText:
    """Text holding a JSON list, at most `max_len` characters."""
    return JsonText(max_len, container="list", nullable=nullable)


def json_object(max_len: int, *, nullable: bool = False) -> JsonText:
    """Text holding a JSON object, at most `max_len` characters."""
    return JsonText(max_len, container="object", nullable=nullable)


def integer(minimum: int = INT64_MIN, maximum: int = INT64_MAX, *,
            nullable: bool = False) -> Integer:
    return Integer(minimum, maximum, nullable=nullable)


def real(minimum: float, maximum: float, *, nullable: bool = False) -> Real:
    return Real(minimum, maximum, nullable=nullable)


def boolean() -> Boolean:
    return Boolean()


def one_of(*values: str, nullable: bool = False) -> OneOf:
    return OneOf(values, nullable=nullable)


def date(*, nullable: bool = False) -> Date:
    return Date(nullable=nullable)


def timestamp(*, nullable: bool = False) -> Timestamp:
    return Timestamp(nullable=nullable)


def ref(*, nullable: bool = False) -> Ref:
    return Ref(nullable=nullable)


@dataclass(frozen=True)
class FieldProblem:
    """Why one field of a record does not fit its type."""

    field: str
    reason: str

    @property
    def code(self) -> str:
        """How a held-back record's reason is kept: "too_long:notes"."""
        return f"{self.reason}:{self.field}"


# Memoised: the same few days, team-member lists and ingredient lists come in record after
# record (a pull of 10,000 visits holds some hundred distinct days).
@functools.lru_cache(maxsize=4096)
def _is_date(text: str) -> bool:
    if _DATE.fullmatch(text) is None:
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:  # 2026-02-30
        return False
    return True


@functools.lru_cache(maxsize=1024)
def _json_shape(text: str) -> str:
    return _parsed_shape(text)  # only short texts: the cache keeps what it is given


def _parsed_shape(text: str) -> str:
    """"list", "object", or "" for JSON of another shape or no JSON at all."""
    try:
        parsed: Any = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than Python's
        return ""
    return "list" if type(parsed) is list else "object" if type(parsed) is dict else ""


def _explain(reason: str) -> str:
    sentences = {
        WRONG_TYPE: _("This value is not of the kind this field holds."),
        MISSING: _("This field cannot be empty."),
        BAD_TEXT: _("This text contains characters that cannot be stored."),
        BAD_FORMAT: _("This value is not written in the expected form."),
        NOT_FINITE: _("This must be an ordinary number."),
        OUT_OF_RANGE: _("This number is outside the allowed range."),
        TOO_LONG: _("This text is too long."),
        UNKNOWN_VALUE: _("This value is not one of the allowed ones."),
    }
    return sentences.get(reason, reason)
