#!/usr/bin/env python3
"""Fill msgstr entries of a .po file from a JSON object {msgid: msgstr} (a translator's aid).

    python scripts/po_fill.py dxkit/resources/translations/vi/AREA.po translations.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po


def main() -> int:
    po_path, json_path = Path(sys.argv[1]), Path(sys.argv[2])
    strings = json.loads(json_path.read_text(encoding="utf-8"))
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale="vi")
    for msgid, msgstr in strings.items():
        if msgid in catalog:
            catalog[msgid].string = msgstr
        else:
            catalog.add(msgid, msgstr)
    with po_path.open("wb") as handle:
        write_po(handle, catalog, width=100, sort_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
