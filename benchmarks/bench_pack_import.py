"""Reading a course pack of about 30 MB of images from a .zip: time and peak memory of
`dxkit.lessons.packs.read_pack` (every check included: names, sizes, image headers, digests).

    .venv/bin/python benchmarks/bench_pack_import.py [--images 20] [--image-mb 1.5] [--repeat 3]

The images are real PNGs (valid chunks and CRCs) whose pixels are random, so neither PNG nor
the zip can compress them: the reader inflates and hashes every byte. Target (issue 12): at
most 3 s; memory bounded by the largest file a pack may hold, not by the pack's size.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import struct
import sys
import tempfile
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dxkit.lessons.packs import read_pack


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def noise_png(size: int, rng: random.Random) -> bytes:
    """An RGB PNG of about `size` bytes of random pixels (stored deflate blocks, level 0)."""
    width = 1000
    height = max(1, size // (width * 3 + 1))
    rows = b"".join(b"\x00" + rng.randbytes(width * 3) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows, 0)) + chunk(b"IEND", b""))


def build(target: Path, images: int, image_bytes: int) -> tuple[int, int]:
    rng = random.Random(12)
    lessons, names = [], []
    for number in range(1, images + 1):
        names.append(f"images/anh-{number:02d}.png")
    per_lesson = max(1, images // 10)
    for number in range(1, 11):
        shown = names[(number - 1) * per_lesson:number * per_lesson]
        lesson_id = f"bai-{number:02d}"
        lessons.append({
            "id": lesson_id,
            "title": {"vi": f"Bài {number}", "en": f"Lesson {number}"},
            "minutes": 60,
            "objectives": {"vi": ["Một", "Hai"], "en": ["One", "Two"]},
            "content": {"vi": f"lessons/{number:02d}-{lesson_id}.vi.md",
                        "en": f"lessons/{number:02d}-{lesson_id}.en.md"},
            "skills": [{"id": "lam-duoc", "text": {"vi": "Tự làm được", "en": "Does it"}}],
            "mastery": {"skills": "all"},
            "_shown": shown,
        })
    manifest = {
        "format": "dxkit-course-pack/1", "id": "vn.bench.anh-lon", "version": "1",
        "as_of": "2026-12-01", "title": {"vi": "Đo", "en": "Bench"},
        "summary": {"vi": "Gói nhiều ảnh.", "en": "A pack of many images."},
        "licence": "CC BY 4.0", "authors": ["dxkit"], "languages": ["vi", "en"],
        "completion": {"lessons_mastered": "all", "attendance_share": 0.75},
        "lessons": lessons,
    }
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        total = 0
        for lesson in lessons:
            shown = lesson.pop("_shown")
            body = "# Bài\n\n" + "".join(f"![ảnh](../{name})\n\n" for name in shown)
            body += "Nội dung bài học. " * 200
            for lang in ("vi", "en"):
                archive.writestr(lesson["content"][lang], body)
        for name in names:
            data = noise_png(image_bytes, rng)
            total += len(data)
            archive.writestr(name, data)
        archive.writestr("course.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    return total, target.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--image-mb", type=float, default=1.5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        archive = Path(folder) / "pack.zip"
        started = time.perf_counter()
        image_total, zip_size = build(archive, args.images, int(args.image_mb * 1024 * 1024))
        print(f"built {archive.name}: {args.images} images, {image_total / 1e6:.1f} MB of "
              f"images, zip {zip_size / 1e6:.1f} MB ({time.perf_counter() - started:.1f} s)")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            pack = read_pack(archive)
            times.append(time.perf_counter() - started)
        tracemalloc.start()
        read_pack(archive)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"read_pack: median {statistics.median(times):.2f} s, best {min(times):.2f} s "
              f"over {args.repeat} runs (target <= 3 s); "
              f"{len(pack.files)} files kept, digest {pack.digest[:16]}…")
        print(f"peak Python memory during read_pack (tracemalloc): {peak / 1e6:.1f} MB; "
              f"process peak RSS grew by {(rss_after - rss_before) / 1024:.1f} MB "
              f"(ru_maxrss, after building the pack)")


if __name__ == "__main__":
    main()
