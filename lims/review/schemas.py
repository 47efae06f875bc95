"""Request and response models of review, release and corrections.

Public names: ``DecisionIn``, ``ReleaseNormalsIn``, ``NormalsWaiting``, ``CorrectionIn``,
``CorrectionView``, ``ReleasePublic``, ``ReviewItem``, ``CallView``, ``MarkerScore``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, Field, computed_field

from lims.alerts.rule import raises_alert
from lims.models import FromAttributes, RequestBody
from lims.vocabulary import (
    Action,
    Decision,
    EvaluationStage,
    Final,
    FirstTier,
    Recommendation,
    ReleaseOutcome,
    SpecimenState,
)

__all__ = [
    "CallView",
    "CorrectionIn",
    "CorrectionView",
    "DecisionIn",
    "MarkerScore",
    "NormalsWaiting",
    "ReleaseNormalsIn",
    "ReleasePublic",
    "ReviewItem",
]


class DecisionIn(RequestBody):
    """A reviewer's decision; ``password`` is the reviewer's own, asked again to sign."""

    decision: Decision
    reason: str = Field(default="", max_length=1000)
    password: str = Field(min_length=1, max_length=256)


class ReleaseNormalsIn(RequestBody):
    """The bulk release of normals, signed with the password. ``digest`` (and ``count``) from
    ``GET /review/release-normals`` with the same ``limit``: the release is refused (409) when
    the cards waiting are no longer exactly those counted."""

    password: str = Field(min_length=1, max_length=256)
    limit: int = Field(default=500, ge=1, le=5000)
    digest: str | None = Field(default=None, max_length=64)
    count: int | None = Field(default=None, ge=0)


class NormalsWaiting(BaseModel):
    """The cards the bulk release would release now (no flag, no first-tier call, no
    correction, no open follow-up case of the baby, the plate signed off by its technician) and
    the digest of their ids that signs exactly this set; and how many unflagged cards it holds
    back for a reviewer's own decision, by why (a card may count under both)."""

    specimen_ids: list[int]
    count: int
    digest: str
    #: unflagged cards whose baby has a follow-up case that is not closed
    held_back_open_case: int = 0
    #: unflagged cards whose plate its technician has not signed off (accepted)
    held_back_not_signed_off: int = 0
    #: those plates: ``run_id``, ``plate_id``, ``cards`` (how many cards each holds back)
    unsigned_plates: list[dict[str, Any]] = Field(default_factory=list)


class CorrectionIn(RequestBody):
    reason: str = Field(min_length=1, max_length=1000)
    password: str = Field(min_length=1, max_length=256)


class ReleasePublic(FromAttributes):
    id: int
    specimen_id: int
    version: int
    outcome: ReleaseOutcome
    summary: dict[str, Any] | None
    reason: str
    released_by: int
    released_at: datetime
    supersedes_id: int | None


class CallView(BaseModel):
    disorder: str
    stage: EvaluationStage
    first_tier: FirstTier
    final: Final
    reasons: str
    score: float | None
    second_tier_probability: float | None
    #: the disorder is a time-critical one (the catalogue's flag, stored with the call)
    time_critical_disorder: bool = Field(
        validation_alias=AliasChoices("time_critical_disorder", "time_critical"))
    action: Action
    cutoff_version: str
    model_version: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def time_critical(self) -> bool:
        """The call opens a time-critical alert (``lims.alerts.rule``: a time-critical
        disorder called positive), as every ``time_critical`` of the API means."""
        return raises_alert(self.time_critical_disorder, self.final)

    @property
    def alerting(self) -> bool:
        """What the pages mark time-critical: ``time_critical``."""
        return self.time_critical


class MarkerScore(BaseModel):
    """Where a value sits among babies like this one (``cutoffs.scores``)."""

    percentile: float | None
    #: value / median of babies like this one
    mom: float | None
    #: the stratum of the lab's cutoff table, or the covariates the covariate model used
    stratum: str
    #: the cutoff table or covariate model that scored the value
    reference: str


class CorrectionView(BaseModel):
    """The correction that reopened a released result: the version it opened, why, by whom."""

    version: int
    reason: str
    corrected_by: str
    corrected_at: datetime


class ReviewItem(BaseModel):
    """A flagged specimen as the reviewer sees it."""

    specimen_id: int
    barcode: str
    infant_id: int
    state: SpecimenState
    version: int
    covariates: dict[str, Any]
    values_umol_l: dict[str, float | None]
    #: percentile (0-100) of each analyte and ratio among babies like this one
    percentiles: dict[str, float | None]
    #: the same with the multiple of the median and what the value was compared with
    scores: dict[str, MarkerScore] = {}
    calls: list[CallView]
    #: ``no_recall``: the second tier cleared every call (flagged by the first tier; the
    #: reviewer accepts or overrides); ``recall``: a call still stands after it; None: it
    #: scored none of the calls (no model, or disorders it does not filter).
    second_tier_recommendation: Recommendation | None = None
    open_alerts: int
    #: exactly the decisions ``POST /specimens/{id}/decisions`` accepts now
    allowed_decisions: list[Decision]
    #: set when a correction reopened the specimen (version 2 or later): never released in
    #: bulk, only by a reviewer's own decision
    correction: CorrectionView | None = None
