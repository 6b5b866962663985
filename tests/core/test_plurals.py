"""A count is never glued to a fixed plural noun: "1 labels on 1 pages" is what English readers
got. Every message whose placeholder is followed by a counted noun goes through ngettext or
core.i18n.counted, so English says "1 label" and "3 labels" (Vietnamese has one form)."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir

from dxkit.core import i18n

ROOT = Path(__file__).resolve().parents[2] / "dxkit"
NOUNS = ("households|people|visits|labels|pages|records|rows|days|changes|backups|tables|"
         "bytes|requests|harvests|matches|letters|conflicts|items|entries|lots|sheets|members|"
         "hamlets|files|errors|years|months|hours|minutes|seconds|copies|tests|persons")
GLUED = re.compile(rf"\{{\w+\}}[ -](?:more |new |other )?(?:{NOUNS})\b")

# Messages in files other branches are editing now; each is converted after that branch is
# merged, and its line goes. (file, message)
NOT_YET: set[tuple[str, str]] = set()

# Counts that are constants of at least 2, so English never reads "1 ...s". (file, message)
CONSTANT_COUNTS = {
    # count is keys.RECOVERY_CHARS (56)
    ("dxkit/core/keys.py", "A recovery key has {count} letters and digits in 14 groups; this "
     "one has {found}. Type it again from the printed sheet."),
    # the noun counts total, keys.RECOVERY_CHARS (56); count is "how many so far" before "of"
    ("dxkit/ui/recovery_key.py", "{count} of {total} letters and digits"),
    # max is lots.MAX_LABELS_PER_RUN (10 000)
    ("dxkit/farm/lots.py", "Print between 1 and {max} labels."),
    # count is hub.app.MAX_PUSH_RECORDS (500)
    ("dxkit/sync/hub/app.py", "A push may carry at most {count} records."),
    # count is hub.digest.MAX_FETCH_IDS (500)
    ("dxkit/sync/hub/app.py", "A fetch may ask for at most {count} records."),
}


def plain_messages() -> list[tuple[str, int, str]]:
    found = []
    for filename, line, message, _comments, _context in extract_from_dir(
            ROOT, method_map=[("**.py", "python")],
            keywords={"_": None, "gettext": None, "N_": None}):
        if isinstance(message, str):
            found.append((filename, line, message))
    return found


def test_no_plain_message_glues_a_count_to_a_plural_noun():
    glued = [f"dxkit/{name}:{line}: {text!r}" for name, line, text in plain_messages()
             if GLUED.search(text) and (f"dxkit/{name}", text) not in NOT_YET | CONSTANT_COUNTS]
    assert not glued, "use ngettext or counted():\n" + "\n".join(glued)


def test_the_exceptions_are_still_there():
    """A converted or reworded message leaves NOT_YET / CONSTANT_COUNTS with it."""
    found = {(f"dxkit/{name}", text) for name, _line, text in plain_messages()
             if GLUED.search(text)}
    listed = NOT_YET | CONSTANT_COUNTS
    assert not NOT_YET & CONSTANT_COUNTS
    assert not listed - found, sorted(listed - found)


def test_counted_says_one_and_many_in_english_and_one_form_in_vietnamese():
    try:
        i18n.set_language("en")
        assert i18n.counted(1, "{count} household", "{count} households") == "1 household"
        assert i18n.counted(1234, "{count} household", "{count} households") == \
            "1,234 households"
        i18n.set_language("vi")
        assert i18n.counted(1234, "{count} household", "{count} households") == "1.234 hộ"
    finally:
        i18n.set_language("vi")
