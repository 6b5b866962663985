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

from dxkit.core.keystore import SecretStore, StoreKind

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
