"""A repeat that came in before its earlier card was sent back for one (docs/second_tier.md
"In the LIMS", "A repeat specimen").

A repeat card is decided as one at its own first tier only if its earlier card's current
reflex decision already asks for a repeat specimen. When an earlier card's decision in a
group becomes ``repeat_specimen`` later (its own plate ingested after the repeat's, or its
second-tier run), each repeat of it that already has its first-tier result is decided again
now, as ``decide_cards`` decides a repeat: its decisions stored (the earlier ones retired),
audited with the values used, flagged for review when referred in such a group and alerted
when that referral is time-critical; a repeat decided so that is itself sent back for a
repeat (its own groups decided with the levels in use now) has its repeats decided in turn.
A released repeat keeps its release: the decision is
recorded, the card flagged, the audit event says it was released, and every group it is not
cleared in opens an alert naming the card and the decision (no review queue shows a released
card).

Public names: ``sent_back``, ``decide_late_repeats``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from sqlmodel import Session

from lims.audit import Actor, AuditEntry, record_many
from lims.models import ReflexDecisionRecord
from lims.pipeline import Reflex, Screening
from lims.reflex import repository
from lims.reflex.repeat import referred_repeats, repeat_audit
from lims.reflex.repeat_alerts import alert_repeat_referrals
from lims.reflex.stored import context_of, decide_stored, decision_rows, plain
from lims.vocabulary import ReflexDecision, SpecimenState
from msms.tables import PROFILE_ID

__all__ = ["decide_late_repeats", "sent_back"]

_REPEAT = ReflexDecision.repeat_specimen.value
#: a card in these states has its first-tier result (the last three: released)
_DECIDED = (SpecimenState.awaiting_second_tier, SpecimenState.awaiting_review,
            SpecimenState.released, SpecimenState.repeat_requested, SpecimenState.referred)
_RELEASED = (SpecimenState.released, SpecimenState.repeat_requested, SpecimenState.referred)


def sent_back(before: Iterable[ReflexDecisionRecord], after: Sequence[Mapping[str, Any]]
              ) -> set[int]:
    """Ids of the cards with a group whose decision became ``repeat_specimen`` (``before``:
    the cards' decisions current until now; ``after``: the rows stored now)."""
    was = {(d.specimen_id, d.group_code) for d in before if d.decision == _REPEAT}
    return {int(r["specimen_id"]) for r in after
            if r["decision"] == _REPEAT and (r["specimen_id"], r["group_code"]) not in was}


def decide_late_repeats(session: Session, actor: Actor, pipeline: Screening, reflex: Reflex,
                        firsts: Collection[int], *, reason: str,
                        second_tier_run_id: int | None = None,
                        plate_run_id: int | None = None,
                        exclude: Collection[int] = ()) -> set[int]:
    """Decide again the repeats of the cards ``firsts`` (just sent back for a repeat) that
    already have their first-tier result (the caller commits); returns their ids. The audit
    event is ``second_tier_decision`` when the earlier cards' second-tier run
    (``second_tier_run_id``) sent them back, else ``reflex_decision``; ``plate_run_id``: the
    earlier cards' plate run that did (both named in the audit event); ``exclude``: cards the
    caller decides itself (read on the same plate or run). A repeat referred here
    opens its alerts (``lims.reflex.repeat_alerts``): a time-critical referral, and on a
    released repeat every group not cleared.

    Chained: a repeat decided here whose decision in a group becomes ``repeat_specimen`` (its
    own groups decided again with the levels in use now) has its own repeats decided again
    in turn, each card once."""
    done = set(exclude) | set(firsts)
    decided: set[int] = set()
    while firsts:
        ids, before, rows = _decide(session, actor, pipeline, reflex, firsts, reason=reason,
                                    second_tier_run_id=second_tier_run_id,
                                    plate_run_id=plate_run_id, exclude=done)
        decided |= ids
        done |= ids
        firsts = sent_back(before, rows)
    return decided


def _decide(session: Session, actor: Actor, pipeline: Screening, reflex: Reflex,
            firsts: Collection[int], *, reason: str, second_tier_run_id: int | None,
            plate_run_id: int | None, exclude: Collection[int]
            ) -> tuple[set[int], list[ReflexDecisionRecord], list[dict[str, Any]]]:
    """One link of ``decide_late_repeats``: the repeats of ``firsts`` not in ``exclude``;
    returns their ids, their decisions before and the rows stored."""
    repeats = {s.barcode: s for s in repository.repeats_of(session, list(firsts))
               if s.state in _DECIDED and s.id not in exclude}
    if not repeats:
        return set(), [], []
    decided = decide_stored(session, pipeline, reflex, repeats)
    repeats = {b: s for b, s in repeats.items() if b in decided.links}
    mine = decided.decisions[decided.decisions[PROFILE_ID].astype(str).isin(list(repeats))]
    if not repeats or mine.empty:
        return set(), [], []
    ids = [int(s.id or 0) for s in repeats.values()]
    before: dict[int, list[ReflexDecisionRecord]] = {}
    for old in repository.current_decisions(session, ids):
        before.setdefault(old.specimen_id, []).append(old)
    # the run (if any) measured the earlier card, not the repeat: the rows name no run
    rows = decision_rows(mine, repeats, reflex, None)
    repository.retire_decisions(session, ids)
    repository.insert_decisions(session, rows)
    referred = referred_repeats(mine, decided.links, repeats)
    cuts = decided.cuts
    entries = []
    for barcode, specimen in sorted(repeats.items()):
        assert specimen.id is not None
        entries.append(AuditEntry(
            "second_tier_decision" if second_tier_run_id is not None else "reflex_decision",
            "specimen", specimen.id, infant_id=specimen.infant_id,
            before={"decisions": plain(before.get(specimen.id, [])), "state": specimen.state},
            after={"decisions": plain([r for r in rows if r["specimen_id"] == specimen.id]),
                   "version": reflex.version, "context": context_of(specimen),
                   "released": specimen.state in _RELEASED,
                   "sent_back_by": {"second_tier_run_id": second_tier_run_id,
                                    "plate_run_id": plate_run_id},
                   "flagged": specimen.id in referred,
                   "repeat": repeat_audit(barcode, decided.links[barcode], mine,
                                          decided.calls, reflex, cuts)},
            reason=f"card {decided.links[barcode].first.barcode} sent back for a repeat: "
                   f"{reason}"[:500]))
        if specimen.id in referred and not specimen.flagged:
            specimen.flagged = True
            session.add(specimen)
    record_many(session, actor, entries)
    alert_repeat_referrals(session, actor, repeats, decided.links, mine, decided.calls,
                           reflex.rules, released=[int(s.id or 0) for s in repeats.values()
                                                   if s.state in _RELEASED])
    return set(ids), [d for ds in before.values() for d in ds], rows
