"""Sealed files: a stream encrypted and authenticated with a 256-bit key (AES-256-GCM).

USB bundles are sealed with the team's key (dxkit/sync/teamkey.py), so a stick found in the
road reveals nothing and a bundle changed by anyone without the key is refused.

    {"format": …, "cipher": "AES-256-GCM", "salt": …, …}\\n      the header, in the clear
    [4-byte length][AES-GCM ciphertext + 16-byte tag]           one frame per CHUNK bytes
    …

The file key is HKDF-SHA256(key, salt): a fresh salt per file, so the frame counter used as
the nonce never repeats under one key. Each frame's nonce is its index and a last-frame
flag, and the header line is authenticated with every frame (associated data): an edited
header, an edited, dropped, repeated or reordered frame, bytes appended, or a file cut short
all fail to open (this is the STREAM construction of Hoang, Reyhanitabar, Rogaway and Vizár).
A frame is released only after its tag was checked, and the reader reaches the end only
after the last frame, so nothing unauthenticated is ever handed on.
"""

from __future__ import annotations

import base64
import io
import json
import os
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

CIPHER = "AES-256-GCM"
CHUNK = 256 * 1024  # plaintext bytes per frame
TAG_BYTES = 16
LENGTH_BYTES = 4
SALT_BYTES = 16
KEY_BYTES = 32
HEADER_LIMIT = 64 * 1024
KDF_INFO = b"dxkit sealed file v1"


class Tampered(Exception):
    """The file does not open with this key: changed, cut short, or sealed with another key.
    (Not an OSError or ValueError, so readers above cannot take it for a plain format error.)"""


def _file_key(key: bytes, salt: bytes) -> AESGCM:
    if len(key) != KEY_BYTES:
        raise ValueError("a sealing key has 32 bytes")
    derived = HKDF(algorithm=SHA256(), length=KEY_BYTES, salt=salt, info=KDF_INFO).derive(key)
    return AESGCM(derived)


def _nonce(index: int, last: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class SealedWriter:
    """A write-only binary file that seals what is written to `out`. `close()` writes the
    last frame (it does not close `out`)."""

    def __init__(self, out: IO[bytes], key: bytes, header: dict[str, Any]):
        salt = os.urandom(SALT_BYTES)
        fields = {**header, "cipher": CIPHER,
                  "salt": base64.urlsafe_b64encode(salt).decode("ascii")}
        self._line = json.dumps(fields, ensure_ascii=False).encode("utf-8") + b"\n"
        self._out = out
        self._aead = _file_key(key, salt)
        self._buffer = bytearray()
        self._index = 0
        self._closed = False
        out.write(self._line)

    def write(self, data: bytes) -> int:
        self._buffer += data
        # Strictly more than a chunk: what is left at close() is the (possibly empty) last frame.
        while len(self._buffer) > CHUNK:
            self._frame(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def flush(self) -> None:
        """Frames are written whole; nothing to flush before close()."""

    def close(self) -> None:
        if not self._closed:
            self._frame(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._closed = True

    def _frame(self, plain: bytes, last: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._index, last), plain, self._line)
        self._out.write(len(sealed).to_bytes(LENGTH_BYTES, "big") + sealed)
        self._index += 1


def read_header(handle: IO[bytes]) -> tuple[dict[str, Any] | None, bytes]:
    """The clear header of a sealed file (None if the first line is not one) and its bytes."""
    line = handle.readline(HEADER_LIMIT)
    try:
        header = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, line
    return (header if isinstance(header, dict) else None), line


class _OpenedRaw(io.RawIOBase):
    """The plaintext of a sealed file, frame by frame, each checked before it is read."""

    def __init__(self, handle: IO[bytes], key: bytes, header: dict[str, Any], line: bytes):
        try:
            salt = base64.urlsafe_b64decode(str(header.get("salt", "")).encode("ascii"))
        except ValueError:
            salt = b""
        if len(salt) != SALT_BYTES or header.get("cipher") != CIPHER:
            raise Tampered("the header names no salt or another cipher")
        self._handle = handle
        self._aead = _file_key(key, salt)
        self._line = line
        self._index = 0
        self._plain = b""
        self._position = 0
        self._ended = False
        self._next_length = self._handle.read(LENGTH_BYTES)

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        view = memoryview(target).cast("B")
        while self._position >= len(self._plain):
            if self._ended:
                return 0
            self._load_frame()
        count = min(len(view), len(self._plain) - self._position)
        view[:count] = self._plain[self._position:self._position + count]
        self._position += count
        return count

    def _load_frame(self) -> None:
        if len(self._next_length) < LENGTH_BYTES:
            raise Tampered("the file ends before its last frame")  # cut short
        length = int.from_bytes(self._next_length, "big")
        if not TAG_BYTES <= length <= CHUNK + TAG_BYTES:
            raise Tampered("a frame has an impossible length")
        sealed = self._handle.read(length)
        if len(sealed) != length:
            raise Tampered("the file ends inside a frame")
        self._next_length = self._handle.read(LENGTH_BYTES)
        last = not self._next_length
        try:
            self._plain = self._aead.decrypt(_nonce(self._index, last), sealed, self._line)
        except InvalidTag:
            raise Tampered("a frame failed its authentication") from None
        self._position = 0
        self._index += 1
        self._ended = last


def opened(handle: IO[bytes], key: bytes, header: dict[str, Any], line: bytes
           ) -> io.BufferedReader:
    """A buffered reader of the plaintext after `read_header(handle)` returned (header, line).
    Reading raises Tampered where the file does not open with `key`."""
    return io.BufferedReader(_OpenedRaw(handle, key, header, line), CHUNK)
