"""Held wells: patient wells an ingest could not give to a card, resolved by a technician.

A well is held when its barcode is not an accessioned card (or the card was not waiting for
results); its values stay with the run. A technician then either

- **discards** it with a note (the values stay stored with the run), or
- **attaches** it to the card accessioned later with that barcode: the well's values (and those
  of any other held well of the same run with that barcode, its replicates) become the card's
  results on that run and are evaluated as an ingest would (calls, transitions, the duplicates
  worklist, time-critical alerts), in the caller's one transaction, each step audited. The
  barcode must be the well's own: a held well is never relabelled to another card.

No column records which card a well was attached to: the ``result`` rows of (run, well) name
it (``held_well_rows``), and the ``attach`` audit event records it.

A well of a rejected plate (rejected by QC or by the technician's sign-off, withdrawn, or
superseded by a new file) is never attached: the refusal names the plate and why
(``rejected_plate``). Rejecting or withdrawing a plate discards its wells still held. An attach
and a rejection of the same plate at the same moment take turns on the plate's row (each locks
it first): an attach that comes second is refused, and a rejection that comes second sees the
card attached (a plate with results is withdrawn, not rejected; a withdrawal withdraws that
card's results too).

``attach_arrived`` attaches, in one transaction and with one note, every held well whose card
has been accessioned since (each well audited as above): run after the cards arrive, it
replaces one click per well, and run again it finds nothing more to do. A card held on more
than one plate takes the wells of its oldest plate; the others stay held for a technician.

Public names: ``attach_arrived``, ``attach_held_well``, ``discard_held_well``,
``held_well_rows``, ``rejected_plate``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlmodel import Session

from lims.accession.repository import specimen_by_barcode
from lims.audit import Actor, record, snapshot
from lims.errors import (
    ConflictError,
    IllegalTransitionError,
    InvalidInputError,
    NotFoundError,
    found,
)
from lims.models import HeldWell, Run, utcnow
from lims.pipeline import WELL_COLUMNS, Screening, profiles_from_wells
from lims.runs import repository
from lims.runs.notes import RUN_NOTES
from lims.runs.refusals import RUN_REFUSALS
from lims.runs.service import evaluate_stored
from lims.vocabulary import HeldWellStatus, QcDecision, SpecimenState

__all__ = ["attach_arrived", "attach_held_well", "discard_held_well", "held_well_rows",
           "rejected_plate"]


def _open(session: Session, held_id: int) -> HeldWell:
    held = found(session.get(HeldWell, held_id), f"held well {held_id}")
    if held.status != HeldWellStatus.held:
        raise ConflictError(RUN_REFUSALS.text("held_resolved", held=held_id, status=held.status))
    return held


def rejected_plate(session: Session, run: Run) -> str | None:
    """Why nothing from ``run`` may reach a card (rejected by QC or by its technician,
    withdrawn, superseded), or None. A run whose latest sign-off is a rejection counts as
    rejected even when stored before a technician's rejection rejected the run itself."""
    if run.qc_decision == QcDecision.reject:
        return "; ".join(run.qc_reasons or []) or RUN_REFUSALS.text("rejected_by_qc_alone")
    assert run.id is not None
    events = repository.qc_sign_off_events(session, run.id)
    if events and events[-1].action != "qc_accept":
        return RUN_NOTES.text("rejected", user=events[-1].username, reason=events[-1].reason)
    return None


def _refuse_rejected_plate(session: Session, run: Run, held: HeldWell) -> None:
    why = rejected_plate(session, run)
    if why is not None:
        raise ConflictError(RUN_REFUSALS.text(
            "held_on_rejected_plate", well=held.well, sample_id=held.sample_id,
            plate=run.plate_id, rejection=why if len(why) <= 300 else f"{why[:299]}…"))


def _claim(session: Session, actor: Actor, wells: list[HeldWell],
           status: HeldWellStatus) -> None:
    """Move ``wells`` from held to ``status``; a well another request resolved meanwhile is a
    conflict (the guarded UPDATE finds it no longer held)."""
    if not repository.claim_held_wells(session, wells, status, actor.user_id, utcnow()):
        raise ConflictError(RUN_REFUSALS.text("held_resolved_by_other"))
    for well in wells:
        session.refresh(well)


def held_well_rows(session: Session, run_id: int) -> list[dict[str, Any]]:
    """A run's held wells as plain rows, each with the card it was attached to (or None)."""
    return repository.held_well_rows(session, run_id)


def discard_held_well(session: Session, actor: Actor, held_id: int, *, note: str) -> HeldWell:
    """Close a held well with a note; its values stay stored with the run."""
    held = _open(session, held_id)
    before = snapshot(held)
    _claim(session, actor, [held], HeldWellStatus.discarded)
    record(session, actor, "discard", "held_well", held.id, before=before,
           after=snapshot(held), reason=note)
    return held


def attach_held_well(session: Session, actor: Actor, held_id: int, *, barcode: str, note: str,
                     pipeline: Screening) -> list[HeldWell]:
    """Attach a held well (and the run's other held wells of that barcode) to the card accessioned
    with ``barcode``: store them as its results and evaluate them. Returns the wells attached.

    Raises
    ------
    InvalidInputError
        ``barcode`` is not the well's sample id (field ``barcode``).
    NotFoundError
        No held well ``held_id``, or no card with that barcode (accession it first).
    ConflictError
        The well's plate was rejected, the well is resolved already, or the card is not
        waiting for its first results.
    """
    held = found(session.get(HeldWell, held_id), f"held well {held_id}")
    run = repository.run_for_update(session, held.run_id)  # a rejection meanwhile: waited for
    assert run is not None and run.id is not None
    _refuse_rejected_plate(session, run, held)
    held = _open(session, held_id)
    barcode = barcode.strip()
    if barcode != held.sample_id.strip():
        raise InvalidInputError(RUN_REFUSALS.text("not_relabelled", well=held.well,
                                                  sample=repr(held.sample_id)), field="barcode")
    specimen = specimen_by_barcode(session, barcode, for_update=True)
    if specimen is None:
        raise NotFoundError(RUN_REFUSALS.text("no_card", barcode=barcode))
    if specimen.state != SpecimenState.accessioned:
        raise IllegalTransitionError(RUN_REFUSALS.text("card_not_waiting", barcode=barcode,
                                                       state=specimen.state))
    assert specimen.id is not None
    wells = repository.held_wells_of(session, run.id, held.sample_id)
    before = {w.id: snapshot(w) for w in wells}
    _claim(session, actor, wells, HeldWellStatus.attached)
    rows = pd.DataFrame([
        (w.well, barcode, "patient", analyte, float("nan") if value is None else float(value))
        for w in wells for analyte, value in (w.values or {}).items()],
        columns=list(WELL_COLUMNS))
    if rows.empty:
        raise ConflictError(RUN_REFUSALS.text("no_values", well=held.well))
    repository.insert_results(session, run.id, rows, {barcode: specimen.id})
    run.n_results += len(rows)
    session.add(run)
    listed = ", ".join(w.well for w in wells)
    for well in wells:
        record(session, actor, "attach", "held_well", well.id, infant_id=specimen.infant_id,
               before=before[well.id],
               after={**(snapshot(well) or {}), "specimen_id": specimen.id, "barcode": barcode},
               reason=note)
    evaluate_stored(session, actor, run, profiles_from_wells(rows), [specimen], [], {},
                    pipeline,
                    source=f"held well(s) {listed} of plate {run.plate_id} attached: {note}"[:900])
    return wells


def attach_arrived(session: Session, actor: Actor, *, note: str,
                   pipeline: Screening) -> list[HeldWell]:
    """Attach every held well (of a run not rejected) whose barcode is now a card waiting for
    its first results, with one ``note`` (each well's ``attach`` audit event carries it);
    returns the wells attached, none when nothing has arrived since (idempotent)."""
    note = note.strip()
    if not note:
        raise InvalidInputError(RUN_REFUSALS.text("note_for_arrived"), field="note")
    if len(note) > 500:
        raise InvalidInputError(RUN_REFUSALS.text("too_long", n=500), field="note")
    attached: list[HeldWell] = []
    cards: set[str] = set()
    for well in repository.arrived_held_wells(session):
        run = session.get(Run, well.run_id)
        assert run is not None and well.id is not None
        if (well.sample_id in cards or well.status != HeldWellStatus.held
                or rejected_plate(session, run) is not None):
            continue  # a replicate attached with its first well, or a second plate's well
        cards.add(well.sample_id)
        attached += attach_held_well(session, actor, well.id, barcode=well.sample_id,
                                     note=note, pipeline=pipeline)
    return attached
