"""What a domain (households, farm, labels, lessons, …) declares to the kernel, in one place.

A domain is a package beside `dxkit.core`. Its `domain.py` builds one `Domain` listing its
synced tables, migrations, commit hooks (derived state kept with the data), what it does when a
workspace opens (shipped reference rows), its shipped rows for the hub, its demo builder and
how the sync review screen names and edits its records. The composition root
(`dxkit.workspace`) lists the domains; the kernel only ever sees them through this type, so it
never names one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from dxkit.core.synced import Changes, ShippedRows, SyncedTable, Tx

if TYPE_CHECKING:
    import datetime as dt
    import random


@dataclass(frozen=True)
class Migration:
    """One numbered schema step. Names are global across domains ("0007_farm"): the kernel
    applies every domain's migrations in name order, each in its own transaction."""

    name: str
    apply: Callable[[Database], None]

    def __call__(self, db: Database) -> None:
        self.apply(db)


def migration(name: str) -> Callable[[Callable[[Database], None]], Migration]:
    """Decorator: `@migration("0009_lessons")` on a function taking the sqlite-utils Database."""
    def wrap(function: Callable[[Database], None]) -> Migration:
        return Migration(name, function)
    return wrap


@dataclass(frozen=True)
class ReviewTable:
    """How the sync review screen shows and edits one table's records.

    title, labels: the table's and its fields' names for people (msgids);
    editable: stored field -> keyword of the operation that edits it by hand;
    companions: operation keyword -> the stored fields one such edit writes (a name and its
      folded key), resolved together;
    describe(ws, row_id): the name a person knows the record by (LookupError/DxError if gone);
    edit(ws, row_id, keyword, value): the same operation as a hand edit, returning Changes;
    as_input(field, stored value): the value as that operation takes it.
    """

    editable: Mapping[str, str]
    describe: Callable[[Any, str], str]
    edit: Callable[[Any, str, str, Any], Changes]
    companions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    as_input: Callable[[str, Any], Any] = lambda _field, value: value
    # What a person calls a record of this table and each field (English msgids marked with
    # N_, translated where shown).
    title: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)


# Hooks are called with the composed workspace (`dxkit.workspace.Workspace`), which the kernel
# cannot name: each domain's hook takes its own view of it (`HouseholdsWorkspace`, …), so the
# workspace parameter is `Any` here, as for `services` and `ReviewTable`.
OpenHook = Callable[[Any, bool], None]
MemberName = Callable[[Any, str], str | None]
DemoBuilder = Callable[[Any, "dt.datetime", "random.Random"], None]


@dataclass(frozen=True)
class Domain:
    name: str
    # Attribute name -> factory: `ws.<name>` is the domain's service (`ws.farm`, `ws.visits`).
    services: Mapping[str, Callable[[Any], object]] = field(default_factory=dict)
    tables: tuple[SyncedTable, ...] = ()
    migrations: tuple[Migration, ...] = ()
    # Run inside every write transaction before COMMIT: derived state (search index,
    # indicators, follow-ups) changes with the data or not at all.
    before_commit: tuple[Callable[[Tx], None], ...] = ()
    # Run each time a workspace opens (e.g. add shipped reference rows a workspace lacks);
    # `created` is True the first time.
    on_open: tuple[OpenHook, ...] = ()
    shipped_rows: tuple[ShippedRows, ...] = ()
    demo: DemoBuilder | None = None
    review: Mapping[str, ReviewTable] = field(default_factory=dict)
    # Fields the review screen never lists on their own (derived from another field).
    hidden_fields: frozenset[str] = frozenset()
    # The name of the team member with this id, for "who is recording" (None: not ours).
    member_name: MemberName | None = None
