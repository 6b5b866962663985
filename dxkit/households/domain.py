"""The households domain, declared to the kernel in one place: hamlets and team, households
and people, visits and follow-ups, indicators, search, spreadsheets in and out."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dxkit.core.domain import Domain, ReviewTable
from dxkit.core.i18n import N_
from dxkit.core.sqlbatch import select_in
from dxkit.core.synced import Changes, Tx
from dxkit.households import catalog, fields, followups, indicators, roster, search, visits
from dxkit.households.schema import MIGRATIONS
from dxkit.households.workspace import HouseholdsWorkspace


def forget_erased_heads(tx: Tx) -> None:
    """A person erased here or by sync takes their household's head fields with them when
    they were its head (first of the hooks: the search index below sees the result)."""
    for person_id, old in tx.erased.get("people", {}).items():
        roster.forget_head(tx, person_id, old)


def refresh_search(tx: Tx) -> None:
    """The search index follows households, their people and their hamlet's name."""
    conn = tx.conn
    households = set(tx.changes.ids("households"))
    households.update(r[0] for r in select_in(
        conn, "SELECT household_id FROM people WHERE id IN ({marks})",
        sorted(tx.changes.ids("people"))))
    for hamlet_id in tx.changes.updated.get("hamlets", ()):
        households.update(r[0] for r in conn.execute(
            "SELECT id FROM households WHERE hamlet_id = ?", (hamlet_id,)))
    search.refresh(conn, sorted(households))


def purge_search(tx: Tx) -> None:
    """After an erasure the index must really forget the person's words (see search.purge)."""
    if tx.erased.get("people"):
        search.purge(tx.conn)


def refresh_follow_ups(tx: Tx) -> None:
    """A household's follow-up follows its visits and the closes and reopens of it."""
    visited = {r[0] for r in select_in(
        tx.conn, "SELECT household_id FROM visits WHERE id IN ({marks})",
        sorted(tx.changes.created.get("visits", ())))}
    visited |= followups.households_of(tx.conn, tx.changes.created.get("follow_up_closures", ()))
    if visited:
        visits.refresh_follow_ups(tx.conn, sorted(visited))


def refresh_indicators(tx: Tx) -> None:
    if tx.changes.touched("support_items"):
        # What an item establishes changed (or a new one gives meaning to items recorded
        # with its code): derive everyone's again, as a recomputation would.
        indicators.store(tx.conn)
        return
    affected = indicators.affected_people(tx)
    if affected:
        indicators.store(tx.conn, affected)


def seed_catalog(ws: HouseholdsWorkspace, created: bool) -> None:
    if created:
        ws.catalog.seed_defaults()


def member_name(ws: HouseholdsWorkspace, member_id: str) -> str | None:
    row = ws.conn.execute("SELECT name FROM team_members WHERE id = ?", (member_id,)).fetchone()
    return row[0] if row else None


# -- the sync review screen ----------------------------------------------------------------------
def _describe_household(ws: HouseholdsWorkspace, row_id: str) -> str:
    household = ws.households.get(row_id)
    return " — ".join(p for p in (household.code, household.head_name) if p)


def _describe_person(ws: HouseholdsWorkspace, row_id: str) -> str:
    person = ws.people.get(row_id)
    code = ws.households.get(person.household_id).code
    return " — ".join(p for p in (person.full_name, code) if p)


def _edit_household(ws: HouseholdsWorkspace, row_id: str, keyword: str, value: Any) -> Changes:
    return ws.households.update(row_id, **{keyword: value}).changes


def _edit_person(ws: HouseholdsWorkspace, row_id: str, keyword: str, value: Any) -> Changes:
    return ws.people.update(row_id, **{keyword: value}).changes


def _household_input(field: str, value: Any) -> Any:
    return "" if value is None and field not in ("latitude", "longitude") else value


def _person_input(field: str, value: Any) -> Any:
    """A stored value as People.update takes it."""
    if field == "birth_date" and isinstance(value, str) and value:
        return dt.date.fromisoformat(value)
    if field == "consent":
        return bool(value)
    return "" if value is None else value


REVIEW = {
    "households": ReviewTable(
        title=N_("Household"), labels=fields.review_labels(fields.HOUSEHOLD_EDITABLE),
        editable=fields.review_keywords(fields.HOUSEHOLD_EDITABLE),
        companions=roster.HOUSEHOLD_INPUTS, describe=_describe_household,
        edit=_edit_household, as_input=_household_input),
    "people": ReviewTable(
        title=N_("Person"), labels=fields.review_labels(fields.PERSON_EDITABLE),
        editable=fields.review_keywords(fields.PERSON_EDITABLE),
        companions=roster.PERSON_INPUTS, describe=_describe_person, edit=_edit_person,
        as_input=_person_input),
    "hamlets": ReviewTable(
        title=N_("Hamlet"), labels={"name": N_("Name")},
        editable={"name": "name"},
        describe=lambda ws, row_id: ws.catalog.hamlet(row_id).name,
        edit=lambda ws, row_id, _keyword, value: ws.catalog.rename_hamlet(
            row_id, "" if value is None else value).changes),
}


DOMAIN = Domain(
    name="households",
    services={"catalog": catalog.Catalog, "households": roster.Households,
              "people": roster.People, "visits": visits.Visits,
              "indicators": indicators.Indicators},
    tables=(*catalog.TABLES, *roster.TABLES, *visits.TABLES, *followups.TABLES,
            *indicators.TABLES),
    migrations=MIGRATIONS,
    # One row per hamlet first: the households it moves are then indexed like any others.
    before_commit=(catalog.merge_duplicate_hamlets, forget_erased_heads, refresh_search,
                   purge_search, refresh_follow_ups, refresh_indicators),
    on_open=(seed_catalog,),
    shipped_rows=(catalog.shipped_catalog,),
    review=REVIEW,
    hidden_fields=frozenset({"code_key", "head_key", "name_key", "consent_on", "consent_by",
                             "purged"}),
    member_name=member_name,
)
