"""500 certificates of completion to PDF: seconds, size, and every QR decoded back.

    .venv/bin/python benchmarks/bench_certificates.py [--count 500] [--out /tmp/certs.pdf]
        [--no-verify]

Target from issue 12 §7: 500 certificates in ≤ 3 s to PDF, ≤ 10 MB, every QR decoding back.
Signing the codes (Ed25519, one per certificate) is timed apart from drawing the PDF; the
decode-back check renders every page at 150 dpi and reads it with zxing-cpp (an independent
decoder), as check_certificate_codes does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dxkit.lessons.certificate_code import (
    CertificatePayload,
    issue_key_certificate,
    make_code,
    new_signing_key,
    public_key_of,
    short_code,
    verification_url,
)
from dxkit.lessons.certificate_pdf import (
    CertificateView,
    certificates_pdf,
    check_certificate_codes,
)

NAMES = ("Nguyễn Thị Hồng Hạnh", "Trần Văn Đức", "Lê Thị Ánh Tuyết", "Phạm Quốc Bảo",
         "Huỳnh Ngọc Phương Thảo", "Võ Minh Khôi", "Đặng Thị Mỹ Lệ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--no-verify", action="store_true")
    args = parser.parse_args()
    province, team = new_signing_key(), new_signing_key()
    key_cert = issue_key_certificate(
        province, team_id=str(uuid.uuid4()), province_code=82, commune_code=28249,
        hamlet="Ấp Mỹ Hưng", public_key=public_key_of(team), valid_from=dt.date(2026, 1, 1),
        valid_until=dt.date(2030, 12, 31))
    started = time.perf_counter()
    views = []
    for index in range(args.count):
        name = NAMES[index % len(NAMES)]
        payload = CertificatePayload(str(uuid.uuid4()), "vn.dxkit.ky-nang-so-co-ban", "1.0.0",
                                     dt.date(2026, 11, 21), "")
        code = make_code(payload, team, key_cert)
        views.append(CertificateView(name, "Kỹ năng số cơ bản cho mọi người",
                                     key_cert.team_name(), "Phường Đạo Thạnh",
                                     payload.issued_on,
                                     verification_url("https://hub.dongthap.gov.vn", code),
                                     short_code(code)))
    signing = time.perf_counter() - started
    certificates_pdf(views[:1])  # warm-up: fonts parsed, QR tables built
    started = time.perf_counter()
    pdf = certificates_pdf(views)
    drawing = time.perf_counter() - started
    print(f"{args.count} certificates: codes signed in {signing:.2f} s, "
          f"PDF drawn in {drawing:.2f} s (target ≤ 3 s), {len(pdf) / 1e6:.2f} MB "
          f"(target ≤ 10 MB)")
    if args.out:
        args.out.write_bytes(pdf)
    if not args.no_verify:
        started = time.perf_counter()
        check_certificate_codes(pdf, [view.url for view in views])
        print(f"every QR decoded back ({args.count} of {args.count}) in "
              f"{time.perf_counter() - started:.1f} s at 150 dpi")


if __name__ == "__main__":
    main()
