"""A card's reflex inputs as stored: its context, its current first-tier calls, its first-tier
values and second-tier results, and the rows a reflex decision is stored and audited as
(docs/second_tier.md "In the LIMS").

Public names: ``Decided``, ``context_of``, ``first_tier_calls``, ``stored_profiles``,
``decide_stored``, ``decision_rows``, ``plain``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlmodel import Session

from cutoffs.reflex.outcomes import score_cutoffs
from lims.models import Evaluation, ReflexDecisionRecord, Specimen, utcnow
from lims.pipeline import Reflex, Screening, latest_run_wells, well_means
from lims.reflex import repository
from lims.reflex.repeat import RepeatLink, decide_cards
from lims.vocabulary import EvaluationStage, Stage
from msms.tables import PROFILE_ID

__all__ = ["Decided", "context_of", "decide_stored", "decision_rows", "first_tier_calls",
           "plain", "stored_profiles"]


def context_of(specimen: Specimen) -> dict[str, int]:
    """The card's context as profile columns (docs/architecture.md "Profiles"): parenteral
    nutrition (running, or stopped after collection), a pivalate exposure, the mother's low
    vitamin B12 status."""
    tpn = specimen.tpn or (specimen.tpn_started_at is not None
                           and specimen.tpn_started_at <= specimen.collected_at
                           and (specimen.tpn_stopped_at is None
                                or specimen.tpn_stopped_at >= specimen.collected_at))
    return {"tpn": int(bool(tpn)), "pivalate_exposure": int(specimen.pivalate_exposure),
            "maternal_b12_low": int(specimen.maternal_b12_low)}


def first_tier_calls(calls: list[Evaluation], barcodes: Mapping[int, str]) -> pd.DataFrame:
    """Stored first-tier calls as the reflex rules read them."""
    return pd.DataFrame({
        PROFILE_ID: [barcodes[c.specimen_id] for c in calls],
        "disorder": [c.disorder for c in calls],
        "first_tier": [c.first_tier for c in calls],
        "score": [np.nan if c.score is None else float(c.score) for c in calls],
        "time_critical": [c.time_critical for c in calls]})


def stored_profiles(session: Session, specimens: Mapping[str, Specimen]) -> pd.DataFrame:
    """Each card's first-tier values (mean of its stored wells), context and second-tier
    results (per assay, the latest run that measured it: mean of its wells)."""
    barcode_of = {s.id: b for b, s in specimens.items()}
    ids = [s.id for s in specimens.values() if s.id is not None]
    first = pd.DataFrame(repository.first_tier_results(session, ids),
                         columns=["specimen_id", "analyte", "conc_umol_l"])
    first["sample_id"] = first["specimen_id"].map(barcode_of)
    frames = [well_means(first).unstack("analyte")] if len(first) else []
    second = latest_run_wells(pd.DataFrame(
        repository.results_of(session, ids),
        columns=["specimen_id", "run_id", "well", "assay", "conc_umol_l"]))
    if len(second):
        second = second.rename(columns={"assay": "analyte"})
        second["sample_id"] = second["specimen_id"].map(barcode_of)
        frames.append(well_means(second).unstack("analyte"))
    values = (pd.concat(frames, axis=1) if frames else pd.DataFrame(index=pd.Index(
        [], name="sample_id")))
    values = values.reindex(list(specimens))
    values.columns.name = None
    values = values.rename_axis(PROFILE_ID).reset_index()
    context = pd.DataFrame([{PROFILE_ID: b, **context_of(s)} for b, s in specimens.items()])
    return context.merge(values, on=PROFILE_ID, how="left")


@dataclass(frozen=True)
class Decided:
    """The reflex decisions of cards decided from what is stored of them (``decide_cards``'s
    decisions, repeat links and repeat calls), with the profiles they were made from."""

    decisions: pd.DataFrame
    links: dict[str, RepeatLink]
    calls: pd.DataFrame
    profiles: pd.DataFrame
    cuts: dict[str, float] | None


def decide_stored(session: Session, pipeline: Screening, reflex: Reflex,
                  specimens: Mapping[str, Specimen]) -> Decided:
    """Decide these cards (barcode -> card) again from their current first-tier calls, their
    stored values, context and second-tier results, as a repeat where they are one."""
    barcode_of = {s.id: b for b, s in specimens.items() if s.id is not None}
    stored = repository.current_calls(session, list(barcode_of))
    calls = first_tier_calls(stored, barcode_of)
    profiles = stored_profiles(session, specimens)
    duplicated = {barcode_of[c.specimen_id] for c in stored
                  if c.stage == EvaluationStage.duplicate}
    stages = {b: Stage.duplicate_mean if b in duplicated else Stage.initial for b in specimens}
    cuts = score_cutoffs(getattr(pipeline, "cutoffs", None))
    decided, links, every = decide_cards(
        session, pipeline, reflex, calls[calls["first_tier"] != "normal"], profiles,
        specimens, cuts, stages)
    return Decided(decided, links, every, profiles, cuts)


def decision_rows(decided: pd.DataFrame, specimens: Mapping[str, Specimen], reflex: Reflex,
                  run_id: int | None) -> list[dict[str, Any]]:
    """The ``reflex_decision`` rows of these decisions (current; ``run_id``: the second-tier
    run that made them)."""
    now = utcnow()
    texts = reflex.rules.reason_codes
    return [{"specimen_id": specimens[str(r[PROFILE_ID])].id, "second_tier_run_id": run_id,
             "group_code": str(r["group"])[:16], "disorder": str(r["disorder"])[:32],
             "decision": str(r["decision"]), "reason_code": str(r["reason_code"])[:32],
             "reason": texts.get(str(r["reason_code"]), "")[:500],
             "version": reflex.version[:64], "current": True, "created_at": now}
            for r in decided.to_dict("records")]


def plain(rows: Sequence[dict[str, Any]] | Sequence[ReflexDecisionRecord]
          ) -> list[dict[str, str]]:
    """Decisions as the audit records them: group, decision, reason code."""
    out = []
    for r in rows:
        get = r.get if isinstance(r, dict) else (lambda k, _r=r: getattr(_r, k))
        out.append({"group": str(get("group_code")), "decision": str(get("decision")),
                    "reason_code": str(get("reason_code"))})
    return out
