"""Certificate codes: made with a team key the province vouches for, checked offline with the
province's public key alone; any changed character, another province or an expired key
makes a code invalid."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from dxkit.labels import qr
from dxkit.lessons.certificate_code import (
    PREFIX,
    CertificateError,
    CertificatePayload,
    KeyCertificate,
    code_in,
    issue_key_certificate,
    make_code,
    mask_name,
    new_signing_key,
    normalize_short_code,
    parse_public_key,
    public_key_of,
    public_key_text,
    short_code,
    verification_url,
    verify_code,
)

PROVINCE = new_signing_key()
TEAM = new_signing_key()
TEAM_ID = str(uuid.uuid4())
KEY_CERT = issue_key_certificate(
    PROVINCE, team_id=TEAM_ID, province_code=82, commune_code=28249, hamlet="Ấp Mỹ Hưng",
    public_key=public_key_of(TEAM), valid_from=dt.date(2026, 1, 1),
    valid_until=dt.date(2030, 12, 31))
PAYLOAD = CertificatePayload(str(uuid.uuid4()), "dxkit-ky-nang-so", "1.0.0",
                             dt.date(2026, 11, 21), "Nguyễn T. H.")


def test_a_code_round_trips_offline_with_the_province_key_alone():
    code = make_code(PAYLOAD, TEAM, KEY_CERT)
    assert code.startswith(PREFIX) and code == code.upper()
    checked = verify_code(code, public_key_of(PROVINCE))
    assert checked.valid and not checked.reasons
    assert checked.payload == PAYLOAD
    assert checked.key_certificate == KEY_CERT
    answer = checked.to_dict()
    assert answer["course"] == "dxkit-ky-nang-so" and answer["issued_on"] == "2026-11-21"
    assert answer["team_id"] == TEAM_ID and "Ấp Mỹ Hưng" in answer["team"]
    assert answer["display_name"] == "Nguyễn T. H."
    # Deterministic: the same certificate signed again is the same code.
    assert make_code(PAYLOAD, TEAM, KEY_CERT) == code


def test_without_consent_the_code_carries_no_name():
    hidden = CertificatePayload(PAYLOAD.certificate_id, PAYLOAD.course_id, "1.0.0",
                                PAYLOAD.issued_on, "")
    checked = verify_code(make_code(hidden, TEAM, KEY_CERT), public_key_of(PROVINCE))
    assert checked.valid and checked.to_dict()["display_name"] is None


def test_every_changed_character_makes_the_code_invalid():
    code = make_code(PAYLOAD, TEAM, KEY_CERT)
    province = public_key_of(PROVINCE)
    for position in range(len(PREFIX), len(code)):
        other = "A" if code[position] != "A" else "B"
        changed = code[:position] + other + code[position + 1:]
        assert not verify_code(changed, province).valid, position
    assert not verify_code(code[:-1], province).valid
    assert not verify_code(code + "A", province).valid
    assert not verify_code("DXC1", province).valid
    assert not verify_code("hello", province).valid


def test_another_province_key_or_a_self_made_key_certificate_is_refused():
    code = make_code(PAYLOAD, TEAM, KEY_CERT)
    assert not verify_code(code, public_key_of(new_signing_key())).valid
    # A team that signs its own key certificate (not the province's) is not believed.
    forged = issue_key_certificate(
        TEAM, team_id=TEAM_ID, province_code=82, commune_code=28249, hamlet="Ấp Mỹ Hưng",
        public_key=public_key_of(TEAM), valid_from=dt.date(2026, 1, 1),
        valid_until=dt.date(2030, 12, 31))
    checked = verify_code(make_code(PAYLOAD, TEAM, forged), public_key_of(PROVINCE))
    assert not checked.valid and len(checked.reasons) == 1


def test_a_code_needs_the_key_its_certificate_names_and_a_day_it_was_valid():
    with pytest.raises(CertificateError):
        make_code(PAYLOAD, new_signing_key(), KEY_CERT)
    late = CertificatePayload(PAYLOAD.certificate_id, "c", "1", dt.date(2031, 1, 1))
    with pytest.raises(CertificateError):
        make_code(late, TEAM, KEY_CERT)


def test_key_certificate_text_round_trip():
    assert KeyCertificate.from_text(KEY_CERT.to_text()) == KEY_CERT
    assert KEY_CERT.signed_by(public_key_of(PROVINCE))
    assert not KEY_CERT.signed_by(public_key_of(TEAM))
    with pytest.raises(ValueError):
        KeyCertificate.from_text(KEY_CERT.to_text()[:-8])


def test_public_key_text_and_short_codes_survive_typing():
    key = public_key_of(PROVINCE)
    text = public_key_text(key)
    assert parse_public_key(text.lower().replace("-", " ")) == key
    with pytest.raises(CertificateError):
        parse_public_key("DXPK-ABCD")
    code = make_code(PAYLOAD, TEAM, KEY_CERT)
    short = short_code(code)
    assert len(short) <= 200 and short.startswith("DXC-")
    assert normalize_short_code(short.lower().replace("-", " ")) == short
    assert normalize_short_code("DXC-ABCD") is None


def test_the_code_comes_back_out_of_its_url_and_fits_a_modest_qr():
    code = make_code(PAYLOAD, TEAM, KEY_CERT)
    url = verification_url("https://hub.dongthap.gov.vn/", code)
    assert url == f"https://hub.dongthap.gov.vn/c/{code}"
    assert code_in(url) == code and code_in(code.lower()) == code
    assert code_in("https://example.com/c/XYZ") is None
    assert qr.encode(url, "M", compact=True).version <= 15


def test_masked_names():
    assert mask_name("Nguyễn Thị Hoa") == "Nguyễn T. H."
    assert mask_name("Đặng  Văn   Ánh") == "Đặng V. Á."
    assert mask_name("Hoa") == "H."
    assert mask_name("") == ""
