"""The lessons domain (course packs, classes, attendance, mastery, certificates): declared
here, empty until its issue lands. It may use households (learners are people) and labels
(certificates)."""

from __future__ import annotations

from dxkit.core.domain import Domain

DOMAIN = Domain(name="lessons")
