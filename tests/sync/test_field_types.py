"""The hub's check of every pushed record (`hub.store.validate`) against the declared field
types: it accepts every record a real laptop produces (the demo workspace, and households,
people, visits and farm rows written through the Workspace operations from inputs Hypothesis
draws), and rejects, naming the field, every value outside its field's type."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dxkit import demo
from dxkit.core.synced import REGISTRY, records_of
from dxkit.core.text import nfc
from dxkit.households.catalog import NAME_LENGTH
from dxkit.households.demo import MOBILE_PREFIXES, cccd_number
from dxkit.households.followups import NOTE_LENGTH, REASONS
from dxkit.households.roster import ADDRESS_LENGTH, NOTES_LENGTH, RELATIONSHIPS
from dxkit.households.visits import TEXT_LENGTH, VisitItem
from dxkit.sync.hub.store import Rejected, validate
from dxkit.workspace import Workspace
from tests.support import field_values

NOW = dt.datetime(2026, 11, 20, 9, 30)
TYPED_FIELDS = [(table.name, name) for table in REGISTRY.values() for name in table.wire_types]
# Text as people type it: any letter, mark, digit, punctuation or space (what the forms store
# is its NFC form, trimmed, controls dropped).
TYPED = st.characters(categories=("L", "M", "N", "P", "S", "Zs"))


def outbox_records(ws: Workspace, after: int = 0) -> list[dict[str, Any]]:
    """The records a sync would push for the outbox entries after seq `after`."""
    keys = ws.conn.execute("SELECT DISTINCT table_name, row_id FROM outbox WHERE seq > ?",
                           (after,)).fetchall()
    records = []
    for table, row_id in keys:
        records.extend(records_of(ws.conn, table, [row_id]).values())
    return records


def last_seq(ws: Workspace) -> int:
    return int(ws.conn.execute("SELECT coalesce(max(seq), 0) FROM outbox").fetchone()[0])


def assert_hub_accepts(records: list[dict[str, Any]]) -> None:
    """The hub takes every record as it is, and refuses it, naming the field, once any one
    of its fields holds something else (each record spoils another field in turn)."""
    for number, record in enumerate(records):
        try:
            validate(record)
        except Rejected as refusal:
            raise AssertionError(f"the hub refuses a laptop's {record['table']} record: "
                                 f"{refusal.reason} {refusal.field} {record['fields']}"
                                 ) from None
        names = sorted(record["fields"])
        name = names[number % len(names)]
        spoilt = {**record, "fields": {**record["fields"], name: ["not", "a", "value"]}}
        with pytest.raises(Rejected) as refused:
            validate(spoilt)
        assert (refused.value.reason, refused.value.field) == ("wrong_type", name)


def test_the_hub_accepts_every_record_of_the_demo_workspace(tmp_path):
    ws = Workspace.open(tmp_path / "demo")
    ws.freeze_time(NOW)
    demo.generate(ws, seed=7, households=25)
    person = ws.conn.execute("SELECT id FROM people LIMIT 1").fetchone()[0]
    ws.people.delete(person)  # an erased person travels with purged fields
    ws.catalog.add_support_item("zalo_basics", "Hướng dẫn dùng Zalo", "Using Zalo",
                                "smartphone")
    ws.farm.registry.add_product("Thuốc trừ sâu HTX", ["Abamectin 18 g/l"], {"rice": 7},
                                 kind="insecticide")
    records = outbox_records(ws)
    # Every synced table a laptop writes (bans come only from the shipped list and the hub).
    assert {r["table"] for r in records} == set(REGISTRY) - {"pesticide_bans"}
    assert_hub_accepts(records)
    # The rows every install ships with come back as publications: they fit too.
    assert_hub_accepts([record for table in REGISTRY for record in records_of(
        ws.conn, table, [row[0] for row in ws.conn.execute(f"SELECT id FROM {table}")]
    ).values()])
    ws.close()


# -- laptops writing what Hypothesis draws --------------------------------------------------------
def typed(limit: int, *, required: bool = False) -> st.SearchStrategy[str]:
    """What a person may type into a field of at most `limit` characters (as stored)."""
    return st.text(TYPED, max_size=limit).filter(
        lambda text: len(nfc(text)) <= limit and (bool(nfc(text)) or not required))


MOBILES = st.builds(lambda prefix, digits: prefix + digits[:10 - len(prefix)],
                    st.sampled_from(MOBILE_PREFIXES),
                    st.text("0123456789", min_size=7, max_size=7))
GPS = st.one_of(st.tuples(st.none(), st.none()),
                st.tuples(st.floats(8, 24), st.floats(102, 110)))


@pytest.fixture(scope="module")
def team_laptop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """One laptop for all the examples (each adds rows of its own): a hamlet, two team
    members, a cooperative, a plot and a season."""
    ws = Workspace.open(tmp_path_factory.mktemp("laptop") / "ws")
    ws.freeze_time(NOW)
    ws.catalog.add_hamlet("Ấp Mỹ Hưng")
    ws.catalog.add_member("Lê Thị Hoa", "0912345678")
    org = ws.farm.orgs.add("HTX Mỹ Đông").value
    ws.farm.orgs.add_season(org, "Đông Xuân 2026", starts_on=dt.date(2026, 1, 1))
    yield ws
    ws.close()


CODES = (f"HH-{n}" for n in itertools.count(1))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(head=typed(NAME_LENGTH, required=True), address=typed(ADDRESS_LENGTH),
       notes=typed(NOTES_LENGTH), phone=st.one_of(st.just(""), MOBILES), gps=GPS,
       people=st.lists(st.tuples(typed(NAME_LENGTH, required=True),
                                 st.sampled_from(("Nam", "Nữ", "")),
                                 st.integers(1900, 2026), st.booleans(),
                                 st.sampled_from(RELATIONSHIPS), typed(NOTES_LENGTH)),
                       min_size=1, max_size=3),
       visit_notes=typed(TEXT_LENGTH), reason=typed(TEXT_LENGTH),
       outcome=st.sampled_from(("done", "partly", "not_done")),
       follow_up=st.one_of(st.none(), st.integers(0, 60)),
       close=st.one_of(st.none(), st.tuples(st.sampled_from(REASONS), typed(NOTE_LENGTH),
                                            st.booleans())))
def test_the_hub_accepts_households_people_and_visits_laptops_write(
        team_laptop, head, address, notes, phone, gps, people, visit_notes, reason, outcome,
        follow_up, close):
    ws = team_laptop
    before = last_seq(ws)
    household = ws.households.add(code=next(CODES), head_name=head, hamlet="Ấp Mỹ Hưng",
                                  address=address, notes=notes, phone=phone,
                                  latitude=gps[0], longitude=gps[1]).value
    added = []
    for name, sex, year, consent, relationship, about in people:
        cccd = cccd_number(random.Random(year), year, "F" if sex == "Nữ" else "M") \
            if consent and sex else ""
        added.append(ws.people.add(household.id, full_name=name, sex=sex, birth_year=year,
                                   consent=consent, cccd=cccd, relationship=relationship,
                                   notes=about).value)
    member = ws.catalog.members()[0].id
    reason_given = reason if nfc(reason) else "Chưa có mạng"
    visit = ws.visits.add(household.id, [VisitItem("vneid_level2", outcome, added[0].id,
                                                   reason_given)],
                          visited_at=NOW - dt.timedelta(days=1), member_ids=[member],
                          notes=visit_notes, follow_up_on=None if follow_up is None
                          else NOW.date() + dt.timedelta(days=follow_up)).value
    closed = follow_up is not None and close is not None
    if closed:  # the follow-up closed without a visit, with what was typed, maybe reopened
        why, note, reopen = close
        ws.visits.close_follow_up(visit.id, why, note=note if nfc(note) or why != "other"
                                  else "Khác", member_id=member)
        if reopen:
            ws.visits.reopen_follow_up(visit.id)
    ws.indicators.answer(added[-1].id, "smartphone", consent)
    ws.people.update(added[0].id, notes=notes)
    records = outbox_records(ws, before)
    assert {"households", "people", "visits", "visit_items", "indicator_answers"} <= {
        r["table"] for r in records}
    assert closed == ("follow_up_closures" in {r["table"] for r in records})
    assert_hub_accepts(records)


PLOT_NAMES = (f"Ruộng {n}" for n in itertools.count(1))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(area=st.one_of(st.none(), st.floats(0.001, 100_000)), variety=typed(NAME_LENGTH),
       location=typed(500), gps=st.one_of(st.tuples(st.none(), st.none()),
                                          st.tuples(st.floats(-90, 90), st.floats(-180, 180))),
       pest=typed(TEXT_LENGTH, required=True), notes=typed(TEXT_LENGTH),
       kg=st.floats(0.001, 1_000_000))
def test_the_hub_accepts_the_farm_rows_laptops_write(team_laptop, area, variety, location, gps,
                                                     pest, notes, kg):
    ws = team_laptop
    before = last_seq(ws)
    farm = ws.farm
    org = farm.orgs.all()[0]
    plot = farm.orgs.add_plot(org, next(PLOT_NAMES), crop="rice", area_ha=area,
                              variety=variety, location=location, latitude=gps[0],
                              longitude=gps[1]).value
    season = farm.orgs.seasons(org)[0]
    farm.diary.record(plot, season, "observation", dt.date(2026, 3, 1), pest=pest, notes=notes)
    farm.diary.record(plot, season, "harvest", dt.date(2026, 4, 1), quantity=kg, unit="kg")
    records = outbox_records(ws, before)
    assert {"plots", "diary_entries"} <= {r["table"] for r in records}
    assert_hub_accepts(records)


# -- values outside the declared types ---------------------------------------------------------
@pytest.mark.parametrize(("table", "name"), TYPED_FIELDS,
                         ids=[f"{table}.{name}" for table, name in TYPED_FIELDS])
def test_the_hub_rejects_each_value_outside_its_fields_type(make_record, table, name):
    record = make_record(table, "0190a000-0000-7000-8000-00000000abcd")
    validate(record)  # the record as made fits
    kind = REGISTRY[table].wire_types[name]
    for what, value, reason in field_values.invalid(kind):
        record["fields"][name] = value
        with pytest.raises(Rejected) as refused:
            validate(record)
        assert (refused.value.reason, refused.value.field) == (reason, name), what


# make_record only builds records: sharing it between examples is safe.
@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_record_is_accepted_exactly_when_every_value_fits(make_record, data):
    """Any table, any values drawn from the fields' types: accepted; one of them replaced by
    a value outside its type: rejected, naming that field."""
    table = data.draw(st.sampled_from(sorted(REGISTRY)))
    spec = REGISTRY[table]
    values = {name: data.draw(field_values.valid(kind), label=name)
              for name, kind in spec.wire_types.items()}
    record = make_record(table, data.draw(st.uuids()).hex, **values)
    assert validate(record) is spec
    name = data.draw(st.sampled_from(sorted(spec.wire_types)), label="spoilt field")
    what, value, reason = data.draw(
        st.sampled_from(field_values.invalid(spec.wire_types[name])), label="bad value")
    record["fields"][name] = value
    with pytest.raises(Rejected) as refused:
        validate(record)
    assert (refused.value.reason, refused.value.field) == (reason, name), what


def test_the_hub_refuses_a_malformed_follow_up_close(make_record):
    """A close or reopen the laptops make fits (the demo and the examples above); one that
    names an unknown reason, carries too long a note, no visit or a bad clock is refused,
    naming the field."""
    close = make_record("follow_up_closures", "0190a000-0000-7000-8000-00000000c105",
                        visit_id="0190a000-0000-7000-8000-000000000001", kind="close",
                        reason="moved_away", note="Đã chuyển vào Bình Dương")
    validate(close)
    validate({**close, "fields": {**close["fields"], "kind": "reopen", "reason": None,
                                  "corrects": close["id"]}})
    for name, value, reason in (("reason", "gone_fishing", "unknown_value"),
                                ("kind", "delete", "unknown_value"),
                                ("note", "x" * (NOTE_LENGTH + 1), "too_long"),
                                ("visit_id", None, "missing_value"),
                                ("recorded_at", "21/11/2026", "bad_format"),
                                ("member_id", "Lê Thị Hoa", "bad_format")):
        with pytest.raises(Rejected) as refused:
            validate({**close, "fields": {**close["fields"], name: value}})
        assert (refused.value.reason, refused.value.field) == (reason, name)
