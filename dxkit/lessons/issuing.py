"""Issuing and revoking certificates for the learners who completed a class's course.

The team's signing key comes from the caller (the sync layer keeps it; a domain never reads
the keyring). A learner who already has a certificate for the class gets the same one again
(same id and date: the signature is deterministic, so the code and QR are the same), so a
lost paper is reprinted, not re-issued. The stored row holds the short code printed under the
QR; the full code, which a laptop verifies offline, lives in the QR only. The public page shows
a masked name only for learners who consented to keep their data (`people.consent`).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dxkit.core.errors import NotFound, ValidationError
from dxkit.core.i18n import _, format_number, ngettext
from dxkit.core.ids import uuid7
from dxkit.core.progress import Progress
from dxkit.core.synced import OpResult
from dxkit.lessons.certificate_code import (
    CertificatePayload,
    KeyCertificate,
    make_code,
    mask_name,
    short_code,
    verification_url,
)
from dxkit.lessons.certificate_pdf import (
    CertificateView,
    certificates_pdf,
    check_certificate_codes,
)

if TYPE_CHECKING:
    from dxkit.lessons.packs import CoursePack
    from dxkit.lessons.service import GridRow
    from dxkit.lessons.workspace import LessonsWorkspace as Workspace

REASON_LENGTH = 500


@dataclass(frozen=True, repr=False)
class Signer:
    """What signs: the team's key, the province's certificate of it, the hub's address."""

    signing_key: bytes
    key_certificate: KeyCertificate
    hub_url: str

    def __repr__(self) -> str:
        return "Signer(<key hidden>)"


@dataclass(frozen=True)
class IssuedCertificate:
    certificate_id: str
    person_id: str
    name: str
    code: str  # the short code printed under the QR, stored on the row
    url: str   # what the QR holds: the hub's page for the full code
    reprinted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"certificate_id": self.certificate_id, "person_id": self.person_id,
                "code": self.code, "reprinted": self.reprinted}


@dataclass(frozen=True)
class Withheld:
    """A learner of the class who gets no certificate, and why (one sentence)."""

    person_id: str
    name: str
    reason: str


@dataclass
class IssueReport:
    path: Path
    issued: list[IssuedCertificate] = field(default_factory=list)
    withheld: list[Withheld] = field(default_factory=list)


@dataclass(frozen=True)
class SignedBatch:
    """Certificates signed for a class, nothing drawn or stored yet: what `issue_certificates`
    prints and stores, and what the demo stores without a PDF."""

    class_id: str
    course_id: str
    course_version: str
    issued: list[IssuedCertificate]
    views: list[CertificateView]
    withheld: list[Withheld]
    shown_names: dict[str, str]  # person id → the masked name the code carries, or ""

    def new_rows(self) -> list[tuple[str, dict[str, Any]]]:
        """(id, fields) of the `certificates` rows to insert: the ones not reprinted."""
        return [(certificate.certificate_id, {
            "class_id": self.class_id, "person_id": certificate.person_id,
            "course_id": self.course_id, "course_version": self.course_version,
            "issued_on": view.issued_on.isoformat(), "code": certificate.code,
            "display_name": self.shown_names[certificate.person_id],
            "show_name": int(bool(self.shown_names[certificate.person_id])),
            "revoked": 0, "revoked_on": None, "revoked_reason": ""})
            for certificate, view in zip(self.issued, self.views, strict=True)
            if not certificate.reprinted]


def sign_certificates(ws: Workspace, class_id: str, signer: Signer, *,
                      learners: Sequence[str] = (), on: dt.date | None = None) -> SignedBatch:
    """The codes of the certificates `issue_certificates` would issue (same rules, same
    errors), signed but neither drawn nor stored."""
    lessons = ws.lessons
    school_class = lessons.get_class(class_id)
    grid = lessons.grid(class_id)
    pack = lessons.course(school_class.course_id, school_class.course_version)
    rows = {row.person_id: row for row in grid.learners}
    for person_id in learners:
        if person_id not in rows:
            ws.people.get(person_id)  # NotFound: no such person
            raise ValidationError({"learner": _(
                "{name} is not a learner of the class “{class_name}”.").format(
                    name=_person_name(ws, person_id), class_name=school_class.name)})
    wanted = [rows[p] for p in dict.fromkeys(learners)] if learners else list(rows.values())
    withheld = [Withheld(r.person_id, r.name, _why_not(r, pack)) for r in wanted
                if not r.completed]
    if learners and withheld:
        raise ValidationError({"learner": " ".join(
            _("{name}: {reason}").format(name=w.name, reason=w.reason) for w in withheld)})
    completed = [r for r in wanted if r.completed]
    if not completed:
        raise ValidationError({"learner": _(
            "No learner of the class “{class_name}” has completed the course yet, so there is "
            "no certificate to issue.").format(class_name=school_class.name)})
    day = on or ws.today()
    existing = _existing(ws, class_id)
    issued: list[IssuedCertificate] = []
    views: list[CertificateView] = []
    consent = _consents(ws, [r.person_id for r in completed])
    shown_names = {r.person_id: mask_name(r.name) if consent.get(r.person_id) else ""
                   for r in completed}
    team = signer.key_certificate.team_name()
    commune = ws.team_place()[1]
    title = pack.title.get("vi")
    for row in completed:
        old = existing.get(row.person_id)
        certificate_id, issued_on = (old if old else (uuid7(), day))
        full = make_code(CertificatePayload(certificate_id, pack.id, pack.version, issued_on,
                                            shown_names[row.person_id]),
                         signer.signing_key, signer.key_certificate)
        url = verification_url(signer.hub_url, full)
        issued.append(IssuedCertificate(certificate_id, row.person_id, row.name,
                                        short_code(full), url, reprinted=old is not None))
        views.append(CertificateView(row.name, title, team, commune, issued_on, url,
                                     short_code(full)))
    return SignedBatch(class_id, pack.id, pack.version, issued, views, withheld, shown_names)


def issue_certificates(ws: Workspace, class_id: str, signer: Signer, out: str | Path, *,
                       learners: Sequence[str] = (), on: dt.date | None = None,
                       progress: Progress | None = None) -> OpResult[IssueReport]:
    """Certificates for the class's learners who completed the course, into one PDF.

    With `learners`, each named one must have completed: otherwise nothing is issued and the
    error says who and why. Without, every learner who completed gets one and the others are
    listed in the report with why."""
    batch = sign_certificates(ws, class_id, signer, learners=learners, on=on)
    pdf = certificates_pdf(batch.views, progress=progress)
    check_certificate_codes(pdf, [c.url for c in batch.issued], progress=progress)
    target = Path(out)
    partial = _write_beside(target, pdf)
    try:
        with ws.transaction() as tx:
            for row_id, fields in batch.new_rows():
                tx.insert("certificates", fields, row_id=row_id)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return OpResult(IssueReport(target, batch.issued, batch.withheld), tx.changes)


def revoke_certificate(ws: Workspace, certificate_id: str, reason: str) -> OpResult[str]:
    """Mark a certificate issued by mistake as revoked; the hub's page and every laptop show
    it once synced. The reason stays with the team (the public page never shows it)."""
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": _("Say why the certificate is revoked.")})
    if len(reason) > REASON_LENGTH:
        raise ValidationError({"reason": _("A reason has at most {limit} characters.").format(
            limit=format_number(REASON_LENGTH))})
    row = ws.conn.execute("SELECT id, revoked FROM certificates WHERE id = ? AND deleted = 0",
                          (certificate_id,)).fetchone()
    if row is None:
        raise NotFound(_("There is no certificate {id}.").format(id=certificate_id))
    if row["revoked"]:
        raise ValidationError({"certificate": _("This certificate is already revoked.")})
    with ws.transaction() as tx:
        tx.update("certificates", certificate_id, {
            "revoked": 1, "revoked_on": ws.today().isoformat(), "revoked_reason": reason})
    return OpResult(certificate_id, tx.changes)


def _why_not(row: GridRow, pack: CoursePack) -> str:
    rule = pack.completion
    needed = len(pack.lessons) if rule.lessons_mastered == "all" else int(rule.lessons_mastered)
    parts = []
    if row.mastered < needed:
        parts.append(ngettext("{mastered} of the {count} lesson needed mastered",
                              "{mastered} of the {count} lessons needed mastered", needed).format(
            mastered=format_number(row.mastered), count=format_number(needed)))
    share = row.attended / row.sessions if row.sessions else 0.0
    if share < rule.attendance_share:
        parts.append(_("attended {attended} of {sessions} sessions ({needed} needed)").format(
            attended=format_number(row.attended), sessions=format_number(row.sessions),
            needed=f"{round(rule.attendance_share * 100)} %"))
    return _("has not completed the course yet: {details}.").format(
        details="; ".join(parts) or _("not every condition is met"))


def _existing(ws: Workspace, class_id: str) -> dict[str, tuple[str, dt.date]]:
    """Each learner's certificate of this class that still stands: (id, issued on)."""
    return {r["person_id"]: (r["id"], dt.date.fromisoformat(r["issued_on"]))
            for r in ws.conn.execute(
                "SELECT id, person_id, issued_on FROM certificates WHERE class_id = ? AND "
                "deleted = 0 AND revoked = 0 ORDER BY issued_on", (class_id,))}


def _consents(ws: Workspace, person_ids: Sequence[str]) -> dict[str, bool]:
    marks = ", ".join("?" for _ in person_ids)
    return {r[0]: bool(r[1]) for r in ws.conn.execute(
        f"SELECT id, consent FROM people WHERE id IN ({marks})", tuple(person_ids))}


def _person_name(ws: Workspace, person_id: str) -> str:
    row = ws.conn.execute("SELECT full_name FROM people WHERE id = ?", (person_id,)).fetchone()
    return row[0] if row and row[0] else person_id


def _write_beside(target: Path, data: bytes) -> Path:
    """The PDF in a temporary file next to `target`, moved into place after the commit."""
    handle, name = tempfile.mkstemp(prefix=".certificates-", suffix=".pdf",
                                    dir=target.parent if str(target.parent) else ".")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    return Path(name)
