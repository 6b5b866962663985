"""Request bodies the hub accepts: bounded in size, in gzip expansion and in JSON nesting.

Python's json parser recurses once per nested array or object, so a body of 100,000 `[`
raised RecursionError (a 500). `parse_json_object` first measures the nesting with a linear
scan that never recurses, and refuses anything deeper than MAX_JSON_DEPTH with `too_deep`.
Everything here is CPU work on up to a MiB: the app runs it in the thread pool, never on the
event loop.
"""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Any

from dxkit.core.i18n import _

MAX_BODY_BYTES = 1024 * 1024  # decompressed
# A push record is four levels deep ({"records": [{"fields": {…}}]}); nothing the protocol
# sends needs more than a handful, and 32 keeps the parser far from Python's recursion limit.
MAX_JSON_DEPTH = 32

# Every bracket becomes "(" or ")": a mismatched pair is malformed JSON the parser refuses
# where it stands, so telling the kinds apart changes no depth it could reach.
_BRACKETS_ONLY = bytes(set(range(256)) - set(b"[]{}"))
_PARENS = bytes.maketrans(b"[{]}", b"(())")


class BodyError(Exception):
    """A body refused: `code` is the protocol's error code (too_large, too_deep,
    bad_request)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def too_large(limit: int) -> BodyError:
    return BodyError("too_large", _("The request is larger than {size} KiB; send smaller "
                                    "batches.").format(size=limit // 1024))


def nests_deeper_than(body: bytes, limit: int) -> bool:
    """Whether a UTF-8 JSON text nests arrays and objects more than `limit` deep, brackets
    inside strings left out. Linear in the size of the body and never recursive.

    Escaped backslashes, then escaped quotes, are dropped first (the parser pairs a run of
    backslashes from its left too), so every quote left delimits a string as the parser reads
    the text: every other piece between quotes is outside the strings. Then each pass deletes
    every adjacent "()" pair: the brackets that survive keep their depth, so a pass lowers the
    deepest nesting by at most one, and a balanced text of depth d is empty after exactly d
    passes. On malformed text the answer may be "deeper"
    where the parser would have stopped sooner (it then refuses the text anyway), never
    shallower than what the parser would reach."""
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside_strings = b"".join(unescaped.split(b'"')[::2])
    brackets = outside_strings.translate(_PARENS, _BRACKETS_ONLY)
    for passes in range(limit + 1):
        if b"(" not in brackets:
            return False  # the depth is at most the passes made
        shorter = brackets.replace(b"()", b"")
        if len(shorter) == len(brackets):
            # Only ")))(((" is left: each "(" can add one more level at most.
            return passes + brackets.count(b"(") > limit
        brackets = shorter
    return True


def parse_json(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """JSON text (UTF-8, as RFC 8259 requires on a network) as Python values; BodyError
    `too_deep` when nested deeper than `max_depth`, `bad_request` when not JSON."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError("bad_request", _("The request body is not valid JSON.")) from None
    if nests_deeper_than(body, max_depth):
        raise BodyError("too_deep", _("The request body nests arrays and objects more than "
                                      "{depth} levels deep.").format(depth=max_depth))
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except ValueError:
        raise BodyError("bad_request", _("The request body is not valid JSON.")) from None


def parse_json_object(body: bytes, encoding: str, limit: int = MAX_BODY_BYTES
                      ) -> dict[str, Any]:
    """A request body as the JSON object it must be: gunzipped when `encoding` is gzip (never
    past `limit`), nesting bounded, parsed."""
    if encoding == "gzip":
        body = gunzip_limited(body, limit)
    elif encoding not in ("identity", ""):
        raise BodyError("bad_request", _("Unsupported Content-Encoding {name}; use gzip."
                                         ).format(name=encoding))
    data = parse_json(body)
    if not isinstance(data, dict):
        raise BodyError("bad_request", _("The request body must be a JSON object."))
    return data


def gunzip_limited(data: bytes, limit: int = MAX_BODY_BYTES) -> bytes:
    """Decompress without ever holding more than the limit (a small gzip can expand hugely)."""
    corrupt = BodyError("bad_request", _("The gzip request body is truncated or corrupt."))
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except (zlib.error, gzip.BadGzipFile):
        raise corrupt from None
    if len(out) > limit:
        raise too_large(limit)
    if not inflater.eof or inflater.unused_data:
        raise corrupt
    return out


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
