"""The lessons domain, declared to the kernel in one place: installed course packs (local),
classes, learners, lesson events and certificates (synced), and the progress derived from the
events. It uses households (learners are people; mastered lessons feed their indicators)."""

from __future__ import annotations

import datetime as dt
import random

from dxkit.core.domain import Domain
from dxkit.lessons import progress, tables
from dxkit.lessons.demo import fill_lessons_demo
from dxkit.lessons.schema import MIGRATIONS
from dxkit.lessons.service import Lessons
from dxkit.lessons.workspace import LessonsWorkspace


def install_shipped(ws: LessonsWorkspace, _created: bool) -> None:
    """At every open: the course dxkit ships, installed or refreshed (read and checked only
    when its files changed)."""
    ws.lessons.refresh_shipped()


def build_demo(ws: LessonsWorkspace, now: dt.datetime, rng: random.Random) -> None:
    fill_lessons_demo(ws, now, rng)


DOMAIN = Domain(
    name="lessons",
    services={"lessons": Lessons},
    tables=tables.TABLES,
    migrations=MIGRATIONS,
    before_commit=(progress.refresh_from_changes,),
    on_open=(install_shipped,),
    demo=build_demo,
)
