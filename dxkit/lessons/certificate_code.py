"""Certificate verification codes: signed by the team, checkable offline with the province key.

Two keys, both Ed25519:

- The **province key** lives on the hub. Its public half is all a verifier needs (every
  enrolled laptop keeps it; `dxkit hub province-key show` prints it).
- Each team's **signing key** is made by the hub, which vouches for it with a small
  **key certificate** signed by the province key: the team's id and place (province,
  commune, hamlet), the public key and the days it may sign for. The hub hands the private
  key and the key certificate to the team's laptops at enrollment.

A code is `DXC1` followed by RFC 4648 base32 (no padding, upper case: QR alphanumeric mode and
safe in a URL path) of

    version (1) · certificate id (16, UUID) · issued on (2, days since 2000-01-01)
    · course id · course version · masked name ("" when the learner chose not to show it)
    · key certificate · team signature (64)

where text is one length byte and UTF-8, and the key certificate is

    team id (16, UUID) · province code (1) · commune code (3) · valid from (2) · valid
    until (2) · team public key (32) · hamlet (text) · province signature (64)

The team signs everything before its signature; the province signs the key certificate's
fields. So a laptop with nothing but the province public key checks the whole chain. Codes
are strict: the base32 must be canonical and nothing may trail, so any changed character
makes the code invalid. The QR carries `https://<hub>/c/<CODE>` so a phone opens the hub's
page; `code_in` takes the code back out of such a URL.

A code of ~430 characters cannot be typed, nor kept in the synced table's `code` field
(≤ 200). Each code therefore has a **short code**, `DXC-XXXX-XXXX-XXXX-XXXX`: 80 bits of the
SHA-256 of the full code, printed in text under the QR and stored in `certificates.code`. The
hub finds a certificate by either (the full code names the certificate's id; the short code
is indexed), but only the full code can be checked offline. Ed25519 signatures are
deterministic, so the same certificate signed again with the same key gives the same code.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from dxkit.core.errors import DxError
from dxkit.core.i18n import N_, _, gettext
from dxkit.core.places import find_commune, find_province

PREFIX = "DXC1"
VERSION = 1
EPOCH = dt.date(2000, 1, 1)
KEY_BYTES = 32
SIGNATURE_BYTES = 64
MAX_TEXT_BYTES = 255
MAX_CODE_LENGTH = 200 * 4  # generous: a code with long texts stays far below
CODE_TAG = b"dxkit certificate v1\x00"
KEY_TAG = b"dxkit certificate key v1\x00"
PUBLIC_KEY_PREFIX = "DXPK"
# The workspace meta key holding the province public key (as printed), set at enrollment.
META_PROVINCE_KEY = "certificates_province_key"
_CODE_SHAPE = re.compile(r"DXC1[A-Z2-7]+")
_LOOK_ALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})
_RAW = serialization.Encoding.Raw
_RAW_PRIVATE = serialization.PrivateFormat.Raw
_RAW_PUBLIC = serialization.PublicFormat.Raw


class CertificateError(DxError):
    """A certificate cannot be made or a key read as asked: a sentence for the user."""


# -- keys --------------------------------------------------------------------------------------
def new_signing_key() -> bytes:
    """32 random bytes: an Ed25519 private key (the province's or a team's)."""
    return Ed25519PrivateKey.generate().private_bytes(_RAW, _RAW_PRIVATE,
                                                      serialization.NoEncryption())


def public_key_of(private_key: bytes) -> bytes:
    return _private(private_key).public_key().public_bytes(_RAW, _RAW_PUBLIC)


def _private(private_key: bytes) -> Ed25519PrivateKey:
    if len(private_key) != KEY_BYTES:
        raise ValueError("an Ed25519 private key has 32 bytes")
    return Ed25519PrivateKey.from_private_bytes(private_key)


def _verified(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def public_key_text(public_key: bytes) -> str:
    """A public key as printed for people: DXPK, then base32 in groups of four."""
    letters = base64.b32encode(public_key).decode("ascii").rstrip("=")
    return PUBLIC_KEY_PREFIX + "-" + "-".join(letters[i:i + 4]
                                              for i in range(0, len(letters), 4))


def parse_public_key(text: str) -> bytes:
    """The 32 bytes of a public key as `public_key_text` prints it (case, spaces and dashes
    do not matter); CertificateError otherwise."""
    letters = "".join(ch for ch in text.upper() if ch.isalnum())
    if letters.startswith(PUBLIC_KEY_PREFIX):
        letters = letters[len(PUBLIC_KEY_PREFIX):]
    raw = _b32decode(letters)
    if raw is None or len(raw) != KEY_BYTES:
        raise CertificateError(_("“{text}” is not a province public key; it looks like "
                                 "DXPK-ABCD-… (dxkit hub province-key show).").format(
                                     text=text.strip()[:80]))
    return raw


def key_fingerprint(public_key: bytes) -> str:
    """Eight hex digits that tell one public key from another (for listings and logs)."""
    return hashlib.sha256(public_key).hexdigest()[:8]


# -- key certificates --------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyCertificate:
    """The province's word that `public_key` signs for team `team_id` between two days."""

    team_id: str
    province_code: int
    commune_code: int
    hamlet: str
    valid_from: dt.date
    valid_until: dt.date
    public_key: bytes
    signature: bytes = b""

    def signed_fields(self) -> bytes:
        return (uuid.UUID(self.team_id).bytes + self.province_code.to_bytes(1, "big")
                + self.commune_code.to_bytes(3, "big") + _day(self.valid_from)
                + _day(self.valid_until) + self.public_key + _text(self.hamlet))

    def to_bytes(self) -> bytes:
        return self.signed_fields() + self.signature

    def to_text(self) -> str:
        """URL-safe base64, as the hub sends it and the laptop keeps it."""
        return base64.urlsafe_b64encode(self.to_bytes()).decode("ascii")

    @classmethod
    def from_text(cls, text: str) -> KeyCertificate:
        try:
            raw = base64.urlsafe_b64decode(text.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
            raise ValueError("not a key certificate") from exc
        reader = _Reader(raw)
        found = reader.key_certificate()
        if not reader.done():
            raise ValueError("not a key certificate")
        return found

    def signed_by(self, province_public_key: bytes) -> bool:
        return _verified(province_public_key, self.signature, KEY_TAG + self.signed_fields())

    def team_name(self, translate: Callable[[str], str] = gettext) -> str:
        """The issuing team as people read it: hamlet, commune, province (names from the
        administrative units this dxkit ships)."""
        return team_name(self.province_code, self.commune_code, self.hamlet, translate)


def issue_key_certificate(province_private_key: bytes, *, team_id: str, province_code: int,
                          commune_code: int, hamlet: str, public_key: bytes,
                          valid_from: dt.date, valid_until: dt.date) -> KeyCertificate:
    """The key certificate of a team's signing key, signed with the province key."""
    unsigned = KeyCertificate(str(uuid.UUID(team_id)), int(province_code), int(commune_code),
                              _fitting(hamlet), valid_from, valid_until, bytes(public_key))
    _check_range(unsigned)
    signature = _private(province_private_key).sign(KEY_TAG + unsigned.signed_fields())
    return KeyCertificate(**{**unsigned.__dict__, "signature": signature})


def _check_range(cert: KeyCertificate) -> None:
    if not (0 <= cert.province_code < 256 and 0 <= cert.commune_code < 2**24):
        raise ValueError("province or commune code out of range")
    if len(cert.public_key) != KEY_BYTES:
        raise ValueError("an Ed25519 public key has 32 bytes")
    if cert.valid_until < cert.valid_from:
        raise ValueError("a key certificate ends after it starts")


def team_name(province_code: int, commune_code: int, hamlet: str,
              translate: Callable[[str], str] = gettext) -> str:
    """The team as people read it, in the language of `translate` (default: the app's)."""
    province = find_province(province_code)
    commune = find_commune(province_code, commune_code) if province else None
    parts = [hamlet.strip()] if hamlet.strip() else []
    parts.append(commune.name if commune else translate(N_("commune {code}")).format(
        code=commune_code))
    if province:
        parts.append(province.name)
    return translate(N_("Community digital technology team, {place}")).format(
        place=", ".join(parts))


# -- codes -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CertificatePayload:
    """What a code says about one certificate. `display_name` is the masked name, or "" when
    the learner did not consent to showing it."""

    certificate_id: str
    course_id: str
    course_version: str
    issued_on: dt.date
    display_name: str = ""

    def fields(self) -> bytes:
        return (uuid.UUID(self.certificate_id).bytes + _day(self.issued_on)
                + _text(self.course_id) + _text(self.course_version)
                + _text(self.display_name))


@dataclass(frozen=True)
class Verification:
    """The outcome of checking a code: `valid` when the signatures hold and the key was valid
    on the day of issue; `reasons` says what failed (translated sentences)."""

    valid: bool
    reasons: tuple[str, ...]
    code: str
    payload: CertificatePayload | None = None
    key_certificate: KeyCertificate | None = None

    def to_dict(self) -> dict[str, Any]:
        payload, key = self.payload, self.key_certificate
        return {
            "valid": self.valid,
            "reasons": list(self.reasons),
            "code": self.code,
            "certificate_id": payload.certificate_id if payload else None,
            "course": payload.course_id if payload else None,
            "course_version": payload.course_version if payload else None,
            "issued_on": payload.issued_on.isoformat() if payload else None,
            "display_name": (payload.display_name or None) if payload else None,
            "team": key.team_name() if key else None,
            "team_id": key.team_id if key else None,
        }


def make_code(payload: CertificatePayload, team_signing_key: bytes,
              key_cert: KeyCertificate) -> str:
    """The verification code of `payload`, signed with the team's key; CertificateError when
    the key is not the one `key_cert` vouches for, the day is outside its validity, or a
    text is too long for a code."""
    if public_key_of(team_signing_key) != key_cert.public_key:
        raise CertificateError(_("This team's signing key does not match its key "
                                 "certificate; sync with the hub to receive the current "
                                 "one."))
    if not key_cert.valid_from <= payload.issued_on <= key_cert.valid_until:
        raise CertificateError(_("The team's signing key is valid from {start} to {end}; a "
                                 "certificate dated {day} cannot be signed with it.").format(
                                     start=key_cert.valid_from.isoformat(),
                                     end=key_cert.valid_until.isoformat(),
                                     day=payload.issued_on.isoformat()))
    try:
        body = bytes([VERSION]) + payload.fields() + key_cert.to_bytes()
    except ValueError as exc:
        raise CertificateError(_("A course id, course version or name is too long for a "
                                 "certificate code; shorten it.")) from exc
    signature = _private(team_signing_key).sign(CODE_TAG + body)
    return PREFIX + base64.b32encode(body + signature).decode("ascii").rstrip("=")


def verify_code(code: str, province_public_key: bytes) -> Verification:
    """Check a code offline against the province's public key."""
    text = code.strip().upper()
    raw = _b32decode(text[len(PREFIX):]) if text.startswith(PREFIX) else None
    if raw is None or len(text) > MAX_CODE_LENGTH:
        return Verification(False, (_("This is not a certificate code."),), text)
    try:
        reader = _Reader(raw)
        if reader.byte() != VERSION:
            raise ValueError("unknown version")
        payload = reader.payload()
        key_cert = reader.key_certificate()
        signed = len(raw) - reader.left()
        signature = reader.take(SIGNATURE_BYTES)
        if not reader.done():
            raise ValueError("trailing bytes")
    except ValueError:
        return Verification(False, (_("This is not a certificate code, or it was copied "
                                      "with a mistake."),), text)
    reasons = []
    if not key_cert.signed_by(province_public_key):
        reasons.append(_("The issuing team's key was not issued by this province's hub."))
    if not _verified(key_cert.public_key, signature, CODE_TAG + raw[:signed]):
        reasons.append(_("The certificate's signature does not match its content: it was "
                         "altered or copied with a mistake."))
    if not key_cert.valid_from <= payload.issued_on <= key_cert.valid_until:
        reasons.append(_("The certificate is dated outside the days its team's key was "
                         "valid."))
    return Verification(not reasons, tuple(reasons), text, payload, key_cert)


def code_in(text: str) -> str | None:
    """The certificate code in what a QR or a person gave: the code itself, or a URL ending
    in /c/<CODE> (any case); None when there is none."""
    candidate = text.strip()
    if "/" in candidate:
        candidate = candidate.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
    candidate = candidate.upper()
    return candidate if _CODE_SHAPE.fullmatch(candidate) else None


def short_code(code: str) -> str:
    """The typeable short code of a full code (what `certificates.code` stores)."""
    digest = hashlib.sha256(code.strip().upper().encode("ascii")).digest()[:10]
    letters = base64.b32encode(digest).decode("ascii")
    return "DXC-" + "-".join(letters[i:i + 4] for i in range(0, len(letters), 4))


def normalize_short_code(text: str) -> str | None:
    """A short code as typed (case, spaces, dashes, 0/1/8 for O/I/B do not matter) in its
    canonical spelling, or None when it is not one."""
    letters = "".join(ch for ch in text.upper() if ch.isalnum())
    if not letters.startswith("DXC") or len(letters) != 19:
        return None
    letters = letters[3:].translate(_LOOK_ALIKES)
    if not re.fullmatch(r"[A-Z2-7]{16}", letters):
        return None
    return "DXC-" + "-".join(letters[i:i + 4] for i in range(0, 16, 4))


def verification_url(hub_url: str, code: str) -> str:
    """What the certificate's QR holds: the hub's page for the code."""
    return f"{hub_url.rstrip('/')}/c/{code}"


def mask_name(full_name: str) -> str:
    """The name as shown publicly: the family name, then initials ("Nguyễn Thị Hoa" →
    "Nguyễn T. H.")."""
    words = full_name.split()
    if len(words) <= 1:
        return f"{words[0][0]}." if words else ""
    return " ".join([words[0], *(f"{word[0]}." for word in words[1:])])


# -- bytes -------------------------------------------------------------------------------------
def _day(day: dt.date) -> bytes:
    number = (day - EPOCH).days
    if not 0 <= number < 2**16:
        raise ValueError("a day between 2000 and 2179")
    return number.to_bytes(2, "big")


def _text(value: str) -> bytes:
    data = value.encode("utf-8")
    if len(data) > MAX_TEXT_BYTES:
        raise ValueError("text too long")
    return bytes([len(data)]) + data


def _fitting(value: str) -> str:
    """`value` cut to the bytes a text may have, on a character boundary."""
    data = value.encode("utf-8")[:MAX_TEXT_BYTES]
    return data.decode("utf-8", "ignore")


def _b32decode(letters: str) -> bytes | None:
    """Strict base32 without padding: None unless `letters` is the canonical spelling."""
    if not letters or not re.fullmatch(r"[A-Z2-7]+", letters):
        return None
    try:
        raw = base64.b32decode(letters + "=" * (-len(letters) % 8))
    except (binascii.Error, ValueError):
        return None
    if base64.b32encode(raw).decode("ascii").rstrip("=") != letters:
        return None
    return raw


class _Reader:
    def __init__(self, raw: bytes):
        self.raw, self.at = raw, 0

    def take(self, count: int) -> bytes:
        if self.at + count > len(self.raw):
            raise ValueError("too short")
        chunk = self.raw[self.at:self.at + count]
        self.at += count
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def number(self, count: int) -> int:
        return int.from_bytes(self.take(count), "big")

    def day(self) -> dt.date:
        return EPOCH + dt.timedelta(days=self.number(2))

    def text(self) -> str:
        try:
            return self.take(self.byte()).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError("not UTF-8") from exc

    def uuid(self) -> str:
        return str(uuid.UUID(bytes=self.take(16)))

    def payload(self) -> CertificatePayload:
        certificate_id, issued_on = self.uuid(), self.day()
        course_id, version, name = self.text(), self.text(), self.text()
        return CertificatePayload(certificate_id, course_id, version, issued_on, name)

    def key_certificate(self) -> KeyCertificate:
        team_id, province, commune = self.uuid(), self.number(1), self.number(3)
        start, end = self.day(), self.day()
        public_key, hamlet = self.take(KEY_BYTES), self.text()
        return KeyCertificate(team_id, province, commune, hamlet, start, end, public_key,
                              self.take(SIGNATURE_BYTES))

    def left(self) -> int:
        return len(self.raw) - self.at

    def done(self) -> bool:
        return self.at == len(self.raw)


# -- revocation as this laptop knows it --------------------------------------------------------
@dataclass(frozen=True)
class LocalStatus:
    """A certificate as the workspace's synced `certificates` table has it."""

    certificate_id: str
    revoked: bool
    revoked_on: str | None


def local_status(conn: Any, code: str) -> LocalStatus | None:
    """The certificate of `code` (full or short) in the workspace's `certificates` table
    (issued here or received by sync), None when the table or the row is not there."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = "
                    "'certificates'").fetchone() is None:
        return None
    short = normalize_short_code(code) or short_code(code)
    row = conn.execute("SELECT id, revoked, revoked_on FROM certificates WHERE code = ? "
                       "LIMIT 1", (short,)).fetchone()
    if row is None:
        return None
    return LocalStatus(str(row[0]), bool(row[1]), str(row[2]) if row[2] else None)
