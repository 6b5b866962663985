"""Legacy TCVN3 / VNI text: code tables, round trips, column detection and repair."""

from __future__ import annotations

import unicodedata

import pytest

from dxkit.households.legacy_text import (
    VIETNAMESE_LETTERS,
    ColumnRepair,
    LegacyTextError,
    detect_encoding,
    is_vietnamese_syllable,
    legacy_bytes,
    repair_column,
    restore_tcvn3_capitals,
    tcvn3_to_unicode,
    unicode_to_tcvn3,
    unicode_to_vni,
    vni_to_unicode,
)

# Typed out by hand, vowel by vowel: plain, huyền, sắc, hỏi, ngã, nặng.
LOWER_LETTERS = (
    "àáảãạ ăằắẳẵặ âầấẩẫậ èéẻẽẹ êềếểễệ ìíỉĩị òóỏõọ ôồốổỗộ ơờớởỡợ ùúủũụ ưừứửữự ỳýỷỹỵ đ"
).replace(" ", "")
UPPER_LETTERS = (
    "ÀÁẢÃẠ ĂẰẮẲẴẶ ÂẦẤẨẪẬ ÈÉẺẼẸ ÊỀẾỂỄỆ ÌÍỈĨỊ ÒÓỎÕỌ ÔỒỐỔỖỘ ƠỜỚỞỠỢ ÙÚỦŨỤ ƯỪỨỬỮỰ ỲÝỶỸỴ Đ"
).replace(" ", "")
TCVN3_CAPITALS = "ĂÂÊÔƠƯĐ"  # the only capitals VN3 has a code for

PEOPLE = [
    "Nguyễn Văn Đồng",
    "Trần Thị Hương",
    "Lê Thị Ngọc Ánh",
    "Huỳnh Thị Mỹ Duyên",
    "Phạm Minh Tuấn",
    "Võ Thị Thu Hà",
    "Đặng Quốc Việt",
    "Bùi Thị Lệ Quyên",
    "Dương Văn Lực",
    "Ngô Bảo Châu",
    "Hồ Thị Kim Oanh",
    "Trương Công Định",
    "Ông Ích Khiêm",
    "Đỗ Thị Ẩn",
    "Lý Văn Út",
    "Tran Van Be",
]
PLACES = [
    "Đồng Tháp",
    "Ấp Mỹ Hưng",
    "Phường Mỹ Phước",
    "Xã Tân Hòa",
    "Thị trấn Cái Bè",
    "Huyện Châu Thành",
    "Tỉnh Đắk Lắk",
    "Thành phố Hồ Chí Minh",
    "Quận Hải Châu",
    "Khóm 3",
]
CODECS = ["cp1252", "cp1258", "latin-1"]


def test_the_134_vietnamese_letters() -> None:
    assert len(LOWER_LETTERS) == len(UPPER_LETTERS) == 67
    assert LOWER_LETTERS.upper() == UPPER_LETTERS
    assert set(LOWER_LETTERS + UPPER_LETTERS) == VIETNAMESE_LETTERS


# --- Decoding known text ---------------------------------------------------------------------

TCVN3_EXAMPLES = [
    # (as shown when decoded as cp1252, Unicode; VN3 has no capitals with tones)
    ("NguyÔn V¨n §ång", "Nguyễn Văn Đồng"),
    ("TrÇn ThÞ H\xad¬ng", "Trần Thị Hương"),
    ("Lª ThÞ Ngäc ¸nh", "Lê Thị Ngọc ánh"),
    ("Huúnh ThÞ Mü Duyªn", "Huỳnh Thị Mỹ Duyên"),
    ("§ång Th¸p", "Đồng Tháp"),
    ("Êp Mü H\xadng", "ấp Mỹ Hưng"),
    ("Ph\xadêng Mü Ph\xadíc", "Phường Mỹ Phước"),
    ("Thµnh phè Hå ChÝ Minh", "Thành phố Hồ Chí Minh"),
    ("TØnh §¾k L¾k, ViÖt Nam", "Tỉnh Đắk Lắk, Việt Nam"),
    ("Vâ ThÞ Thu Hµ - §Æng Quèc ViÖt", "Võ Thị Thu Hà - Đặng Quốc Việt"),
    ("¡n, ¢u, £m, ¤ng, ¥i, ¦u", "Ăn, Âu, Êm, Ông, Ơi, Ưu"),
]
VNI_EXAMPLES = [
    ("Nguyeãn Vaên Ñoàng", "Nguyễn Văn Đồng"),
    ("Traàn Thò Höông", "Trần Thị Hương"),
    ("Leâ Thò Ngoïc AÙnh", "Lê Thị Ngọc Ánh"),
    ("Huyønh Thò Myõ Duyeân", "Huỳnh Thị Mỹ Duyên"),
    ("Ñoàng Thaùp", "Đồng Tháp"),
    ("AÁp Myõ Höng", "Ấp Mỹ Hưng"),
    ("Phöôøng Myõ Phöôùc", "Phường Mỹ Phước"),
    ("Thaønh phoá Hoà Chí Minh", "Thành phố Hồ Chí Minh"),
    ("Tænh Ñaék Laék, Vieät Nam", "Tỉnh Đắk Lắk, Việt Nam"),
    ("ÑÖÔØNG LEÂ LÔÏI, QUAÄN 1", "ĐƯỜNG LÊ LỢI, QUẬN 1"),
    ("Lyù Thò Ngoïc Haèng, Ñaø Naüng", "Lý Thị Ngọc Hằng, Đà Nẵng"),
]


@pytest.mark.parametrize(("shown", "expected"), TCVN3_EXAMPLES)
def test_tcvn3_decodes_known_text(shown: str, expected: str) -> None:
    decoded = tcvn3_to_unicode(shown.encode("cp1252"))
    assert decoded == expected
    assert unicodedata.is_normalized("NFC", decoded)


@pytest.mark.parametrize(("shown", "expected"), VNI_EXAMPLES)
def test_vni_decodes_known_text(shown: str, expected: str) -> None:
    decoded = vni_to_unicode(shown.encode("cp1252"))
    assert decoded == expected
    assert unicodedata.is_normalized("NFC", decoded)


def test_tcvn3_code_points() -> None:
    codes = {
        "Ă": 0xA1, "Â": 0xA2, "Ê": 0xA3, "Ô": 0xA4, "Ơ": 0xA5, "Ư": 0xA6, "Đ": 0xA7,
        "ă": 0xA8, "â": 0xA9, "ê": 0xAA, "ô": 0xAB, "ơ": 0xAC, "ư": 0xAD, "đ": 0xAE,
        "à": 0xB5, "ạ": 0xB9, "ằ": 0xBB, "ặ": 0xC6, "ầ": 0xC7, "ậ": 0xCB, "è": 0xCC,
        "ẻ": 0xCE, "ẹ": 0xD1, "ễ": 0xD4, "ì": 0xD7, "ĩ": 0xDC, "ị": 0xDE, "ò": 0xDF,
        "ỏ": 0xE1, "ồ": 0xE5, "ợ": 0xEE, "ù": 0xEF, "ủ": 0xF1, "ự": 0xF9, "ỳ": 0xFA,
        "ỵ": 0xFE,
    }  # fmt: skip
    for letter, code in codes.items():
        assert unicode_to_tcvn3(letter) == bytes([code]), letter
        assert tcvn3_to_unicode(bytes([code])) == letter


def test_vni_code_points() -> None:
    codes = {
        "ă": b"a\xea", "ấ": b"a\xe1", "ặ": b"a\xeb", "ẳ": b"a\xfa", "ẫ": b"a\xe3",
        "Ấ": b"A\xc1", "Ặ": b"A\xcb", "ệ": b"e\xe4", "ỏ": b"o\xfb", "ơ": b"\xf4",
        "ờ": b"\xf4\xf8", "Ở": b"\xd4\xdb", "ư": b"\xf6", "Ự": b"\xd6\xcf", "đ": b"\xf1",
        "Đ": b"\xd1", "ì": b"\xec", "ỉ": b"\xe6", "ĩ": b"\xf3", "Ị": b"\xd2", "ỳ": b"y\xf8",
        "ỹ": b"y\xf5", "ỵ": b"\xee", "Ỵ": b"\xce",
    }  # fmt: skip
    for letter, code in codes.items():
        assert unicode_to_vni(letter) == code, letter
        assert vni_to_unicode(code) == letter


# --- Round trips -----------------------------------------------------------------------------


def test_tcvn3_round_trip_of_every_letter() -> None:
    letters = LOWER_LETTERS + TCVN3_CAPITALS
    codes = [unicode_to_tcvn3(letter) for letter in letters]
    assert all(len(c) == 1 and c[0] >= 0xA1 for c in codes)
    assert len(set(codes)) == len(letters)
    assert [tcvn3_to_unicode(c) for c in codes] == list(letters)


def test_tcvn3_capitals_with_tones_use_the_lowercase_code() -> None:
    for capital in set(UPPER_LETTERS) - set(TCVN3_CAPITALS):
        assert unicode_to_tcvn3(capital) == unicode_to_tcvn3(capital.lower()), capital


def test_vni_round_trip_of_every_letter() -> None:
    letters = LOWER_LETTERS + UPPER_LETTERS
    codes = [unicode_to_vni(letter) for letter in letters]
    assert len(set(codes)) == len(letters)
    assert [vni_to_unicode(c) for c in codes] == list(letters)


@pytest.mark.parametrize("text", PEOPLE + PLACES + ["Giữa khuya, quýt chín ở Nghệ An."])
def test_text_round_trips(text: str) -> None:
    assert vni_to_unicode(unicode_to_vni(text)) == text
    # TCVN3 keeps ASCII capitals and Ă Â Ê Ô Ơ Ư Đ; other capitals come back lowercase.
    kept = "".join(c if c.isascii() or c in TCVN3_CAPITALS else c.lower() for c in text)
    assert tcvn3_to_unicode(unicode_to_tcvn3(text)) == kept


def test_encoders_accept_nfd_input() -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Văn Đồng")
    assert unicode_to_vni(nfd) == unicode_to_vni("Nguyễn Văn Đồng")
    assert unicode_to_tcvn3(nfd) == unicode_to_tcvn3("Nguyễn Văn Đồng")


def test_ascii_is_never_touched() -> None:
    ascii_text = bytes(range(0x20, 0x7F))
    assert tcvn3_to_unicode(ascii_text) == ascii_text.decode()
    assert vni_to_unicode(ascii_text) == ascii_text.decode()
    assert unicode_to_tcvn3(ascii_text.decode()) == ascii_text
    assert unicode_to_vni(ascii_text.decode()) == ascii_text


def test_bytes_without_a_letter_show_the_windows_glyph() -> None:
    assert tcvn3_to_unicode(b"\x80 \x96 \x81") == "€ – \x81"
    # A VNI mark after a consonant is not glued to it.
    assert vni_to_unicode(b"b\xf9") == "bù"
    assert vni_to_unicode(b"o\xea") == "oê"  # breve only goes on a
    assert vni_to_unicode(b"a\xd9") == "aÙ"  # a small letter takes the small marks
    assert vni_to_unicode(b"i\xf8") == "iø"  # i has single-byte tones


def test_every_byte_decodes_to_one_character() -> None:
    for byte in range(256):
        assert len(tcvn3_to_unicode(bytes([byte]))) == 1
        assert len(vni_to_unicode(bytes([byte]))) == 1


@pytest.mark.parametrize("text", ["ç", "€", "ĉ", "Müller", "汉"])
def test_encoders_refuse_non_vietnamese_letters(text: str) -> None:
    with pytest.raises(LegacyTextError):
        unicode_to_tcvn3(text)
    with pytest.raises(LegacyTextError):
        unicode_to_vni(text)


# --- legacy_bytes ----------------------------------------------------------------------------


def test_legacy_bytes_reverses_the_code_page() -> None:
    raw = bytes(range(0xA0, 0x100))
    for codec in CODECS:
        assert legacy_bytes(raw.decode(codec), codec) == raw
    assert legacy_bytes("NguyÔn", "windows-1252") == b"Nguy\xd4n"
    assert legacy_bytes("a\u0301", "cp1258") == b"a\xec"


def test_legacy_bytes_falls_back_to_latin1_for_c1_controls() -> None:
    assert legacy_bytes("\x81\x8d€", "cp1252") == b"\x81\x8d\x80"
    assert legacy_bytes("\x81Ã", "cp1258") == b"\x81\xc3"


def test_legacy_bytes_refuses_what_no_byte_decodes_to() -> None:
    with pytest.raises(LegacyTextError, match=r"U\+01B0"):
        legacy_bytes("ư", "cp1252")
    with pytest.raises(LegacyTextError):
        legacy_bytes("ạ", "cp1258")
    with pytest.raises(ValueError, match="code page"):
        legacy_bytes("abc", "utf-8")


# --- Detection and repair --------------------------------------------------------------------


@pytest.mark.parametrize("column", [PEOPLE, PLACES], ids=["people", "places"])
@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize(
    ("encoder", "encoding"), [(unicode_to_tcvn3, "tcvn3"), (unicode_to_vni, "vni")]
)
def test_legacy_columns_are_detected_and_repaired(
    column: list[str], codec: str, encoder, encoding: str
) -> None:
    shown = ["", *(encoder(v).decode(codec) for v in column), "   "]
    assert detect_encoding(shown, codec) == encoding
    repair = repair_column(shown, codec)
    assert repair == ColumnRepair(encoding, ["", *column, "   "])


def test_xlsx_text_with_c1_controls_is_repaired() -> None:
    # Excel hands the undefined cp1252 byte 0x81 through as U+0081.
    raw = [unicode_to_tcvn3(v) for v in PEOPLE[:4]] + [b"\x81" + unicode_to_tcvn3("Võ Thị Hà")]
    shown = [r.decode("latin-1") for r in raw]
    repair = repair_column(shown, "cp1252")
    assert repair.encoding == "tcvn3"
    assert repair.values == [*PEOPLE[:4], "\x81Võ Thị Hà"]


@pytest.mark.parametrize("form", ["NFC", "NFD"])
@pytest.mark.parametrize("codec", CODECS)
def test_unicode_columns_stay_unicode(form: str, codec: str) -> None:
    column = [unicodedata.normalize(form, v) for v in PEOPLE + PLACES]  # type: ignore[arg-type]
    assert detect_encoding(column, codec) == "unicode"
    assert repair_column(column, codec) == ColumnRepair("unicode", PEOPLE + PLACES)


@pytest.mark.parametrize("codec", CODECS)
def test_unicode_names_made_of_latin1_letters_stay_unicode(codec: str) -> None:
    # Each of these also decodes to something plausible, but never to something better.
    column = ["Lê Hà", "Tô Lý", "Lâm Tú", "Mai Hoà", "Hà Tiên", "Phú Yên"]
    assert detect_encoding(column, codec) == "unicode"


@pytest.mark.parametrize(
    "column",
    [
        ["HS-001", "HS-002", "12/03/1985", "0912 345 678", "Nguyen Van A", "Ap 3"],
        [],
        ["", "  "],
    ],
)
def test_ascii_and_empty_columns_are_unicode(column: list[str]) -> None:
    assert detect_encoding(column) == "unicode"
    assert repair_column(column).values == column


def test_foreign_names_and_symbols_are_not_taken_for_legacy_text() -> None:
    column = ["José Müller", "Søren Ærø", "François", "Nguyễn Thị Ngọc Ánh"]
    assert detect_encoding(column, "cp1252") == "unicode"
    column = ["Diện tích ½ ha", "© Hợp tác xã Tân Hòa", "Giá 5.000 ₫", "Lê Hà"]
    assert detect_encoding(column, "cp1252") == "unicode"


def test_all_caps_tcvn3_gets_its_capitals_back() -> None:
    # Typed for the .VnTimeH font: capitals with tones are stored with lowercase codes.
    column = ["NGUYÔN V¡N §åNG", "TRÇN THÞ H¦¥NG", "ÊP Mü H¦NG"]
    repair = repair_column(column)
    assert repair == ColumnRepair("tcvn3", ["NGUYỄN VĂN ĐỒNG", "TRẦN THỊ HƯƠNG", "ẤP MỸ HƯNG"])


def test_mostly_ascii_column_with_a_few_legacy_values() -> None:
    column = ["Tran Van Be", "Le Van Tam", "HS-004", unicode_to_tcvn3("Đồng Tháp").decode("cp1252")]
    assert repair_column(column).values == ["Tran Van Be", "Le Van Tam", "HS-004", "Đồng Tháp"]


@pytest.mark.parametrize("codec", ["cp1252", "cp1258"])
def test_mixed_columns_are_unknown(codec: str) -> None:
    tcvn3 = [unicode_to_tcvn3(v).decode(codec) for v in PEOPLE[:5]]
    vni = [unicode_to_vni(v).decode(codec) for v in PEOPLE[5:10]]
    for column in (tcvn3 + PEOPLE[5:10], tcvn3 + vni, PLACES[:3] + vni):
        assert detect_encoding(column, codec) == "unknown"
        repair = repair_column(column, codec)
        assert repair.encoding == "unknown"
        assert repair.values == column


def test_one_legacy_value_among_ambiguous_ones_is_unknown() -> None:
    # VNI "Hoàng" is Hồng, but it is also a valid Unicode name; only one value settles it.
    column = ["Hoàng", "Thò Hoa", "Hoà Bình", "Nguyeãn Vaên Ñoàng"]
    assert detect_encoding(column) == "unknown"
    assert detect_encoding([*column, "Traàn Thò Höông", "Leâ Thò Ngoïc AÙnh"]) == "vni"


@pytest.mark.parametrize(
    "column",
    [
        ["Ö¨Ý", "ÞÜ§", "¸×ß", "Çæ"],  # TCVN3 letters, but no Vietnamese words
        ["§T: 0912345678", "§/c: Th«n 3", "Tæ 5"],  # abbreviations: too little to go on
    ],
)
def test_legacy_symbols_without_vietnamese_words_are_unknown(column: list[str]) -> None:
    assert detect_encoding(column) == "unknown"


# --- Capitals lost by TCVN3 ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decoded", "expected"),
    [
        ("Lê Thị Ngọc ánh", "Lê Thị Ngọc Ánh"),
        ("ấp Mỹ Hưng", "Ấp Mỹ Hưng"),
        ("ỷ Lan", "Ỷ Lan"),
        ("NGUYễN VĂN Hồ", "NGUYỄN VĂN HỒ"),
        ("ấP 3", "ẤP 3"),
        ("Trường THCS Lê Lợi - ấP 3", "Trường THCS Lê Lợi - ẤP 3"),
        ("đi học ở trường", "đi học ở trường"),
        ("ấp", "ấp"),
        ("Xã Mỹ Hồ", "Xã Mỹ Hồ"),
        ("Số 5 đường Lê Lợi", "Số 5 đường Lê Lợi"),
    ],
)
def test_restore_tcvn3_capitals(decoded: str, expected: str) -> None:
    assert restore_tcvn3_capitals(decoded) == expected


def test_capital_restoring_can_be_turned_off() -> None:
    shown = [unicode_to_tcvn3(v).decode("cp1252") for v in ("Lê Thị Ngọc Ánh", "Ấp Mỹ Hưng")]
    repair = repair_column(shown, restore_capitals=False)
    assert repair.values == ["Lê Thị Ngọc ánh", "ấp Mỹ Hưng"]


# --- Syllables -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "word", ["Nguyễn", "khuya", "quýt", "giữa", "NGHIÊNG", "Đắk", "thuở", "xoong", "oanh"]
)
def test_valid_syllables(word: str) -> None:
    assert is_vietnamese_syllable(word)


@pytest.mark.parametrize(
    "word", ["NguyÔn", "V¨n", "Nguyeãn", "Ñoàng", "mát̀", "bac", "Müller", "Phöôùc", "ngyễn"]
)
def test_invalid_syllables(word: str) -> None:
    assert not is_vietnamese_syllable(word)
