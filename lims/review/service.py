"""Review and release: the queue of flagged specimens, decisions signed with the reviewer's
password, immutable releases and corrections as new versions.

- ``allowed_decisions`` is the one rule for what a reviewer may decide, used both to offer
  decisions in the queue and to accept them: ``release_normal`` when no current call stands
  (every ``final`` is negative), ``override`` (release as normal against a standing call, with a
  reason) when one does; ``request_repeat_specimen`` and ``refer`` always.
- A specimen flagged by the first tier whose calls the second tier all cleared ("no recall
  recommended") stays in the queue with that recommendation shown; the reviewer may release it
  as normal, one specimen at a time (the release says it followed the second tier), or act
  against it. ``release_normals`` (the bulk release) takes only specimens with no first-tier
  flag at all, never a correction, never a card of a baby with an open follow-up case (a
  recall, a referral, a repeat awaited) and never a card whose plate its technician has not
  signed off; ``normals_waiting`` counts them first (and those held back, by why) and gives
  the digest of their ids, and a release signed with that digest is refused (409) when the
  cards waiting are no longer exactly those counted.
- A single card's release (``decide``) is the reviewer's own decision on that card and does
  not wait for the plate's sign-off: a referral or a repeat request must never wait, and the
  card's page shows its calls and values; the bulk release, which no one looks at card by
  card, takes only what a technician and the follow-up board have nothing open on.
- Every decision writes a ``Review`` row and a ``Release`` (the result reported), both
  append-only; ``request_repeat_specimen`` also asks the submitter for a new card.
- A referral or a repeat request opens the baby's follow-up case in the same transaction, and
  a normal release of a repeat card closes the case waiting on it (``lims.followup.service``).
- ``correct`` moves a decided specimen back to review as version n+1; the old release stays
  visible and the new one names it in ``supersedes_id``. The corrected specimen waits in the
  queue (with the correction's version, reason and author) until a reviewer decides on it.
  The earlier versions' HL7 messages not delivered yet are withheld in the correction's
  transaction (``lims.interfaces.service.withhold_for_correction``): never sent.
- Every release queues its HL7 result message (``lims.interfaces.service.enqueue_releases``)
  in the same transaction; a case opened for a referral gets its recall letter to the clinic
  (``lims.documents.service.on_cases_opened``) in it too.

Public names: ``review_queue``, ``review_item``, ``queue_scores``, ``decide``,
``normals_waiting``, ``release_normals``, ``correct``, ``releases``, ``latest_values``,
``allowed_decisions``, ``second_tier_recommendation``, ``REVIEW_REASONS``,
``RELEASE_REFUSALS``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlmodel import Session

from lims.accession.repository import infants_by_ids
from lims.accession.service import get_specimen, request_repeat
from lims.alerts.repository import open_counts
from lims.alerts.service import close_for_override
from lims.audit import Actor, AuditEntry, record_many, snapshot
from lims.auth.service import confirm_password
from lims.documents.service import on_cases_opened
from lims.errors import IllegalTransitionError
from lims.followup.service import on_release, on_released_normal
from lims.interfaces.service import enqueue_releases, withhold_for_correction
from lims.models import AuditEvent, Evaluation, Release, Review, Specimen, User, utcnow
from lims.pipeline import Screening, card_covariates, well_means
from lims.review import repository
from lims.review.schemas import (
    CallView,
    CorrectionView,
    MarkerScore,
    NormalsWaiting,
    ReviewItem,
)
from lims.vocabulary import (
    Decision,
    Final,
    Recommendation,
    ReleaseOutcome,
    SpecimenState,
    Transition,
)
from lims.workflow import allowed_transitions, apply_transition, apply_transitions
from msms.phrases import Phrasebook
from msms.tables import PROFILE_ID

__all__ = ["RELEASE_REFUSALS", "REVIEW_REASONS", "allowed_decisions", "correct", "decide",
           "latest_values", "normals_waiting", "queue_scores", "release_normals", "releases",
           "review_item", "review_queue", "second_tier_recommendation"]

#: The reasons a decision is recorded with when the reviewer gives none (English, read back as
#: phrases by the pages: ``msms.phrases``). A repeat request now always has the reviewer's
#: own reason; ``repeat_requested`` stays to read back the requests stored without one.
REVIEW_REASONS = Phrasebook((
    ("accepted_no_recall",
     "reviewer accepted the second tier's recommendation (no recall) for {disorders}"),
    ("repeat_requested", "reviewer requested a repeat card"),
))

#: Why a bulk release of normals, or a reviewer's decision, was refused (409), read back as
#: phrases by the pages (``calls``: each standing call's disorder and final, kept as written).
RELEASE_REFUSALS = Phrasebook((
    ("normals_changed_count",
     "the normal results waiting changed since they were counted: {now} wait now, not the "
     "{counted} counted; nothing was released. Count them again and sign"),
    ("normals_changed",
     "the normal results waiting changed since they were counted: {now} wait now, not those "
     "counted; nothing was released. Count them again and sign"),
    ("standing_call", "specimen {barcode} has a standing call ({calls}); release it as normal "
                      "with an override and a reason"),
    ("no_standing_call", "specimen {barcode} has no standing call; release it as normal"),
), fields={"now": r"\d+", "counted": r"\d+", "barcode": r"\S+"})

_OUTCOME = {Decision.release_normal: ReleaseOutcome.normal,
            Decision.override: ReleaseOutcome.normal_by_override,
            Decision.request_repeat_specimen: ReleaseOutcome.repeat_specimen_requested,
            Decision.refer: ReleaseOutcome.referred}


def _standing(calls: Sequence[Evaluation]) -> list[Evaluation]:
    """The current calls that still recommend action (final borderline or positive)."""
    return [c for c in calls if c.final != Final.negative]


def allowed_decisions(specimen: Specimen, calls: Sequence[Evaluation],
                      role: str) -> list[Decision]:
    """The decisions ``role`` may take now on ``specimen``, given its current ``calls``: what
    the queue offers is exactly what ``decide`` accepts."""
    standing = bool(_standing(calls))
    ruled_out = Decision.release_normal if standing else Decision.override
    return [Decision(t) for t in allowed_transitions(specimen.state, role)
            if t in tuple(Decision) and t != ruled_out]


def second_tier_recommendation(calls: Sequence[Evaluation]) -> Recommendation | None:
    """``no_recall`` when the second tier scored the specimen's calls and none still stands,
    ``recall`` when a call stands after it, None when it scored none of them."""
    if not any(c.second_tier_probability is not None for c in calls):
        return None
    return Recommendation.recall if _standing(calls) else Recommendation.no_recall


def _rounded(value: Any, digits: int) -> float | None:
    return None if value is None or value != value else round(float(value), digits)


def latest_values(session: Session, specimen_ids: list[int]) -> dict[int, dict[str, float | None]]:
    """Per specimen, the mean concentration per analyte on its latest run."""
    if not specimen_ids:
        return {}
    out: dict[int, dict[str, float | None]] = {}
    for (specimen_id, analyte), mean in well_means(
            repository.latest_results(session, specimen_ids)).items():
        out.setdefault(int(specimen_id), {})[str(analyte)] = _rounded(mean, 4)
    return out


def queue_scores(rows: list[dict[str, Any]], pipeline: Screening) -> dict[
        str, dict[str, MarkerScore]]:
    """Covariate-adjusted scores of each queued specimen's analytes and ratios, as the
    pipeline scores them (against the lab's cutoff table, else the covariate model).

    ``rows`` hold ``specimen_id`` (the barcode), the covariates and one key per analyte.
    Returns ``{barcode: {marker: MarkerScore}}``.
    """
    if not rows:
        return {}
    table = pipeline.score(pd.DataFrame(rows))
    out: dict[str, dict[str, MarkerScore]] = {}
    for barcode, marker, pct, mom, stratum, name in zip(
            table[PROFILE_ID].tolist(), table["marker"].tolist(), table["percentile"].tolist(),
            table["mom"].tolist(), table["stratum"].tolist(), table["reference"].tolist(),
            strict=True):
        out.setdefault(str(barcode), {})[str(marker)] = MarkerScore(
            percentile=_rounded(pct, 1), mom=_rounded(mom, 3), stratum=str(stratum),
            reference=str(name))
    return out


def review_queue(session: Session, actor: Actor, pipeline: Screening | None, *,
                 flagged_only: bool = True, limit: int = 200) -> list[ReviewItem]:
    """Specimens awaiting review (time-critical first, then flagged), with values,
    covariate-adjusted percentiles, calls (first tier, second-tier probability, final call,
    versions) and alerts; every specimen shown is an audited read. ``pipeline`` scores the
    values (None: no scores)."""
    specimens = repository.queue(session, flagged_only=flagged_only, limit=limit)
    return _items(session, actor, pipeline, specimens, "review queue")


def review_item(session: Session, actor: Actor, pipeline: Screening | None,
                specimen_id: int) -> ReviewItem:
    """One specimen as the review queue shows it, whatever its state (the decisions offered
    are those its state allows); the read is audited."""
    specimen = get_specimen(session, actor, specimen_id, audit=False)
    return _items(session, actor, pipeline, [specimen], "specimen page")[0]


def _items(session: Session, actor: Actor, pipeline: Screening | None,
           specimens: list[Specimen], why: str) -> list[ReviewItem]:
    ids = [s.id for s in specimens if s.id is not None]
    values = latest_values(session, ids)
    calls = repository.current_calls(session, ids)
    alerts = open_counts(session, ids)
    infants = infants_by_ids(session, [s.infant_id for s in specimens])
    corrections = repository.corrections(session, [i for s in specimens if s.version > 1
                                                   and (i := s.id) is not None])
    covariates = {s.id: card_covariates(s, infants[s.infant_id]) for s in specimens}
    rows = [
        {PROFILE_ID: s.barcode, **covariates[s.id],
         **{a: (float("nan") if v is None else v) for a, v in values.get(s.id, {}).items()}}
        for s in specimens if s.id is not None and values.get(s.id)]
    scored = queue_scores(rows, pipeline) if pipeline is not None else {}
    items = []
    for s in specimens:
        assert s.id is not None
        mine = calls.get(s.id, [])
        items.append(ReviewItem(
            specimen_id=s.id, barcode=s.barcode, infant_id=s.infant_id,
            state=SpecimenState(s.state),
            version=s.version,
            covariates={**covariates[s.id], "tpn": s.tpn, "transfused": s.transfused,
                        "nicu": s.nicu, "feeding": s.feeding},
            values_umol_l=values.get(s.id, {}),
            percentiles={m: e.percentile for m, e in scored.get(s.barcode, {}).items()},
            scores=scored.get(s.barcode, {}),
            calls=[CallView.model_validate(e, from_attributes=True) for e in mine],
            second_tier_recommendation=second_tier_recommendation(mine),
            open_alerts=alerts.get(s.id, 0),
            allowed_decisions=allowed_decisions(s, mine, actor.role),
            correction=_correction(corrections.get(s.id)) if s.version > 1 else None))
    record_many(session, actor, [AuditEntry("read", "specimen", s.id, infant_id=s.infant_id,
                                            reason=why) for s in specimens])
    return items


def _correction(event: AuditEvent | None) -> CorrectionView | None:
    if event is None:
        return None
    version = (event.after or {}).get("version")
    return CorrectionView(version=int(version) if version is not None else 0,
                          reason=event.reason, corrected_by=event.username,
                          corrected_at=event.at)


def _summary(calls: Sequence[Evaluation], values: dict[str, float | None]) -> dict[str, Any]:
    """What a release records of the card: its values and current calls."""
    return {
        "values_umol_l": values,
        "calls": [{"disorder": c.disorder, "final": c.final, "reasons": c.reasons,
                   "second_tier_probability": c.second_tier_probability,
                   "cutoff_version": c.cutoff_version, "model_version": c.model_version}
                  for c in calls],
    }


def _release(session: Session, actor: Actor, specimens: Sequence[Specimen], decision: Decision,
             reason: str, calls: dict[int, list[Evaluation]]) -> list[Release]:
    """Each specimen's ``Review`` row and the ``Release`` it reports (``calls``: the current
    calls of each), audited, and its HL7 message queued, in this transaction. What every card
    reads is read once for all (its values, its previous release), the rows are inserted in one
    flush each and audited in one insert each, so that a bulk release costs no statement per
    card."""
    assert actor.user_id is not None
    ids = [s.id for s in specimens if s.id is not None]
    values = latest_values(session, ids)
    previous = repository.latest_releases(session, ids)
    releases = []
    for specimen in specimens:
        assert specimen.id is not None
        now = utcnow()
        session.add(Review(specimen_id=specimen.id, version=specimen.version,
                           decision=decision, reason=reason, reviewer_id=actor.user_id,
                           decided_at=now))
        before = previous.get(specimen.id)
        releases.append(Release(
            specimen_id=specimen.id, version=specimen.version, outcome=_OUTCOME[decision],
            summary=_summary(calls.get(specimen.id, []), values.get(specimen.id, {})),
            reason=reason, released_by=actor.user_id, released_at=now,
            supersedes_id=before.id if before else None))
    session.add_all(releases)
    session.flush()
    record_many(session, actor, [AuditEntry("release", "release", r.id, infant_id=s.infant_id,
                                            after=snapshot(r), reason=reason)
                                 for s, r in zip(specimens, releases, strict=True)])
    # their HL7 messages, in this transaction
    enqueue_releases(session, actor, list(zip(specimens, releases, strict=True)), calls)
    return releases


def decide(session: Session, user: User, specimen_id: int, decision: Decision, *, reason: str,
           password: str) -> Release:
    """Apply a reviewer's decision, signed by re-entering the password."""
    confirm_password(user, password, session.get_bind())
    actor = Actor.of(user)
    specimen = get_specimen(session, actor, specimen_id, audit=False)
    assert specimen.id is not None
    calls = repository.current_calls(session, [specimen.id]).get(specimen.id, [])
    standing = _standing(calls)
    if decision == Decision.release_normal and standing:
        raise IllegalTransitionError(RELEASE_REFUSALS.text(
            "standing_call", barcode=specimen.barcode,
            calls=", ".join(f"{c.disorder} {c.final}" for c in standing)))
    if decision == Decision.override and not standing:
        raise IllegalTransitionError(RELEASE_REFUSALS.text("no_standing_call",
                                                           barcode=specimen.barcode))
    if decision == Decision.release_normal and calls and not reason.strip():
        reason = REVIEW_REASONS.text("accepted_no_recall", disorders=", ".join(
            sorted({c.disorder for c in calls})))[:1000]
    apply_transition(session, actor, specimen, decision, reason=reason)
    if decision == Decision.request_repeat_specimen:
        request_repeat(session, actor, specimen, reason)
    if decision == Decision.override:
        close_for_override(session, actor, specimen, full_name=user.full_name, reason=reason)
    cases = on_release(session, actor, specimen, decision, calls)
    release, = _release(session, actor, [specimen], decision, reason, {specimen.id: calls})
    on_cases_opened(session, actor, cases)  # a referral's recall letter, in this transaction
    return release


def _digest(specimen_ids: Sequence[int]) -> str:
    """The SHA-256 of the ids, in order: what a signed bulk release was counted as."""
    return hashlib.sha256(",".join(str(i) for i in specimen_ids).encode()).hexdigest()


def normals_waiting(session: Session, *, limit: int) -> NormalsWaiting:
    """The cards ``release_normals`` with the same ``limit`` would release now, their count and
    the digest of their ids (to sign exactly this set)."""
    ids = repository.releasable_ids(session, limit=limit)
    held = repository.held_back_counts(session)
    return NormalsWaiting(specimen_ids=ids, count=len(ids), digest=_digest(ids),
                          held_back_open_case=held["open_case"],
                          held_back_not_signed_off=held["not_signed_off"],
                          unsigned_plates=repository.unsigned_plates(session)
                          if held["not_signed_off"] else [])


def release_normals(session: Session, user: User, *, password: str, limit: int,
                    digest: str | None = None, count: int | None = None) -> list[int]:
    """Release every unflagged specimen awaiting review; returns their ids.

    A specimen with a current first-tier call is never released in bulk, whatever the second
    tier recommends, nor a corrected one, nor one whose baby has an open follow-up case, nor
    one whose plate its technician has not signed off: each needs the reviewer's own decision
    (``decide``).
    With ``digest`` (and ``count``) from ``normals_waiting``: refused, nothing released, when
    the cards waiting are no longer exactly those counted.
    """
    confirm_password(user, password, session.get_bind())
    actor = Actor.of(user)
    specimens = repository.releasable(session, limit=limit)
    ids = [s.id for s in specimens if s.id is not None]
    if (digest is not None and digest != _digest(ids)) or (count is not None
                                                          and count != len(ids)):
        raise IllegalTransitionError(
            RELEASE_REFUSALS.text("normals_changed", now=len(ids)) if count is None
            else RELEASE_REFUSALS.text("normals_changed_count", now=len(ids), counted=count))
    apply_transitions(session, actor, [(s, Transition.release_normal, "") for s in specimens])
    _release(session, actor, specimens, Decision.release_normal, "",
             repository.current_calls(session, ids))
    on_released_normal(session, actor, specimens)
    return ids


def correct(session: Session, user: User, specimen_id: int, *, reason: str,
            password: str) -> Specimen:
    """Reopen a decided specimen as a new version (the old release stays as it was; its HL7
    message, unless delivered, is withheld)."""
    confirm_password(user, password, session.get_bind())
    actor = Actor.of(user)
    specimen = get_specimen(session, actor, specimen_id, audit=False)
    apply_transition(session, actor, specimen, Transition.correct, reason=reason)
    withhold_for_correction(session, actor, specimen, reason)
    return specimen


def releases(session: Session, actor: Actor, specimen_id: int) -> list[Release]:
    """Every released version of a specimen's result (the read is audited)."""
    get_specimen(session, actor, specimen_id)
    return repository.releases(session, specimen_id)
