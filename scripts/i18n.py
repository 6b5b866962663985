#!/usr/bin/env python3
"""Translation catalogs: every user-facing string in dxkit must have a Vietnamese translation.

    python scripts/i18n.py check            fail if a string lacks a translation or a placeholder
    python scripts/i18n.py missing          list untranslated strings with where they are used
    python scripts/i18n.py add AREA PATH..  append untranslated strings used under PATH.. to
                                            dxkit/resources/translations/vi/AREA.po
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
VI = ROOT / "dxkit" / "resources" / "translations" / "vi"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "counted": (2, 3), "N_": None}
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


def used_messages() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / "dxkit", method_map=[("**.py", "python")], keywords=KEYWORDS):
        key = message[0] if isinstance(message, tuple) else message
        found.setdefault(key, []).append(f"dxkit/{filename}:{lineno}")
    return found


def translations() -> dict[str, str]:
    merged: dict[str, str] = {}
    for po_path in sorted(VI.glob("*.po")):
        with po_path.open("rb") as handle:
            for message in read_po(handle, locale="vi"):
                if message.id and message.string and "fuzzy" not in message.flags:
                    key = message.id[0] if isinstance(message.id, tuple) else message.id
                    value = message.string[0] if isinstance(message.string, tuple) else \
                        message.string
                    merged[key] = value
    return merged


def problems() -> list[str]:
    used, done = used_messages(), translations()
    out = []
    for msgid, where in sorted(used.items()):
        if msgid not in done:
            out.append(f"untranslated: {msgid!r} ({where[0]})")
        elif set(PLACEHOLDER.findall(msgid)) != set(PLACEHOLDER.findall(done[msgid])):
            out.append(f"placeholders differ: {msgid!r} -> {done[msgid]!r}")
    return out


def add(area: str, paths: list[str]) -> None:
    target = VI / f"{area}.po"
    if target.exists():
        with target.open("rb") as handle:
            catalog = read_po(handle, locale="vi")
    else:
        catalog = Catalog(locale="vi", project="dxkit")
    done = translations()
    for msgid, where in used_messages().items():
        if msgid in done or msgid in catalog:
            continue
        if any(w.startswith(p.rstrip("/")) for w in where for p in paths):
            catalog.add(msgid, "", locations=[(w.split(":")[0], int(w.split(":")[1]))
                                              for w in where])
    VI.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False, sort_output=True)


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "add":
        add(sys.argv[2], sys.argv[3:])
        return 0
    found = problems()
    for line in found:
        print(line)
    if command == "check":
        print(f"translations: {len(found)} problem(s)" if found else "translations: complete")
        return 1 if found else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
