"""The hybrid logical clock never lets an overflow escape and never follows a clock nobody can
believe (dxkit/core/hlc.py; docs/sync-protocol.md, Clocks)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dxkit.core.clock_repair import open_clock
from dxkit.core.hlc import (
    BELIEVABLE_AHEAD_MS,
    MAX_COUNTER,
    BadClock,
    Clock,
    Timestamp,
    demoted,
    event_clock,
)
from dxkit.core.ids import uuid7

NOW = 1_795_000_000_000  # a millisecond in 2026
DAY = 24 * 3600 * 1000


class Wall:
    """A wall clock the test moves by hand."""

    def __init__(self, ms: int = NOW) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def stamp(ms: int, counter: int = 0, device: str = "bbbb") -> str:
    return f"{ms:012x}-{counter:04x}-{device}"


def test_a_saturated_counter_moves_to_the_next_millisecond_instead_of_a_fifth_digit():
    wall = Wall(NOW)
    clock = Clock("aaaa", stamp(NOW + 50, MAX_COUNTER - 2, "aaaa"), wall_ms=wall)
    stamps = [clock.now() for _ in range(5)]
    assert stamps == sorted(stamps) and len(set(stamps)) == 5  # text order is causal order
    parsed = [Timestamp.parse(s) for s in stamps]
    assert [(p.ms - NOW, p.counter) for p in parsed] == [
        (50, MAX_COUNTER - 1), (50, MAX_COUNTER), (51, 0), (51, 1), (51, 2)]


def test_a_clock_that_observed_a_saturated_counter_stays_well_formed():
    clock = Clock("aaaa", wall_ms=Wall(NOW))
    assert clock.observe(stamp(NOW + 1_000, MAX_COUNTER))
    after = clock.now()
    assert after > stamp(NOW + 1_000, MAX_COUNTER) and Timestamp.parse(after).counter == 0


@pytest.mark.parametrize("ahead", [BELIEVABLE_AHEAD_MS + 1, 40 * 365 * DAY])
def test_observe_refuses_a_clock_too_far_ahead_and_stays_where_it_was(ahead):
    clock = Clock("aaaa", stamp(NOW, 3, "aaaa"), wall_ms=Wall(NOW))
    assert clock.observe(stamp(NOW + ahead)) is False
    assert clock.last == stamp(NOW, 3, "aaaa")
    assert Timestamp.parse(clock.now()).ms == NOW  # edits go on at the wall clock's time


def test_observe_refuses_the_largest_clock_the_hub_once_stored():
    clock = Clock("aaaa", wall_ms=Wall(NOW))
    assert clock.observe("ffffffffffff-ffff-evil") is False
    assert all(Timestamp.parse(clock.now()).ms == NOW for _ in range(3))


def test_observe_follows_a_clock_up_to_a_day_ahead_so_causality_holds():
    clock = Clock("aaaa", wall_ms=Wall(NOW))
    remote = stamp(NOW + BELIEVABLE_AHEAD_MS, 7)
    assert clock.observe(remote) is True
    assert clock.now() > remote


def test_a_laptop_whose_date_is_years_behind_believes_the_time_it_learned_from_the_hub():
    wall = Wall(NOW - 10 * 365 * DAY)
    clock = Clock("aaaa", wall_ms=wall)
    assert clock.observe(stamp(NOW)) is False  # the wall clock alone cannot believe it
    clock.learn_time(NOW)
    assert clock.observe(stamp(NOW + 60_000)) is True
    assert clock.now() > stamp(NOW + 60_000)


def test_a_laptop_whose_date_is_ahead_stamps_the_hubs_time_once_it_learned_it():
    wall = Wall(NOW + 2 * DAY)
    clock = Clock("aaaa", wall_ms=wall)
    clock.learn_time(NOW)
    wall.ms += 5_000
    assert Timestamp.parse(clock.now()).ms == NOW + 5_000
    assert clock.physical_ms() == NOW + 5_000


def test_a_difference_from_the_hub_of_seconds_is_left_alone():
    wall = Wall(NOW + 30_000)
    clock = Clock("aaaa", wall_ms=wall)
    clock.learn_time(NOW)
    assert Timestamp.parse(clock.now()).ms == NOW + 30_000


@pytest.mark.parametrize("text", [
    "000000000001-10000-dev",  # an overflowed counter: sorted before ffff as text
    "00000000000A-0000-dev",  # upper-case hex sorts apart from lower-case
    "000000000001-0000-",  # no device
    "1-0000-dev",  # a short millisecond part
    "000000000001-00g0-dev",
    "000000000001-0000-dev\n",
    "",
    None,
    17,
])
def test_parse_refuses_anything_but_a_well_formed_clock(text):
    with pytest.raises(BadClock) as refused:
        Timestamp.parse(text)
    assert refused.value.reason == "bad_clock" and isinstance(refused.value, ValueError)


def test_parse_reads_what_str_writes():
    for value in (Timestamp(0, 0, "shipped"), Timestamp(NOW, MAX_COUNTER, "a1b2c3d4e5f60718"),
                  Timestamp(255, 2, "dev-with-dash")):
        assert Timestamp.parse(str(value)) == value
    with pytest.raises(BadClock):
        Timestamp(NOW, MAX_COUNTER + 1, "aaaa")


operations = st.lists(st.one_of(
    st.tuples(st.just("wall"), st.integers(-5_000, 5_000)),
    st.tuples(st.just("now"), st.just(0)),
    st.tuples(st.just("observe"), st.integers(-5_000, 2**48 - 1 - NOW)),
    st.tuples(st.just("observe_saturated"), st.integers(-5_000, 5_000)),
), max_size=60)


@settings(max_examples=300, deadline=None)
@given(operations)
def test_whatever_it_meets_the_clock_issues_increasing_well_formed_believable_stamps(steps):
    wall = Wall(NOW)
    clock = Clock("aaaa", wall_ms=wall)
    issued: list[str] = []
    highest_wall = wall.ms
    for kind, value in steps:
        if kind == "wall":
            wall.ms = NOW + value
            highest_wall = max(highest_wall, wall.ms)
        elif kind == "now":
            issued.append(clock.now())
        else:
            counter = MAX_COUNTER if kind == "observe_saturated" else 0
            clock.observe(stamp(NOW + value, counter))
    assert issued == sorted(issued) and len(set(issued)) == len(issued)
    for text in issued:
        parsed = Timestamp.parse(text)
        # Never further ahead than a day past the wall, plus one borrowed ms per stamp.
        assert parsed.ms <= highest_wall + BELIEVABLE_AHEAD_MS + len(issued)


def test_open_clock_refuses_a_persisted_clock_nobody_can_believe():
    wall = Wall(NOW)
    for poisoned in ("ffffffffffff-10000-aaaa", stamp(NOW + 2 * DAY, device="aaaa"), "junk"):
        clock, repair = open_clock("aaaa", poisoned, wall_ms=wall)
        assert repair and Timestamp.parse(clock.now()).ms == NOW
    clock, repair = open_clock("aaaa", stamp(NOW + 3_600_000, 5, "aaaa"), wall_ms=wall)
    assert not repair and clock.now() > stamp(NOW + 3_600_000, 5, "aaaa")


def test_open_clock_keeps_the_clock_of_a_laptop_whose_date_is_wrong_but_knows_the_hubs():
    behind = Wall(NOW - 5 * 365 * DAY)
    clock, repair = open_clock("aaaa", stamp(NOW, 9, "aaaa"), offset_ms=behind.ms - NOW,
                               wall_ms=behind)
    assert not repair and clock.now() > stamp(NOW, 9, "aaaa")


def test_repaired_clocks_are_the_same_everywhere_and_older_than_every_edit():
    assert demoted("ffffffffffff-ffff-bbbb") == demoted("ffffffffffff-ffff-bbbb") == \
        "000000000001-0000-bbbb"
    assert demoted("ffffffffffff-ffff-hub") == "000000000001-0000-0"  # nobody poses as the hub
    assert demoted("ffffffffffff-10000-bbbb") < stamp(2) and demoted("x") > "000000000000-0000-s"
    row_id = uuid7()
    made = int(row_id.replace("-", "")[:12], 16)
    assert event_clock("ffffffffffff-ffff-bbbb", row_id, made + 1) == stamp(made, 0, "bbbb")
    assert event_clock("ffffffffffff-ffff-bbbb", row_id, made - 1) == stamp(1, 0, "bbbb")
    assert event_clock("ffffffffffff-ffff-bbbb", "not-a-uuid", NOW) == stamp(1, 0, "bbbb")
