"""Review and release: the queue of flagged specimens, decisions signed with the reviewer's
password, immutable releases and corrections as new versions.

- ``release_normal`` is for unflagged specimens; releasing a flagged one as normal is an
  ``override`` and needs a reason.
- Every decision writes a ``Review`` row and a ``Release`` (the result reported), both
  append-only; ``request_repeat_specimen`` also asks the submitter for a new card.
- ``correct`` moves a decided specimen back to review as version n+1; the old release stays
  visible and the new one names it in ``supersedes_id``.

Public names: ``review_queue``, ``queue_percentiles``, ``decide``, ``release_normals``,
``correct``, ``releases``, ``latest_values``.
"""

from __future__ import annotations

import importlib
from typing import Any

import pandas as pd
from sqlalchemy import func
from sqlmodel import Session, col, select

from lims.accession.service import get_specimen, request_repeat
from lims.audit import Actor, AuditEntry, record, record_many, snapshot
from lims.auth.service import actor_of, confirm_password
from lims.errors import IllegalTransitionError, InvalidInputError
from lims.models import Alert, Evaluation, Infant, Release, Result, Review, Specimen, User, utcnow
from lims.review.models import CallView, ReviewItem
from lims.workflow import allowed_transitions, apply_transition
from msms.tables import COVARIATE_COLUMNS, PROFILE_ID

__all__ = ["correct", "decide", "latest_values", "queue_percentiles", "release_normals", "releases",
           "review_queue"]

_OUTCOME = {"release_normal": "normal", "override": "normal_by_override",
            "request_repeat_specimen": "repeat_specimen_requested", "refer": "referred"}


def latest_values(session: Session, specimen_ids: list[int]) -> dict[int, dict[str, float | None]]:
    """Per specimen, the mean concentration per analyte on its latest run."""
    if not specimen_ids:
        return {}
    latest = (select(Result.specimen_id, func.max(Result.run_id).label("run_id"))
              .where(col(Result.specimen_id).in_(specimen_ids))
              .group_by(col(Result.specimen_id)).subquery())
    rows = session.exec(
        select(Result.specimen_id, Result.analyte, func.avg(Result.conc_umol_l))
        .join(latest, (col(Result.specimen_id) == latest.c.specimen_id)
              & (col(Result.run_id) == latest.c.run_id))
        .group_by(col(Result.specimen_id), col(Result.analyte)))
    out: dict[int, dict[str, float | None]] = {}
    for specimen_id, analyte, mean in rows:
        out.setdefault(specimen_id, {})[analyte] = None if mean is None else round(
            float(mean), 4)
    return out


def queue_percentiles(rows: list[dict[str, Any]], reference: Any = None) -> dict[
        str, dict[str, float | None]]:
    """Covariate-adjusted percentiles of each queued specimen's values (``cutoffs.scores``).

    ``rows`` hold ``specimen_id`` (the barcode), the covariates and one key per analyte;
    ``reference`` is a cutoff table or ``cutoffs.scores`` reference (default: the catalogue's
    population estimates). Returns ``{barcode: {analyte: percentile 0-100 or None}}``.
    """
    if not rows:
        return {}
    scores = importlib.import_module("cutoffs.scores")
    profiles = pd.DataFrame(rows)
    table = scores.score(profiles, reference)
    out: dict[str, dict[str, float | None]] = {}
    for barcode, marker, pct in zip(table[PROFILE_ID].tolist(), table["marker"].tolist(),
                                    table["percentile"].tolist(), strict=True):
        out.setdefault(str(barcode), {})[str(marker)] = (
            None if pct is None or pct != pct else round(float(pct), 1))
    return out


def review_queue(session: Session, actor: Actor, *, flagged_only: bool = True,
                 limit: int = 200, percentiles: bool = True,
                 reference: Any = None) -> list[ReviewItem]:
    """Specimens awaiting review (flagged first), with values, covariate-adjusted percentiles,
    calls (first tier, second-tier probability, final call, versions) and alerts; every
    specimen shown is an audited read."""
    query = select(Specimen).where(Specimen.state == "awaiting_review")
    if flagged_only:
        query = query.where(Specimen.flagged)
    specimens = list(session.exec(query.order_by(col(Specimen.flagged).desc(),
                                                 col(Specimen.id)).limit(limit)))
    ids = [s.id for s in specimens if s.id is not None]
    values = latest_values(session, ids)
    calls: dict[int, list[Evaluation]] = {}
    if ids:
        for e in session.exec(select(Evaluation).where(col(Evaluation.specimen_id).in_(ids),
                                                       Evaluation.current)
                              .order_by(col(Evaluation.id))):
            calls.setdefault(e.specimen_id, []).append(e)
    alerts: dict[int, int] = dict(session.exec(
        select(Alert.specimen_id, func.count()).where(col(Alert.specimen_id).in_(ids),
                                                      Alert.status == "open")
        .group_by(col(Alert.specimen_id))).all()) if ids else {}
    infants = {i.id: i for i in session.exec(select(Infant).where(col(Infant.id).in_(
        sorted({s.infant_id for s in specimens}))))} if specimens else {}
    covariates: dict[int, dict[str, Any]] = {}
    for s in specimens:
        assert s.id is not None
        infant = infants[s.infant_id]
        age_h = round((s.collected_at - infant.birth_at).total_seconds() / 3600, 1)
        covariates[s.id] = {"birth_weight_g": s.birth_weight_g,
                            "gestational_age_weeks": s.gestational_age_weeks,
                            "age_at_collection_hours": age_h, "sex": infant.sex, "tpn": s.tpn,
                            "transfused": s.transfused, "nicu": s.nicu, "feeding": s.feeding}
    rows = [
        {PROFILE_ID: s.barcode, **{c: covariates[s.id][c] for c in COVARIATE_COLUMNS},
         "tpn": int(s.tpn), "transfused": int(s.transfused),
         **{a: (float("nan") if v is None else v) for a, v in values.get(s.id, {}).items()}}
        for s in specimens if s.id is not None and values.get(s.id)]
    pct = queue_percentiles(rows, reference) if percentiles else {}
    items = []
    for s in specimens:
        assert s.id is not None
        items.append(ReviewItem(
            specimen_id=s.id, barcode=s.barcode, infant_id=s.infant_id, state=s.state,
            version=s.version, covariates=covariates[s.id], values_umol_l=values.get(s.id, {}),
            percentiles=pct.get(s.barcode, {}),
            calls=[CallView.model_validate(e, from_attributes=True) for e in calls.get(s.id, [])],
            open_alerts=alerts.get(s.id, 0),
            allowed_decisions=[t for t in allowed_transitions(s.state, actor.role)
                               if t in _OUTCOME]))
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
    confirm_password(user, password)
    actor = actor_of(user)
    specimen = get_specimen(session, actor, specimen_id, audit=False)
    if decision not in _OUTCOME:
        raise InvalidInputError(f"unknown decision {decision!r}", field="decision")
    if decision == "release_normal" and specimen.flagged:
        raise IllegalTransitionError(
            f"specimen {specimen.barcode} is flagged; release it as normal with an override "
            "and a reason")
    if decision == "override" and not specimen.flagged:
        raise IllegalTransitionError(f"specimen {specimen.barcode} is not flagged; "
                                     "release it as normal")
    apply_transition(session, actor, specimen, decision, reason=reason)
    assert actor.user_id is not None
    session.add(Review(specimen_id=specimen_id, version=specimen.version, decision=decision,
                       reason=reason, reviewer_id=actor.user_id, decided_at=utcnow()))
    if decision == "request_repeat_specimen":
        request_repeat(session, actor, specimen, reason or "reviewer requested a repeat card")
    return _release(session, actor, specimen, decision, reason)


def release_normals(session: Session, user: User, *, password: str, limit: int) -> list[int]:
    """Release every unflagged specimen awaiting review; returns their ids."""
    confirm_password(user, password)
    actor = actor_of(user)
    specimens = session.exec(select(Specimen).where(
        Specimen.state == "awaiting_review", col(Specimen.flagged).is_(False))
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
    confirm_password(user, password)
    actor = actor_of(user)
    specimen = get_specimen(session, actor, specimen_id, audit=False)
    apply_transition(session, actor, specimen, "correct", reason=reason)
    return specimen


def releases(session: Session, actor: Actor, specimen_id: int) -> list[Release]:
    """Every released version of a specimen's result (the read is audited)."""
    get_specimen(session, actor, specimen_id)
    return list(session.exec(select(Release).where(Release.specimen_id == specimen_id)
                             .order_by(col(Release.version))))
