"""The merge rules shared by the hub and every laptop (docs/sync-protocol.md).

Pure functions over plain dicts, so the hub (no workspace) and the client's store apply
exactly the same rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

EventOutcome = Literal["applied", "duplicate", "conflict"]


@dataclass
class FieldMerge:
    """The result of merging one mutable record into another."""

    fields: dict[str, Any]
    clocks: dict[str, str]
    taken: list[str] = field(default_factory=list)  # fields whose incoming edit is newer
    kept: list[str] = field(default_factory=list)  # differing fields where the stored side won

    @property
    def changed(self) -> bool:
        return bool(self.taken)


def merge_mutable(stored_fields: Mapping[str, Any], stored_clocks: Mapping[str, str],
                  incoming_fields: Mapping[str, Any], incoming_clocks: Mapping[str, str]
                  ) -> FieldMerge:
    """Per field, the value with the greater HLC wins; equal clocks are the same edit.

    Equal clocks with different values cannot come from edits (a clock names one edit), only
    from damage such as a file restored and edited by hand; the greater value wins there, the
    same on every side, so replicas still converge (digest repair relies on it)."""
    fields, clocks = dict(stored_fields), dict(stored_clocks)
    result = FieldMerge(fields, clocks)
    for name, value in incoming_fields.items():
        incoming_clock = incoming_clocks[name]
        stored_clock = stored_clocks.get(name)
        if stored_clock is None or incoming_clock > stored_clock or (
                incoming_clock == stored_clock and _tie_wins(value, stored_fields.get(name))):
            result.taken.append(name)  # the newer edit: its value (maybe equal) and clock
            fields[name], clocks[name] = value, incoming_clock
        elif incoming_clock < stored_clock and stored_fields.get(name) != value:
            result.kept.append(name)
    return result


def _tie_wins(incoming: Any, stored: Any) -> bool:
    import json

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
    import json
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
