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
  flag at all.
- Every decision writes a ``Review`` row and a ``Release`` (the result reported), both
  append-only; ``request_repeat_specimen`` also asks the submitter for a new card.
- ``correct`` moves a decided specimen back to review as version n+1; the old release stays
  visible and the new one names it in ``supersedes_id``.

Public names: ``review_queue``, ``queue_scores``, ``decide``,
``release_normals``, ``correct``, ``releases``, ``latest_values``, ``allowed_decisions``,
``second_tier_recommendation``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import and_, exists, func, not_, or_
from sqlmodel import Session, col, select

from lims.accession.service import get_specimen, request_repeat
from lims.audit import Actor, AuditEntry, record, record_many, snapshot
from lims.auth.service import actor_of, confirm_password
from lims.errors import IllegalTransitionError, InvalidInputError
from lims.models import Alert, Evaluation, Infant, Release, Result, Review, Specimen, User, utcnow
from lims.pipeline import Screening, card_covariates, well_means
from lims.review.models import CallView, MarkerScore, ReviewItem
from lims.workflow import allowed_transitions, apply_transition
from msms.tables import PROFILE_ID

__all__ = ["allowed_decisions", "correct", "decide", "latest_values", "queue_scores",
           "release_normals", "releases", "review_queue", "second_tier_recommendation"]

_OUTCOME = {"release_normal": "normal", "override": "normal_by_override",
            "request_repeat_specimen": "repeat_specimen_requested", "refer": "referred"}


def _standing(calls: Sequence[Evaluation]) -> list[Evaluation]:
    """The current calls that still recommend action (final borderline or positive)."""
    return [c for c in calls if c.final != "negative"]


def allowed_decisions(specimen: Specimen, calls: Sequence[Evaluation], role: str) -> list[str]:
    """The decisions ``role`` may take now on ``specimen``, given its current ``calls``: what
    the queue offers is exactly what ``decide`` accepts."""
    standing = bool(_standing(calls))
    out = []
    for name in allowed_transitions(specimen.state, role):
        if name not in _OUTCOME:
            continue
        if (name == "release_normal" and standing) or (name == "override" and not standing):
            continue
        out.append(name)
    return out


def second_tier_recommendation(calls: Sequence[Evaluation]) -> str | None:
    """``no_recall`` when the second tier scored the specimen's calls and none still stands,
    ``recall`` when a call stands after it, None when it scored none of them."""
    if not any(c.second_tier_probability is not None for c in calls):
        return None
    return "recall" if _standing(calls) else "no_recall"


def _current_calls(session: Session, specimen_ids: list[int]) -> dict[int, list[Evaluation]]:
    calls: dict[int, list[Evaluation]] = {}
    if specimen_ids:
        for e in session.exec(select(Evaluation).where(
                col(Evaluation.specimen_id).in_(specimen_ids), Evaluation.current)
                .order_by(col(Evaluation.id))):
            calls.setdefault(e.specimen_id, []).append(e)
    return calls


def _first_tier_flag() -> Any:
    """SQL: the specimen has a current call out of range in the first tier."""
    return exists().where(and_(col(Evaluation.specimen_id) == col(Specimen.id),
                               col(Evaluation.current), Evaluation.first_tier != "normal"))


def latest_values(session: Session, specimen_ids: list[int]) -> dict[int, dict[str, float | None]]:
    """Per specimen, the mean concentration per analyte on its latest run."""
    if not specimen_ids:
        return {}
    latest = (select(Result.specimen_id, func.max(Result.run_id).label("run_id"))
              .where(col(Result.specimen_id).in_(specimen_ids))
              .group_by(col(Result.specimen_id)).subquery())
    rows = pd.DataFrame(session.exec(
        select(Result.specimen_id, Result.analyte, Result.conc_umol_l)
        .join(latest, (col(Result.specimen_id) == latest.c.specimen_id)
              & (col(Result.run_id) == latest.c.run_id))).all(),
        columns=["sample_id", "analyte", "conc_umol_l"])
    out: dict[int, dict[str, float | None]] = {}
    for (specimen_id, analyte), mean in well_means(rows.astype({"conc_umol_l": "float64"})
                                                   ).items():
        out.setdefault(int(specimen_id), {})[str(analyte)] = _rounded(mean, 4)
    return out


def _rounded(value: Any, digits: int) -> float | None:
    return None if value is None or value != value else round(float(value), digits)


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
    """Specimens awaiting review (flagged first), with values, covariate-adjusted percentiles,
    calls (first tier, second-tier probability, final call, versions) and alerts; every
    specimen shown is an audited read. ``pipeline`` scores the values (None: no scores)."""
    query = select(Specimen).where(Specimen.state == "awaiting_review")
    if flagged_only:
        # the stored flag, or a first-tier call (rows stored before second-tier negatives
        # were flagged)
        query = query.where(or_(col(Specimen.flagged), _first_tier_flag()))
    specimens = list(session.exec(query.order_by(col(Specimen.flagged).desc(),
                                                 col(Specimen.id)).limit(limit)))
    ids = [s.id for s in specimens if s.id is not None]
    values = latest_values(session, ids)
    calls = _current_calls(session, ids)
    alerts: dict[int, int] = dict(session.exec(
        select(Alert.specimen_id, func.count()).where(col(Alert.specimen_id).in_(ids),
                                                      Alert.status == "open")
        .group_by(col(Alert.specimen_id))).all()) if ids else {}
    infants = {i.id: i for i in session.exec(select(Infant).where(col(Infant.id).in_(
        sorted({s.infant_id for s in specimens}))))} if specimens else {}
    covariates = {s.id: card_covariates(s, infants[s.infant_id]) for s in specimens}
    rows = [
        {PROFILE_ID: s.barcode, **covariates[s.id],
         **{a: (float("nan") if v is None else v) for a, v in values.get(s.id, {}).items()}}
        for s in specimens if s.id is not None and values.get(s.id)]
    scored = queue_scores(rows, pipeline) if pipeline is not None else {}
    items = []
    for s in specimens:
        assert s.id is not None
        items.append(ReviewItem(
            specimen_id=s.id, barcode=s.barcode, infant_id=s.infant_id, state=s.state,
            version=s.version,
            covariates={**covariates[s.id], "tpn": s.tpn, "transfused": s.transfused,
                        "nicu": s.nicu, "feeding": s.feeding},
            values_umol_l=values.get(s.id, {}),
            percentiles={m: e.percentile for m, e in scored.get(s.barcode, {}).items()},
            scores=scored.get(s.barcode, {}),
            calls=[CallView.model_validate(e, from_attributes=True) for e in calls.get(s.id, [])],
            second_tier_recommendation=second_tier_recommendation(calls.get(s.id, [])),
            open_alerts=alerts.get(s.id, 0),
            allowed_decisions=allowed_decisions(s, calls.get(s.id, []), actor.role)))
    record_many(session, actor, [AuditEntry("read", "specimen", s.id, infant_id=s.infant_id,
                                            reason="review queue") for s in specimens])
    return items


def _summary(session: Session, specimen: Specimen) -> dict[str, Any]:
    assert specimen.id is not None
    calls = session.exec(select(Evaluation).where(Evaluation.specimen_id == specimen.id,
                                                  Evaluation.current)).all()
    return {
        "values_umol_l": latest_values(session, [specimen.id]).get(specimen.id, {}),
        "calls": [{"disorder": c.disorder, "final": c.final, "reasons": c.reasons,
                   "second_tier_probability": c.second_tier_probability,
                   "cutoff_version": c.cutoff_version, "model_version": c.model_version}
                  for c in calls],
    }


def _release(session: Session, actor: Actor, specimen: Specimen, decision: str,
             reason: str) -> Release:
    assert specimen.id is not None and actor.user_id is not None
    previous = session.exec(select(Release).where(Release.specimen_id == specimen.id)
                            .order_by(col(Release.version).desc())).first()
    release = Release(specimen_id=specimen.id, version=specimen.version,
                      outcome=_OUTCOME[decision], summary=_summary(session, specimen),
                      reason=reason, released_by=actor.user_id, released_at=utcnow(),
                      supersedes_id=previous.id if previous else None)
    session.add(release)
    session.flush()
    record(session, actor, "release", "release", release.id, infant_id=specimen.infant_id,
           after=snapshot(release), reason=reason)
    return release


def decide(session: Session, user: User, specimen_id: int, decision: str, *, reason: str,
           password: str) -> Release:
    """Apply a reviewer's decision, signed by re-entering the password."""
    confirm_password(user, password, session.get_bind())
    actor = actor_of(user)
    specimen = get_specimen(session, actor, specimen_id, audit=False)
    if decision not in _OUTCOME:
        raise InvalidInputError(f"unknown decision {decision!r}", field="decision")
    assert specimen.id is not None
    calls = _current_calls(session, [specimen.id]).get(specimen.id, [])
    standing = _standing(calls)
    if decision == "release_normal" and standing:
        raise IllegalTransitionError(
            f"specimen {specimen.barcode} has a standing call ("
            + ", ".join(f"{c.disorder} {c.final}" for c in standing)
            + "); release it as normal with an override and a reason")
    if decision == "override" and not standing:
        raise IllegalTransitionError(f"specimen {specimen.barcode} has no standing call; "
                                     "release it as normal")
    if decision == "release_normal" and calls and not reason.strip():
        reason = ("reviewer accepted the second tier's recommendation (no recall) for "
                  + ", ".join(sorted({c.disorder for c in calls})))[:1000]
    apply_transition(session, actor, specimen, decision, reason=reason)
    assert actor.user_id is not None
    session.add(Review(specimen_id=specimen_id, version=specimen.version, decision=decision,
                       reason=reason, reviewer_id=actor.user_id, decided_at=utcnow()))
    if decision == "request_repeat_specimen":
        request_repeat(session, actor, specimen, reason or "reviewer requested a repeat card")
    return _release(session, actor, specimen, decision, reason)


def release_normals(session: Session, user: User, *, password: str, limit: int) -> list[int]:
    """Release every unflagged specimen awaiting review; returns their ids.

    A specimen with a current first-tier call is never released in bulk, whatever the second
    tier recommends: each needs the reviewer's own decision (``decide``).
    """
    confirm_password(user, password, session.get_bind())
    actor = actor_of(user)
    specimens = session.exec(select(Specimen).where(
        Specimen.state == "awaiting_review", col(Specimen.flagged).is_(False),
        not_(_first_tier_flag()))
        .order_by(col(Specimen.id)).limit(limit)).all()
    for specimen in specimens:
        apply_transition(session, actor, specimen, "release_normal")
        assert actor.user_id is not None and specimen.id is not None
        session.add(Review(specimen_id=specimen.id, version=specimen.version,
                           decision="release_normal", reviewer_id=actor.user_id))
        _release(session, actor, specimen, "release_normal", "")
    return [s.id for s in specimens if s.id is not None]


def correct(session: Session, user: User, specimen_id: int, *, reason: str,
            password: str) -> Specimen:
    """Reopen a decided specimen as a new version (the old release stays as it was)."""
    confirm_password(user, password, session.get_bind())
    actor = actor_of(user)
    specimen = get_specimen(session, actor, specimen_id, audit=False)
    apply_transition(session, actor, specimen, "correct", reason=reason)
    return specimen


def releases(session: Session, actor: Actor, specimen_id: int) -> list[Release]:
    """Every released version of a specimen's result (the read is audited)."""
    get_specimen(session, actor, specimen_id)
    return list(session.exec(select(Release).where(Release.specimen_id == specimen_id)
                             .order_by(col(Release.version))))
