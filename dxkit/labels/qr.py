"""QR symbols for labels: byte mode, fast enough for thousands of serialised codes.

With `compact=True` (certificates), long runs of QR-alphanumeric characters (digits, A-Z and
" $%*+-./:") go in alphanumeric segments of 5.5 bits a character instead of 8, and the rest in
byte segments: a signed code in base32 after a URL takes a symbol several versions smaller.

The `qrcode` package supplies the standard's tables (Reed-Solomon blocks, format and version
information, function patterns); the data encoding, placement and mask choice are done here on
whole-matrix integers. `qrcode` evaluates the eight masks module by module (about 5 ms a code);
with the matrix packed into one integer per orientation the same penalty rules cost tens of
microseconds, so a 1,000-label sheet run spends little time on its codes.
"""

from __future__ import annotations

import functools
import operator
import re
from dataclasses import dataclass

from qrcode.base import rs_blocks
from qrcode.main import QRCode
from qrcode.util import mask_func

# The standard's two-bit codes for the error correction levels (what `qrcode` calls them).
EC_BITS = {"L": 1, "M": 0, "Q": 3, "H": 2}
EC_ORDER = ("L", "M", "Q", "H")


@dataclass(frozen=True)
class QrSymbol:
    """A QR code without its quiet zone: rows top first, '1' is a dark module."""

    rows: tuple[str, ...]
    version: int
    ec_level: str
    mask: int

    @property
    def size(self) -> int:
        return len(self.rows)


class PayloadTooLong(ValueError):
    """The payload does not fit a version 40 symbol at the requested level."""


def encode(payload: str, ec_level: str = "M", *, upgrade: bool = True,
           mask: int | None = None, compact: bool = False) -> QrSymbol:
    """The smallest symbol holding `payload` (UTF-8, byte mode) at `ec_level` or better.

    With `upgrade`, a higher level is used when it fits the same version (it costs no space).
    `mask` forces a mask pattern (tests compare with `qrcode`); otherwise the one with the
    lowest penalty is chosen, as the standard asks. `compact` puts long alphanumeric runs in
    alphanumeric segments (same decoded text, fewer modules).
    """
    if compact:
        segments = _segments(payload)
        version = _fitting_segments_version(segments, ec_level)
        if upgrade:
            for better in EC_ORDER[EC_ORDER.index(ec_level) + 1:]:
                if _segment_bits(segments, version) <= 8 * _data_codeword_count(version,
                                                                                 better):
                    ec_level = better
        stream = _segment_stream(segments, version, ec_level)
        return _symbol(_ec_codewords(stream, version, ec_level), version, ec_level, mask)
    data = payload.encode("utf-8")
    version = fitting_version(len(data), ec_level)
    if upgrade:
        for better in EC_ORDER[EC_ORDER.index(ec_level) + 1:]:
            if len(data) <= byte_capacity(version, better):
                ec_level = better
    return _symbol(_codewords(data, version, ec_level), version, ec_level, mask)


def _symbol(codewords: list[int], version: int, ec_level: str, mask: int | None) -> QrSymbol:
    grid = _Grid.of(version)
    bits = format(int.from_bytes(bytes(codewords), "big"), f"0{8 * len(codewords)}b")
    bits = bits.ljust(grid.data_modules + 1, "0")
    data_rows = int("".join(grid.row_order(bits)), 2)
    data_cols = int("".join(grid.col_order(bits)), 2)
    masks = range(8) if mask is None else (mask,)
    best = min(masks, key=lambda m: grid.penalty(m, ec_level, data_rows, data_cols))
    packed = grid.function_rows(best, ec_level) | (data_rows ^ grid.mask_rows[best])
    text = format(packed, f"0{grid.n * grid.n}b")
    rows = tuple(text[i:i + grid.n] for i in range(0, len(text), grid.n))
    return QrSymbol(rows, version, ec_level, best)


def fitting_version(byte_count: int, ec_level: str) -> int:
    for version in range(1, 41):
        if byte_count <= byte_capacity(version, ec_level):
            return version
    raise PayloadTooLong(f"{byte_count} bytes do not fit a QR code at level {ec_level}")


@functools.cache
def byte_capacity(version: int, ec_level: str) -> int:
    """How many payload bytes a symbol holds in byte mode."""
    count_bits = 8 if version <= 9 else 16
    return (_data_codeword_count(version, ec_level) * 8 - 4 - count_bits) // 8


@functools.cache
def _data_codeword_count(version: int, ec_level: str) -> int:
    return sum(block.data_count for block in rs_blocks(version, EC_BITS[ec_level]))


# -- data codewords and Reed-Solomon -----------------------------------------------------------
def _codewords(data: bytes, version: int, ec_level: str) -> list[int]:
    capacity = _data_codeword_count(version, ec_level)
    count_bits = 8 if version <= 9 else 16
    header = (0b0100 << count_bits) | len(data)
    bit_length = 4 + count_bits + 8 * len(data)
    value = (header << 8 * len(data)) | int.from_bytes(data, "big")
    terminator = min(4, capacity * 8 - bit_length)
    value <<= terminator
    bit_length += terminator
    value <<= -bit_length % 8
    stream = list(value.to_bytes((bit_length + 7) // 8, "big"))
    stream += [0xEC, 0x11] * ((capacity - len(stream)) // 2 + 1)
    return _ec_codewords(stream[:capacity], version, ec_level)


def _ec_codewords(stream: list[int], version: int, ec_level: str) -> list[int]:
    """The data codewords split in blocks, each with its Reed-Solomon codewords, interleaved."""
    blocks = rs_blocks(version, EC_BITS[ec_level])
    data_blocks, ec_blocks, start = [], [], 0
    for block in blocks:
        chunk = stream[start:start + block.data_count]
        start += block.data_count
        data_blocks.append(chunk)
        ec_blocks.append(_rs_remainder(chunk, block.total_count - block.data_count))
    return _interleave(data_blocks) + _interleave(ec_blocks)


# -- mixed segments (compact) -------------------------------------------------------------------
ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_ALNUM_VALUE = {ch: i for i, ch in enumerate(ALPHANUMERIC)}
_ALNUM_RUN = re.compile(f"[{re.escape(ALPHANUMERIC)}]{{16,}}")  # shorter runs: not worth a segment


def _segments(payload: str) -> list[tuple[str, str]]:
    """("byte" | "alnum", text) segments in order: alphanumeric runs of 16 or more characters
    (where a new segment header pays for itself), the rest bytes."""
    segments: list[tuple[str, str]] = []
    end = 0
    for run in _ALNUM_RUN.finditer(payload):
        if run.start() > end:
            segments.append(("byte", payload[end:run.start()]))
        segments.append(("alnum", run.group()))
        end = run.end()
    if end < len(payload) or not segments:
        segments.append(("byte", payload[end:]))
    return segments


def _count_bits(mode: str, version: int) -> int:
    if mode == "alnum":
        return 9 if version <= 9 else 11 if version <= 26 else 13
    return 8 if version <= 9 else 16


def _segment_bits(segments: list[tuple[str, str]], version: int) -> int:
    bits = 0
    for mode, text in segments:
        if mode == "alnum":
            bits += 4 + _count_bits(mode, version) + 11 * (len(text) // 2) + 6 * (len(text) % 2)
        else:
            bits += 4 + _count_bits(mode, version) + 8 * len(text.encode("utf-8"))
    return bits


def _fitting_segments_version(segments: list[tuple[str, str]], ec_level: str) -> int:
    for version in range(1, 41):
        if _segment_bits(segments, version) <= 8 * _data_codeword_count(version, ec_level):
            return version
    raise PayloadTooLong(f"the payload does not fit a QR code at level {ec_level}")


def _segment_stream(segments: list[tuple[str, str]], version: int, ec_level: str) -> list[int]:
    """The data codewords of the segments, terminated and padded to the symbol's capacity."""
    capacity = _data_codeword_count(version, ec_level)
    value, length = 0, 0

    def put(number: int, width: int) -> None:
        nonlocal value, length
        value = (value << width) | number
        length += width

    for mode, text in segments:
        if mode == "alnum":
            put(0b0010, 4)
            put(len(text), _count_bits(mode, version))
            for i in range(0, len(text) - 1, 2):
                put(45 * _ALNUM_VALUE[text[i]] + _ALNUM_VALUE[text[i + 1]], 11)
            if len(text) % 2:
                put(_ALNUM_VALUE[text[-1]], 6)
        else:
            data = text.encode("utf-8")
            put(0b0100, 4)
            put(len(data), _count_bits(mode, version))
            put(int.from_bytes(data, "big"), 8 * len(data))
    put(0, min(4, capacity * 8 - length))
    put(0, -length % 8)
    stream = list(value.to_bytes(length // 8, "big"))
    stream += [0xEC, 0x11] * ((capacity - len(stream)) // 2 + 1)
    return stream[:capacity]


def _interleave(blocks: list[list[int]]) -> list[int]:
    longest = max(len(block) for block in blocks)
    return [block[i] for i in range(longest) for block in blocks if i < len(block)]


def _gf_tables() -> tuple[list[int], list[int]]:
    exp, log = [0] * 512, [0] * 256
    value = 1
    for power in range(255):
        exp[power] = value
        log[value] = power
        value <<= 1
        if value & 0x100:
            value ^= 0x11D
    for power in range(255, 512):
        exp[power] = exp[power - 255]
    return exp, log


_EXP, _LOG = _gf_tables()


@functools.cache
def _generator_products(degree: int) -> tuple[int, ...]:
    """For every factor 0..255, the generator's coefficients (after the leading 1) times it,
    packed big-endian into one integer so a division step is a shift and an XOR."""
    poly = [1]
    for power in range(degree):
        nxt = [*poly, 0]
        for i, coef in enumerate(poly):
            if coef:
                nxt[i + 1] ^= _EXP[_LOG[coef] + power]
        poly = nxt
    tail = poly[1:]
    packed = [0]
    for factor in range(1, 256):
        products = bytes(_EXP[_LOG[factor] + _LOG[c]] if c else 0 for c in tail)
        packed.append(int.from_bytes(products, "big"))
    return tuple(packed)


def _rs_remainder(data: list[int], degree: int) -> list[int]:
    products = _generator_products(degree)
    keep = (1 << 8 * degree) - 1
    top = 8 * (degree - 1)
    remainder = 0
    for byte in data:
        factor = byte ^ (remainder >> top)
        remainder = ((remainder << 8) & keep) ^ products[factor]
    return list(remainder.to_bytes(degree, "big"))


# -- geometry of one version, packed as integers ----------------------------------------------
class _Grid:
    """Everything about a version that does not depend on the payload, computed once."""

    _cache: dict[int, _Grid] = {}  # noqa: RUF012 - a process-wide cache, shared on purpose

    @classmethod
    def of(cls, version: int) -> _Grid:
        if version not in cls._cache:
            cls._cache[version] = cls(version)
        return cls._cache[version]

    def __init__(self, version: int):
        self.version = version
        self.n = n = version * 4 + 17
        reserved = self._function_matrix(None, "M")
        order = _placement_order(reserved, n)
        index = {cell: k for k, cell in enumerate(order)}
        self.data_modules = blank = len(order)  # the bit string ends with one more "0"
        self.row_order = operator.itemgetter(
            *[index.get((r, c), blank) for r in range(n) for c in range(n)])
        self.col_order = operator.itemgetter(
            *[index.get((r, c), blank) for c in range(n) for r in range(n)])
        self.mask_rows: list[int] = []
        self.mask_cols: list[int] = []
        for mask in range(8):
            dark = mask_func(mask)
            cells = {cell for cell in order if dark(*cell)}
            self.mask_rows.append(_pack(cells, n, transpose=False))
            self.mask_cols.append(_pack(cells, n, transpose=True))
        self._functions: dict[tuple[int, str], tuple[int, int]] = {}
        self._valid = {width: self._window_starts(width) for width in (5, 11)}
        self._valid_rows_2x2 = self._block_starts()
        self.full = (1 << n * n) - 1

    def _function_matrix(self, mask: int | None, ec_level: str) -> list[list[bool | None]]:
        code = QRCode(error_correction=EC_BITS[ec_level])
        code.version, code.modules_count = self.version, self.n
        code.modules = [[None] * self.n for _ in range(self.n)]
        code.setup_position_probe_pattern(0, 0)
        code.setup_position_probe_pattern(self.n - 7, 0)
        code.setup_position_probe_pattern(0, self.n - 7)
        code.setup_position_adjust_pattern()
        code.setup_timing_pattern()
        code.setup_type_info(mask is None, mask or 0)
        if self.version >= 7:
            code.setup_type_number(mask is None)
        return code.modules

    def _functions_packed(self, mask: int, ec_level: str) -> tuple[int, int]:
        key = (mask, ec_level)
        if key not in self._functions:
            matrix = self._function_matrix(mask, ec_level)
            cells = {(r, c) for r in range(self.n) for c in range(self.n) if matrix[r][c]}
            self._functions[key] = (_pack(cells, self.n, transpose=False),
                                    _pack(cells, self.n, transpose=True))
        return self._functions[key]

    def function_rows(self, mask: int, ec_level: str) -> int:
        return self._functions_packed(mask, ec_level)[0]

    def _window_starts(self, width: int) -> int:
        """Bits where a run of `width` modules starts and stays inside one line."""
        line = (1 << (self.n - width + 1)) - 1
        return sum(line << (self.n * i) for i in range(self.n))

    def _block_starts(self) -> int:
        """Bits whose 2x2 block (the bit, its left and upper neighbours) lies in the matrix."""
        line = (1 << (self.n - 1)) - 1
        return sum(line << (self.n * i) for i in range(self.n - 1))

    def penalty(self, mask: int, ec_level: str, data_rows: int, data_cols: int) -> int:
        func_rows, func_cols = self._functions_packed(mask, ec_level)
        rows = func_rows | (data_rows ^ self.mask_rows[mask])
        cols = func_cols | (data_cols ^ self.mask_cols[mask])
        return self.score(rows, cols)

    def score(self, rows: int, cols: int) -> int:
        """The standard's penalty of a matrix given packed by rows and by columns."""
        score = self._line_penalty(rows) + self._line_penalty(cols)
        light = ~rows & self.full
        n = self.n
        for colour in (rows, light):  # N2: 2x2 blocks of one colour
            block = colour & (colour >> 1) & (colour >> n) & (colour >> (n + 1))
            score += 3 * (block & self._valid_rows_2x2).bit_count()
        dark_percent = rows.bit_count() * 100 // (n * n)
        return score + 10 * (abs(dark_percent - 50) // 5)  # N4

    def _line_penalty(self, packed: int) -> int:
        """N1 (runs of five or more) and N3 (finder-like 1:1:3:1:1) along every line."""
        light = ~packed & self.full
        score = 0
        for colour in (packed, light):
            run = colour & (colour >> 1) & (colour >> 2) & (colour >> 3) & (colour >> 4)
            run &= self._valid[5]
            score += run.bit_count() + 2 * (run & ~(run >> 1)).bit_count()
        # 1011101 (a palindrome) with four light modules after it or before it.
        core = packed & (light >> 1) & (packed >> 2) & (packed >> 3) & (packed >> 4) & \
            (light >> 5) & (packed >> 6)
        quiet = light & (light >> 1) & (light >> 2) & (light >> 3)
        after = quiet & (core >> 4) & self._valid[11]  # 1011101 then 0000 (reading order)
        before = core & (quiet >> 7) & self._valid[11]  # 0000 then 1011101
        return score + 40 * (after.bit_count() + before.bit_count())


def _pack(cells: set[tuple[int, int]], n: int, *, transpose: bool) -> int:
    value = 0
    for r, c in cells:
        line, pos = (c, r) if transpose else (r, c)
        value |= 1 << (n * n - 1 - (line * n + pos))
    return value


def _placement_order(reserved: list[list[bool | None]], n: int) -> list[tuple[int, int]]:
    """Data module positions in the standard's zigzag order, from the bottom-right corner."""
    order: list[tuple[int, int]] = []
    upward = True
    col = n - 1
    while col > 0:
        if col == 6:  # the vertical timing pattern is skipped
            col -= 1
        rows = range(n - 1, -1, -1) if upward else range(n)
        for row in rows:
            for c in (col, col - 1):
                if reserved[row][c] is None:
                    order.append((row, c))
        upward = not upward
        col -= 2
    return order


def dark_runs(row: str) -> list[tuple[int, int]]:
    """(start, length) of each run of dark modules in a row."""
    return [(m.start(), m.end() - m.start()) for m in _DARK.finditer(row)]


_DARK = re.compile("1+")
