"""`dxkit certificates`: check a certificate offline; `dxkit hub province-key show`.

`certificates verify CODE_OR_FILE` takes the code, the URL of its QR, or a PDF or image of the
certificate (its QR is decoded first), checks the signatures with the province's public key
(kept at enrollment, or --province-key) and looks the certificate up in the workspace's synced
`certificates` table for a revocation: "not revoked as of the last sync". No network.
`issue` and `revoke` are wired with the lessons tables (their engine: certificate_code.make_code
and certificate_pdf.render_certificates).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from dxkit.cli.common import JSON_OPTION, N_, DxGroup, argument, emit_json, option, reader
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
from dxkit.sync.apply import META_LAST_SYNC
from dxkit.sync.hub.certificates import province_public_key


@cli.group("certificates", cls=DxGroup,
           help=N_("Certificates of completion: check one offline."))
def certificates_group() -> None:
    pass


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
    path = Path(text)
    if path.suffix.lower() in (".pdf", ".png", ".jpg", ".jpeg") or path.is_file():
        if not path.is_file():
            raise CertificateError(_("There is no file {path}.").format(path=text))
        for payload in payloads_in_file(path):
            found = code_in(payload)
            if found:
                return found
        raise CertificateError(_("No certificate QR code could be read in {path}.").format(
            path=text))
    found = code_in(text)
    if found:
        return found
    if normalize_short_code(text):
        raise CertificateError(_("A short code (DXC-XXXX-…) can be checked only on the hub's "
                                 "page; scan the QR or give the PDF to check it here."))
    raise CertificateError(_("“{text}” is not a certificate code.").format(text=text[:60]))


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
