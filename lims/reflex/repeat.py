"""A repeat specimen in the reflex second tier (docs/second_tier.md "In the LIMS").

A card is the repeat of an earlier card when it names it (``Specimen.previous_specimen_id``)
or when a follow-up case opened on the earlier card records it as its repeat
(``FollowUpCase.repeat_specimen_id``). Each referral group the earlier card's current reflex
decision sent for a repeat specimen (``repeat_specimen``) is decided on the repeat by
``cutoffs.reflex.decide.decide_repeat``: with every call of the repeat, normal ones included
(so that a normal repeat is seen as such), its values and context, the calibration in use and
the score cutoffs. It is cleared (``REPEAT_NORMAL``) when the repeat's score excess stays below
the calibrated repeat level, else referred (``REPEAT_STILL_ABNORMAL``, or a rule's referral);
the repeat's other flagged groups are decided as on any card.

The alerts a repeat's decision opens are ``lims.reflex.repeat_alerts``'s.

A repeat read on the same plate or second-tier run as its earlier card is decided after it
(``in_rounds``), as a repeat of the earlier card's new decision.

Public names: ``RepeatLink``, ``earlier_cards``, ``in_rounds``, ``repeat_links``,
``decide_cards``, ``repeat_audit``, ``referred_repeats``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlmodel import Session

from cutoffs.reflex.decide import decide_groups, decide_repeat
from lims.accession.repository import infants_by_ids
from lims.models import Specimen
from lims.pipeline import Reflex, Screening, card_covariates, with_covariates
from lims.reflex import repository
from lims.vocabulary import ReflexDecision, Stage
from msms.tables import PROFILE_ID

__all__ = ["RepeatLink", "decide_cards", "earlier_cards", "in_rounds", "referred_repeats",
           "repeat_audit", "repeat_links"]

_REPEAT = ReflexDecision.repeat_specimen.value


@dataclass(frozen=True)
class RepeatLink:
    """The earlier card a repeat answers and the groups it was asked for."""

    first: Specimen
    groups: tuple[str, ...]


def earlier_cards(session: Session, specimens: Mapping[str, Specimen]) -> dict[str, int]:
    """Barcode -> the id of the earlier card, for the cards of ``specimens`` that are a repeat
    (naming it, or recorded as its repeat by a follow-up case opened on it)."""
    ids = [s.id for s in specimens.values() if s.id is not None]
    from_cases = repository.first_cards_of_repeats(session, ids)
    earlier = {b: s.previous_specimen_id or from_cases.get(s.id or 0)
               for b, s in specimens.items()}
    return {b: i for b, i in earlier.items() if i is not None}


def in_rounds(session: Session, specimens: Mapping[str, Specimen]
              ) -> list[dict[str, Specimen]]:
    """These cards in the rounds they are decided in: a repeat read together with its earlier
    card (on one plate or one second-tier run) comes in a round after it, so that it is decided
    as a repeat of the earlier card's new decision; one round when no card's earlier card is
    among them."""
    earlier = earlier_cards(session, specimens)
    barcode_of = {s.id: b for b, s in specimens.items() if s.id is not None}
    after = {b: barcode_of[i] for b, i in earlier.items() if i in barcode_of}
    rounds: list[dict[str, Specimen]] = []
    left = dict(specimens)
    while left:
        now = {b: s for b, s in left.items() if after.get(b) not in left}
        now = now or left  # cards naming each other in a circle: decided together
        rounds.append(now)
        left = {b: s for b, s in left.items() if b not in now}
    return rounds


def repeat_links(session: Session, specimens: Mapping[str, Specimen]) -> dict[str, RepeatLink]:
    """Barcode -> the earlier card and the groups its current reflex decisions sent for a
    repeat, for the cards of ``specimens`` that are such a repeat."""
    wanted = earlier_cards(session, specimens)
    if not wanted:
        return {}
    groups: dict[int, list[str]] = {}
    for d in repository.current_decisions(session, list(wanted.values())):
        if d.decision == _REPEAT:
            groups.setdefault(d.specimen_id, []).append(d.group_code)
    firsts = repository.specimens_by_ids(session, [i for i in wanted.values() if i in groups])
    return {b: RepeatLink(firsts[i], tuple(dict.fromkeys(groups[i])))
            for b, i in wanted.items() if i in firsts}


def _all_calls(session: Session, pipeline: Screening, profiles: pd.DataFrame,
               specimens: Mapping[str, Specimen], stages: Mapping[str, Stage]) -> pd.DataFrame:
    """Every call of these cards, normal ones too, evaluated with the cards' covariates."""
    infants = infants_by_ids(session, [s.infant_id for s in specimens.values()])
    frames = []
    for stage in dict.fromkeys(stages.values()):
        mine = {b: s for b, s in specimens.items() if stages[b] == stage}
        covariates = {b: card_covariates(s, infants[s.infant_id]) for b, s in mine.items()}
        evaluated = pipeline.evaluate(
            with_covariates(profiles, covariates), stage=stage, include_normal=True)
        frames.append(evaluated.calls)
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def decide_cards(session: Session, pipeline: Screening, reflex: Reflex, calls: pd.DataFrame,
                 profiles: pd.DataFrame, specimens: Mapping[str, Specimen],
                 cuts: dict[str, float] | None, stages: Mapping[str, Stage], *,
                 every: pd.DataFrame | None = None
                 ) -> tuple[pd.DataFrame, dict[str, RepeatLink], pd.DataFrame]:
    """The reflex decisions of these cards: their flagged groups (``calls``: the flagged
    calls) as on any card, and on a repeat the groups its earlier card was sent back for
    (``decide_repeat``). ``profiles`` hold the cards' values and context (``PROFILE_ID`` the
    barcode); ``stages`` how each card's first tier was evaluated; ``every``: every call of
    the repeats, normal ones included, where the caller has them (else they are evaluated
    here, ``include_normal``). Returns the decisions
    (``GROUP_COLUMNS``, ``PROFILE_ID`` the card's barcode), the repeat links and the repeats'
    calls (normal ones included)."""
    decided = decide_groups(calls, profiles, reflex.rules, reflex.calibration, cuts)
    links = repeat_links(session, specimens)
    if not links:
        return decided, links, calls.iloc[0:0]
    repeats = {b: specimens[b] for b in links}
    if every is None or not set(links) <= set(every[PROFILE_ID].astype(str)):
        every = _all_calls(session, pipeline, profiles, repeats, stages)
    every = every[every[PROFILE_ID].astype(str).isin(list(links))]
    # each repeat is its own key: decide_repeat returns the key it was asked about
    first = pd.DataFrame([(b, g, _REPEAT) for b, link in links.items() for g in link.groups],
                         columns=[PROFILE_ID, "group", "decision"])
    own = profiles[profiles[PROFILE_ID].astype(str).isin(list(links))].copy()
    own["previous_specimen_id"] = own[PROFILE_ID].astype(str)
    again = decide_repeat(first, every, own.reset_index(drop=True), reflex.rules,
                          reflex.calibration, cuts)
    asked = pd.MultiIndex.from_frame(first[[PROFILE_ID, "group"]])
    keep = ~pd.MultiIndex.from_arrays([decided[PROFILE_ID].astype(str),
                                       decided["group"].astype(str)]).isin(asked)
    out = pd.concat([decided[keep], again], ignore_index=True) if len(again) else decided[keep]
    return out.reset_index(drop=True), links, every


def referred_repeats(decided: pd.DataFrame, links: Mapping[str, RepeatLink],
                     specimens: Mapping[str, Specimen]) -> set[int]:
    """Ids of the repeats not cleared in a group their earlier card was sent back for (to be
    flagged for review whatever their own calls)."""
    out = set()
    for barcode, link in links.items():
        mine = decided[(decided[PROFILE_ID].astype(str) == barcode)
                       & decided["group"].isin(list(link.groups))]
        if (mine["decision"] != "clear").any() and specimens[barcode].id is not None:
            out.add(int(specimens[barcode].id or 0))
    return out


def _number(value: Any) -> float | None:
    number = float(value) if value is not None and not pd.isna(value) else None
    return None if number is None or not np.isfinite(number) else round(number, 4)


def repeat_audit(barcode: str, link: RepeatLink, decided: pd.DataFrame, calls: pd.DataFrame,
                 reflex: Reflex, cuts: dict[str, float] | None) -> dict[str, Any]:
    """What a repeat's decisions were made from: the earlier card, and per group asked for the
    repeat's calls (tier, score, score cutoff), its excess, the repeat levels and the
    outcome."""
    group_of = reflex.rules.group_of()
    mine = calls[calls[PROFILE_ID].astype(str) == barcode]
    calibration = reflex.calibration
    groups = {}
    for group in link.groups:
        row = decided[(decided[PROFILE_ID].astype(str) == barcode) & (decided["group"] == group)]
        of_group = mine[mine["disorder"].astype(str).map(group_of) == group]
        groups[group] = {
            "decision": str(row["decision"].iloc[0]) if len(row) else None,
            "reason_code": str(row["reason_code"].iloc[0]) if len(row) else None,
            "excess": _number(row["excess"].iloc[0]) if len(row) else None,
            "repeat_level": calibration.repeat_clear_below.get(group, 0.0),
            "calls": {str(c["disorder"]): {
                "first_tier": str(c["first_tier"]), "score": _number(c["score"]),
                "score_cutoff": _number((cuts or {}).get(str(c["disorder"]))),
                **({"repeat_level": calibration.repeat_clear_below_disorder[str(c["disorder"])]}
                   if str(c["disorder"]) in calibration.repeat_clear_below_disorder else {})}
                for c in of_group.to_dict("records")}}
    return {"first_specimen_id": link.first.id, "first_barcode": link.first.barcode,
            "groups": groups}
