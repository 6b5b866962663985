"""The workspace as the lessons domain sees it: the households domain's (learners are
people), with `ws.lessons`. Annotations only, for the type checker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dxkit.households.workspace import HouseholdsWorkspace

if TYPE_CHECKING:
    from dxkit.lessons.service import Lessons


class LessonsWorkspace(HouseholdsWorkspace):
    lessons: Lessons
