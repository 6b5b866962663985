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
