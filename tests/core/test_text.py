import unicodedata

import pytest

from dxkit.core.text import fold, folded_key, nfc, tokens


@pytest.mark.parametrize(("raw", "folded"), [
    ("Nguyễn Văn Đồng", "nguyen van dong"),
    ("ĐỒNG THÁP", "dong thap"),
    ("Huỳnh Thị Mỹ Duyên", "huynh thi my duyen"),
    ("  Ấp   Mỹ Hưng ", "ap my hung"),
    (unicodedata.normalize("NFD", "Trần Thị Hương"), "tran thi huong"),
])
def test_fold_removes_case_diacritics_and_d_stroke(raw, folded):
    assert fold(raw) == folded


def test_nfc_normalises_and_collapses_space():
    decomposed = unicodedata.normalize("NFD", "Lê  Thị Ngọc Ánh ")
    assert nfc(decomposed) == "Lê Thị Ngọc Ánh"
    assert unicodedata.is_normalized("NFC", nfc(decomposed))


def test_tokens_split_codes_and_punctuation():
    assert tokens("MH-001/2") == ["mh", "001", "2"]
    assert folded_key("Đ.  Văn") == "d van"


@pytest.mark.parametrize(("typed", "stored"), [
    ("Nguy\u200bễn Văn An", "Nguyễn Văn An"),      # zero-width space inside a word
    ("\ufeffLê Thị Bình", "Lê Thị Bình"),          # a BOM at the start of a cell
    ("Trần\u00a0Văn\u2007Cường", "Trần Văn Cường"),  # no-break and figure spaces
    ("Võ\u202fThị\u3000Dung", "Võ Thị Dung"),        # narrow and ideographic spaces
    ("Phạm\u2060Văn\u200cEm", "PhạmVănEm"),          # word joiner, zero-width non-joiner
    ("Hồ\u00adThị\u200eGấm", "HồThịGấm"),            # soft hyphen, left-to-right mark
    ("gia đình 👨\u200d👩\u200d👧", "gia đình 👨\u200d👩\u200d👧"),  # an emoji sequence stays
])
def test_invisible_characters_are_not_stored(typed, stored):
    assert nfc(typed) == stored
    assert folded_key(nfc(typed)) == folded_key(stored)
