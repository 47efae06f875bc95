"""What a person types to name a record on the command line, resolved to its id: a card by its
barcode, a submitter by its code, a run by its plate id, as the pages show them; an id (the
record's number) still works when no barcode, code or plate id reads the same.

A stored document by the document id every issue command prints (``LTR-000009-clinic-en``,
its newest version; ``LTR-000009-clinic-en@1`` a given version) or by the row id
``nbs report list`` shows.

Public names: ``specimen_id``, ``submitter_id``, ``run_id``, ``document_row_id``.
"""

from __future__ import annotations

from sqlmodel import Session

from lims.accession import repository as accession_repository
from lims.accession.service import find_card
from lims.documents import repository as documents_repository
from lims.errors import NotFoundError
from lims.models import Run, Specimen, Submitter
from lims.runs import repository as runs_repository

__all__ = ["document_row_id", "run_id", "specimen_id", "submitter_id"]


def _by_id(session: Session, model: type[Specimen | Submitter | Run], text: str) -> int | None:
    if not text.isdigit():
        return None
    row = session.get(model, int(text))
    return None if row is None else int(text)


def specimen_id(session: Session, reference: str) -> int:
    """A specimen's id from its card's barcode, else from its id."""
    card = find_card(session, reference)
    assert card.id is not None
    return card.id


def submitter_id(session: Session, reference: str) -> int:
    """A submitter's id from its code (``NORTH-GEN``), else from its id."""
    text = reference.strip()
    found = accession_repository.submitter_by_code(session, text)
    got = found.id if found is not None else _by_id(session, Submitter, text)
    if got is None:
        raise NotFoundError(f"submitter {reference!r}: no submitter with this code or id")
    return got


def run_id(session: Session, reference: str) -> int:
    """A run's id from its plate id, else from its id."""
    text = reference.strip()
    found = runs_repository.run_by_plate(session, text)
    got = found.id if found is not None else _by_id(session, Run, text)
    if got is None:
        raise NotFoundError(f"run {reference!r}: no run of this plate id and no run with "
                            "this id")
    return got


def document_row_id(session: Session, reference: str) -> int:
    """A stored version's row id from a document id (its newest version, or ``@<version>``),
    else the row id itself."""
    text = reference.strip()
    if text.isdigit():
        return int(text)
    document, _, version = text.partition("@")
    rows = documents_repository.versions(session, document)
    if version:
        rows = [r for r in rows if str(r["version"]) == version]
    if not rows:
        raise NotFoundError(f"document {reference!r}: no document of this id (or version) "
                            "and no row with this id")
    return int(rows[-1]["id"])
