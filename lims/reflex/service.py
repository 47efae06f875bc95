"""The reflex second tier in the LIMS (docs/second_tier.md "In the LIMS").

- **At the first tier** (``hold_for_second_tier``, called by the plate ingest for the cards
  about to go to review): the reflex decision of every flagged referral group
  (``cutoffs.reflex.decide.decide_groups``, with the card's context) is stored; a card with a
  group waiting for a reflex assay (``awaiting_second_tier``) and no group referred at once (a
  critical call or a marker past a bypass level: ``CRITICAL``, ``BYPASS``) waits for the second
  tier: it goes on the reflex worklist with the assays to run on the same card, time-critical
  first, then oldest. A card with a group referred at once never waits; nor does a card whose
  calls open a time-critical alert (``lims.alerts.rule``): it goes to review at once, and its
  assays stay on the worklist (the run decides it again where it stands, in review or
  released).
- **The second-tier run** (``import_run``): read and quantified by the same readers as a
  plate (``lims.reflex.panel``); its wells are attached to the waiting cards by barcode, each
  card is decided again with its first-tier calls, its first-tier values, its context and its
  second-tier results (clear with a reason code, repeat specimen, referral, or maternal B12
  deficiency), the decisions are stored (the earlier ones retired) and audited with the values
  they were made from, and a card with no group still waiting moves to review
  (``record_second_tier``). A released repeat put on the worklist when it was decided again
  (``lims.reflex.late``) is decided the same way and keeps its release (flagged, and alerted
  for each group asked for that is not cleared). Wells of a card that is not on the worklist
  are not stored; the run records why. The same bytes return the earlier run; a file that
  does not read stores nothing.

A repeat card is decided in the groups its earlier card was sent back for as a repeat
(``lims.reflex.repeat``), at the first tier and on the second-tier run alike (after its
earlier card, once, when both are on one plate or one run); a repeat already in when its
earlier card's requests for a repeat change is decided again then (``lims.reflex.late``).

A molecular laboratory's genotype file (``lims.reflex.genotypes``) is matched and decided by
the same steps (``match_worklist``, ``decide_again``).

Public names: ``Held``, ``ImportOutcome``, ``hold_for_second_tier``, ``import_run``, ``worklist``,
``list_runs``, ``get_run``, ``specimen_reflex``, ``context_of``, ``match_worklist``,
``decide_again``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlmodel import Session

from cutoffs.reflex.decide import AWAITING
from cutoffs.reflex.outcomes import score_cutoffs
from lims.accession.repository import specimens_by_barcodes
from lims.alerts.rule import ALERTING_FINAL
from lims.audit import Actor, AuditEntry, record, record_many, snapshot
from lims.errors import InvalidInputError, NotFoundError
from lims.models import ReflexDecisionRecord, SecondTierRun, Specimen, utcnow
from lims.pipeline import Reflex, Screening
from lims.reflex import repository
from lims.reflex.late import decide_late_repeats, requests_changed
from lims.reflex.panel import read_second_tier
from lims.reflex.repeat import decide_cards, in_rounds, referred_repeats, repeat_audit
from lims.reflex.repeat_alerts import alert_repeat_referrals
from lims.reflex.stored import context_of, decide_stored, decision_rows, plain
from lims.reflex.waiting import AT_ONCE, request_row
from lims.vocabulary import ReflexRequestStatus, SpecimenState, Stage, Transition
from lims.workflow import apply_transitions
from msms.genotype_results import GENOTYPE_FORMAT
from msms.tables import PROFILE_ID

__all__ = ["Held", "ImportOutcome", "context_of", "decide_again", "get_run",
           "hold_for_second_tier", "import_run", "list_runs", "match_worklist", "specimen_reflex",
           "worklist"]

#: The states of a card on the reflex worklist: waiting for the second tier; in review while
#: its assays run (a card whose calls open a time-critical alert never waits); or released and
#: then decided again as a repeat with a group waiting (``lims.reflex.late``: its release stays).
_RELEASED = (SpecimenState.released, SpecimenState.repeat_requested, SpecimenState.referred)
_ON_WORKLIST = (SpecimenState.awaiting_second_tier, SpecimenState.awaiting_review, *_RELEASED)


@dataclass(frozen=True)
class ImportOutcome:
    """The stored second-tier run, whether this upload created it, and the cards whose wells
    it attached to a run stored before (the same file uploaded again)."""

    run: SecondTierRun
    created: bool
    attached: tuple[str, ...] = ()


def _cuts(pipeline: Screening) -> dict[str, float] | None:
    return score_cutoffs(getattr(pipeline, "cutoffs", None))


def _with_context(profiles: pd.DataFrame, specimens: dict[str, Specimen]) -> pd.DataFrame:
    ids = profiles[PROFILE_ID].astype(str).str.strip()
    mine = profiles[ids.isin(list(specimens)).to_numpy()].copy()
    mine[PROFILE_ID] = ids[mine.index].to_numpy(dtype=object)
    context = pd.DataFrame([{PROFILE_ID: b, **context_of(s)} for b, s in specimens.items()])
    mine = mine.drop(columns=[c for c in context.columns if c != PROFILE_ID and c in mine])
    return mine.merge(context, on=PROFILE_ID, how="left").reset_index(drop=True)


@dataclass(frozen=True)
class Held:
    """What the first tier's reflex decisions do to the cards: ``waiting`` for the second
    tier; ``referred``: repeat cards referred (or not cleared) in a group their earlier card
    was sent back for, to be flagged for review whatever their own calls."""

    waiting: set[int] = field(default_factory=set)
    referred: set[int] = field(default_factory=set)


def _already_alerted(calls: pd.DataFrame) -> set[tuple[str, str]]:
    """(barcode, disorder) of the calls whose result opens a time-critical alert itself
    (``lims.alerts.rule``)."""
    hit = calls[calls["time_critical"].astype(str).str.lower().isin(["true", "1"])
                & (calls["final"].astype(str) == ALERTING_FINAL)]
    return set(zip(hit[PROFILE_ID].astype(str), hit["disorder"].astype(str), strict=True))


def hold_for_second_tier(session: Session, actor: Actor, run_id: int, calls: pd.DataFrame,
                         profiles: pd.DataFrame, specimens: Sequence[Specimen],
                         pipeline: Screening, *, repeat_calls: pd.DataFrame | None = None
                         ) -> Held:
    """Store the first tier's reflex decisions of these cards (about to go to review; a
    repeat card also in the groups its earlier card was sent back for, after that card when
    both are on this plate) and put the ones that wait on the reflex worklist; returns their
    ids (the caller moves them to ``awaiting_second_tier``) and the repeats referred.
    ``repeat_calls``: every call of the repeat cards among them, normal ones included, as the
    ingest evaluated them (``lims.reflex.ingest_calls``; else they are evaluated here). Nothing
    happens when the pipeline has no reflex second tier."""
    reflex = pipeline.reflex
    by_barcode = {s.barcode: s for s in specimens}
    if reflex is None or not by_barcode:
        return Held()
    waiting: set[int] = set()
    referred: set[int] = set()
    before: list[ReflexDecisionRecord] = []
    rows: list[dict[str, Any]] = []
    for cards in in_rounds(session, by_barcode):
        held, was, now = _hold_round(session, actor, run_id, calls, profiles, cards, pipeline,
                                     reflex, repeat_calls)
        waiting |= held.waiting
        referred |= held.referred
        before += was
        rows += now
    decide_late_repeats(session, actor, pipeline, reflex, requests_changed(before, rows),
                        reason=f"its first tier, run {run_id}", plate_run_id=run_id,
                        exclude=[s.id for s in specimens if s.id is not None])
    return Held(waiting, referred)


def _hold_round(session: Session, actor: Actor, run_id: int, calls: pd.DataFrame,
                profiles: pd.DataFrame, by_barcode: dict[str, Specimen], pipeline: Screening,
                reflex: Reflex, repeat_calls: pd.DataFrame | None
                ) -> tuple[Held, list[ReflexDecisionRecord], list[dict[str, Any]]]:
    """``hold_for_second_tier`` for one round of cards (``in_rounds``); returns what it holds,
    the cards' decisions before and the rows stored."""
    mine = calls[calls[PROFILE_ID].astype(str).isin(list(by_barcode))]
    mine = mine[mine["first_tier"].astype(str) != "normal"]
    stages = {b: Stage.duplicate_mean if s.state == SpecimenState.awaiting_duplicate
              else Stage.initial for b, s in by_barcode.items()}
    cuts = _cuts(pipeline)
    decided, links, every = decide_cards(session, pipeline, reflex, mine,
                                         _with_context(profiles, by_barcode), by_barcode,
                                         cuts, stages, every=repeat_calls)
    if decided.empty:
        return Held(), [], []
    rows = decision_rows(decided, by_barcode, reflex, None)
    ids = sorted({r["specimen_id"] for r in rows})
    before = repository.current_decisions(session, ids)
    repository.retire_decisions(session, ids)
    repository.insert_decisions(session, rows)
    already = _already_alerted(mine)
    alerted = {b for b, _ in already}
    now = utcnow()
    requests, waiting, entries = [], set(), []
    for barcode, part in decided.groupby(PROFILE_ID, sort=True):
        specimen = by_barcode[str(barcode)]
        assert specimen.id is not None
        awaiting = part[part["decision"] == AWAITING]
        at_once = part["reason_code"].isin(AT_ONCE).any()
        if not awaiting.empty and not at_once:
            groups = [str(g) for g in awaiting["group"]]
            critical = str(barcode) in alerted  # the worklist reads it again, by the same rule
            requests.append(request_row(specimen.id, run_id, groups, reflex, critical, now))
            if not critical:  # a time-critical card goes to review at once, its assays run
                waiting.add(specimen.id)
        link = links.get(str(barcode))
        entries.append(AuditEntry(
            "reflex_decision", "specimen", specimen.id, infant_id=specimen.infant_id,
            after={"decisions": plain([r for r in rows if r["specimen_id"] == specimen.id]),
                   "version": reflex.version,
                   "waits": specimen.id in waiting, "context": context_of(specimen),
                   **({"repeat": repeat_audit(str(barcode), link, decided, every, reflex, cuts)}
                      if link is not None else {})},
            reason=f"first tier, run {run_id}"))
    repository.insert_requests(session, requests)
    record_many(session, actor, entries)
    alert_repeat_referrals(session, actor, by_barcode, links, decided, every, reflex.rules,
                           already)
    return Held(waiting, referred_repeats(decided, links, by_barcode) - waiting), before, rows


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def import_run(session: Session, actor: Actor, data: bytes, file_name: str,
               pipeline: Screening) -> ImportOutcome:
    """Store a second-tier run, attach its wells to the waiting cards and decide them again
    (the caller commits). Raises the reader's error, or ``InvalidInputError``, before anything
    is stored. The same file again answers the stored run, after attaching the wells that
    were left unmatched and whose cards are now accessioned and on the reflex worklist
    (``ImportOutcome.attached``)."""
    sha256 = _sha256(data)
    existing = repository.run_by_sha256(session, sha256)
    if existing is not None and existing.format == GENOTYPE_FORMAT:
        return ImportOutcome(existing, False)  # a genotype file's bytes: that import
    if existing is not None:
        return _attach_late_wells(session, actor, existing, data, file_name, pipeline)
    if not data:
        raise InvalidInputError("the file is empty", file=file_name)
    plate = read_second_tier(data, file_name, limits=getattr(pipeline, "archive_limits", None))
    reflex = pipeline.reflex or Reflex.literature()
    matched, unmatched, requests = match_worklist(session, sorted(set(plate.wells["sample_id"])))
    run = SecondTierRun(file_sha256=sha256, plate_id=plate.plate_id[:64],
                        instrument_run_id=plate.instrument_run_id[:128],
                        file_name=file_name[:255], format=plate.format[:32],
                        method_version=plate.method_version, reflex_version=reflex.version[:64],
                        uploaded_by=actor.user_id, uploaded_at=utcnow(), unmatched=unmatched)
    session.add(run)
    session.flush()
    _store_wells(session, run, plate.wells, matched)
    if matched:
        decide_again(session, actor, run, matched, requests, reflex, pipeline)
    session.add(run)
    record(session, actor, "second_tier_import", "second_tier_run", run.id,
           after=snapshot(run), reason=f"second-tier run {run.plate_id} ({run.file_name})")
    session.flush()
    return ImportOutcome(run, True)


def match_worklist(session: Session, barcodes: list[str]
                   ) -> tuple[dict[str, Specimen], dict[str, str], dict[int, Any]]:
    """The wells' cards on the reflex worklist (by barcode), why the others are not, and the
    open requests of the cards found."""
    found = specimens_by_barcodes(session, barcodes)
    requests = repository.open_requests_for(
        session, [s.id for s in found.values() if s.id is not None])
    matched: dict[str, Specimen] = {}
    unmatched: dict[str, str] = {}
    for barcode in barcodes:
        specimen = found.get(barcode)
        if specimen is None:
            unmatched[barcode] = "unknown barcode: no accessioned card"
        elif specimen.id not in requests or specimen.state not in _ON_WORKLIST:
            unmatched[barcode] = f"card is {specimen.state}, not on the reflex worklist"
        else:
            matched[barcode] = specimen
    return matched, unmatched, requests


def _store_wells(session: Session, run: SecondTierRun, wells: pd.DataFrame,
                 matched: dict[str, Specimen]) -> None:
    """The results of the wells of ``matched`` cards, counted on the run."""
    assert run.id is not None
    mine = wells[wells["sample_id"].isin(list(matched))]
    repository.insert_results(session, [
        {"run_id": run.id, "specimen_id": matched[r["sample_id"]].id, "well": r["well"][:4],
         "assay": r["assay"][:32],
         "conc_umol_l": None if pd.isna(r["conc_umol_l"]) else float(r["conc_umol_l"])}
        for r in mine.to_dict("records")])
    run.n_results = (run.n_results or 0) + len(mine)
    run.n_specimens = (run.n_specimens or 0) + len(matched)


def _attach_late_wells(session: Session, actor: Actor, run: SecondTierRun, data: bytes,
                       file_name: str, pipeline: Screening) -> ImportOutcome:
    """The stored run's file again: its unmatched wells whose cards are now on the reflex
    worklist are attached and their cards decided again, audited (``second_tier_attach``);
    the others stay unmatched, with why."""
    if not run.unmatched:
        return ImportOutcome(run, False)
    matched, unmatched, requests = match_worklist(session, sorted(run.unmatched))
    if not matched:
        return ImportOutcome(run, False)
    plate = read_second_tier(data, file_name, limits=getattr(pipeline, "archive_limits", None))
    before = snapshot(run)
    _store_wells(session, run, plate.wells, matched)
    run.unmatched = unmatched  # a new dict: the JSON column is written again
    decide_again(session, actor, run, matched, requests, pipeline.reflex or Reflex.literature(),
                  pipeline)
    session.add(run)
    record(session, actor, "second_tier_attach", "second_tier_run", run.id, before=before,
           after={**(snapshot(run) or {}), "attached": sorted(matched)},
           reason=f"second-tier run {run.plate_id} ({file_name}) uploaded again: "
                  f"{len(matched)} card(s) now on the reflex worklist")
    session.flush()
    return ImportOutcome(run, False, tuple(sorted(matched)))


def decide_again(session: Session, actor: Actor, run: SecondTierRun,
                  matched: dict[str, Specimen], requests: dict[int, Any], reflex: Reflex,
                  pipeline: Screening) -> None:
    """Decide the run's cards again, a repeat after its earlier card when both are on the
    run (``in_rounds``: once, as a repeat), then the repeats of the cards it sent back."""
    assert run.id is not None
    before: list[ReflexDecisionRecord] = []
    rows: list[dict[str, Any]] = []
    for cards in in_rounds(session, matched):
        was, now = _decide_round(session, actor, run, cards, requests, reflex, pipeline)
        before += was
        rows += now
    decide_late_repeats(
        session, actor, pipeline, reflex, requests_changed(before, rows),
        reason=f"second-tier run {run.plate_id} ({run.file_name})",
        second_tier_run_id=run.id, exclude=[s.id for s in matched.values() if s.id is not None])


def _decide_round(session: Session, actor: Actor, run: SecondTierRun,
                  matched: dict[str, Specimen], requests: dict[int, Any], reflex: Reflex,
                  pipeline: Screening) -> tuple[list[ReflexDecisionRecord], list[dict[str, Any]]]:
    assert run.id is not None
    barcode_of = {s.id: b for b, s in matched.items() if s.id is not None}
    stored = decide_stored(session, pipeline, reflex, matched)
    decided, links, every, profiles = (stored.decisions, stored.links, stored.calls,
                                       stored.profiles)
    cuts = stored.cuts
    before: dict[int, list[ReflexDecisionRecord]] = {}
    for old in repository.current_decisions(session, list(barcode_of)):
        before.setdefault(old.specimen_id, []).append(old)
    rows = decision_rows(decided, matched, reflex, run.id)
    repository.retire_decisions(session, list(barcode_of))
    repository.insert_decisions(session, rows)
    assays = {a for g in reflex.rules.groups for a in g.assays}
    now = utcnow()
    moves, entries = [], []
    for barcode, specimen in matched.items():
        assert specimen.id is not None
        mine = [r for r in rows if r["specimen_id"] == specimen.id]
        waits = any(r["decision"] == AWAITING for r in mine)
        values = profiles[profiles[PROFILE_ID] == barcode]
        used = {a: round(float(values[a].iloc[0]), 4) for a in sorted(assays)
                if a in values and not pd.isna(values[a].iloc[0])}
        link = links.get(barcode)
        entries.append(AuditEntry(
            "second_tier_decision", "specimen", specimen.id, infant_id=specimen.infant_id,
            before={"decisions": plain(before.get(specimen.id, [])), "state": specimen.state},
            after={"decisions": plain(mine), "second_tier": used,
                   "context": context_of(specimen), "version": reflex.version,
                   "still_waiting": waits, "released": specimen.state in _RELEASED,
                   **({"repeat": repeat_audit(barcode, link, decided, every, reflex, cuts)}
                      if link is not None else {})},
            reason=f"second-tier run {run.plate_id} ({run.file_name})"))
        if not waits:
            request = requests[specimen.id]
            request.status = ReflexRequestStatus.completed
            request.completed_run_id = run.id
            request.completed_at = now
            session.add(request)
            if specimen.state == SpecimenState.awaiting_second_tier:
                moves.append((specimen, Transition.record_second_tier,
                              f"second-tier run {run.plate_id}"))
    record_many(session, actor, entries)
    referred = referred_repeats(decided, links, matched)
    released = [int(s.id or 0) for s in matched.values() if s.state in _RELEASED]
    moved = {s.id for s, _t, _r in moves}
    for specimen in matched.values():  # not moved (released, or still waiting): flagged only
        if specimen.id in referred and specimen.id not in moved and not specimen.flagged:
            specimen.flagged = True
            session.add(specimen)
    apply_transitions(session, actor, moves,
                      also={i: {"flagged": True} for i in referred})
    alert_repeat_referrals(session, actor, matched, links, decided, every, reflex.rules,
                           released=released)
    return [d for ds in before.values() for d in ds], rows


def worklist(session: Session) -> list[dict[str, Any]]:
    """The reflex worklist: cards waiting for second-tier assays, time-critical first, then
    oldest."""
    return repository.open_request_rows(session)


def list_runs(session: Session) -> list[SecondTierRun]:
    return repository.list_runs(session)


def get_run(session: Session, run_id: int) -> SecondTierRun:
    run = session.get(SecondTierRun, run_id)
    if run is None:
        raise NotFoundError(f"second-tier run {run_id} not found")
    return run


def specimen_reflex(session: Session, specimen_id: int) -> dict[str, Any]:
    """A card's current reflex decisions and its second-tier results."""
    specimen = session.get(Specimen, specimen_id)
    if specimen is None:
        raise NotFoundError(f"specimen {specimen_id} not found")
    return {"specimen_id": specimen_id, "barcode": specimen.barcode, "state": specimen.state,
            "context": context_of(specimen),
            "decisions": repository.current_decisions(session, [specimen_id]),
            "results": repository.results_of(session, [specimen_id])}
