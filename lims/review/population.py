"""A baby's markers against the population and across its specimens, for the specimen page.

- ``bands``: for each marker, the values at ``CHART_PROBS`` among babies like this one (same
  covariates), from the reference the evaluation's scores use (``Screening.quantiles``: the
  laboratory's cutoff table, else the covariate model), so that the baby's value drawn on the
  band sits at the percentile the page prints.
- ``baby_specimens``: every specimen of the same baby (a repeat card is linked to the baby of
  the card it names, ``lims.accession.service``), oldest collection first; the read is one
  audited list read.
- ``baby_trend``: those specimens, each with its age at collection, its values and
  percentiles of the markers asked for (ratios included) and its own reference bands (what
  the specimen page draws for the specimen itself too).

Public names: ``CHART_PROBS``, ``TrendSpecimen``, ``profile_rows``, ``bands``,
``baby_specimens``, ``baby_trend``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
from sqlmodel import Session

from cutoffs.rules import resolve_marker
from lims.accession.repository import infants_by_ids
from lims.accession.service import check_scope
from lims.audit import Actor, record_list_read
from lims.models import Specimen
from lims.pipeline import Screening, card_covariates
from lims.review.repository import specimens_of_infant
from lims.review.service import latest_values
from lims.vocabulary import Role
from msms.errors import MsmsError
from msms.tables import PROFILE_ID

__all__ = ["CHART_PROBS", "TrendSpecimen", "baby_specimens", "baby_trend", "bands",
           "profile_rows"]

#: The percentiles a marker's band is drawn with (fractions): P0.1-P99.9, P1-P99, P5-P95,
#: P25-P75 and the median.
CHART_PROBS: tuple[float, ...] = (0.001, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 0.999)

Band = dict[float, float]


@dataclass
class TrendSpecimen:
    """One of the baby's specimens in the trend."""

    specimen_id: int
    barcode: str
    kind: str
    state: str
    collected_at: datetime
    age_hours: float
    #: marker -> value (µmol/L, or the ratio), None when not measured
    values: dict[str, float | None] = field(default_factory=dict)
    percentiles: dict[str, float | None] = field(default_factory=dict)
    #: marker -> {probability: value} at ``CHART_PROBS``
    bands: dict[str, Band] = field(default_factory=dict)


def profile_rows(specimens: Sequence[Specimen], infants: dict[int, Any],
                 values: dict[int, dict[str, float | None]]) -> list[dict[str, Any]]:
    """One profile row per specimen with values (``specimen_id`` the barcode, the card's
    covariates, one key per analyte; NaN where not measured), as the pipeline scores them."""
    return [
        {PROFILE_ID: s.barcode, **card_covariates(s, infants[s.infant_id]),
         **{a: (float("nan") if v is None else v) for a, v in values.get(s.id, {}).items()}}
        for s in specimens if s.id is not None and values.get(s.id)]


def _known(markers: Sequence[str]) -> list[str]:
    """The analytes and ratios among ``markers`` (each once), in their order."""
    out = []
    for name in dict.fromkeys(markers):
        try:
            resolve_marker(name)
        except (MsmsError, KeyError):
            continue
        out.append(name)
    return out


def _number(value: Any) -> float | None:
    return None if value is None or value != value else float(value)


def bands(pipeline: Screening, rows: list[dict[str, Any]], markers: Sequence[str],
          probs: tuple[float, ...] = CHART_PROBS) -> dict[str, dict[str, Band]]:
    """``{barcode: {marker: {probability: value}}}``, only the values the reference has."""
    known = _known(markers)
    if not rows or not known:
        return {}
    table = pipeline.quantiles(pd.DataFrame(rows), known, probs)
    out: dict[str, dict[str, Band]] = {}
    for barcode, marker, p, value in zip(
            table[PROFILE_ID].tolist(), table["marker"].tolist(),
            table["probability"].tolist(), table["value"].tolist(), strict=True):
        band = out.setdefault(str(barcode), {}).setdefault(str(marker), {})
        if (number := _number(value)) is not None:
            band[float(p)] = number
    return out


def baby_specimens(session: Session, actor: Actor, specimen: Specimen) -> list[Specimen]:
    """Every specimen of ``specimen``'s baby (this one included), oldest collection first;
    the read is one audited list read."""
    check_scope(actor, specimen.submitter_id, f"specimen {specimen.id}")
    own = actor.role in (Role.submitter, Role.clinic)  # its own cards only, as check_scope
    specimens = specimens_of_infant(session, specimen.infant_id,
                                    submitter_id=specimen.submitter_id if own else None)
    record_list_read(session, actor, "specimen", [s.id for s in specimens if s.id is not None],
                     [specimen.infant_id], filters={"infant_id": specimen.infant_id})
    return specimens


def baby_trend(session: Session, pipeline: Screening, specimens: Sequence[Specimen],
               markers: Sequence[str]) -> list[TrendSpecimen]:
    """``markers``' values, percentiles and bands in each of a baby's ``specimens``
    (``baby_specimens``), in their order."""
    infants = infants_by_ids(session, [s.infant_id for s in specimens])
    values = latest_values(session, [s.id for s in specimens if s.id is not None])
    rows = profile_rows(specimens, infants, values)
    wanted = _known(markers)
    scored: dict[tuple[str, str], tuple[float | None, float | None]] = {}
    if rows and wanted:
        table = pipeline.score(pd.DataFrame(rows), wanted)
        for barcode, marker, value, pct in zip(
                table[PROFILE_ID].tolist(), table["marker"].tolist(), table["value"].tolist(),
                table["percentile"].tolist(), strict=True):
            scored[(str(barcode), str(marker))] = (_number(value), _number(pct))
    drawn = bands(pipeline, rows, wanted, CHART_PROBS)
    out = []
    for s in specimens:
        assert s.id is not None
        age = card_covariates(s, infants[s.infant_id])["age_at_collection_hours"]
        mine = {m: scored.get((s.barcode, m), (None, None)) for m in dict.fromkeys(markers)}
        out.append(TrendSpecimen(
            specimen_id=s.id, barcode=s.barcode, kind=s.kind, state=s.state,
            collected_at=s.collected_at, age_hours=float(age),
            values={m: v for m, (v, _) in mine.items()},
            percentiles={m: None if p is None else round(p, 1) for m, (_, p) in mine.items()},
            bands=drawn.get(s.barcode, {})))
    return out
