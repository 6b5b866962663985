"""The merge rules shared by the hub and every laptop (docs/sync-protocol.md).

Pure functions over plain dicts, so the hub (no workspace) and the client's store apply
exactly the same rules. Besides "the newer clock wins", a table may declare rules that hold
after every merge whatever the clocks (`Rules`): an erasure is for good, and a field may need
another one (no citizen ID without consent). The kernel never names the tables that declare
them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

EventOutcome = Literal["applied", "duplicate", "conflict"]


@dataclass(frozen=True)
class Erasure:
    """Rows of the table can be erased (a person's right to deletion).

    Once `flag` is truthy on either side of a merge the result is erased: every field of
    `cleared` holds its cleared value (the flag and the tombstone included), whatever the
    clocks, so an edit made elsewhere before or after the erasure never brings the data
    back. Clocks still merge as usual (the greater one), so every replica ends with the same
    fields and the same clocks in whichever order it met the edits.
    """

    flag: str
    cleared: tuple[tuple[str, Any], ...]  # (field, value it holds once erased)

    def values(self) -> dict[str, Any]:
        return dict(self.cleared)


@dataclass(frozen=True)
class Requires:
    """`field` may hold a value only while `condition` is truthy; otherwise it holds `empty`.

    A value cleared this way keeps its clock. Two values of the field with the same clock
    (one copy cleared, one not) resolve to `empty` everywhere, so replicas that met the
    condition's edits in different orders still agree."""

    field: str
    condition: str
    empty: Any = ""


@dataclass(frozen=True)
class Rules:
    """What a table declares must hold after every merge and every local write."""

    erasure: Erasure | None = None
    requires: tuple[Requires, ...] = ()

    def is_erased(self, fields: Mapping[str, Any]) -> bool:
        return self.erasure is not None and bool(fields.get(self.erasure.flag))

    def enforce(self, fields: Mapping[str, Any], erased: bool = False) -> dict[str, Any]:
        """`fields` with the rules applied (only to the fields present): the erasure's
        cleared values if `erased` or the fields say so, then each requirement."""
        result = dict(fields)  # a copy even when nothing changes: callers keep theirs
        if self.erasure is not None and (erased or self.is_erased(fields)):
            result.update((name, value) for name, value in self.erasure.cleared
                          if name in result)
        for rule in self.requires:
            if rule.field in result and not result.get(rule.condition):
                result[rule.field] = rule.empty
        return result

    def ruled(self, fields: Mapping[str, Any]) -> list[str]:
        """The fields whose value the rules decide in this (enforced) row: all the erasure's
        once erased, and each required field whose condition does not hold."""
        names = [name for name, _value in self.erasure.cleared
                 if name in fields] if self.erasure and self.is_erased(fields) else []
        names += [rule.field for rule in self.requires
                  if rule.field in fields and not fields.get(rule.condition)
                  and rule.field not in names]
        return names

    def tie_value(self, name: str) -> tuple[bool, Any]:
        """(True, the value that wins a tie) for a field a requirement may clear."""
        for rule in self.requires:
            if rule.field == name:
                return True, rule.empty
        return False, None


NO_RULES = Rules()


@dataclass
class FieldMerge:
    """The result of merging one mutable record into another."""

    fields: dict[str, Any]
    clocks: dict[str, str]
    taken: list[str] = field(default_factory=list)  # fields whose incoming edit is newer
    kept: list[str] = field(default_factory=list)  # differing fields where the stored side won
    # Fields not taken whose stored value a table rule changed (an erasure, a requirement).
    enforced: list[str] = field(default_factory=list)
    # Fields a table rule decided, whichever side's clock won: no conflict to list there.
    ruled: list[str] = field(default_factory=list)
    erased: bool = False  # the result is an erased row (Erasure)

    @property
    def changed(self) -> bool:
        return bool(self.taken or self.enforced)

    @property
    def written(self) -> list[str]:
        """The fields to write to the stored row: taken or changed by a rule."""
        return [*self.taken, *self.enforced]


def merge_mutable(stored_fields: Mapping[str, Any], stored_clocks: Mapping[str, str],
                  incoming_fields: Mapping[str, Any], incoming_clocks: Mapping[str, str],
                  rules: Rules = NO_RULES) -> FieldMerge:
    """Per field, the value with the greater HLC wins; equal clocks are the same edit. Then
    the table's `rules` are applied to the result (see `Rules`).

    Equal clocks with different values cannot come from edits (a clock names one edit), only
    from damage such as a file restored and edited by hand, or from a requirement that
    cleared one copy; the greater value wins there (a requirement's empty value first), the
    same on every side, so replicas still converge (digest repair relies on it)."""
    fields, clocks = dict(stored_fields), dict(stored_clocks)
    result = FieldMerge(fields, clocks)
    for name, value in incoming_fields.items():
        incoming_clock = incoming_clocks[name]
        stored_clock = stored_clocks.get(name)
        if stored_clock is None or incoming_clock > stored_clock or (
                incoming_clock == stored_clock
                and _tie_wins(name, value, stored_fields.get(name), rules)):
            result.taken.append(name)  # the newer edit: its value (maybe equal) and clock
            fields[name], clocks[name] = value, incoming_clock
        elif incoming_clock < stored_clock and stored_fields.get(name) != value:
            result.kept.append(name)
    if rules != NO_RULES:
        _apply_rules(result, stored_fields, incoming_fields, rules)
    return result


def _apply_rules(result: FieldMerge, stored: Mapping[str, Any], incoming: Mapping[str, Any],
                 rules: Rules) -> None:
    """Rewrite the merged values as the table's rules say; clocks stay the merged ones."""
    # Erased on either side is erased: the flag itself may carry the older clock.
    result.erased = rules.is_erased(stored) or rules.is_erased(incoming)
    result.fields.update(rules.enforce(result.fields, erased=result.erased))
    result.ruled = rules.ruled(result.fields)
    result.enforced = [name for name in result.ruled if name not in result.taken
                       and result.fields[name] != stored.get(name)]
    result.kept = [name for name in result.kept if name not in result.ruled]


def _tie_wins(name: str, incoming: Any, stored: Any, rules: Rules) -> bool:
    clearable, empty = rules.tie_value(name)
    if clearable and incoming != stored and empty in (incoming, stored):
        return bool(incoming == empty)
    return json.dumps(incoming, sort_keys=True) > json.dumps(stored, sort_keys=True)


def merge_event(stored_fields: Mapping[str, Any] | None, incoming_fields: Mapping[str, Any]
                ) -> EventOutcome:
    """Events are immutable: new -> applied; same content -> duplicate; else conflict."""
    if stored_fields is None:
        return "applied"
    return "duplicate" if dict(stored_fields) == dict(incoming_fields) else "conflict"


def compact_clocks(clocks: Mapping[str, str]) -> tuple[str, str]:
    """(updated_at, field_clock JSON) for storing `clocks` the way synced.field_clocks reads
    them: the most common clock becomes "*", the others are listed."""
    from collections import Counter

    if not clocks:
        raise ValueError("a mutable record needs clocks")
    distinct = set(clocks.values())
    if len(distinct) == 1:  # a row nobody edited field by field: the common case by far
        (only,) = distinct
        return only, json.dumps({"*": only})
    base = Counter(clocks.values()).most_common(1)[0][0]
    overrides = {name: clock for name, clock in clocks.items() if clock != base}
    return max(clocks.values()), json.dumps({"*": base, **overrides}, sort_keys=True)
