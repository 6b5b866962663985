"""1,000 serialised labels (1,000 different QR payloads) on A4 3×7 to PDF: labels/s, PDF size,
and where the time goes.

    .venv/bin/python benchmarks/labels_bench.py [--labels 1000] [--template a4-3x7] [--verify]
        [--repeat 3] [--out /tmp/dxkit-labels.pdf]

Targets from issue 4: under 1.5 s and under 2 MB for 1,000 labels. The first run in a process
pays one-off costs (font files parsed, QR version tables built); they are timed separately as
"warm-up", then the figures come from a fresh render. The breakdown comes from a second,
instrumented render that times each stage where the renderer calls it. --verify decodes every
QR of the result at 300 dpi with zxing-cpp (slow: about a second per page on a small machine).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reportlab.pdfgen.canvas import Canvas

from dxkit.labels import LabelContent, render, render_labels, template_named, verify_pdf


def contents(count: int) -> list[LabelContent]:
    return [LabelContent(
        product="Xoài cát Hòa Lộc", cooperative="Hợp tác xã Mỹ Đông",
        growing_area="VN-DT-CL-0012", harvest_date="20/11/2026", pack_date="21/11/2026",
        lot_code="XCHL-2026-11-21", certification="VietGAP",
        qr_payload=f"https://truyxuat.dongthap.gov.vn/01/08935000000017/10/XCHL-2026-11-21"
                   f"/21/{serial:06d}",
        serial=f"{serial:06d}") for serial in range(1, count + 1)]


def timed(stages: dict[str, float], name: str, function: Callable) -> Callable:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            stages[name] += time.perf_counter() - started
    return wrapper


def instrumented_run(template_name: str, labels: list[LabelContent]) -> tuple[float, dict]:
    """Render again with timers around each stage (patched in, then restored)."""
    stages: dict[str, float] = defaultdict(float)
    patches = [
        (render.qr, "encode", "QR encode (data, Reed-Solomon, 8-mask choice)"),
        (render, "_qr_operators", "QR drawing (1-bit inline image mask, hex)"),
        (render, "_layout", "text layout (fit, wrap; cached per distinct text)"),
        (render._Drawer, "_show", "text encoding (font subsets; cached per distinct row)"),
        (Canvas, "showPage", "page finishing (content stream per page)"),
        (Canvas, "save", "PDF save (compression, font subsets, xref)"),
    ]
    render._layout.cache_clear()
    originals = [(owner, attr, getattr(owner, attr)) for owner, attr, _n in patches]
    for owner, attr, name in patches:
        setattr(owner, attr, timed(stages, name, getattr(owner, attr)))
    try:
        started = time.perf_counter()
        render_labels(template_named(template_name), labels)
        total = time.perf_counter() - started
    finally:
        for owner, attr, original in originals:
            setattr(owner, attr, original)
    return total, dict(stages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=1000)
    parser.add_argument("--template", default="a4-3x7")
    parser.add_argument("--out", type=Path, default=Path("/tmp/dxkit-labels.pdf"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--verify", action="store_true")
    args = parser.parse_args()
    template = template_named(args.template)
    labels = contents(args.labels)

    started = time.perf_counter()
    render_labels(template, labels[:template.per_page])
    warm_up = time.perf_counter() - started

    runs = []
    for _run in range(args.repeat):  # the median of a few runs: the machine may be shared
        render._layout.cache_clear()
        started = time.perf_counter()
        pdf = render_labels(template, labels)
        runs.append(time.perf_counter() - started)
    seconds = statistics.median(runs)
    args.out.write_bytes(pdf)
    pages = -(-args.labels // template.per_page)
    print(f"template {template.name}: {args.labels} labels on {pages} pages")
    print(f"warm-up (first sheet, fonts and tables): {warm_up:.3f} s")
    print(f"render: {seconds:.3f} s = {args.labels / seconds:,.0f} labels/s (median of "
          f"{args.repeat}; best {min(runs):.3f} s, worst {max(runs):.3f} s)")
    print(f"PDF: {len(pdf):,} bytes ({len(pdf) / 1024 / 1024:.2f} MB, "
          f"{len(pdf) / args.labels:,.0f} bytes/label) -> {args.out}")

    total, stages = instrumented_run(args.template, labels)
    print(f"breakdown (instrumented run, {total:.3f} s):")
    for name, spent in sorted(stages.items(), key=lambda item: -item[1]):
        print(f"  {spent:7.3f} s  {spent / total:5.1%}  {name}")
    rest = total - sum(stages.values())
    print(f"  {rest:7.3f} s  {rest / total:5.1%}  other (label loop, captions, text placement)")

    if args.verify:
        started = time.perf_counter()
        report = verify_pdf(pdf, 300)
        expected = {label.qr_payload for label in labels}
        found = {code.payload for code in report.codes}
        print(f"verify at 300 dpi: {report.count} codes decoded in "
              f"{time.perf_counter() - started:.1f} s; all payloads found: {found == expected}; "
              f"smallest module {min(c.module_mm or 0 for c in report.codes):.3f} mm")


if __name__ == "__main__":
    main()
