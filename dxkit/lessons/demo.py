"""The lessons part of the demo: a class in progress on the shipped course, with a dozen
learners from the demo households — three who completed the course, a few who need help
(two failed quizzes, or absent from the latest two sessions) and the rest on their way.
Everything is invented; dates are relative to `now`, none in the future.

The three who completed hold certificates (rows only, no PDF), one of them revoked as issued
by mistake. They are signed with demo keys: a demo "province" key and a demo team key with its
key certificate, all derived from 32 bytes drawn from the demo's random generator (so the same
seed gives the same keys and codes). Those bytes are kept in the workspace meta
(`DEMO_KEY_META`) and the demo province's public key where an enrolled laptop keeps the real
one, so `dxkit certificates verify` checks a demo certificate offline. A demo key vouches for
nothing: anyone holding the demo workspace can sign with it. A workspace that already knows a
real province key gets no demo certificates."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import uuid
from typing import TYPE_CHECKING

from dxkit.core.places import find_commune, find_province
from dxkit.lessons import progress
from dxkit.lessons.certificate_code import (
    META_PROVINCE_KEY,
    issue_key_certificate,
    public_key_of,
    public_key_text,
)
from dxkit.lessons.issuing import Signer, revoke_certificate, sign_certificates
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
REVOKED = 2  # the completed learner whose certificate was issued by mistake
REVOKED_REASON = "Cấp nhầm"
DEMO_KEY_META = "demo_certificate_keys"
DEMO_HUB_URL = "https://demo-hub.invalid"  # the QR of a demo certificate opens nothing
KEY_DAYS = 365


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
        if not ws.meta().get(META_PROVINCE_KEY):
            ws.set_meta(DEMO_KEY_META, f"{rng.randbytes(32).hex()} {starts.isoformat()}")
            keys = _demo_keys(ws)
            if keys is not None:
                ws.set_meta(META_PROVINCE_KEY, public_key_text(public_key_of(keys[0])))
                _demo_certificates(ws, school_class.id, keys[1], learners, sessions[-1])
    return school_class.id


def _key(material: bytes, purpose: bytes) -> bytes:
    return hashlib.sha256(b"dxkit demo " + purpose + b"\x00" + material).digest()


def demo_signer(ws: Workspace) -> Signer | None:
    """The demo's signer, rebuilt from what `DEMO_KEY_META` keeps (the key material and the
    first day the demo team's key is valid); None in a workspace without it or without a team
    place."""
    keys = _demo_keys(ws)
    return keys[1] if keys else None


def _demo_keys(ws: Workspace) -> tuple[bytes, Signer] | None:
    """The demo province's private key and the demo team's signer."""
    meta = ws.meta()
    kept = meta.get(DEMO_KEY_META, "").split()
    province = find_province(meta.get("province_code", "") or meta.get("province_name", ""))
    commune = find_commune(province.code, meta.get("commune_code", "")
                           or meta.get("commune_name", "")) if province else None
    if len(kept) != 2 or province is None or commune is None:
        return None
    material, valid_from = bytes.fromhex(kept[0]), dt.date.fromisoformat(kept[1])
    province_key, team_key = _key(material, b"province"), _key(material, b"team")
    key_certificate = issue_key_certificate(
        province_key, team_id=str(uuid.UUID(bytes=_key(material, b"team id")[:16])),
        province_code=province.code, commune_code=commune.code, hamlet="",
        public_key=public_key_of(team_key), valid_from=valid_from,
        valid_until=valid_from + dt.timedelta(days=KEY_DAYS))
    return province_key, Signer(team_key, key_certificate, DEMO_HUB_URL)


def _demo_certificates(ws: Workspace, class_id: str, signer: Signer, learners: list[str],
                       on: dt.date) -> None:
    with ws.transaction() as tx:
        # The demo is one open transaction, so progress has not followed the events yet:
        # derive it now (the hook at commit finds nothing new and records nothing twice).
        progress.refresh_from_changes(tx)
        batch = sign_certificates(ws, class_id, signer,
                                  learners=[learners[i] for i in COMPLETED], on=on)
        for row_id, fields in batch.new_rows():
            tx.insert("certificates", fields, row_id=row_id)
    revoke_certificate(ws, batch.issued[COMPLETED.index(REVOKED)].certificate_id,
                       REVOKED_REASON)
