"""The team's key for USB bundles on this computer.

The hub gives it to a device at enrollment (or, to a device enrolled before teams had one, at
its next sync: GET /v1/team-key). It is kept like the workspace key — the OS keyring, else a
private key file outside the data folder (dxkit/core/keystore.py) — under the team's id, so
every workspace of the team on this computer seals and opens the same bundles. It is not in
the workspace database: a bundle must stay sealed from anyone holding a copy of the
database or its backups without this computer's keyring.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from dxkit.core.keystore import SecretStore, StoreKind
from dxkit.lessons.certificate_code import (
    CertificateError,
    KeyCertificate,
    parse_public_key,
    public_key_of,
    public_key_text,
)

SERVICE = "dxkit-team-key"
KEY_BYTES = 32


def decode_key(text: str) -> bytes:
    """The 32 bytes of a key as the hub sends it (URL-safe base64); ValueError otherwise."""
    try:
        raw = base64.urlsafe_b64decode(text.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError("not a team key") from exc
    if len(raw) != KEY_BYTES:
        raise ValueError("not a team key")
    return raw


def save_team_key(team_id: str, text: str) -> StoreKind:
    decode_key(text)  # refuse to keep something that cannot seal a bundle
    return SecretStore(SERVICE).save(team_id, text)


def team_key(team_id: str) -> bytes | None:
    """The team's key on this computer, None if it has none (or it is unreadable)."""
    text = SecretStore(SERVICE).load(team_id)
    if not text:
        return None
    try:
        return decode_key(text)
    except ValueError:
        return None


# -- the team's certificate signing key ---------------------------------------------------------
# The hub makes it and vouches for it with a key certificate (dxkit/lessons/certificate_code.py).
# The private key is kept like the bundle key (keyring, else a private key file), with its key
# certificate beside it; the province public key, which is public, also goes to the workspace.
CERTIFICATE_SERVICE = "dxkit-certificate-key"


@dataclass(frozen=True, repr=False)
class CertificateSigning:
    """What a laptop signs certificates with. Its repr hides the key (logs, tracebacks)."""

    team_id: str
    signing_key: bytes
    key_certificate: KeyCertificate
    province_public_key: bytes

    def __repr__(self) -> str:
        return f"CertificateSigning(team_id={self.team_id!r}, <key hidden>)"


def read_certificate_signing(answer: Any) -> CertificateSigning:
    """The hub's certificate_key answer, checked: ValueError unless the key is the one the
    key certificate names and the province key signed that certificate."""
    if not isinstance(answer, dict):
        raise ValueError("not a certificate key")
    try:
        team_id = str(answer["team_id"])
        key = base64.urlsafe_b64decode(str(answer["signing_key"]).encode("ascii"))
        cert = KeyCertificate.from_text(str(answer["key_certificate"]))
        province = parse_public_key(str(answer["province_public_key"]))
        matches = public_key_of(key) == cert.public_key
    except (KeyError, ValueError, CertificateError, binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError("not a certificate key") from exc
    if not matches or not cert.signed_by(province) or cert.team_id != team_id:
        raise ValueError("not a certificate key")
    return CertificateSigning(team_id, key, cert, province)


def save_certificate_signing(signing: CertificateSigning) -> StoreKind:
    text = json.dumps({"signing_key": base64.urlsafe_b64encode(signing.signing_key).decode(),
                       "key_certificate": signing.key_certificate.to_text(),
                       "province_public_key": public_key_text(signing.province_public_key),
                       "team_id": signing.team_id})
    return SecretStore(CERTIFICATE_SERVICE).save(signing.team_id, text)


def certificate_signing(team_id: str) -> CertificateSigning | None:
    """The team's certificate signing key on this computer, None if it has none."""
    text = SecretStore(CERTIFICATE_SERVICE).load(team_id)
    if not text:
        return None
    try:
        return read_certificate_signing(json.loads(text))
    except (ValueError, json.JSONDecodeError):
        return None
