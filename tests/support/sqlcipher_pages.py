"""Every page of a SQLCipher 4 file (a workspace, its write-ahead log, a backup) decrypted
with the workspace key, free pages included: what someone holding the key could read.

The erasure proofs scan these bytes, so an erased person must be gone even for whoever has
the key, not only hidden by the encryption. Format (SQLCipher 4 defaults, raw key): pages of
4096 bytes; the first 16 bytes of the file are the salt; each page ends in 80 reserved bytes,
an IV of 16 then an HMAC; the rest is AES-256-CBC with the raw key.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from dxkit.core.keys import DatabaseKey

PAGE = 4096
RESERVE = 80
SALT = 16
WAL_HEADER, FRAME_HEADER = 32, 24


def _page(key: DatabaseKey, page: bytes, first: bool) -> bytes:
    start = SALT if first else 0
    body, iv = page[start:PAGE - RESERVE], page[PAGE - RESERVE:PAGE - RESERVE + 16]
    if len(body) % 16 or len(iv) != 16:
        return b""
    decryptor = Cipher(algorithms.AES(key.raw), modes.CBC(iv)).decryptor()
    return decryptor.update(body) + decryptor.finalize()


def plain_bytes(path: Path, key: DatabaseKey) -> bytes:
    """The decrypted pages of a database file or of its -wal file."""
    data = path.read_bytes()
    if path.name.endswith("-wal"):
        pages = [data[offset + FRAME_HEADER:offset + FRAME_HEADER + PAGE]
                 for offset in range(WAL_HEADER, len(data) - FRAME_HEADER - PAGE + 1,
                                     FRAME_HEADER + PAGE)]
        # A frame of page 1 also starts with the salt area; try both readings.
        return b"".join(_page(key, p, False) + _page(key, p, True) for p in pages)
    return b"".join(_page(key, data[i:i + PAGE], i == 0) for i in range(0, len(data), PAGE))
