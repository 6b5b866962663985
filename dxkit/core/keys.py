"""Key material: a workspace's database key and the recovery key that writes it out.

The database key is 256 random bits, handed to SQLCipher as a raw key (no password, so no
slow key derivation: a random key cannot be guessed). The recovery key is the same 256 bits
written for paper: 14 groups of 4 letters and digits (RFC 4648 base32, which has no 0, 1, 8
or 9 to mistake for O, I, B or g), the last 24 bits a checksum so that a typo is caught before
it is tried. It opens the workspace and every backup of it on any computer, which is why it is
shown once, to the team leader, and kept on paper in a locked place.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

from dxkit.core.errors import DxError
from dxkit.core.i18n import _, format_datetime

KEY_BYTES = 32
CHECKSUM_BYTES = 3  # 32 + 3 bytes = 280 bits = exactly 56 base32 characters
RECOVERY_CHARS = 56
GROUP = 4
GROUPS = RECOVERY_CHARS // GROUP  # 14
GROUPS_PER_LINE = 7  # two lines on paper and on screen
KEY_CHECK_LABEL = b"dxkit workspace key check\x00"
LOOK_ALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})


class RecoveryKeyError(DxError):
    """Text that is not a recovery key (wrong length, a typo)."""


@dataclass(frozen=True, repr=False)
class DatabaseKey:
    """A workspace's 256-bit key. Its repr hides it, so it never lands in a log or traceback."""

    raw: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != KEY_BYTES:
            raise ValueError("a database key has 32 bytes")

    @classmethod
    def new(cls) -> DatabaseKey:
        return cls(secrets.token_bytes(KEY_BYTES))

    @classmethod
    def from_hex(cls, text: str) -> DatabaseKey:
        return cls(bytes.fromhex(text))

    def hex(self) -> str:
        return self.raw.hex()

    def pragma_value(self) -> str:
        """The value for SQLCipher's `PRAGMA key`: a raw key, used as it is."""
        return f"\"x'{self.raw.hex()}'\""

    def check(self) -> str:
        """A short fingerprint that tells this key from another without revealing it: lets
        dxkit say "wrong key" instead of "damaged file", and recognise another workspace's
        recovery key."""
        return hashlib.sha256(KEY_CHECK_LABEL + self.raw).hexdigest()[:16]

    def matches(self, check: str) -> bool:
        return hmac.compare_digest(self.check(), check)

    def recovery_text(self) -> str:
        """The recovery key as printed: "ABCD-EFGH-…", 14 groups."""
        payload = self.raw + hashlib.sha256(self.raw).digest()[:CHECKSUM_BYTES]
        letters = base64.b32encode(payload).decode("ascii")
        return "-".join(letters[i:i + GROUP] for i in range(0, len(letters), GROUP))

    def recovery_lines(self) -> list[str]:
        """The recovery key as two lines of seven groups, to show and to print."""
        groups = self.recovery_text().split("-")
        return ["-".join(groups[i:i + GROUPS_PER_LINE])
                for i in range(0, len(groups), GROUPS_PER_LINE)]

    @classmethod
    def from_recovery_text(cls, text: str) -> DatabaseKey:
        """Read a recovery key typed by a person: case, spaces and dashes do not matter."""
        letters = recovery_letters(text)
        if len(letters) != RECOVERY_CHARS:
            raise RecoveryKeyError(_(
                "A recovery key has {count} letters and digits in 14 groups; this one has "
                "{found}. Type it again from the printed sheet.").format(
                    count=RECOVERY_CHARS, found=len(letters)))
        try:
            payload = base64.b32decode(letters)
        except ValueError:
            payload = b""
        raw, checksum = payload[:KEY_BYTES], payload[KEY_BYTES:]
        if len(raw) != KEY_BYTES or hashlib.sha256(raw).digest()[:CHECKSUM_BYTES] != checksum:
            raise RecoveryKeyError(_(
                "This recovery key has a typing mistake (its check letters do not match). "
                "Compare every group with the printed sheet."))
        return cls(raw)

    def __repr__(self) -> str:
        return "DatabaseKey(<hidden>)"


def recovery_letters(text: str) -> str:
    """The letters and digits of a typed recovery key, as `from_recovery_text` reads them."""
    return "".join(ch for ch in text.upper() if ch.isalnum()).translate(LOOK_ALIKES)


def recovery_sheet(key: DatabaseKey, workspace: Path, when: dt.datetime) -> str:
    """The page the team leader prints and locks away: plain text, one line per paragraph."""
    lines = [_("dxkit — recovery key"),
             "",
             _("Workspace: {path}").format(path=workspace),
             _("Shown on: {date}").format(date=format_datetime(when)),
             "",
             *("    " + line for line in key.recovery_lines()),
             "",
             _("This key opens the workspace and every backup of it on any computer. Keep this "
               "sheet locked away, apart from the laptop: anyone who has it and a copy of the "
               "data can read every name and ID number."),
             _("On a new computer, type it when dxkit asks for the recovery key (or: dxkit key "
               "unlock). To restore this laptop's backup on another one: dxkit backup restore "
               "FILE --recovery-key -.")]
    return "\n".join(lines) + "\n"
