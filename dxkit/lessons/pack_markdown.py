"""What a lesson's Markdown may hold (docs/course-pack.md, "Content Markdown").

Not a Markdown renderer: a conservative scan that finds every place a renderer could turn
into HTML, a link or an image. Anything that looks like an HTML tag is refused, wherever it
is (a code span too: refusing a harmless one costs an edit, missing one costs a script);
every link and image destination is returned, decoded the way CommonMark decodes it
(backslash escapes, character references), for the caller to check against the pack.
"""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass
from typing import Literal

# <scheme:...> and <name@host> are autolinks, not tags.
_AUTOLINK = re.compile(r"<[A-Za-z][A-Za-z0-9+.\-]{1,31}:[^\s<>]*>")
_EMAIL = re.compile(r"<[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-]+@[A-Za-z0-9][A-Za-z0-9.\-]*>")
# An opening or closing tag, a comment, a declaration, CDATA or a processing instruction.
_TAG = re.compile(r"<(?:/?[A-Za-z]|[!?])")
_TAG_TEXT = re.compile(r"<[^\s<>]{0,30}")
# A reference definition, also inside block quotes and list items ("> [r]: url", "- [r]: url").
_REFERENCE = re.compile(
    r"^(?:[ \t>]|[-*+][ \t]|[0-9]{1,9}[.)][ \t])*"
    r"\[((?:[^\]\\\n]|\\.){1,999})\]:[ \t]*\n?[ \t]*(<[^<>\n]*>|\S+)", re.MULTILINE)
# "]:" anywhere else: not a definition for CommonMark, but its scheme is checked all the same.
_LOOSE_REFERENCE = re.compile(r"\]:[ \t]*\n?[ \t]*(<[^<>\n]*>|\S+)")
_IMAGE_REFERENCE = re.compile(r"!\[((?:[^\]\\]|\\.)*)\](?:\[((?:[^\]\\]|\\.)*)\])?")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ESCAPABLE = re.compile(r"\\([!-/:-@\[-`{-~])")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]")


@dataclass(frozen=True)
class Reference:
    """A link or image destination: `target` as CommonMark decodes it."""

    kind: Literal["image", "link"]
    target: str
    line: int


@dataclass(frozen=True)
class Finding:
    """Something the format refuses outright: an HTML tag or a control character."""

    kind: Literal["html", "control"]
    text: str
    line: int


def scheme(target: str) -> str | None:
    """The URL scheme a browser would see, lowercased ("java\tscript:" is "javascript"); None
    for a path."""
    found = _SCHEME.match(_INVISIBLE.sub("", target))
    return found.group(1).lower() if found else None


def scan(text: str) -> tuple[list[Reference], list[Finding]]:
    """Every destination and every refused construct of a lesson's Markdown."""
    lines = _LineIndex(text)
    findings: list[Finding] = []
    for found in _CONTROL.finditer(text):
        findings.append(Finding("control", f"U+{ord(found.group()):04X}",
                                lines.line(found.start())))
    references: list[Reference] = []
    masked = list(text)
    for found in _AUTOLINK.finditer(text):  # no escapes or references inside an autolink
        references.append(Reference("link", found.group()[1:-1], lines.line(found.start())))
        masked[found.start():found.end()] = " " * (found.end() - found.start())
    for found in _EMAIL.finditer(text):
        masked[found.start():found.end()] = " " * (found.end() - found.start())
    masked_text = "".join(masked)
    tag_lines: set[int] = set()
    for found in _TAG.finditer(masked_text):  # the first tag of each line
        line = lines.line(found.start())
        if line not in tag_lines:
            tag_lines.add(line)
            snippet = _TAG_TEXT.match(masked_text, found.start())
            findings.append(Finding("html", snippet.group() if snippet else "<", line))
    references.extend(_inline(text, lines))
    image_labels = {_label(m.group(2) or m.group(1)) for m in _IMAGE_REFERENCE.finditer(text)}
    definitions: set[int] = set()
    for found in _REFERENCE.finditer(text):
        definitions.add(found.start(2))
        kind: Literal["image", "link"] = (
            "image" if _label(found.group(1)) in image_labels else "link")
        references.append(Reference(kind, decode(_unbracket(found.group(2))),
                                    lines.line(found.start())))
    for found in _LOOSE_REFERENCE.finditer(text):
        target = decode(_unbracket(found.group(1)))
        if found.start(1) not in definitions and scheme(target) is not None:
            references.append(Reference("link", target, lines.line(found.start())))
    return references, findings


def _unbracket(raw: str) -> str:
    return raw[1:-1] if raw.startswith("<") and raw.endswith(">") else raw


def decode(raw: str) -> str:
    """A destination as CommonMark reads it: backslash escapes and &entities; resolved."""
    return html.unescape(_ESCAPABLE.sub(r"\1", raw))


def _label(raw: str) -> str:
    return " ".join(raw.split()).casefold()


def _inline(text: str, lines: _LineIndex) -> list[Reference]:
    """Destinations of inline links and images: every "](" starts one, whether or not its
    "[" is found (a stray one is checked rather than trusted)."""
    found: list[Reference] = []
    openers: list[bool] = []  # is the "[" an image's "!["
    i, end = 0, len(text)
    while i < end:
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            openers.append(i > 0 and text[i - 1] == "!")
        elif char == "]":
            is_image = openers.pop() if openers else False
            if i + 1 < end and text[i + 1] == "(":
                target, after = _destination(text, i + 2)
                found.append(Reference("image" if is_image else "link", decode(target),
                                       lines.line(i)))
                i = after
                continue
        i += 1
    return found


def _destination(text: str, start: int) -> tuple[str, int]:
    """The raw destination after "(" and where scanning goes on."""
    i, end = start, len(text)
    while i < end and text[i] in " \t":
        i += 1
    if i < end and text[i] == "\n":
        i += 1
        while i < end and text[i] in " \t":
            i += 1
    if i < end and text[i] == "<":
        close = text.find(">", i + 1)
        newline = text.find("\n", i + 1)
        if close != -1 and (newline == -1 or close < newline):
            return text[i + 1:close], close + 1
    begin, depth = i, 0
    while i < end:
        char = text[i]
        if char == "\\" and i + 1 < end:
            i += 2
            continue
        if char.isspace() or ord(char) < 0x20:
            break
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                break
            depth -= 1
        i += 1
    return text[begin:i], i


class _LineIndex:
    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)
