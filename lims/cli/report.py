"""``nbs report``: documents from the LIMS to PDF files (docs/reports.md "In the LIMS").

- ``letter CASE [--audience clinic|family]``: a follow-up case's recall letter.
- ``result SPECIMEN``: a released specimen's result report; ``results --released-on DAY
  --out-dir DIR [--submitter SUBMITTER] [--workers N]``: each specimen released that day (UTC)
  its own report, rendered by N processes; ``batch SUBMITTER --released-on DAY``: a submitter's
  results released that day, in one report.
- ``qc RUN``: a run's QC report.

SPECIMEN is the card's barcode (or the specimen's id), SUBMITTER the submitter's code (or its
id), RUN the plate id (or the run's id): ``lims.documents.references``.
- ``bulletin --month YYYY-MM``: the programme bulletin; ``card SUBMITTER --month YYYY-MM``: a
  submitting unit's report card.
- ``reprint DOCUMENT``: a stored version's bytes; ``correct DOCUMENT --reason TEXT``: a new
  version; ``list``: the issued documents.
- ``language SUBMITTER en|zh-CN``: the language of the documents issued to a submitter (as
  ``PUT /submitters/{id}/document-language``).

Each writes the PDF to ``--out`` and prints the document id, version and SHA-256. A document
already issued is not issued again: its stored bytes are written. ``--language en|zh-CN``
overrides the submitter's language. Every command is audited as ``--actor``.

Public names: ``report_app``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from lims.audit import Actor
from lims.cli.actor import ActorOption
from lims.cli.common import TableFormat, emit_table, in_session
from lims.documents import references, service
from lims.documents.schemas import MONTH
from lims.errors import InvalidInputError
from lims.models import IssuedDocument
from lims.vocabulary import DocumentKind, DocumentLanguage, LetterAudience

__all__ = ["report_app"]

report_app = typer.Typer(help="Documents to PDF: recall letters, result reports, QC reports, "
                              "the monthly bulletin and report cards.", no_args_is_help=True)
Out = Annotated[Path, typer.Option("--out", help="the PDF file to write", dir_okay=False)]
Language = Annotated[DocumentLanguage | None, typer.Option(
    "--language", help="the document's language (default: the submitter's, else the "
                       "laboratory's)")]
#: The bulletin and QC reports have no submitter.
LabLanguage = Annotated[DocumentLanguage | None, typer.Option(
    "--language", help="the document's language (default: the laboratory's)")]
Month = Annotated[str, typer.Option("--month", metavar="YYYY-MM", help="the calendar month")]
SpecimenRef = Annotated[str, typer.Argument(metavar="SPECIMEN",
                                            help="the card's barcode, or the specimen's id")]
SubmitterRef = Annotated[str, typer.Argument(metavar="SUBMITTER",
                                             help="the submitter's code, or its id")]
DocumentRef = Annotated[str, typer.Argument(
    metavar="DOCUMENT", help="the document id an issue command prints (LTR-000009-clinic-en: its "
                             "newest version; @N for version N), or the row id nbs report "
                             "list shows")]
RunRef = Annotated[str, typer.Argument(metavar="RUN", help="the plate id, or the run's id")]


def _signer_named(actor: str | None) -> None:
    """A letter names the person responsible for it: the command line has no sign-in, and the
    operating-system account is no person, so a command that issues a letter needs --actor."""
    if actor is None:
        raise InvalidInputError("a recall letter names the person responsible for it: give "
                                "--actor NAME (a LIMS user name, or your name)", field="actor")


def _month(text: str) -> date:
    if not re.match(MONTH, text):
        raise InvalidInputError(f"--month {text!r}: a month as YYYY-MM", field="month")
    return date.fromisoformat(f"{text}-01")


def _write(work: Callable[[Session, Actor], IssuedDocument | service.Issued], out: Path,
           actor: str | None) -> None:
    got = in_session(work, actor)
    doc = got.document if isinstance(got, service.Issued) else got
    out.write_bytes(doc.content)
    new = "issued" if isinstance(got, service.Issued) and got.created else (
        "corrected" if doc.version > 1 and not isinstance(got, service.Issued) else "stored")
    typer.echo(f"{new}: {doc.document_id} version {doc.version} sha256 {doc.sha256} "
               f"({doc.size_bytes} bytes) -> {out}")


@report_app.command("letter")
def letter_command(case: int, out: Out, audience: LetterAudience = LetterAudience.clinic,
                   language: Language = None, actor: ActorOption = None) -> None:
    """A follow-up case's recall letter, to its clinic or to the family, signed by --actor
    (required: the person responsible, a LIMS user name or a name)."""
    _signer_named(actor)
    _write(lambda s, a: service.issue_letter(s, a, case, audience=audience, language=language),
           out, actor)


@report_app.command("result")
def result_command(specimen: SpecimenRef, out: Out, language: Language = None,
                   actor: ActorOption = None) -> None:
    """A released specimen's result report."""
    _write(lambda s, a: service.issue_result(s, a, references.specimen_id(s, specimen),
                                             language=language), out, actor)


#: A release day is the laboratory's (``NBS_TIME_ZONE``), as the documents print times.
_DAY_HELP = "YYYY-MM-DD, the laboratory's day (NBS_TIME_ZONE)"


@report_app.command("results")
def results_command(
        released_on: Annotated[str, typer.Option("--released-on", metavar="DAY",
                                                 help=_DAY_HELP)],
        out_dir: Annotated[Path, typer.Option("--out-dir", file_okay=False,
                                              help="where the PDFs go")],
        submitter: Annotated[str | None, typer.Option(
            metavar="SUBMITTER", help="one submitter's (its code, or its id)")] = None,
        workers: Annotated[int, typer.Option(min=1, max=64, help="processes rendering")] = 1,
        language: Language = None, actor: ActorOption = None) -> None:
    """The result report of each specimen released on a day, one PDF each, named
    <document id>-v<version>.pdf."""
    day = _day(released_on)

    def work(session: Session, who: Actor) -> list[service.Issued]:
        unit = None if submitter is None else references.submitter_id(session, submitter)
        ids = service.released_between(session, who, day, day, submitter_id=unit)
        return service.issue_results(session, who, ids, language=language, workers=workers)

    issued = in_session(work, actor)
    out_dir.mkdir(parents=True, exist_ok=True)
    for got in issued:
        doc = got.document
        (out_dir / f"{doc.document_id}-v{doc.version}.pdf").write_bytes(doc.content)
    new = sum(got.created for got in issued)
    typer.echo(f"{len(issued)} result reports ({new} issued, {len(issued) - new} stored) "
               f"-> {out_dir}")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(f"--released-on {text!r}: a day as YYYY-MM-DD",
                                field="released_on") from None


@report_app.command("batch")
def batch_command(submitter: SubmitterRef, out: Out,
                  released_on: Annotated[str, typer.Option("--released-on", metavar="DAY",
                                                           help=_DAY_HELP)],
                  language: Language = None, actor: ActorOption = None) -> None:
    """A submitter's results released on a day, in one report."""
    day = _day(released_on)
    _write(lambda s, a: service.issue_batch(s, a, references.submitter_id(s, submitter), day,
                                            language=language), out, actor)


@report_app.command("qc")
def qc_command(run: RunRef, out: Out, language: LabLanguage = None,
               actor: ActorOption = None) -> None:
    """A run's QC report."""
    _write(lambda s, a: service.issue_qc(s, a, references.run_id(s, run), language=language),
           out, actor)


@report_app.command("bulletin")
def bulletin_command(month: Month, out: Out, language: LabLanguage = None,
                     actor: ActorOption = None) -> None:
    """The programme bulletin of a month."""
    first = _month(month)
    _write(lambda s, a: service.issue_bulletin(s, a, first, language=language), out, actor)


@report_app.command("card")
def card_command(submitter: SubmitterRef, month: Month, out: Out, language: Language = None,
                 actor: ActorOption = None) -> None:
    """A submitting unit's report card for a month."""
    first = _month(month)
    _write(lambda s, a: service.issue_card(s, a, references.submitter_id(s, submitter), first,
                                           language=language), out, actor)


@report_app.command("language")
def language_command(submitter: SubmitterRef, language: DocumentLanguage,
                     actor: ActorOption = None) -> None:
    """Set the language of the documents issued to a submitter."""
    row = in_session(lambda s, a: service.set_language(
        s, a, references.submitter_id(s, submitter), language), actor)
    typer.echo(f"submitter {row.code} (id {row.id}): documents in {row.document_language}")


@report_app.command("reprint")
def reprint_command(document: DocumentRef, out: Out, actor: ActorOption = None) -> None:
    """A stored version's bytes, as issued."""
    _write(lambda s, a: service.reprint(s, a, references.document_row_id(s, document)), out,
           actor)


@report_app.command("correct")
def correct_command(document: DocumentRef, out: Out,
                    reason: Annotated[str, typer.Option("--reason", help="why")],
                    actor: ActorOption = None) -> None:
    """A corrected version, built from the records as they are now (a recall letter's is
    signed by --actor, required then)."""

    def work(session: Session, who: Actor) -> IssuedDocument:
        row_id = references.document_row_id(session, document)
        doc = session.get(IssuedDocument, row_id)
        if doc is not None and doc.kind == DocumentKind.recall_letter:
            _signer_named(actor)
        return service.correct(session, who, row_id, reason)

    _write(work, out, actor)


@report_app.command("list")
def list_command(kind: DocumentKind = typer.Option(None, help="only this kind"),
                 limit: int = typer.Option(100, min=1, max=10_000),
                 fmt: TableFormat = typer.Option(TableFormat.table, "--format"),
                 actor: ActorOption = None) -> None:
    """The issued documents, newest first."""
    rows = in_session(lambda s, a: service.list_documents(s, a, kind=kind, limit=limit), actor)
    emit_table(["id", "document", "version", "kind", "language", "sha256", "issued (UTC)",
                "by"],
               [[str(r["id"]), r["document_id"], str(r["version"]), r["kind"], r["language"],
                 r["sha256"][:16], f"{r['issued_at']:%Y-%m-%d %H:%M}", r["issued_by_name"]]
                for r in rows], fmt, limit=limit)
