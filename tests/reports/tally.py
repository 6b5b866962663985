"""A hand tally of a report's figures, straight from the raw tables with plain SQL and loops.

Written apart from dxkit.reports on purpose: it shares no code with it, only the rules of the
module docstring of dxkit/reports/monthly.py."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from typing import Any


def cutoff(end: dt.date) -> str:
    midnight = dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
    return format(int(midnight.timestamp() * 1000), "012x")


IN_FORCE = """
WITH known AS (SELECT * FROM visits WHERE kind = 'visit' OR created_at < :cut),
in_force AS (SELECT k.* FROM known k WHERE k.kind != 'void'
             AND NOT EXISTS (SELECT 1 FROM known c WHERE c.corrects = k.id))
"""


def tally(conn: sqlite3.Connection, start: dt.date, end: dt.date,
          hamlet_id: str | None = None) -> dict[str, Any]:
    args = {"cut": cutoff(end), "a": start.isoformat(), "b": end.isoformat(),
            "h": hamlet_id}
    scope = "(:h IS NULL OR h.hamlet_id = :h)"
    period = (f"FROM in_force v JOIN households h ON h.id = v.household_id "
              f"WHERE date(v.visited_at) BETWEEN :a AND :b AND {scope}")
    visits, reached = conn.execute(
        IN_FORCE + f"SELECT count(*), count(DISTINCT v.household_id) {period}", args).fetchone()
    helped = conn.execute(
        IN_FORCE + "SELECT count(DISTINCT i.person_id) FROM visit_items i JOIN in_force v "
        "ON v.id = i.visit_id JOIN households h ON h.id = v.household_id "
        f"WHERE date(v.visited_at) BETWEEN :a AND :b AND {scope} "
        "AND i.outcome IN ('done', 'partly') AND i.person_id IS NOT NULL", args).fetchone()[0]
    outcomes = Counter({(code, outcome): n for code, outcome, n in conn.execute(
        IN_FORCE + "SELECT i.support_item_code, i.outcome, count(*) FROM visit_items i "
        "JOIN in_force v ON v.id = i.visit_id JOIN households h ON h.id = v.household_id "
        f"WHERE date(v.visited_at) BETWEEN :a AND :b AND {scope} "
        "GROUP BY i.support_item_code, i.outcome", args)})
    items = {code: {o: outcomes[(code, o)] for o in ("done", "partly", "not_done")}
             for code, _o in outcomes}

    indicators = indicators_at(conn, end, hamlet_id)
    before = start - dt.timedelta(days=1)
    at_start = indicators_at(conn, before, hamlet_id)
    for code, row in indicators.items():
        row["start_reached"] = at_start[code]["reached"]
        row["start_counted"] = at_start[code]["counted"]

    # Follow-ups: each household's latest visit in force by the end, its return date before
    # the end, no close standing at the cut-off.
    overdue = conn.execute(IN_FORCE + f"""
        , latest AS (SELECT v.*, row_number() OVER (PARTITION BY v.household_id
                     ORDER BY v.visited_at DESC, v.created_at DESC) AS n
                     FROM in_force v WHERE date(v.visited_at) <= :b)
        , chain(start, id) AS (SELECT id, id FROM latest WHERE n = 1
                     UNION SELECT chain.start, w.corrects FROM visits w
                     JOIN chain ON w.id = chain.id WHERE w.corrects IS NOT NULL)
        SELECT count(*) FROM latest l JOIN households h ON h.id = l.household_id
        WHERE l.n = 1 AND h.deleted = 0 AND {scope} AND l.follow_up_on < :b
          AND NOT EXISTS (SELECT 1 FROM follow_up_closures c JOIN chain ON chain.id = c.visit_id
                          WHERE chain.start = l.id AND c.kind = 'close' AND c.created_at < :cut
                          AND NOT EXISTS (SELECT 1 FROM follow_up_closures r WHERE
                              r.kind = 'reopen' AND r.corrects = c.id AND r.created_at < :cut))
        """, args).fetchone()[0]

    lots = conn.execute("SELECT count(*) FROM lots WHERE deleted = 0 AND pack_date "
                        "BETWEEN :a AND :b", args).fetchone()[0]
    labels = conn.execute("SELECT coalesce(sum(copies), 0) FROM label_prints WHERE "
                          "date(printed_at) BETWEEN :a AND :b", args).fetchone()[0]
    # Classes: roll-call marks in force at the cut-off, of learners in scope.
    marks = conn.execute(f"""
        WITH known AS (SELECT * FROM lesson_events WHERE (corrects IS NULL AND kind != 'void')
                       OR created_at < :cut),
        marks AS (SELECT e.class_id, e.person_id, e.on_date, e.kind, row_number() OVER (
                      PARTITION BY e.class_id, e.person_id, e.on_date
                      ORDER BY e.created_at DESC, e.id DESC) AS n
                  FROM known e
                  JOIN class_learners l ON l.class_id = e.class_id AND l.person_id = e.person_id
                  JOIN classes c ON c.id = e.class_id
                  JOIN people p ON p.id = e.person_id JOIN households h ON h.id = p.household_id
                  WHERE e.kind IN ('present', 'absent') AND l.deleted = 0 AND c.deleted = 0
                    AND e.on_date BETWEEN :a AND :b AND {scope}
                    AND NOT EXISTS (SELECT 1 FROM known x WHERE x.corrects = e.id))
        SELECT count(DISTINCT class_id || ' ' || on_date),
               count(DISTINCT CASE WHEN kind = 'present' THEN person_id END)
        FROM marks WHERE n = 1""", args).fetchone()
    certificates = conn.execute(
        "SELECT count(*) FROM certificates c JOIN people p ON p.id = c.person_id "
        "JOIN households h ON h.id = p.household_id "
        f"WHERE c.deleted = 0 AND c.issued_on BETWEEN :a AND :b AND {scope}",
        args).fetchone()[0]
    diary = conn.execute("""
        WITH known AS (SELECT * FROM diary_entries WHERE action = 'record' OR created_at < :cut)
        SELECT count(*) FROM known k WHERE k.action != 'void' AND k.on_date BETWEEN :a AND :b
        AND NOT EXISTS (SELECT 1 FROM known c WHERE c.corrects = k.id)""", args).fetchone()[0]
    return {"visits": visits, "households_reached": reached, "people_helped": helped,
            "items": items, "indicators": indicators, "followups_overdue": overdue,
            "lots": lots, "labels_printed": labels, "diary_entries": diary,
            "classes": {"sessions": marks[0], "learners_attended": marks[1],
                        "certificates_issued": certificates}}


def indicators_at(conn: sqlite3.Connection, end: dt.date, hamlet_id: str | None
                  ) -> dict[str, dict[str, Any]]:
    """Each active indicator at the end of day `end` (its own cut-off), of the people of the
    hamlet (all when None), with the official population of the hamlets in scope."""
    args = {"cut": cutoff(end), "b": end.isoformat(), "h": hamlet_id}
    scope = "(:h IS NULL OR h.hamlet_id = :h)"
    # Every event up to the end, the latest per person and indicator wins.
    events: list[tuple[str, str, str, str, str, int]] = [
        (p, c, d, s, i, v) for p, c, d, s, i, v in conn.execute(
            "SELECT person_id, indicator_code, answered_on, created_at, id, value "
            "FROM indicator_answers WHERE answered_on <= :b", args)]
    events += [(p, c, d, s, i, 1) for p, c, d, s, i in conn.execute(
        IN_FORCE + "SELECT i.person_id, s.indicator_code, date(v.visited_at), v.created_at, "
        "v.id || ':' || i.support_item_code FROM visit_items i JOIN in_force v "
        "ON v.id = i.visit_id JOIN support_items s ON s.code = i.support_item_code "
        "AND s.deleted = 0 WHERE i.outcome = 'done' AND i.person_id IS NOT NULL "
        "AND s.indicator_code IS NOT NULL AND date(v.visited_at) <= :b", args)]
    events.sort(key=lambda e: (e[2], e[3], e[4]))
    latest = {}
    for person, code, _day, _stamp, _id, value in events:
        latest[(person, code)] = value
    people = conn.execute(
        "SELECT p.id, p.birth_year FROM people p JOIN households h ON h.id = p.household_id "
        f"WHERE p.deleted = 0 AND h.deleted = 0 AND {scope}", args).fetchall()
    places = conn.execute(
        "SELECT name, population_15, population_18 FROM hamlets WHERE deleted = 0 "
        "AND (:h IS NULL OR id = :h)", args).fetchall()
    indicators = {}
    for code, min_age, target in conn.execute(
            "SELECT code, min_age, target FROM indicators WHERE deleted = 0 AND active = 1"):
        counted = [p for p, year in people if year is None or year <= end.year - min_age]
        reached_n = sum(1 for p in counted if latest.get((p, code)) == 1)
        column = 2 if min_age >= 18 else 1
        lacking = sorted(place[0] for place in places if place[column] is None)
        official = None if lacking or not places else sum(place[column] for place in places)
        indicators[code] = {"reached": reached_n, "counted": len(counted), "target": target,
                            "official": official, "missing": lacking}
    return indicators


def compare(report: dict[str, Any], hand: dict[str, Any]) -> None:
    """Every figure of the report's JSON equals the hand tally's."""
    for name in ("visits", "households_reached", "people_helped", "followups_overdue",
                 "labels_printed"):
        assert report[name] == hand[name], name
    assert report["lots"]["compliant"] + report["lots"]["refused"] == hand["lots"]
    shown = {i["code"]: {o: i[o] for o in ("done", "partly", "not_done")}
             for i in report["items"]}
    assert {c: v for c, v in shown.items() if any(v.values())} == hand["items"]
    for row in report["indicators"]:
        expected = hand["indicators"][row["code"]]
        assert (row["reached"], row["counted"], row["target"]) == (
            expected["reached"], expected["counted"], expected["target"]), row["code"]
        share = expected["reached"] / expected["counted"] if expected["counted"] else 0.0
        assert row["share"] == round(share, 4)
        assert row["met"] == (None if expected["target"] is None
                              else share >= expected["target"])
        then = expected["start_reached"], expected["start_counted"]
        assert (row["start"]["reached"], row["start"]["counted"]) == then, row["code"]
        start_share = then[0] / then[1] if then[1] else 0.0
        assert row["start"]["share"] == round(start_share, 4)
        assert row["change"]["reached"] == expected["reached"] - then[0]
        assert abs(row["change"]["share"] - (share - start_share)) < 1e-3
        official = row["official"]
        assert official["population"] == expected["official"], row["code"]
        assert sorted(official["missing"]) == expected["missing"]
        assert official["share"] == (None if not expected["official"] else
                                     round(expected["reached"] / expected["official"], 4))
    assert len(report["indicators"]) == len(hand["indicators"])
    assert report["diary_entries"] == hand["diary_entries"]
    for name, value in hand["classes"].items():
        assert report["classes"][name] == value, name
    assert report["classes"]["learners_completed"] == report["learners_completed"]
