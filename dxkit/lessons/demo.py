"""The lessons part of the demo: a class in progress on the shipped course, with a dozen
learners from the demo households — three who completed the course, a few who need help
(two failed quizzes, or absent from the latest two sessions) and the rest on their way.
Everything is invented; dates are relative to `now`, none in the future."""

from __future__ import annotations

import datetime as dt
import random
from typing import TYPE_CHECKING

from dxkit.lessons.library import SHIPPED_COURSE

if TYPE_CHECKING:
    from dxkit.lessons.workspace import LessonsWorkspace as Workspace

CLASS_NAME = "Lớp Kỹ năng số cơ bản — Nhà văn hóa ấp Mỹ Hưng"
CLASS_PLACE = "Nhà văn hóa ấp"
LEARNERS = 12
SESSIONS_HELD = 11
DAYS_BETWEEN = 4
COMPLETED = (0, 1, 2)
FAILING = (3, 4)  # two failed attempts on the lesson after the ones they mastered
ABSENT = (5,)  # away from the two latest sessions


def fill_lessons_demo(ws: Workspace, now: dt.datetime, rng: random.Random) -> str | None:
    """Write the class (in the caller's transaction); its id, or None without people."""
    today = now.date()
    adults = [r[0] for r in ws.conn.execute(
        "SELECT id FROM people WHERE deleted = 0 AND (birth_year IS NULL OR birth_year <= ?) "
        "ORDER BY local_id LIMIT 60", (today.year - 18,))]
    if len(adults) < LEARNERS:
        return None
    learners = rng.sample(adults, LEARNERS)
    pack = ws.lessons.course(SHIPPED_COURSE)
    starts = today - dt.timedelta(days=DAYS_BETWEEN * (SESSIONS_HELD - 1))
    sessions = [starts + dt.timedelta(days=DAYS_BETWEEN * i) for i in range(SESSIONS_HELD)]
    members = ws.catalog.members()
    with ws.transaction():
        school_class = ws.lessons.add_class(
            SHIPPED_COURSE, CLASS_NAME, starts, place=CLASS_PLACE,
            trainers=[m.id for m in members[:2]], sessions_planned=len(pack.lessons)).value
        ws.lessons.enrol(school_class.id, learners, on=starts)
        for number, day in enumerate(sessions):
            away = {learners[i] for i in ABSENT} if number >= SESSIONS_HELD - 2 else set()
            if number % 3 == 1:  # someone on the way misses a session now and then
                away.add(learners[6 + number % 6])
            present = [p for p in learners if p not in away]
            ws.lessons.attendance(school_class.id, day, present, sorted(away))
        for index, person in enumerate(learners):
            if index in COMPLETED:
                mastered = SESSIONS_HELD
            elif index in FAILING:
                mastered = 6
            elif index in ABSENT:
                mastered = 7
            else:
                mastered = rng.randint(7, 9)
            for number, lesson in enumerate(pack.lessons[:mastered]):
                quiz = (len(lesson.quiz), len(lesson.quiz))
                ws.lessons.record(school_class.id, person, lesson.id,
                                  skills=[s.id for s in lesson.skills], quiz=quiz,
                                  on=sessions[number])
            current = pack.lessons[mastered] if mastered < len(pack.lessons) else None
            if current is None or mastered >= SESSIONS_HELD:
                continue
            day = sessions[mastered]
            if index in FAILING:
                for _attempt in range(2):
                    ws.lessons.record(school_class.id, person, current.id,
                                      quiz=(2, len(current.quiz)), on=day)
            elif index not in ABSENT:
                ws.lessons.record(school_class.id, person, current.id,
                                  skills=[s.id for s in current.skills[:2]], on=day)
    return school_class.id
