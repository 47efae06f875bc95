"""Response models of the reflex second tier: the reflex worklist, second-tier runs, a card's
reflex decisions and second-tier results.

Public names: ``ReflexRequestPublic``, ``SecondTierRunPublic``, ``ReflexDecisionPublic``,
``SecondTierResultPublic``, ``SpecimenReflex``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from lims.vocabulary import ReflexDecision, ReflexRequestStatus, SpecimenState

__all__ = ["ReflexDecisionPublic", "ReflexRequestPublic", "SecondTierResultPublic",
           "SecondTierRunPublic", "SpecimenReflex"]


class ReflexRequestPublic(BaseModel):
    """A card on the reflex worklist and the second-tier assays to run on it."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    specimen_id: int
    barcode: str
    collected_at: datetime
    received_at: datetime
    source_run_id: int
    groups: str
    assays: str
    #: the card's current calls open a time-critical alert (``lims.alerts.rule``: a
    #: time-critical disorder called positive), as the plate map and the review queue mark it
    time_critical: bool
    status: ReflexRequestStatus
    requested_at: datetime


class SecondTierRunPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    file_sha256: str
    plate_id: str
    instrument_run_id: str
    file_name: str
    format: str
    method_version: str
    reflex_version: str
    uploaded_at: datetime
    n_specimens: int
    n_results: int
    #: barcode -> why its wells were not stored
    unmatched: dict[str, Any] | None


class ReflexDecisionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    group_code: str
    disorder: str
    decision: ReflexDecision
    reason_code: str
    reason: str
    version: str
    second_tier_run_id: int | None
    created_at: datetime


class SecondTierResultPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    run_id: int
    well: str
    assay: str
    #: µmol/L, or a genotype's count of pathogenic variants detected (unit ``variants``)
    conc_umol_l: float | None
    #: a genotype's variants (HGVS text), the laboratory's reference and report time
    variants: str | None = None
    lab_reference: str | None = None
    reported_at: datetime | None = None


class SpecimenReflex(BaseModel):
    """A card's context, current reflex decisions and second-tier results."""

    specimen_id: int
    barcode: str
    state: SpecimenState
    context: dict[str, int]
    decisions: list[ReflexDecisionPublic]
    results: list[SecondTierResultPublic]
