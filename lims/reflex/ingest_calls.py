"""The plate ingest's first-tier calls, evaluated once per card: a repeat card (one that names
an earlier card, or that a follow-up case records as its repeat; ``lims.reflex.repeat``) is
evaluated with its normal calls too when the reflex second tier is on, so that its repeat
decision reads them without evaluating the card a second time (docs/second_tier.md "In the
LIMS", "A repeat specimen").

Public names: ``evaluate_cards``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from sqlmodel import Session

from lims.models import Specimen
from lims.pipeline import EvaluatedCalls, Screening
from lims.reflex.repeat import earlier_cards
from lims.vocabulary import Stage
from msms.tables import PROFILE_ID

__all__ = ["evaluate_cards"]


def evaluate_cards(session: Session, pipeline: Screening, profiles: pd.DataFrame,
                   specimens: Mapping[str, Specimen], stage: Stage
                   ) -> tuple[EvaluatedCalls, pd.DataFrame]:
    """The flagged calls of these cards (``profiles``: theirs, with their covariates; the
    pipeline's ``evaluate`` as the ingest calls it) and every call of the repeat cards among
    them, normal ones included (empty when none is a repeat or the reflex second tier is
    off). Each card is evaluated once."""
    repeats = set(earlier_cards(session, specimens)) if pipeline.reflex is not None else set()
    if not repeats:
        return pipeline.evaluate(profiles, stage=stage), profiles.iloc[0:0]
    is_repeat = profiles[PROFILE_ID].astype(str).isin(list(repeats)).to_numpy()
    every = pipeline.evaluate(profiles[is_repeat], stage=stage, include_normal=True)
    flagged = [every.calls[every.calls["first_tier"].astype(str) != "normal"]]
    if not is_repeat.all():
        flagged = [pipeline.evaluate(profiles[~is_repeat], stage=stage).calls, *flagged]
    calls: Any = pd.concat(flagged, ignore_index=True) if len(flagged) > 1 else flagged[0]
    return (EvaluatedCalls(calls.reset_index(drop=True), every.cutoff_version,
                           every.model_version), every.calls)
