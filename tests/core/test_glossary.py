"""The Vietnamese catalogs use one term per concept (docs/glossary.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from dxkit.core.i18n import po_files

GLOSSARY = Path(__file__).resolve().parents[2] / "docs" / "glossary.md"
# Phrases that look like drift but name something else (see the glossary's notes).
ALLOWED = ("nhãn thuốc",)
# English texts where the concept word means something else.
NOT_THE_CONCEPT = ("GTIN indicator digit", "pesticide's label", "pre-harvest interval")


def glossary() -> list[tuple[str, str, list[str]]]:
    rows = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] not in ("English", "---"):
            rows.append((cells[0], cells[1], [t.strip() for t in cells[2].split(";")
                                              if t.strip()]))
    return rows


def messages() -> list[tuple[str, str, str]]:
    found = []
    for path in po_files("vi"):
        with path.open("rb") as handle:
            catalog = read_po(handle)
        for message in catalog:
            if not message.id or message.context:  # Qt's own texts carry a context
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (
                message.string,)
            text = re.sub(r"\{[^}]*\}", "", " ".join(strings)).replace("_", " ")
            found.append((path.name, " ".join(ids), text))
    return found


def test_the_glossary_has_its_rows():
    assert len(glossary()) >= 15


@pytest.mark.parametrize(("english", "term", "drift"), glossary(), ids=lambda v: str(v)[:20])
def test_drift_terms_are_never_used(english: str, term: str, drift: list[str]):
    bad = []
    for name, _source, text in messages():
        lowered = text.lower()
        for allowed in ALLOWED:
            lowered = lowered.replace(allowed, "")
        bad.extend(f"{name}: {text[:80]}" for word in drift if word.lower() in lowered)
    assert not bad


@pytest.mark.parametrize(("english", "term", "drift"), glossary(), ids=lambda v: str(v)[:20])
def test_a_message_naming_a_concept_uses_its_term(english: str, term: str, drift: list[str]):
    pattern = re.compile(rf"\b{re.escape(english)}(s|es|ed|ing|ment|ments)?\b", re.IGNORECASE)
    # "lượt thăm (thăm)": the term, or its short form where the sentence is clear without it.
    forms = [form.strip().lower() for form in re.split(r"[()]", term) if form.strip()]
    bad = []
    for name, source, text in messages():
        # Placeholders and addresses are not words.
        source = re.sub(r"\{[^}]*\}|%\([^)]*\)s|https?://\S+", "", source)
        if any(phrase in source for phrase in NOT_THE_CONCEPT) or not text:
            continue
        if pattern.search(source) and not any(form in text.lower() for form in forms):
            bad.append(f"{name}: {source[:60]!r} -> {text[:60]!r}")
    assert not bad
