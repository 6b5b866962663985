"""The next household code, following the codes a hamlet or the team already writes.

Teams number households in their own way: "MH-0123" (the hamlet's initials and a number),
"HGD-0042" (one run for the whole commune), "K3.17". The suggestion continues the hamlet's
own run when it has one; otherwise the team's: a run named after its hamlet ("MH-" in Ấp Mỹ
Hưng) gives a new hamlet a run of its own ("DH-001" in Ấp Đông Hòa), a commune-wide run just
goes on. It is only a suggestion: the form lets the user write any free code.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from dxkit.core.text import folded_key

NUMBERED = re.compile(r"^(.*?)(\d+)$")
SEPARATORS = "-_./ "
FIRST_WIDTH = 3  # digits of a new run: room for 999 households per hamlet
HAMLET_WORDS = ("ap", "khom", "thon", "to", "xom", "ban", "buon", "khu", "doi")


@dataclass(frozen=True)
class Run:
    """Codes sharing a prefix: "MH-" with numbers up to 123, written on 4 digits."""

    prefix: str
    width: int
    last: int
    count: int

    def code(self, number: int) -> str:
        return f"{self.prefix}{number:0{self.width}d}"

    @property
    def letters(self) -> str:
        return self.prefix.rstrip(SEPARATORS)

    @property
    def separator(self) -> str:
        return self.prefix[len(self.letters):]


def runs(codes: Iterable[str]) -> list[Run]:
    """The numbered runs among `codes`, the most used first (then the longest)."""
    found: dict[str, Run] = {}
    for code in codes:
        match = NUMBERED.match(code.strip())
        if match is None:
            continue
        prefix, digits = match.group(1), match.group(2)
        known = found.get(prefix)
        found[prefix] = Run(prefix, max(len(digits), known.width if known else 0),
                            max(int(digits), known.last if known else 0),
                            (known.count if known else 0) + 1)
    return sorted(found.values(), key=lambda run: (-run.count, -run.last, run.prefix))


def hamlet_initials(name: str) -> str:
    """"Ấp Mỹ Hưng" → "MH", "Khóm 3" → "3": the hamlet's name without the word for hamlet."""
    words = [word for word in folded_key(name).split() if word not in HAMLET_WORDS]
    return "".join(word if word.isdigit() else word[0] for word in words).upper()


def next_code(hamlet: str, codes_by_hamlet: Mapping[str, Collection[str]],
              hamlet_names: Mapping[str, str]) -> str:
    """The next free code for a new household of `hamlet` (an id).

    `codes_by_hamlet` holds every live household code by hamlet id, `hamlet_names` the
    hamlets' names."""
    taken = {folded_key(code) for codes in codes_by_hamlet.values() for code in codes}
    run = _run_for(hamlet, codes_by_hamlet, hamlet_names)
    if run is None:
        return ""
    number = run.last + 1
    while folded_key(run.code(number)) in taken:
        number += 1
    return run.code(number)


def _run_for(hamlet: str, codes_by_hamlet: Mapping[str, Collection[str]],
             hamlet_names: Mapping[str, str]) -> Run | None:
    own = runs(codes_by_hamlet.get(hamlet, ()))
    if own:
        return own[0]
    initials = hamlet_initials(hamlet_names.get(hamlet, ""))
    team = _team_run(codes_by_hamlet)
    if team is None:
        return Run(f"{initials}-", FIRST_WIDTH, 0, 0) if initials else None
    run, home = team
    if initials and folded_key(run.letters) == folded_key(hamlet_initials(
            hamlet_names.get(home, ""))):
        # The team names each run after its hamlet: this hamlet starts its own.
        return Run(f"{initials}{run.separator}", run.width, 0, 0)
    return run


def _team_run(codes_by_hamlet: Mapping[str, Collection[str]]) -> tuple[Run, str] | None:
    """The team's most used run and the hamlet that uses it most."""
    every = runs(code for codes in codes_by_hamlet.values() for code in codes)
    if not every:
        return None
    run = every[0]
    users: Counter[str] = Counter()
    for hamlet, codes in codes_by_hamlet.items():
        users[hamlet] = sum(1 for code in codes if _prefix(code) == run.prefix)
    return run, users.most_common(1)[0][0]


def _prefix(code: str) -> str | None:
    match = NUMBERED.match(code.strip())
    return match.group(1) if match else None
