"""Response models of runs, held wells and the duplicates worklist.

Public names: ``RunPublic``, ``HeldWellPublic``, ``HeldWellResolve``, ``DuplicateRequestPublic``,
``WithdrawalRequest``, ``WithdrawalPublic``, ``SignOffRequest``, ``SignOffPublic``,
``AttachArrivedRequest``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, model_validator

from lims.models import FromAttributes, RequestBody
from lims.vocabulary import DuplicateRequestStatus, HeldWellAction, HeldWellStatus, QcDecision

__all__ = ["AttachArrivedRequest", "DuplicateRequestPublic", "HeldWellPublic", "HeldWellResolve",
           "RunPublic", "SignOffPublic", "SignOffRequest", "WithdrawalPublic", "WithdrawalRequest"]


class RunPublic(FromAttributes):
    id: int
    file_sha256: str
    plate_id: str
    instrument_run_id: str
    file_name: str
    format: str
    uploaded_at: datetime
    qc_decision: QcDecision
    qc_reasons: list[str] | None
    n_wells: int
    n_results: int
    n_held: int
    cutoff_version: str
    model_version: str


class HeldWellPublic(FromAttributes):
    id: int
    run_id: int
    well: str
    sample_id: str
    reason: str
    values: dict[str, Any] | None
    status: HeldWellStatus
    resolved_at: datetime | None
    #: the card the well was attached to (``status == "attached"``), else None
    specimen_id: int | None = None


class HeldWellResolve(RequestBody):
    """``discard`` the held well, or ``attach`` it to the card accessioned with ``barcode``
    (the well's own barcode: its values become that card's results and are evaluated)."""

    action: HeldWellAction
    note: str = Field(min_length=1, max_length=500)
    barcode: str | None = Field(default=None, min_length=1, max_length=32)

    @model_validator(mode="after")
    def _barcode_for_attach(self) -> HeldWellResolve:
        if self.action == HeldWellAction.attach and not (self.barcode or "").strip():
            raise ValueError("attach needs the barcode of the card to attach the well to")
        if self.action == HeldWellAction.discard and self.barcode is not None:
            raise ValueError("discard takes no barcode")
        return self


class SignOffRequest(RequestBody):
    """The technician's decision on a plate's QC (``accept`` | ``reject``) and why."""

    decision: Literal["accept", "reject"]
    reason: str = Field(min_length=1, max_length=1000)


class SignOffPublic(FromAttributes):
    decision: str
    by: str
    reason: str


class AttachArrivedRequest(RequestBody):
    """The note every attached well's audit event carries."""

    note: str = Field(min_length=1, max_length=500)


class WithdrawalRequest(RequestBody):
    """Why the plate is withdrawn (audited, and added to the run's QC reasons)."""

    reason: str = Field(min_length=1, max_length=900)


class WithdrawalPublic(FromAttributes):
    """A withdrawal: the run, the cards back to waiting for a new run and those back to waiting
    for their duplicates (barcodes), the held wells discarded, the cards taken off the reflex
    worklist (barcodes) and the alerts withdrawn (ids): the time-critical alerts the plate's
    results raised, and those the decisions of the repeats of its cards opened as their
    repeats (decided again on their own, ``lims.reflex.late``)."""

    run_id: int
    to_new_run: list[str]
    to_duplicates: list[str]
    held_discarded: int
    off_reflex_worklist: list[str]
    alerts_withdrawn: list[int]


class DuplicateRequestPublic(FromAttributes):
    id: int
    specimen_id: int
    barcode: str = ""
    source_run_id: int
    disorders: str
    status: DuplicateRequestStatus
    requested_at: datetime
