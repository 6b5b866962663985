"""A small valid course pack written on the fly, and the pieces hostile packs are made of."""

from __future__ import annotations

import copy
import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int = 4, height: int = 3, pixels: bytes | None = None) -> bytes:
    """A real PNG (8-bit RGB). `pixels`: the raw scanlines, filter bytes included."""
    if pixels is None:
        pixels = b"".join(b"\x00" + bytes(range(width * 3)) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (PNG_MAGIC + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels))
            + chunk(b"IEND", b""))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that says it is width × height but carries a tiny picture: only the header is
    read, so the size it claims is what is checked."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (PNG_MAGIC + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


def jpeg(width: int = 640, height: int = 480, exif: int = 0) -> bytes:
    """The segments of a baseline JPEG up to its frame header (with `exif` bytes of an APP1
    segment before it), then an end of image."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    out = b"\xff\xd8\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0
    remaining = exif
    while remaining > 0:
        size = min(remaining, 65000)
        out += b"\xff\xe1" + struct.pack(">H", size + 2) + b"E" * size
        remaining -= size
    sof = struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"
    return out + b"\xff\xc0" + struct.pack(">H", len(sof) + 2) + sof + b"\xff\xd9"


def lesson(lesson_id: str, number: int, **changes: Any) -> dict[str, Any]:
    stem = f"lessons/{number:02d}-{lesson_id}"
    found: dict[str, Any] = {
        "id": lesson_id,
        "title": {"vi": f"Bài {number}", "en": f"Lesson {number}"},
        "minutes": 90,
        "objectives": {"vi": ["Mục tiêu một", "Mục tiêu hai"],
                       "en": ["Objective one", "Objective two"]},
        "content": {"vi": f"{stem}.vi.md", "en": f"{stem}.en.md"},
        "skills": [{"id": "ky-nang-1", "text": {"vi": "Tự làm được", "en": "Does it"}},
                   {"id": "ky-nang-2", "text": {"vi": "Chỉ được cho người khác",
                                                "en": "Shows someone else"}}],
        "mastery": {"skills": "all"},
    }
    found.update(changes)
    return found


QUIZ = [
    {"id": "q1", "type": "single",
     "prompt": {"vi": "Mã khóa nào an toàn hơn?", "en": "Which lock code is safer?"},
     "choices": [{"id": "a", "text": {"vi": "123456", "en": "123456"}},
                 {"id": "b", "text": {"vi": "Một mã khó đoán", "en": "A hard-to-guess code"}}],
     "answer": ["b"],
     "explanation": {"vi": "Mã dễ đoán ai cũng mở được.", "en": "Anyone opens an easy code."}},
    {"id": "q2", "type": "multiple",
     "prompt": {"vi": "Nên làm gì?", "en": "What should you do?"},
     "choices": [{"id": "a", "text": {"vi": "Cập nhật", "en": "Update"}},
                 {"id": "b", "text": {"vi": "Đặt khóa", "en": "Set a lock"}},
                 {"id": "c", "text": {"vi": "Cho mượn mã OTP", "en": "Share the OTP"}}],
     "answer": ["a", "b"]},
    {"id": "q3", "type": "true_false",
     "prompt": {"vi": "Cán bộ không bao giờ hỏi mã OTP.", "en": "Officials never ask for an OTP."},
     "answer": True,
     "explanation": {"vi": "Đúng.", "en": "True."}},
]


def manifest() -> dict[str, Any]:
    return {
        "format": "dxkit-course-pack/1",
        "id": "vn.test.ky-nang-thu",
        "version": "2026.12.1",
        "as_of": "2026-12-01",
        "title": {"vi": "Khóa học thử", "en": "A test course"},
        "summary": {"vi": "Dùng điện thoại an toàn.", "en": "Using a phone safely."},
        "licence": "CC BY 4.0",
        "authors": ["Tổ công nghệ số thử"],
        "languages": ["vi", "en"],
        "completion": {"lessons_mastered": "all", "attendance_share": 0.75},
        "lessons": [
            lesson("dien-thoai", 1, indicator="smartphone", quiz=copy.deepcopy(QUIZ),
                   mastery={"skills": "all", "quiz": {"rule": "pass_mark", "share": 0.8}}),
            lesson("thanh-toan", 2, mastery={"skills": 1}),
        ],
    }


LESSON_1_VI = """# Điện thoại an toàn

Đặt **mã khóa màn hình** trước tiên.

![Màn hình khóa](../images/khoa.png "Khóa")

- Vào *Cài đặt*
- Chọn [Bảo mật](https://dichvucong.gov.vn/p/home.html)

> Mã OTP không đưa cho ai.

![Mã QR](../images/qr.jpg)
"""

LESSON_1_EN = """# A safe phone

Set a **screen lock** first: a < b and 3 > 2 are fine.

![Lock screen](<../images/khoa.png>)

1. Open *Settings*
2. See [the portal][portal] or <https://vneid.gov.vn> or <tro-giup@example.vn>

[portal]: https://dichvucong.gov.vn
"""

LESSON_2 = """# Thanh toán

Xem lại [bài 1](01-dien-thoai.vi.md#mo-dau) và [phần dưới](#cuoi).
Gọi [tổng đài](tel:1900561563) hoặc ![ảnh](../images/ảnh%20qr.png).

Bước [1]: mở ứng dụng. Số tiền < 500.000 đồng, mã 3<4; xem <mailto:ho-tro@example.vn>.
"""


def files() -> dict[str, bytes]:
    return {
        "lessons/01-dien-thoai.vi.md": LESSON_1_VI.encode(),
        "lessons/01-dien-thoai.en.md": LESSON_1_EN.encode(),
        "lessons/02-thanh-toan.vi.md": LESSON_2.encode(),
        "lessons/02-thanh-toan.en.md": LESSON_2.replace("bài 1", "lesson 1").encode(),
        "images/khoa.png": png(40, 30),
        "images/qr.jpg": jpeg(640, 480),
        "images/ảnh qr.png": png(8, 8),
        "LICENSE.txt": "CC BY 4.0 — Tổ công nghệ số thử\n".encode(),
    }


def write_pack(root: Path, data: dict[str, Any] | None = None,
               changes: dict[str, bytes | None] | None = None,
               raw_manifest: bytes | None = None) -> Path:
    """The valid pack in folder `root`, with `data` for course.json and `changes` to its files
    (None removes one)."""
    content = files()
    for name, value in (changes or {}).items():
        if value is None:
            content.pop(name, None)
        else:
            content[name] = value
    root.mkdir(parents=True, exist_ok=True)
    text = raw_manifest if raw_manifest is not None else json.dumps(
        manifest() if data is None else data, ensure_ascii=False, indent=2).encode()
    (root / "course.json").write_bytes(text)
    for name, value in content.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(value)
    return root


def zip_folder(folder: Path, target: Path, prefix: str = "",
               extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, prefix + path.relative_to(folder).as_posix())
        for name, value in (extra or {}).items():
            archive.writestr(zipfile.ZipInfo(name), value)
    return target
