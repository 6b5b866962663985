"""Legacy 8-bit Vietnamese text (TCVN3/ABC and VNI-Windows) found in commune spreadsheets.

Before Unicode, Vietnamese was typed with fonts that drew Vietnamese letters over the
Western code points: TCVN3 (TCVN 5712:1993 VN3, fonts .VnTime/.VnTimeH) puts each letter
in one byte; VNI-Windows (fonts VNI-Times...) writes a base letter followed by diacritic
bytes. Such text reaches us as those bytes decoded with a Windows code page, e.g. TCVN3
"NguyÔn V¨n §ång" or VNI "Nguyeãn Vaên Ñoàng" for "Nguyễn Văn Đồng".

The repair path is: `legacy_bytes` (undo the code-page decoding) -> `tcvn3_to_unicode` /
`vni_to_unicode`. `detect_encoding` decides per column by checking how many words are valid
Vietnamese syllables before and after each conversion; it answers "unknown" rather than guess.

Tables: byte values follow the published TCVN3 (VN3) and VNI-Windows code charts. Bytes that
carry no Vietnamese letter decode to what the Windows font shows: the cp1252 character (or
latin-1 where cp1252 has none). Only the standard library is used.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Encoding = Literal["unicode", "tcvn3", "vni", "unknown"]
_Score = tuple[float, float]  # (share of valid syllables, how text-like the words look)


class LegacyTextError(ValueError):
    """Text that cannot be, or cannot have come from, the legacy form asked for."""


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# --- Vietnamese letters ----------------------------------------------------------------------

_GRAVE, _ACUTE, _HOOK, _TILDE, _DOT = "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"
_CIRCUMFLEX, _BREVE, _HORN = "\u0302", "\u0306", "\u031b"
_TONES = frozenset((_GRAVE, _ACUTE, _HOOK, _TILDE, _DOT))
_VOWELS = "aăâeêioôơuưy"


def _all_letters() -> frozenset[str]:
    lower = {_nfc(v + t) for v in _VOWELS for t in ("", *_TONES)} | {"đ"}
    return frozenset(ch for c in lower for ch in (c, c.upper()) if not ch.isascii())


# The 134 non-ASCII letters of Vietnamese (67 lowercase, 67 uppercase).
VIETNAMESE_LETTERS: frozenset[str] = _all_letters()


def _fallback_char(byte: int) -> str:
    """What a Windows font shows for a byte that is not a Vietnamese letter in the legacy code."""
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return chr(byte)  # the five holes in cp1252 behave as latin-1 C1 controls


# --- TCVN3 (ABC) -----------------------------------------------------------------------------

# Toned letters, in the TCVN3 order grave, hook, tilde, acute, dot below.
_TCVN3_TONE_ORDER = (_GRAVE, _HOOK, _TILDE, _ACUTE, _DOT)
_TCVN3_TONED_CODES = {
    "a": (0xB5, 0xB6, 0xB7, 0xB8, 0xB9),
    "ă": (0xBB, 0xBC, 0xBD, 0xBE, 0xC6),
    "â": (0xC7, 0xC8, 0xC9, 0xCA, 0xCB),
    "e": (0xCC, 0xCE, 0xCF, 0xD0, 0xD1),
    "ê": (0xD2, 0xD3, 0xD4, 0xD5, 0xD6),
    "i": (0xD7, 0xD8, 0xDC, 0xDD, 0xDE),
    "o": (0xDF, 0xE1, 0xE2, 0xE3, 0xE4),
    "ô": (0xE5, 0xE6, 0xE7, 0xE8, 0xE9),
    "ơ": (0xEA, 0xEB, 0xEC, 0xED, 0xEE),
    "u": (0xEF, 0xF1, 0xF2, 0xF3, 0xF4),
    "ư": (0xF5, 0xF6, 0xF7, 0xF8, 0xF9),
    "y": (0xFA, 0xFB, 0xFC, 0xFD, 0xFE),
}
# 0xA1..0xAE: the only capitals VN3 has, then their lowercase forms. (VN1, the fuller table
# of the same standard, also puts toned capitals at 0x80..0x9F, 0xC0..0xC5 and other gaps;
# ABC fonts do not, so those bytes keep their Windows glyphs here.)
_TCVN3_PLAIN = dict(zip(range(0xA1, 0xAF), "ĂÂÊÔƠƯĐăâêôơưđ", strict=True))


def _tcvn3_letters() -> dict[int, str]:
    table = dict(_TCVN3_PLAIN)
    for vowel, byte_codes in _TCVN3_TONED_CODES.items():
        for tone, code in zip(_TCVN3_TONE_ORDER, byte_codes, strict=True):
            table[code] = _nfc(vowel + tone)
    return table


_TCVN3_LETTERS = _tcvn3_letters()
_TCVN3_DECODE = tuple(
    chr(b) if b < 0x80 else _TCVN3_LETTERS.get(b, _fallback_char(b)) for b in range(256)
)
_TCVN3_ENCODE = {ch: code for code, ch in _TCVN3_LETTERS.items()}
# Lowercase letters whose capital VN3 cannot write; .VnTime text shows them lowercase.
_TCVN3_LOWER_ONLY = frozenset(ch for ch in _TCVN3_ENCODE if ch.upper() not in _TCVN3_ENCODE)


def tcvn3_to_unicode(raw: bytes) -> str:
    """Decode TCVN3 (ABC, VN3) bytes to NFC text. ASCII bytes are left as they are."""
    return _nfc("".join(_TCVN3_DECODE[b] for b in raw))


def unicode_to_tcvn3(text: str) -> bytes:
    """Encode ASCII + Vietnamese text as TCVN3 bytes.

    VN3 has no capitals with tones (Ấ, Ỳ, ...): the .VnTimeH font drew them from the
    lowercase codes, so they are written with the lowercase code and decode lowercase.
    """
    out = bytearray()
    for ch in _nfc(text):
        code = ord(ch) if ch.isascii() else _TCVN3_ENCODE.get(ch, _TCVN3_ENCODE.get(ch.lower()))
        if code is None:
            raise LegacyTextError(f"{ch!r} (U+{ord(ch):04X}) has no TCVN3 code")
        out.append(code)
    return bytes(out)


# --- VNI-Windows -----------------------------------------------------------------------------

# Letters VNI writes as one byte; the capital is always 0x20 lower than the small letter.
_VNI_SINGLE_LOWER = {
    0xF4: "ơ", 0xF6: "ư", 0xF1: "đ", 0xEC: "ì", 0xED: "í", 0xE6: "ỉ", 0xF3: "ĩ", 0xF2: "ị",
    0xEE: "ỵ",
}  # fmt: skip
# Diacritic bytes that follow a base letter, as the combining marks they stand for.
_VNI_MARKS_LOWER = {
    0xF8: _GRAVE, 0xF9: _ACUTE, 0xFB: _HOOK, 0xF5: _TILDE, 0xEF: _DOT,
    0xE2: _CIRCUMFLEX, 0xE0: _CIRCUMFLEX + _GRAVE, 0xE1: _CIRCUMFLEX + _ACUTE,
    0xE5: _CIRCUMFLEX + _HOOK, 0xE3: _CIRCUMFLEX + _TILDE, 0xE4: _CIRCUMFLEX + _DOT,
    0xEA: _BREVE, 0xE8: _BREVE + _GRAVE, 0xE9: _BREVE + _ACUTE,
    0xFA: _BREVE + _HOOK, 0xFC: _BREVE + _TILDE, 0xEB: _BREVE + _DOT,
}  # fmt: skip
_VNI_SINGLE = _VNI_SINGLE_LOWER | {b - 0x20: ch.upper() for b, ch in _VNI_SINGLE_LOWER.items()}
_VNI_SINGLE_CODE = {ch: b for b, ch in _VNI_SINGLE.items()}
_VNI_MARK_CODE = {mark: b for b, mark in _VNI_MARKS_LOWER.items()}


def _vni_letter_bytes(letter: str) -> bytes:
    """VNI bytes for one Vietnamese letter: a single byte, or a base + one diacritic byte."""
    if letter in _VNI_SINGLE_CODE:
        return bytes([_VNI_SINGLE_CODE[letter]])
    base, *marks = list(_nfd(letter))
    if _HORN in marks:  # ơ/ư are single-byte bases that take the tone bytes
        marks.remove(_HORN)
        base = _nfc(base + _HORN)
    modifier = "".join(m for m in marks if m in (_CIRCUMFLEX, _BREVE))
    tone = "".join(m for m in marks if m in _TONES)
    # Capitals take the capital form of the diacritic, 0x20 lower.
    mark = _VNI_MARK_CODE[modifier + tone] - (0x20 if base.isupper() else 0)
    return bytes([_VNI_SINGLE_CODE.get(base, ord(base)), mark])


_VNI_ENCODE = {letter: _vni_letter_bytes(letter) for letter in VIETNAMESE_LETTERS}
_VNI_PAIRS = {code: letter for letter, code in _VNI_ENCODE.items() if len(code) == 2}
_VNI_DECODE = tuple(
    chr(b) if b < 0x80 else _VNI_SINGLE.get(b, _fallback_char(b)) for b in range(256)
)


def vni_to_unicode(raw: bytes) -> str:
    """Decode VNI-Windows bytes to NFC text. ASCII without diacritic bytes is left as it is.

    Only the pairs of the code table combine (a small base with a small diacritic, a capital
    with a capital one); any other diacritic byte shows as its own Windows glyph.
    """
    out: list[str] = []
    pos = 0
    while pos < len(raw):
        pair = _VNI_PAIRS.get(raw[pos : pos + 2])
        out.append(pair or _VNI_DECODE[raw[pos]])
        pos += 2 if pair else 1
    return _nfc("".join(out))


def unicode_to_vni(text: str) -> bytes:
    """Encode ASCII + Vietnamese text as VNI-Windows bytes (capitals use the capital marks)."""
    out = bytearray()
    for ch in _nfc(text):
        if ch.isascii():
            out.append(ord(ch))
        elif ch in _VNI_ENCODE:
            out += _VNI_ENCODE[ch]
        else:
            raise LegacyTextError(f"{ch!r} (U+{ord(ch):04X}) has no VNI-Windows code")
    return bytes(out)


# --- Undoing the code-page decoding ----------------------------------------------------------

_LEGACY_CODECS = frozenset({"cp1252", "cp1258", "iso8859-1"})


def legacy_bytes(text: str, codec: str) -> bytes:
    """The bytes `text` was decoded from with `codec` ("cp1252", "cp1258" or "latin-1").

    Excel passes bytes cp1252 leaves undefined through as U+0080..U+009F, so characters the
    codec cannot encode fall back to latin-1. Pass the string as decoded: NFC-normalising it
    first can merge cp1258's combining marks into letters and lose the original bytes.
    """
    try:
        name = codecs.lookup(codec).name
    except LookupError:
        name = ""
    if name not in _LEGACY_CODECS:
        raise LegacyTextError(f"{codec!r} is not a single-byte code page legacy text comes from")
    try:
        return text.encode(name)
    except UnicodeEncodeError:
        return b"".join(_char_bytes(ch, name) for ch in text)


def _char_bytes(ch: str, codec: str) -> bytes:
    for candidate in (codec, "latin-1"):
        try:
            return ch.encode(candidate)
        except UnicodeEncodeError:
            continue
    raise LegacyTextError(f"{ch!r} (U+{ord(ch):04X}) cannot come from bytes decoded as {codec}")


def _convert(value: str, encoding: Encoding, codec: str) -> str:
    raw = legacy_bytes(value, codec)
    return tcvn3_to_unicode(raw) if encoding == "tcvn3" else vni_to_unicode(raw)


# --- Vietnamese syllables --------------------------------------------------------------------

_ONSETS = (
    "", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng", "ngh",
    "nh", "p", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x",
)  # fmt: skip
# Toneless rhymes of standard orthography (plus the -k of Central Highlands names).
_RHYME_TABLE = """
    a ac ach ai ak am an ang anh ao ap at au ay   ăc ăk ăm ăn ăng ăp ăt
    âc âm ân âng âp ât âu ây   e ec em en eng eo ep et   ê êch êm ên ênh êp êt êu
    i ia ich im in inh ip it iu   iêc iêm iên iêng iêp iêt iêu
    o oc oi ok om on ong ooc oong op ot   ô ôc ôi ôk ôm ôn ông ôp ôt   ơ ơi ơm ơn ơp ơt
    oa oac oach oai oam oan oang oanh oao oap oat oay   oăc oăm oăn oăng oăt
    oe oem oen oeo oet   u ua uc ui uk um un ung up ut   uân uâng uât uây   uê uêch uênh
    uy uya uych uyn uynh uyp uyt uyu uyên uyêt   uơ   uôc uôi uôm uôn uông uôt
    ư ưa ưc ưi ưm ưn ưng ưt ưu   ươc ươi ươm ươn ương ươp ươt ươu
    y ych yn ynh yp yt yêm yên yêt yêu
"""
_RHYMES = frozenset(_RHYME_TABLE.split())
_STOP_CODAS = ("c", "ch", "k", "p", "t")
_FRONT_VOWELS = ("e", "ê", "i", "y")
# Word breaks: ASCII non-letters, whitespace and typographic punctuation. Never the Latin-1
# symbols (§, ¨, ¬...) that are letters in TCVN3 and must stay inside the word.
_SEPARATORS = re.compile(
    r"[\s\x00-\x40\x5b-\x60\x7b-\x7f"  # whitespace and ASCII other than letters
    r"\u2013\u2014\u2018\u2019\u201c\u201d\u2026]+"  # – — ‘ ’ “ ” …
)


def _words(text: str) -> list[str]:
    """Words with at least one non-ASCII character: the only ones a conversion changes."""
    return [w for w in _SEPARATORS.split(text) if w and not w.isascii()]


def _spelling_allowed(onset: str, rhyme: str) -> bool:
    """Onset/rhyme pairs the orthography forbids even though both parts exist."""
    if onset in ("gh", "ngh", "k"):
        return rhyme.startswith(_FRONT_VOWELS)
    if rhyme.startswith("y") and rhyme != "y":
        return onset in ("", "qu")  # yê/yn... only start a word or follow qu (else iê)
    return True


def is_vietnamese_syllable(word: str) -> bool:
    """Whether `word` is spelt as a Vietnamese syllable: onset + rhyme + at most one tone."""
    decomposed = _nfd(word.lower())
    tones = [c for c in decomposed if c in _TONES]
    if len(tones) > 1:
        return False
    bare = _nfc("".join(c for c in decomposed if c not in _TONES))
    for onset in _ONSETS:
        rhyme = bare[len(onset) :]
        if not (bare.startswith(onset) and rhyme in _RHYMES and _spelling_allowed(onset, rhyme)):
            continue
        # Syllables closed by a stop consonant only take the sắc or nặng tone.
        if not rhyme.endswith(_STOP_CODAS) or tones in ([_ACUTE], [_DOT]):
            return True
    return False


def _looks_like_text(word: str) -> float:
    """1.0 for a word of letters in a normal case pattern; less for the marks of mis-decoding.

    Mis-decoded TCVN3 puts symbols inside words (V¨n, §ång) and both codes put capitals
    mid-word (NguyÔn, AÙnh); real words are lower, Capitalised or ALL CAPS.
    """
    letters = [c for c in word if c.isalpha()]
    share = (len(letters) + sum(unicodedata.combining(c) > 0 for c in word)) / len(word)
    tail = "".join(letters[1:])
    regular = tail.islower() or "".join(letters).isupper() or not tail.isalpha()
    return share if regular else share / 2


def _score(text: str) -> _Score:
    """(share of valid Vietnamese syllables, how text-like the words are) over non-ASCII words.

    Compared as a tuple: syllables decide, the second part only breaks ties.
    """
    words = _words(text)
    if not words:
        return (0.0, 0.0)
    syllables = sum(map(is_vietnamese_syllable, words)) / len(words)
    return (syllables, sum(map(_looks_like_text, words)) / len(words))


# --- Detection -------------------------------------------------------------------------------

_LEGACY: tuple[Encoding, Encoding] = ("tcvn3", "vni")
_IMPOSSIBLE: _Score = (-1.0, -1.0)  # the value holds characters no legacy byte decodes to
_MIN_LEGACY_SCORE = 0.6  # mean share of valid syllables a conversion must reach


def _decodable(codec: str) -> frozenset[str]:
    """Every character bytes can decode to with `codec`, or with the latin-1 fallback."""
    chars = set(bytes(range(256)).decode("latin-1"))
    for byte in range(256):
        try:
            chars.add(bytes([byte]).decode(codec))
        except UnicodeDecodeError:
            continue
    return frozenset(chars)


_DECODABLE = {codec: _decodable(codec) for codec in ("cp1252", "cp1258")}
_UNICODE_ONLY: dict[Encoding, _Score] = {"unicode": (1.0, 1.0), "tcvn3": _IMPOSSIBLE,
                                         "vni": _IMPOSSIBLE}


def _value_scores(value: str, codec: str) -> dict[Encoding, _Score] | None:
    """Scores of one value read as each encoding; None when it has no non-ASCII word."""
    if not _words(_nfc(value)):
        return None
    decodable = _DECODABLE.get(codec)
    if decodable is not None and not decodable.issuperset(value):
        # A character no legacy byte decodes to ("ễ", "ă"): only Unicode can have typed it,
        # and its score does not matter (a legacy reading is impossible, so never better).
        return _UNICODE_ONLY
    scores: dict[Encoding, _Score] = {"unicode": _score(_nfc(value))}
    for encoding in _LEGACY:
        try:
            scores[encoding] = _score(_convert(value, encoding, codec))
        except LegacyTextError:
            scores[encoding] = _IMPOSSIBLE
    return scores


def _is_best_everywhere(rows: list[dict[Encoding, _Score]], encoding: Encoding) -> bool:
    return all(row[encoding] >= max(row.values()) for row in rows)


def _count(rows: Iterable[dict[Encoding, _Score]], better: Encoding, worse: Encoding) -> int:
    return sum(row[better] > row[worse] for row in rows)


def detect_encoding(values: Sequence[str], codec: str = "cp1252") -> Encoding:
    """How a column's text is encoded, judged on its distinct non-empty values.

    "unicode": no value reads better after a legacy conversion (plain ASCII included).
    "tcvn3"/"vni": every value reads at least as well converted, at least half read strictly
    better than as-is and than with the other legacy code, and most words become valid.
    "unknown": anything else, i.e. values disagree (a mixed column) or the evidence is thin.
    """
    distinct = dict.fromkeys(v for v in values if v and v.strip())
    rows = [s for v in distinct if (s := _value_scores(v, codec)) is not None]
    if _is_best_everywhere(rows, "unicode"):
        return "unicode"
    for encoding, other in (_LEGACY, _LEGACY[::-1]):
        if not _is_best_everywhere(rows, encoding):
            continue
        clearly_better = min(_count(rows, encoding, "unicode"), _count(rows, encoding, other))
        mean = sum(row[encoding][0] for row in rows) / len(rows)
        if 2 * clearly_better >= len(rows) and mean >= _MIN_LEGACY_SCORE:
            return encoding
    return "unknown"


# --- Capitals lost by TCVN3 ------------------------------------------------------------------

_LETTER_RUN = re.compile(r"[^\W\d_]+")


def _capitals(word: str) -> int:
    return sum(c.isupper() for c in word)


def _caps_like(word: str) -> bool:
    """No ASCII lowercase and some capital: all caps except letters VN3 could only write small."""
    return not any("a" <= c <= "z" for c in word) and _capitals(word) > 0


def _is_caps_word(word: str) -> bool:
    return _caps_like(word) and (_capitals(word) >= 2 or word[0].islower())


def _upper_vietnamese(word: str) -> str:
    return "".join(c.upper() if c in VIETNAMESE_LETTERS else c for c in word)


def restore_tcvn3_capitals(text: str) -> str:
    """Put back capitals that TCVN3 text could only store as lowercase toned letters.

    "NGUYễN VĂN Hồ" -> "NGUYỄN VĂN HỒ" (all-caps text written with .VnTimeH) and
    "Lê Thị Ngọc ánh" -> "Lê Thị Ngọc Ánh" (a word starting with such a letter among
    capitalised words, as in names and place names). Anything else is left alone.
    """
    if not any(c in _TCVN3_LOWER_ONLY for c in text):
        return text
    words = list(_LETTER_RUN.finditer(text))
    all_caps = all(_caps_like(m[0]) for m in words) and any(_is_caps_word(m[0]) for m in words)
    chars = list(text)
    for i, match in enumerate(words):
        word, others = match[0], [m[0] for m in words[:i] + words[i + 1 :]]
        if all_caps or _is_caps_word(word):
            chars[match.start() : match.end()] = _upper_vietnamese(word)
        elif word[0] in _TCVN3_LOWER_ONLY and _title_context(others):
            chars[match.start()] = word[0].upper()
    return "".join(chars)


def _title_context(others: list[str]) -> bool:
    """Every other word is capitalised (or also starts with a letter VN3 writes small)."""
    capitalised = [w[0].isupper() for w in others]
    return any(capitalised) and all(
        upper or w[0] in _TCVN3_LOWER_ONLY for upper, w in zip(capitalised, others, strict=True)
    )


# --- Column repair ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnRepair:
    """A column's detected encoding and its values as NFC Unicode (unchanged when unknown)."""

    encoding: Encoding
    values: list[str]


def repair_column(
    values: Sequence[str], codec: str = "cp1252", *, restore_capitals: bool = True
) -> ColumnRepair:
    """Convert a column to NFC Unicode if its encoding is certain.

    `codec` is the code page the values were decoded with. For "unknown" the values come back
    untouched so the caller can refuse the column. TCVN3 values also get their lost capitals
    back (see `restore_tcvn3_capitals`) unless `restore_capitals` is False.
    """
    encoding = detect_encoding(values, codec)
    if encoding == "unknown":
        return ColumnRepair(encoding, list(values))
    if encoding == "unicode":
        return ColumnRepair(encoding, [_nfc(v) for v in values])
    fixed = [_convert(v, encoding, codec) for v in values]
    if encoding == "tcvn3" and restore_capitals:
        fixed = [restore_tcvn3_capitals(v) for v in fixed]
    return ColumnRepair(encoding, fixed)
