"""The fast QR encoder: module for module what `qrcode` makes, and readable by zxing-cpp."""

from __future__ import annotations

import random
import re

import pytest
import qrcode
import zxingcpp
from PIL import Image
from qrcode.util import MODE_8BIT_BYTE, QRData

from dxkit.labels.qr import EC_BITS, PayloadTooLong, _Grid, byte_capacity, encode

PAYLOADS = [
    "A",
    "https://truyxuat.dongthap.gov.vn/01/08935000000017/10/DT2611/21/1",  # 2 blocks (v5-M)
    "Xoài cát Hòa Lộc – Hợp tác xã Mỹ Đông – Đồng Tháp " * 4,  # UTF-8, version 9-10
    "x" * 700,  # version info blocks, many RS blocks of two lengths
]


def reference(payload: str, version: int, ec_level: str, mask: int) -> tuple[str, ...]:
    code = qrcode.QRCode(version=version, error_correction=EC_BITS[ec_level], border=0,
                         mask_pattern=mask)
    # Byte mode throughout, as ours: qrcode would otherwise switch to numeric mode for digits.
    code.add_data(QRData(payload.encode("utf-8"), mode=MODE_8BIT_BYTE), optimize=0)
    code.make(fit=False)
    return tuple("".join("1" if dark else "0" for dark in row) for row in code.modules)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_matrix_matches_qrcode_for_every_mask(payload: str) -> None:
    for ec_level in ("M", "Q", "H"):
        for mask in range(8):
            symbol = encode(payload, ec_level, upgrade=False, mask=mask)
            assert symbol.ec_level == ec_level and symbol.mask == mask
            assert symbol.rows == reference(payload, symbol.version, ec_level, mask)


def image(rows: tuple[str, ...], scale: int = 3) -> Image.Image:
    quiet = 4
    side = (len(rows) + 2 * quiet) * scale
    picture = Image.new("L", (side, side), 255)
    for r, row in enumerate(rows):
        for c, module in enumerate(row):
            if module == "1":
                picture.paste(0, ((c + quiet) * scale, (r + quiet) * scale,
                                  (c + quiet + 1) * scale, (r + quiet + 1) * scale))
    return picture


@pytest.mark.parametrize("payload", PAYLOADS)
def test_chosen_symbol_decodes_with_an_independent_decoder(payload: str) -> None:
    symbol = encode(payload)
    found = zxingcpp.read_barcodes(image(symbol.rows), formats=zxingcpp.BarcodeFormat.QRCode)
    assert [b.text for b in found] == [payload]
    assert str(found[0].ec_level) == symbol.ec_level
    assert found[0].extra["Version"] == str(symbol.version)


def test_level_is_m_or_better_and_upgraded_only_when_free() -> None:
    for payload in PAYLOADS:
        plain = encode(payload, "M", upgrade=False)
        upgraded = encode(payload, "M")
        assert upgraded.version == plain.version
        assert "LMQH".index(upgraded.ec_level) >= "LMQH".index("M")
        data = len(payload.encode())
        for better in "QH"[: max(0, "QH".find(upgraded.ec_level) + 1)]:
            assert data <= byte_capacity(plain.version, better)
    assert encode("A").ec_level == "H"  # a tiny payload gets the strongest level for free


def test_mask_is_the_lowest_penalty_of_the_eight() -> None:
    payload = PAYLOADS[1]
    chosen = encode(payload)
    masks = {encode(payload, mask=m).rows for m in range(8)}
    assert chosen.rows in masks and len(masks) == 8


def test_capacity_limits() -> None:
    assert byte_capacity(1, "M") == 14 and byte_capacity(40, "L") == 2953
    assert encode("x" * 14, "M", upgrade=False).version == 1
    assert encode("x" * 15, "M", upgrade=False).version == 2
    with pytest.raises(PayloadTooLong):
        encode("x" * 2400, "M")


def slow_penalty(rows: list[str]) -> int:
    """The four penalty rules written the obvious way, module by module."""
    n = len(rows)
    columns = ["".join(row[c] for row in rows) for c in range(n)]
    score = 0
    for line in rows + columns:
        score += sum(len(run.group()) - 2 for run in re.finditer(r"0{5,}|1{5,}", line))
        for pattern in ("10111010000", "00001011101"):
            score += 40 * sum(line[i:i + 11] == pattern for i in range(n - 10))
    score += 3 * sum(rows[r][c] == rows[r][c + 1] == rows[r + 1][c] == rows[r + 1][c + 1]
                     for r in range(n - 1) for c in range(n - 1))
    dark_percent = sum(row.count("1") for row in rows) * 100 // (n * n)
    return score + 10 * (abs(dark_percent - 50) // 5)


def test_packed_penalty_equals_the_rules_module_by_module() -> None:
    chooser = random.Random(4)
    for version in (1, 3, 7):
        grid = _Grid.of(version)
        n = grid.n
        for _ in range(40):
            rows = ["".join(chooser.choice("01") for _ in range(n)) for _ in range(n)]
            rows[chooser.randrange(n)] = ("0000" + "1011101" + "0000" + "1" * n)[:n]
            rows[chooser.randrange(n)] = "0" * n  # long runs and a lopsided dark share
            packed_rows = int("".join(rows), 2)
            packed_cols = int("".join("".join(r[c] for r in rows) for c in range(n)), 2)
            assert grid.score(packed_rows, packed_cols) == slow_penalty(rows)
