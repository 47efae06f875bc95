"""A plate as the technician sees it after an upload: each well of the 96 with its sample type
and status, and the technician's QC sign-off.

- ``plate_view`` lays the run's wells out as rows A-H and columns 1-12 (a 384-well plate's
  wells beyond H12 are listed apart): patient wells with their card, its state and whether it
  is flagged or time-critical; control, blank and calibrator wells; held wells (unknown barcode
  or card not waiting); empty positions.
- ``sign_off`` records the technician's decision on the plate's QC with a reason, audited:
  ``accept`` confirms the automatic decision (accepted, or accepted with warnings);
  ``reject`` confirms a plate QC rejected (no patient result stored), or rejects a plate QC
  accepted that stored no patient result (all its patient wells held, say): the run becomes
  ``reject`` with the reason and its held wells are discarded, so none of them can be
  attached to a card later. A plate whose patient results are stored is rejected by
  withdrawing it (``lims.runs.withdrawal``).

Public names: ``ROWS``, ``COLUMNS``, ``plate_view``, ``sign_off``, ``sign_offs``,
``open_held_wells``.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from lims.audit import Actor, record, snapshot
from lims.errors import ConflictError, InvalidInputError
from lims.models import Run, utcnow
from lims.runs import repository
from lims.runs.notes import RUN_NOTES
from lims.runs.refusals import RUN_REFUSALS
from lims.runs.service import get_run
from lims.vocabulary import HeldWellStatus, QcDecision
from msms.qc.rules import default_rules as default_qc_rules

__all__ = ["COLUMNS", "ROWS", "open_held_wells", "plate_view", "sign_off", "sign_offs"]

ROWS = "ABCDEFGH"
_KIND = {"blank": "blank", "qc_low": "control", "qc_high": "control", "qc_other": "control",
         "calibrator": "control", "proficiency": "control"}
COLUMNS = tuple(range(1, 13))


def _well_name(row: str, column: int) -> str:
    return f"{row}{column:02d}"


def plate_view(session: Session, run_id: int) -> dict[str, Any]:
    """The run, its wells by position (``wells[well]``: ``kind`` patient | control | blank |
    held | empty, ``label``, ``status``, the card's ``specimen_id`` for patient wells, and the
    stored internal-standard signal ``is_signal`` with ``is_low`` when it is low or missing),
    counts by kind, and the wells whose internal standard is low or missing."""
    run = get_run(session, run_id)
    wells: dict[str, dict[str, Any]] = {}
    critical = repository.time_critical_specimens(session, run_id)
    for row in repository.patient_wells(session, run_id):
        status = ("critical" if row["specimen_id"] in critical
                  else "flagged" if row["flagged"] else "")
        wells[row["well"]] = {"kind": "patient", "label": row["barcode"],
                              "specimen_id": row["specimen_id"], "state": row["state"],
                              "status": status}
    for row in repository.control_wells(session, run_id):
        kind = "blank" if row["sample_type"] == "blank" else "control"
        wells[row["well"]] = {"kind": kind, "label": row["sample_id"],
                              "sample_type": row["sample_type"], "status": ""}
    for row in repository.held_well_rows(session, run_id):
        if row["status"] == HeldWellStatus.held:
            wells[row["well"]] = {"kind": "held", "label": row["sample_id"],
                                  "status": row["reason"], "held_id": row["id"]}
    for name, signal in repository.well_signal(session, run_id).items():
        # a QC-rejected plate stores no patient well: its wells come from their IS signal
        wells.setdefault(name, {"kind": _KIND.get(signal.sample_type, "patient"),
                                "label": signal.sample_id, "status": ""})
        wells[name]["is_signal"] = signal
        wells[name]["is_low"] = signal.status in ("low", "missing")
    grid = [[(_well_name(r, c), wells.get(_well_name(r, c), {"kind": "empty", "label": "",
                                                            "status": ""}))
             for c in COLUMNS] for r in ROWS]
    inside = {name for line in grid for name, _ in line}
    counts: dict[str, int] = {}
    for info in wells.values():
        counts[info["kind"]] = counts.get(info["kind"], 0) + 1
    return {"run": run, "grid": grid, "counts": counts,
            "is_low": sorted(k for k, v in wells.items() if v.get("is_low")),
            "is_limit": default_qc_rules().is_low_fraction_of_plate_median,
            "has_is_signal": any("is_signal" in v for v in wells.values()),
            "outside": {k: v for k, v in sorted(wells.items()) if k not in inside},
            "sign_offs": sign_offs(session, run_id)}


def sign_offs(session: Session, run_id: int) -> list[dict[str, Any]]:
    """The technicians' QC sign-offs and withdrawals of the run, oldest first."""
    names = {"qc_accept": "accept", "qc_reject": "reject", "qc_withdraw": "withdraw"}
    return [{"decision": names.get(e.action, "reject"),
             "by": e.username, "at": e.at, "reason": e.reason}
            for e in repository.qc_sign_off_events(session, run_id)]


def sign_off(session: Session, actor: Actor, run_id: int, *, accept: bool,
             reason: str) -> dict[str, Any]:
    """Record the technician's QC decision on the plate, with a reason (audited). The plate's
    row is locked first, so that a held well being attached meanwhile is either attached
    before (and the plate, now with results, is withdrawn instead) or refused after."""
    run = get_run(session, run_id, for_update=True)
    reason = reason.strip()
    if not reason:
        raise InvalidInputError(RUN_REFUSALS.text("reason_for_qc"), field="reason")
    if len(reason) > 1000:
        raise InvalidInputError(RUN_REFUSALS.text("too_long", n=1000), field="reason")
    if accept and run.qc_decision == QcDecision.reject:
        raise ConflictError(RUN_REFUSALS.text("rejected_by_qc", plate=run.plate_id,
                                              qc_reasons="; ".join(run.qc_reasons or [])))
    if not accept and run.n_results and run.qc_decision != QcDecision.reject:
        raise ConflictError(RUN_REFUSALS.text("has_results", plate=run.plate_id,
                                              n=run.n_results))
    held_discarded = 0
    if not accept and run.qc_decision != QcDecision.reject:
        held_discarded = _reject(session, actor, run, reason)
    record(session, actor, "qc_accept" if accept else "qc_reject", "run", run.id,
           after={"qc_decision": run.qc_decision, "held_discarded": held_discarded},
           reason=reason)
    return {"decision": "accept" if accept else "reject", "by": actor.username,
            "reason": reason}


def _reject(session: Session, actor: Actor, run: Run, reason: str) -> int:
    """The technician rejects a plate QC accepted that stored no patient result: the run is
    rejected with the reason among its QC reasons (its plate id takes a new file, its controls
    are no longer Westgard history) and its wells still held are discarded, each audited, so
    that nothing from the plate reaches a card. Returns the number of wells discarded."""
    assert run.id is not None
    held = repository.held_wells_of_run(session, run.id)
    at = utcnow()
    if held and not repository.claim_held_wells(session, held, HeldWellStatus.discarded,
                                                actor.user_id, at):
        raise ConflictError(RUN_REFUSALS.text("held_resolved_on_plate", plate=run.plate_id))
    note = f"plate {run.plate_id} rejected by {actor.username}: {reason}"[:1000]
    for well in held:
        before = snapshot(well)
        session.refresh(well)
        record(session, actor, "discard", "held_well", well.id, before=before,
               after=snapshot(well), reason=note)
    reasons = [*(run.qc_reasons or []),
               RUN_NOTES.text("rejected", user=actor.username, reason=reason)]
    # guarded: of two rejections at once, one rejects the run and the other is refused
    if not repository.reject_run(session, run, reasons):
        raise ConflictError(RUN_REFUSALS.text("rejected_meanwhile", plate=run.plate_id))
    session.refresh(run)
    return len(held)


def open_held_wells(session: Session) -> list[dict[str, Any]]:
    """Held wells waiting for a technician, across runs, oldest first."""
    return repository.open_held_well_rows(session)
