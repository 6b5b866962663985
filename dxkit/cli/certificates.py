"""`dxkit certificates`: check a certificate offline; `dxkit hub province-key show`.

`certificates verify CODE_OR_FILE` takes the code, the URL of its QR, or a PDF or image of the
certificate (its QR is decoded first), checks the signatures with the province's public key
(kept at enrollment, or --province-key) and looks the certificate up in the workspace's synced
`certificates` table for a revocation: "not revoked as of the last sync". No network.
`issue CLASS_ID --out FILE.pdf` signs with the team's key the hub issued at enrollment (kept
in the OS keyring) and prints one page per learner who completed; `revoke` marks one revoked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from dxkit.cli.common import (
    JSON_OPTION,
    N_,
    DxGroup,
    argument,
    emit_json,
    option,
    reader,
    say_error,
    terminal_progress,
    workspace,
)
from dxkit.cli.hub import hub, hub_store
from dxkit.cli.root import cli
from dxkit.core.errors import DxError
from dxkit.core.i18n import _
from dxkit.lessons.certificate_code import (
    META_PROVINCE_KEY,
    CertificateError,
    code_in,
    key_fingerprint,
    local_status,
    normalize_short_code,
    parse_public_key,
    public_key_text,
    verify_code,
)
from dxkit.lessons.certificate_pdf import payloads_in_file
from dxkit.lessons.issuing import Signer, issue_certificates, revoke_certificate
from dxkit.sync.apply import META_LAST_SYNC, META_SERVER, META_TEAM
from dxkit.sync.hub.certificates import province_public_key
from dxkit.sync.teamkey import certificate_signing


@cli.group("certificates", cls=DxGroup,
           help=N_("Certificates of completion: issue, revoke, check one offline."))
def certificates_group() -> None:
    pass


@certificates_group.command("issue", help=N_(
    "Print the certificates of a class's learners who completed the course (one PDF); the "
    "others are named with why."))
@argument("class_id")
@option("--learner", "learners", multiple=True, metavar="PERSON_ID",
        help=N_("Only this learner (repeat for more); each must have completed."))
@option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
        help=N_("The PDF to write."))
@JSON_OPTION
@click.pass_context
def issue(ctx: click.Context, class_id: str, learners: tuple[str, ...], out: Path,
          as_json: bool) -> None:
    ws = workspace(ctx)
    meta = ws.meta()
    team_id, hub_url = meta.get(META_TEAM, ""), meta.get(META_SERVER, "")
    signing = certificate_signing(team_id) if team_id else None
    if signing is None or not hub_url:
        raise CertificateError(_(
            "This laptop has no certificate key from the hub yet: enroll it (dxkit enroll) or "
            "sync once, then issue the certificates."))
    signer = Signer(signing.signing_key, signing.key_certificate, hub_url)
    with terminal_progress() as progress:
        report = issue_certificates(ws, class_id, signer, out, learners=learners,
                                    progress=progress).value
    if as_json:
        emit_json([c.to_dict() for c in report.issued])
    else:
        for certificate in report.issued:
            click.echo(_("{name}: certificate {code}").format(name=certificate.name,
                                                             code=certificate.code))
        click.echo(_("Saved {path}.").format(path=report.path))
    for withheld in report.withheld:
        say_error(_("No certificate for {name}: {reason}").format(name=withheld.name,
                                                                 reason=withheld.reason))


@certificates_group.command("revoke", help=N_(
    "Revoke a certificate issued by mistake; the hub and the other laptops show it after "
    "sync."))
@argument("certificate_id")
@option("--reason", required=True, help=N_("Why (kept by the team, never shown publicly)."))
@click.pass_context
def revoke(ctx: click.Context, certificate_id: str, reason: str) -> None:
    revoke_certificate(workspace(ctx), certificate_id, reason)
    click.echo(_("Certificate {id} revoked.").format(id=certificate_id))


@certificates_group.command("verify", help=N_(
    "Check a certificate without network: its code, the URL of its QR, or a PDF or image of "
    "it. Needs the province's public key (kept at enrollment, or --province-key)."))
@argument("code_or_file")
@option("--province-key", metavar="KEY",
        help=N_("The province's public key (DXPK-…, from “dxkit hub province-key show”)."))
@JSON_OPTION
@click.pass_context
def verify(ctx: click.Context, code_or_file: str, province_key: str | None,
           as_json: bool) -> None:
    code = _code_of(code_or_file)
    meta: dict[str, str] = {}
    conn: Any = None
    try:
        ws = reader(ctx)
        meta, conn = ws.meta(), ws.conn
    except DxError:
        if not province_key:
            raise
    key_text = province_key or meta.get(META_PROVINCE_KEY)
    if not key_text:
        raise CertificateError(_("This laptop has no province public key yet: enroll it on "
                                 "the hub, or give --province-key DXPK-…"))
    checked = verify_code(code, parse_public_key(key_text))
    status = local_status(conn, code) if conn is not None else None
    revoked = bool(status and status.revoked)
    answer = {**checked.to_dict(), "revoked": revoked,
              "revoked_on": status.revoked_on if status else None,
              "known_here": status is not None, "as_of": meta.get(META_LAST_SYNC)}
    answer["valid"] = checked.valid
    if as_json:
        emit_json(answer)
        return
    if not checked.valid:
        click.echo(_("Not valid: {reasons}").format(reasons=" ".join(checked.reasons)))
        return
    if revoked:
        click.echo(_("Valid signature, but this certificate was revoked."))
    elif answer["as_of"]:
        click.echo(_("Valid signature; not revoked as of the last sync ({when}).").format(
            when=answer["as_of"]))
    else:
        click.echo(_("Valid signature; this laptop has never synced, so a revocation would "
                     "not be known here."))
    click.echo(_("Course: {course}").format(course=answer["course"]))
    click.echo(_("Issued on: {date}").format(date=answer["issued_on"]))
    click.echo(_("Issued by: {team}").format(team=answer["team"]))
    if answer["display_name"]:
        click.echo(_("Learner: {name}").format(name=answer["display_name"]))


def _code_of(text: str) -> str:
    """The full code in what was given: a code, a URL, or a file with the QR."""
    found = code_in(text)
    if found:  # a code or its URL (too long a name to ask the file system about)
        return found
    path = Path(text)
    if path.suffix.lower() in (".pdf", ".png", ".jpg", ".jpeg") or _is_file(path):
        if not path.is_file():
            raise CertificateError(_("There is no file {path}.").format(path=text))
        for payload in payloads_in_file(path):
            found = code_in(payload)
            if found:
                return found
        raise CertificateError(_("No certificate QR code could be read in {path}.").format(
            path=text))
    if normalize_short_code(text):
        raise CertificateError(_("A short code (DXC-XXXX-…) can be checked only on the hub's "
                                 "page; scan the QR or give the PDF to check it here."))
    raise CertificateError(_("“{text}” is not a certificate code.").format(text=text[:60]))


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name the file system refuses (too long, say) is no file
        return False


@hub.group("province-key", help=N_("The province's key that vouches for every team's "
                                   "certificates."))
def province_key_group() -> None:
    pass


@province_key_group.command("show", help=N_(
    "Print the province's public key (made on first need), for verifiers without a hub."))
@JSON_OPTION
@click.pass_context
def province_key_show(ctx: click.Context, as_json: bool) -> None:
    key = province_public_key(hub_store(ctx))
    if as_json:
        emit_json({"public_key": public_key_text(key), "fingerprint": key_fingerprint(key)})
    else:
        click.echo(public_key_text(key))
