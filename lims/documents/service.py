"""Issuing documents: build the view model from the database (``views``, ``bulletins``),
render it (``reports``), store the bytes with their SHA-256 and audit it, all in the caller's
transaction; reprint the stored bytes; correct a document as a new version naming the one it
replaces (docs/reports.md "In the LIMS").

- A document is identified by its ``document_id``: the kind, the subject and the language
  (``RES-000042-en``). Issuing one that exists returns the stored version (nothing new is
  written): issuing is idempotent. A correction is the only way to a new version; it is
  built from the records as they are now and names the version it replaces, its hash and the
  reason.
- The language is the request's, else the submitter's ``document_language``, else the
  laboratory file's ``default_language``.
- Who may see and issue what (``VIEWERS``): a clinic user only the letters of the cases
  referred to its clinic and the result reports of those cases' babies, a submitter user
  only its own results, batches and report cards;
  a document outside the user's scope is "not found". Corrections: the laboratory's roles
  (``CORRECTORS``).
- ``on_cases_opened`` is the release's hook: a case opened for a referral gets its recall
  letter to the clinic (or the follow-up service) in the release's transaction; a case whose
  records cannot make a letter is audited as such and the release goes on.

Public names: ``Issued``, ``VIEWERS``, ``CORRECTORS``, ``PAST_RECALL``, ``LETTER_REFUSALS``,
``letter_not_due``, ``issue_letter``,
``issue_result``, ``issue_results``, ``released_between``, ``issue_batch``, ``issue_qc``,
``issue_bulletin``, ``issue_card``, ``reprint``, ``correct``,
``list_documents``, ``versions``, ``set_language``, ``on_cases_opened``, ``document_id_for``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlmodel import Session

from lims.accession.service import check_scope
from lims.audit import Actor, record, store
from lims.auth.repository import user_by_username
from lims.documents import repository
from lims.documents.bulletins import bulletin_view, card_view, month_start
from lims.documents.laboratory import LaboratoryFile, laboratory
from lims.documents.pool import render_all
from lims.documents.views import (
    ViewError,
    letter_action,
    letter_view,
    qc_view,
    specimen_result,
    submitter_view,
)
from lims.errors import ConflictError, NotFoundError, PermissionDeniedError, found
from lims.followup.service import clinic_scope, clinic_sees_infant, get_case
from lims.models import (
    FollowUpCase,
    IssuedDocument,
    Run,
    Specimen,
    Submitter,
    User,
    utcnow,
)
from lims.settings import aware, lab_zone
from lims.vocabulary import (
    CaseReason,
    CaseState,
    DocumentKind,
    DocumentLanguage,
    LetterAudience,
    Role,
)
from msms.phrases import Phrasebook
from reports import ReportError
from reports.bulletin import render_bulletin
from reports.letter import render_recall_letter
from reports.models import DocumentInfo, DocumentRef
from reports.qc import render_qc_report
from reports.report_card import render_report_card
from reports.result import (
    BatchResultReport,
    ResultReport,
    render_batch_report,
    render_result_report,
)

__all__ = ["CORRECTORS", "LETTER_REFUSALS", "PAST_RECALL", "VIEWERS", "Issued", "correct",
           "document_id_for", "letter_not_due",
           "issue_batch", "issue_bulletin", "issue_card", "issue_letter", "issue_qc",
           "issue_result", "issue_results", "list_documents", "on_cases_opened",
           "released_between", "reprint", "set_language", "versions"]

_K, _R = DocumentKind, Role
#: Who may see (and ask for) each kind of document; clinic and submitter users within their
#: scope only.
VIEWERS: dict[str, tuple[str, ...]] = {
    _K.recall_letter: (_R.follow_up, _R.reviewer, _R.admin, _R.clinic),
    _K.result_report: (_R.technician, _R.reviewer, _R.follow_up, _R.admin, _R.submitter,
                       _R.clinic),
    _K.batch_report: (_R.technician, _R.reviewer, _R.follow_up, _R.admin, _R.submitter),
    _K.qc_report: (_R.technician, _R.reviewer, _R.admin),
    _K.bulletin: (_R.follow_up, _R.reviewer, _R.admin),
    _K.report_card: (_R.follow_up, _R.reviewer, _R.admin, _R.submitter),
}
#: Who may correct each kind of document (a new version).
CORRECTORS: dict[str, tuple[str, ...]] = {
    _K.recall_letter: (_R.follow_up, _R.reviewer, _R.admin),
    _K.result_report: (_R.reviewer, _R.admin),
    _K.batch_report: (_R.reviewer, _R.admin),
    _K.qc_report: (_R.technician, _R.reviewer, _R.admin),
    _K.bulletin: (_R.follow_up, _R.reviewer, _R.admin),
    _K.report_card: (_R.follow_up, _R.reviewer, _R.admin),
}


@dataclass(frozen=True)
class Issued:
    """A stored version and whether this call created it."""

    document: IssuedDocument
    created: bool


@dataclass
class _Subject:
    """What a document is about, and how to render a version of it."""

    kind: DocumentKind
    document_id: str
    language: str
    render: Callable[[DocumentInfo], bytes]
    ids: dict[str, Any] = field(default_factory=dict)
    #: The view model alone, for documents rendered in a pool (``issue_results``).
    view: Callable[[DocumentInfo], ResultReport] | None = None


def document_id_for(kind: DocumentKind, key: str, language: str) -> str:
    prefix = {_K.recall_letter: "LTR", _K.result_report: "RES", _K.batch_report: "BAT",
              _K.qc_report: "QC", _K.bulletin: "BUL", _K.report_card: "CARD"}[kind]
    return f"{prefix}-{key}-{language}"


def _allow(actor: Actor, kind: str, roles: dict[str, tuple[str, ...]], verb: str) -> None:
    if actor.role not in roles[kind]:
        raise PermissionDeniedError(f"role {actor.role} may not {verb} a {kind}; needs "
                                    f"{' or '.join(roles[kind])}")


def _language(lab: LaboratoryFile, asked: str | None, submitter: Submitter | None) -> str:
    if asked:
        return DocumentLanguage(asked).value
    if submitter is not None and submitter.document_language in tuple(DocumentLanguage):
        return submitter.document_language
    return lab.default_language


def _signer(session: Session, actor: Actor) -> str:
    """The person a letter names as responsible: the signed-in user, or the user the command
    line's ``--actor`` names (by user name), else the name as given."""
    user = (session.get(User, actor.user_id) if actor.user_id is not None
            else user_by_username(session, actor.username))
    return user.full_name if user is not None and user.full_name else actor.username


_T = TypeVar("_T")


def _built(make: Callable[[], _T]) -> _T:
    """A view model or a PDF; a refused view model is invalid input (422), not a server
    error."""
    try:
        return make()
    except (ValidationError, ReportError) as exc:
        raise ViewError(f"the records cannot make this document: {exc}") from None



# ---- subjects --------------------------------------------------------------------------------


def _letter(session: Session, actor: Actor, case_id: int, audience: str,
            language: str | None, lab: LaboratoryFile, *, signer: str | None = None
            ) -> _Subject:
    case = get_case(session, actor, case_id, audit=False)
    lang = _language(lab, language, session.get(Submitter, case.submitter_id))
    audience = LetterAudience(audience).value
    name = signer or _signer(session, actor)

    def render(info: DocumentInfo) -> bytes:
        return render_recall_letter(letter_view(session, case, document=info,
                                                text=lab.text(info.lang),
                                                audience=audience, signed_by=name))

    return _Subject(_K.recall_letter,
                    document_id_for(_K.recall_letter, f"{case_id:06d}-{audience}", lang), lang,
                    render, {"case_id": case_id, "specimen_id": case.specimen_id,
                             "submitter_id": case.submitter_id, "infant_id": case.infant_id,
                             "audience": audience})


def _check_card_scope(session: Session, actor: Actor, specimen: Specimen, what: str) -> None:
    """A submitter user reaches its own cards; a clinic user the cards of the babies whose
    cases are referred to its clinic (else "not found")."""
    if actor.role == Role.clinic:
        if not clinic_sees_infant(session, actor, specimen.infant_id):
            raise NotFoundError(f"{what} not found")
        return
    check_scope(actor, specimen.submitter_id, what)


def _result(session: Session, actor: Actor, specimen_id: int, language: str | None,
            lab: LaboratoryFile) -> _Subject:
    specimen = found(session.get(Specimen, specimen_id), f"specimen {specimen_id}")
    _check_card_scope(session, actor, specimen, f"specimen {specimen_id}")
    release = repository.latest_releases(session, [specimen_id]).get(specimen_id)
    if release is None:
        raise ConflictError(f"specimen {specimen.barcode} has no released result to report")
    lang = _language(lab, language, session.get(Submitter, specimen.submitter_id))

    def view(info: DocumentInfo) -> ResultReport:
        return ResultReport(
            document=info, laboratory=lab.text(info.lang).laboratory(),
            result=specimen_result(session, specimen, release, text=lab.text(info.lang)))

    return _Subject(_K.result_report,
                    document_id_for(_K.result_report, f"{specimen_id:06d}", lang), lang,
                    lambda info: render_result_report(view(info)),
                    {"specimen_id": specimen_id, "submitter_id": specimen.submitter_id,
                     "infant_id": specimen.infant_id}, view=view)


def _day(day: date) -> tuple[datetime, datetime]:
    """The laboratory's day (``NBS_TIME_ZONE``, as the documents print times) in UTC: from
    its midnight to the next."""
    zone = lab_zone()
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _batch(session: Session, actor: Actor, submitter_id: int, day: date,
           language: str | None, lab: LaboratoryFile) -> _Subject:
    submitter = found(session.get(Submitter, submitter_id), f"submitter {submitter_id}")
    check_scope(actor, submitter_id, f"submitter {submitter_id}")
    specimens = repository.released_on(session, submitter_id, *_day(day))
    if not specimens:
        raise NotFoundError(f"no result of submitter {submitter.code} was released on "
                            f"{day.isoformat()} ({lab_zone().key})")
    lang = _language(lab, language, submitter)

    def render(info: DocumentInfo) -> bytes:
        text = lab.text(info.lang)
        releases = repository.latest_releases(session, [s.id for s in specimens if s.id])
        return render_batch_report(BatchResultReport(
            document=info, laboratory=text.laboratory(), submitter=submitter_view(submitter),
            released_on=day, results=tuple(specimen_result(session, s, releases[s.id], text=text)
                          for s in specimens if s.id in releases)))

    return _Subject(_K.batch_report,
                    document_id_for(_K.batch_report, f"{submitter.code}-{day.isoformat()}",
                                    lang), lang, render,
                    {"submitter_id": submitter_id, "period": day.isoformat()})


def _qc(session: Session, run_id: int, language: str | None, lab: LaboratoryFile) -> _Subject:
    run = found(session.get(Run, run_id), f"run {run_id}")
    lang = _language(lab, language, None)

    def render(info: DocumentInfo) -> bytes:
        return render_qc_report(qc_view(session, run, document=info, text=lab.text(info.lang)))

    return _Subject(_K.qc_report, document_id_for(_K.qc_report, f"{run_id:06d}", lang), lang,
                    render, {"run_id": run_id})


def _bulletin(session: Session, month: date, language: str | None,
              lab: LaboratoryFile) -> _Subject:
    first = month_start(month)
    lang = _language(lab, language, None)

    def render(info: DocumentInfo) -> bytes:
        return render_bulletin(bulletin_view(session, first, document=info, lab=lab))

    return _Subject(_K.bulletin, document_id_for(_K.bulletin, f"{first:%Y-%m}", lang), lang,
                    render, {"period": f"{first:%Y-%m}"})


def _card(session: Session, actor: Actor, submitter_id: int, month: date,
          language: str | None, lab: LaboratoryFile) -> _Subject:
    submitter = found(session.get(Submitter, submitter_id), f"submitter {submitter_id}")
    check_scope(actor, submitter_id, f"submitter {submitter_id}")
    first = month_start(month)
    lang = _language(lab, language, submitter)

    def render(info: DocumentInfo) -> bytes:
        return render_report_card(card_view(session, first, submitter.code, document=info,
                                            lab=lab))

    return _Subject(_K.report_card,
                    document_id_for(_K.report_card, f"{submitter.code}-{first:%Y-%m}", lang),
                    lang, render, {"submitter_id": submitter_id, "period": f"{first:%Y-%m}"})


# ---- issue, reprint, correct -----------------------------------------------------------------


def _audit(session: Session, actor: Actor, action: str, doc: IssuedDocument,
           reason: str = "") -> None:
    record(session, actor, action, "issued_document", doc.id, infant_id=doc.infant_id,
           after={"document_id": doc.document_id, "kind": doc.kind, "version": doc.version,
                  "language": doc.language, "sha256": doc.sha256,
                  "replaces_id": doc.replaces_id}, reason=reason)


def _info(subject: _Subject, *, version: int = 1, replaces: IssuedDocument | None = None,
          reason: str = "") -> DocumentInfo:
    return DocumentInfo(
        document_id=subject.document_id, version=version, issued_at=aware(utcnow()),
        lang=subject.language,  # type: ignore[arg-type]
        replaces=None if replaces is None else DocumentRef(
            document_id=replaces.document_id, version=replaces.version, sha256=replaces.sha256),
        correction_reason=reason or None)


def _store(session: Session, actor: Actor, subject: _Subject, *, version: int = 1,
           replaces: IssuedDocument | None = None, reason: str = "") -> IssuedDocument:
    info = _info(subject, version=version, replaces=replaces, reason=reason)
    pdf = _built(lambda: subject.render(info))
    return _save(session, actor, subject, info, pdf, replaces=replaces, reason=reason)


def _save(session: Session, actor: Actor, subject: _Subject, info: DocumentInfo, pdf: bytes,
          *, replaces: IssuedDocument | None = None, reason: str = "") -> IssuedDocument:
    version, now = info.version, info.issued_at
    row: dict[str, Any] = {
        "document_id": subject.document_id, "kind": subject.kind, "version": version,
        "replaces_id": None if replaces is None else replaces.id,
        "language": subject.language, "audience": "", "period": "", "specimen_id": None,
        "case_id": None, "run_id": None, "submitter_id": None, "infant_id": None,
        **subject.ids, "sha256": hashlib.sha256(pdf).hexdigest(), "size_bytes": len(pdf),
        "content": pdf, "correction_reason": reason[:1000], "issued_by": actor.user_id,
        "issued_by_name": actor.username[:64], "issued_at": now.astimezone(UTC)}
    row["id"] = repository.insert_document(session, row)
    doc = IssuedDocument(**row)
    _audit(session, actor, "correct" if replaces is not None else "issue", doc, reason)
    return doc


def _issue(session: Session, actor: Actor, subject: _Subject) -> Issued:
    """Issue ``subject`` (each caller checked first that the actor may issue its kind)."""
    existing = repository.latest_version(session, subject.document_id)
    if existing is not None:
        _audit(session, actor, "reprint", existing)
        return Issued(existing, created=False)
    return Issued(_store(session, actor, subject), created=True)


#: Cases past the recall: the diagnosis is recorded (or the case ended), so a new recall
#: letter, which asks for a repeat card or a referral by a deadline, is no longer due.
PAST_RECALL = (CaseState.diagnosed, CaseState.treatment, CaseState.long_term_follow_up,
                CaseState.closed)

#: Why a new recall letter is refused, written as phrases so that the pages read them back in
#: their own language (``lims.web.phrases``).
LETTER_REFUSALS = Phrasebook((
    #: the letter would ask for a repeat card, and the case has received one
    ("repeat_arrived",
     "case {case} is repeat received (its repeat card {barcode} has arrived): a recall letter "
     "asking for a repeat card is no longer due (the letters issued before can be reprinted)"),
), fields={"case": r"\d+", "barcode": r"\S+"})


def _not_due(session: Session, case: FollowUpCase) -> str:
    """Why a new recall letter about ``case`` is not due (``""``: it is): ``past_recall``,
    or ``repeat_arrived`` when the letter would ask for a repeat card (a repeat request not
    referred, ``lims.documents.views.letter_action``) and the case has received one."""
    if case.state in PAST_RECALL:
        return "past_recall"
    if (case.state == CaseState.repeat_received
            and letter_action(session, case) == "request_repeat_specimen"):
        return "repeat_arrived"
    return ""


def letter_not_due(session: Session, actor: Actor, case_id: int) -> str:
    """Why ``issue_letter`` refuses a new recall letter about a case in the actor's scope now
    (``past_recall``, ``repeat_arrived``), or ``""`` when one is due: the case page offers the
    letter form only then."""
    return _not_due(session, get_case(session, actor, case_id, audit=False))


def issue_letter(session: Session, actor: Actor, case_id: int, *,
                 audience: str = LetterAudience.clinic, language: str | None = None) -> Issued:
    """The recall letter of a case (to its clinic or the family); a letter issued before is
    given again (a reprint), a new one is refused once the case is past the recall, or when
    it would ask for a repeat card the case has already received."""
    _allow(actor, _K.recall_letter, VIEWERS, "issue")
    subject = _letter(session, actor, case_id, audience, language, laboratory())
    case = session.get(FollowUpCase, case_id)  # read (and its access checked) by _letter
    assert case is not None
    why = _not_due(session, case)
    if why and repository.latest_version(session, subject.document_id) is None:
        if why == "repeat_arrived":
            repeat = (session.get(Specimen, case.repeat_specimen_id)
                      if case.repeat_specimen_id else None)
            raise ConflictError(LETTER_REFUSALS.text(
                "repeat_arrived", case=case_id,
                barcode=repeat.barcode if repeat is not None else "(not recorded)"))
        raise ConflictError(f"case {case_id} is "
                            f"{CaseState(case.state).value.replace('_', ' ')}: a "
                            "recall letter is no longer due (the letters issued before can be "
                            "reprinted)")
    return _issue(session, actor, subject)


def issue_result(session: Session, actor: Actor, specimen_id: int, *,
                 language: str | None = None) -> Issued:
    """The result report of a released specimen."""
    _allow(actor, _K.result_report, VIEWERS, "issue")
    return _issue(session, actor, _result(session, actor, specimen_id, language, laboratory()))


def issue_results(session: Session, actor: Actor, specimen_ids: Sequence[int], *,
                  language: str | None = None, workers: int = 1) -> list[Issued]:
    """The result report of each specimen (in order), as ``issue_result`` would give it one
    by one, in the caller's transaction; the new ones are rendered by ``workers`` processes
    (``lims.documents.pool``; the same bytes as rendered here)."""
    _allow(actor, _K.result_report, VIEWERS, "issue")
    lab = laboratory()
    found: dict[int, Issued] = {}
    pending: list[tuple[int, _Subject, DocumentInfo, ResultReport]] = []
    for specimen_id in dict.fromkeys(specimen_ids):
        subject = _result(session, actor, specimen_id, language, lab)
        existing = repository.latest_version(session, subject.document_id)
        if existing is not None:
            _audit(session, actor, "reprint", existing)
            found[specimen_id] = Issued(existing, created=False)
            continue
        assert subject.view is not None
        info, view = _info(subject), subject.view
        pending.append((specimen_id, subject, info, _built(partial(view, info))))
    pdfs = render_all([p[3] for p in pending], render_result_report, workers=workers)
    for (specimen_id, subject, info, _), pdf in zip(pending, pdfs, strict=True):
        found[specimen_id] = Issued(_save(session, actor, subject, info, pdf), created=True)
    return [found[i] for i in specimen_ids]


def released_between(session: Session, actor: Actor, start: date, end: date, *,
                     submitter_id: int | None = None) -> list[int]:
    """The specimens with a release on the days ``start`` to ``end`` (the laboratory's days,
    ``NBS_TIME_ZONE``), of one submitter
    or all (a submitter user: its own), by barcode."""
    if actor.role == Role.submitter:
        submitter_id = actor.submitter_id or -1
    first, last = _day(start)[0], _day(end)[1]
    return [s.id for s in repository.released_on(session, submitter_id, first, last)
            if s.id is not None]


def issue_batch(session: Session, actor: Actor, submitter_id: int, day: date, *,
                language: str | None = None) -> Issued:
    """The batch report of a submitter's results released on ``day`` (the laboratory's day,
    ``NBS_TIME_ZONE``)."""
    _allow(actor, _K.batch_report, VIEWERS, "issue")
    return _issue(session, actor, _batch(session, actor, submitter_id, day, language,
                                         laboratory()))


def issue_qc(session: Session, actor: Actor, run_id: int, *,
             language: str | None = None) -> Issued:
    """The QC report of a run."""
    _allow(actor, _K.qc_report, VIEWERS, "issue")
    return _issue(session, actor, _qc(session, run_id, language, laboratory()))


def issue_bulletin(session: Session, actor: Actor, month: date, *,
                   language: str | None = None) -> Issued:
    """The programme bulletin of the month holding ``month``."""
    _allow(actor, _K.bulletin, VIEWERS, "issue")
    return _issue(session, actor, _bulletin(session, month, language, laboratory()))


def issue_card(session: Session, actor: Actor, submitter_id: int, month: date, *,
               language: str | None = None) -> Issued:
    """A submitting unit's report card for the month holding ``month``."""
    _allow(actor, _K.report_card, VIEWERS, "issue")
    return _issue(session, actor, _card(session, actor, submitter_id, month, language,
                                        laboratory()))


def _visible(session: Session, actor: Actor, doc_id: int) -> IssuedDocument:
    doc = found(session.get(IssuedDocument, doc_id), f"document {doc_id}")
    _allow(actor, doc.kind, VIEWERS, "see")
    if actor.role == Role.clinic:
        if doc.case_id is not None:
            get_case(session, actor, doc.case_id, audit=False)
        elif doc.kind == _K.result_report and doc.specimen_id is not None:
            specimen = session.get(Specimen, doc.specimen_id)
            assert specimen is not None
            _check_card_scope(session, actor, specimen, f"document {doc_id}")
        else:
            raise NotFoundError(f"document {doc_id} not found")
    if actor.role == Role.submitter:
        if doc.submitter_id is None:
            raise NotFoundError(f"document {doc_id} not found")
        check_scope(actor, doc.submitter_id, f"document {doc_id}")
    return doc


def reprint(session: Session, actor: Actor, doc_id: int) -> IssuedDocument:
    """A stored version, its bytes checked against the hash stored at issue (audited)."""
    doc = _visible(session, actor, doc_id)
    if hashlib.sha256(doc.content).hexdigest() != doc.sha256:
        raise ConflictError(f"document {doc.document_id} version {doc.version}: the stored "
                            "bytes do not match the hash stored at issue")
    _audit(session, actor, "reprint", doc)
    return doc


def _rebuild(session: Session, actor: Actor, doc: IssuedDocument,
             lab: LaboratoryFile) -> _Subject:
    kind, lang = DocumentKind(doc.kind), doc.language
    if kind == _K.recall_letter:
        assert doc.case_id is not None
        return _letter(session, actor, doc.case_id, doc.audience, lang, lab)
    if kind == _K.result_report:
        assert doc.specimen_id is not None
        return _result(session, actor, doc.specimen_id, lang, lab)
    if kind == _K.batch_report:
        assert doc.submitter_id is not None
        return _batch(session, actor, doc.submitter_id, date.fromisoformat(doc.period),
                      lang, lab)
    if kind == _K.qc_report:
        assert doc.run_id is not None
        return _qc(session, doc.run_id, lang, lab)
    month = date.fromisoformat(f"{doc.period}-01")
    if kind == _K.bulletin:
        return _bulletin(session, month, lang, lab)
    assert doc.submitter_id is not None
    return _card(session, actor, doc.submitter_id, month, lang, lab)


def correct(session: Session, actor: Actor, doc_id: int, reason: str) -> IssuedDocument:
    """A new version of the document of ``doc_id``, built from the records as they are now,
    naming the newest version it replaces and why."""
    doc = _visible(session, actor, doc_id)
    _allow(actor, doc.kind, CORRECTORS, "correct")
    latest = repository.latest_version(session, doc.document_id)
    assert latest is not None
    subject = _rebuild(session, actor, latest, laboratory())
    return _store(session, actor, subject, version=latest.version + 1, replaces=latest,
                  reason=reason)


def list_documents(session: Session, actor: Actor, *, kind: str | None = None,
                   specimen_id: int | None = None, case_id: int | None = None,
                   submitter_id: int | None = None, run_id: int | None = None,
                   limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """Issued versions in the actor's scope, newest first (without their bytes)."""
    kinds = [k for k, roles in VIEWERS.items() if actor.role in roles]
    cases: list[int] | None = None
    if actor.role == Role.submitter:
        submitter_id = actor.submitter_id or -1
    if actor.role == Role.clinic:
        clinic = clinic_scope(session, actor)
        cases = repository.cases_of_clinic(session, clinic) if clinic and clinic > 0 else []
    rows = repository.list_documents(session, kind=kind, specimen_id=specimen_id,
                                     case_id=case_id, submitter_id=submitter_id,
                                     run_id=run_id, clinic_case_ids=cases, kinds=kinds,
                                     limit=limit, offset=offset)
    if rows:
        record(session, actor, "read_list", "issued_document", "list",
               after={"ids": [r["id"] for r in rows]})
    return rows


def versions(session: Session, actor: Actor, doc_id: int) -> list[dict[str, Any]]:
    """Every version of the document ``doc_id`` is a version of, oldest first."""
    doc = _visible(session, actor, doc_id)
    return repository.versions(session, doc.document_id)


def set_language(session: Session, actor: Actor, submitter_id: int,
                 language: str) -> Submitter:
    """The language of the documents issued to a submitter (audited)."""
    submitter = found(session.get(Submitter, submitter_id), f"submitter {submitter_id}")
    before = {"document_language": submitter.document_language}
    submitter.document_language = DocumentLanguage(language).value
    return store(session, actor, "set_document_language", "submitter", submitter,
                 before=before, after={"document_language": submitter.document_language})


def on_cases_opened(session: Session, actor: Actor,
                    cases: Sequence[FollowUpCase]) -> list[IssuedDocument]:
    """The release's hook: each case opened for a referral that has no recall letter yet gets
    one to its clinic (the follow-up service until a clinic is assigned), signed by the
    reviewer who released. A case whose records
    cannot make a letter is audited (``letter_not_issued``); the release goes on."""
    referred = [c for c in cases if c.reason == CaseReason.referral and c.id is not None]
    done = repository.letters_of_cases(session, [c.id for c in referred if c.id])
    lab = laboratory()
    out = []
    for case in referred:
        assert case.id is not None
        if case.id in done:
            continue
        system = Actor(actor.user_id, actor.username, Role.admin)
        try:  # signed by the reviewer whose release opened the case
            subject = _letter(session, system, case.id, LetterAudience.clinic, None, lab,
                              signer=_signer(session, actor))
            out.append(_store(session, actor, subject))
        except ViewError as exc:
            record(session, actor, "letter_not_issued", "followup_case", case.id,
                   infant_id=case.infant_id, reason=str(exc))
    return out
