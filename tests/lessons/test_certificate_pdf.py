"""Certificate PDFs: every QR decodes back (the farm labels' check), the learner's name keeps its
diacritics, and a bad batch writes nothing."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from dxkit.labels.errors import LabelError
from dxkit.labels.verify import page_texts, verify_pdf
from dxkit.lessons.certificate_code import (
    CertificatePayload,
    issue_key_certificate,
    make_code,
    new_signing_key,
    public_key_of,
    short_code,
    verification_url,
    verify_code,
)
from dxkit.lessons.certificate_pdf import (
    CertificateView,
    certificates_pdf,
    check_certificate_codes,
    payloads_in_file,
    render_certificates,
)

PROVINCE, TEAM = new_signing_key(), new_signing_key()
KEY_CERT = issue_key_certificate(
    PROVINCE, team_id=str(uuid.uuid4()), province_code=82, commune_code=28249,
    hamlet="Ấp Mỹ Hưng", public_key=public_key_of(TEAM), valid_from=dt.date(2026, 1, 1),
    valid_until=dt.date(2030, 12, 31))
NAMES = ["Nguyễn Thị Hồng Hạnh", "Trần Văn Đức", "Lê Thị Ánh Tuyết",
         "Huỳnh Ngọc Phương Thảo Nguyễn Thị Thu Hằng Trương"]


def views(count: int) -> list[CertificateView]:
    made = []
    for index in range(count):
        payload = CertificatePayload(str(uuid.uuid4()), "dxkit-ky-nang-so", "1.0.0",
                                     dt.date(2026, 11, 21), "")
        code = make_code(payload, TEAM, KEY_CERT)
        made.append(CertificateView(
            NAMES[index % len(NAMES)], "Kỹ năng số cho mọi người", KEY_CERT.team_name(),
            "Phường Đạo Thạnh", payload.issued_on,
            verification_url("https://hub.dongthap.gov.vn", code), short_code(code)))
    return made


def test_every_certificate_qr_decodes_back_and_verifies():
    batch = views(6)
    pdf = certificates_pdf(batch)
    check_certificate_codes(pdf, [view.url for view in batch])
    report = verify_pdf(pdf, 300)
    assert report.pages == 6 and report.count == 6
    for found, view in zip(report.codes, batch, strict=True):
        assert found.payload == view.url
        assert found.module_mm is not None and found.module_mm >= 0.5
        code = found.payload.rsplit("/", 1)[1]
        assert verify_code(code, public_key_of(PROVINCE)).valid


def test_names_keep_their_diacritics_and_the_short_code_is_printed():
    batch = views(4)
    texts = page_texts(certificates_pdf(batch))
    for text, view in zip(texts, batch, strict=True):
        assert view.learner_name in text
        assert view.short_code in text
        assert "Quét mã để kiểm tra" in text
        assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text


def test_the_check_fails_when_a_code_is_missing():
    batch = views(2)
    with pytest.raises(LabelError):
        check_certificate_codes(certificates_pdf(batch[:1]), [view.url for view in batch])


def test_an_empty_batch_writes_nothing(tmp_path):
    target = tmp_path / "none.pdf"
    with pytest.raises(LabelError):
        render_certificates(target, [])
    assert not target.exists()


def test_payloads_are_read_from_a_pdf_and_from_a_png(tmp_path):
    from dxkit.labels.verify import preview_pages

    batch = views(1)
    pdf = render_certificates(tmp_path / "one.pdf", batch)
    assert payloads_in_file(pdf) == [batch[0].url]
    preview_pages(pdf.read_bytes(), 200)[0].save(tmp_path / "one.png")
    assert payloads_in_file(tmp_path / "one.png") == [batch[0].url]
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(LabelError):
        payloads_in_file(tmp_path / "bad.png")
