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

The same happens when an earlier card stops asking for a repeat in a group (it is decided again
as a repeat itself, or its plate is withdrawn, ``lims.runs.withdrawal``): each of its repeats
that has its first-tier result is decided again against the card's current requests, on its own
where none is left (its decisions as the repeat retired, audited). The open alerts its
decisions opened in a group the earlier card no longer asks for a repeat in are withdrawn
(each alert names the decision that opened it, ``alert.reflex_decision_id``; every one of
them when none is left), audited, the note naming the earlier card (and the group, when
another is still asked for); the alerts of a group still asked for stay, unless the repeat
is now cleared there (the levels in use changed): then they are withdrawn too, the note
naming the group and the clearing reason code. A repeat decided
again so that a group now waits for a reflex assay goes on the reflex worklist
(``lims.reflex.waiting``).

Public names: ``requests_changed``, ``decide_late_repeats``, ``LateDecisions``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlmodel import Session

from cutoffs.reflex.decide import AWAITING
from lims.alerts.service import withdraw_decision_alerts
from lims.audit import Actor, AuditEntry, record_many
from lims.models import ReflexDecisionRecord, Specimen
from lims.pipeline import Reflex, Screening
from lims.reflex import repository
from lims.reflex.repeat import RepeatLink, earlier_cards, referred_repeats, repeat_audit
from lims.reflex.repeat_alerts import alert_repeat_referrals
from lims.reflex.stored import Decided, context_of, decide_stored, decision_rows, plain
from lims.reflex.waiting import worklist_after_redecision
from lims.vocabulary import ReflexDecision, SpecimenState
from msms.tables import PROFILE_ID

__all__ = ["LateDecisions", "decide_late_repeats", "requests_changed"]

_REPEAT = ReflexDecision.repeat_specimen.value
#: a card in these states has its first-tier result (the last three: released)
_DECIDED = (SpecimenState.awaiting_second_tier, SpecimenState.awaiting_review,
            SpecimenState.released, SpecimenState.repeat_requested, SpecimenState.referred)
_RELEASED = (SpecimenState.released, SpecimenState.repeat_requested, SpecimenState.referred)


def _repeat_groups(rows: Iterable[tuple[int, str, str]]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for specimen_id, group, decision in rows:
        out.setdefault(int(specimen_id), set())
        if decision == _REPEAT:
            out[int(specimen_id)].add(group)
    return out


def requests_changed(before: Iterable[ReflexDecisionRecord], after: Sequence[Mapping[str, Any]]
                     ) -> set[int]:
    """Ids of the cards whose requests for a repeat changed: a group whose decision became
    ``repeat_specimen``, or one whose ``repeat_specimen`` decision was replaced (``before``:
    the cards' decisions current until now; ``after``: the rows stored now)."""
    was = _repeat_groups((d.specimen_id, d.group_code, d.decision) for d in before)
    now = _repeat_groups((r["specimen_id"], r["group_code"], r["decision"]) for r in after)
    return {i for i in set(was) | set(now) if was.get(i, set()) != now.get(i, set())}


@dataclass(frozen=True)
class LateDecisions:
    """What ``decide_late_repeats`` did: the repeats decided again (ids) and the alerts their
    retired decisions had opened that it withdrew (ids)."""

    decided: set[int] = field(default_factory=set)
    alerts_withdrawn: list[int] = field(default_factory=list)


def decide_late_repeats(session: Session, actor: Actor, pipeline: Screening, reflex: Reflex,
                        firsts: Collection[int], *, reason: str,
                        second_tier_run_id: int | None = None,
                        plate_run_id: int | None = None,
                        exclude: Collection[int] = ()) -> LateDecisions:
    """Decide again the repeats of the cards ``firsts`` (whose requests for a repeat just
    changed, ``requests_changed``) that already have their first-tier result (the caller
    commits); returns their ids and the alerts withdrawn. Each is decided against its earlier
    card's current requests: as a repeat in the groups it asks for, on its own where it asks
    for none. The audit event is ``second_tier_decision`` when the earlier cards'
    second-tier run (``second_tier_run_id``) changed them, else ``reflex_decision``;
    ``plate_run_id``: the earlier cards' plate run that did, or whose withdrawal did (both
    named in the audit event); ``exclude``: cards the caller decides itself (read on the same
    plate or run). An open alert a repeat's decision opened in a group its earlier card no
    longer asks for a repeat in is withdrawn (the alert names the decision,
    ``alert.reflex_decision_id``). A repeat referred here opens its alerts
    (``lims.reflex.repeat_alerts``): a time-critical referral, and on a released repeat every
    group not cleared; a repeat that now waits for a reflex assay goes on the reflex worklist
    (``lims.reflex.waiting``).

    Chained: a repeat decided here whose own requests for a repeat change (its own groups are
    decided again with the levels in use now) has its own repeats decided again in turn, each
    card once."""
    done = set(exclude) | set(firsts)
    decided: set[int] = set()
    withdrawn: list[int] = []
    while firsts:
        batch = _decide(session, actor, pipeline, reflex, firsts, reason=reason, exclude=done)
        if batch is None:
            break
        _audit(session, actor, batch, reflex, reason=reason,
               second_tier_run_id=second_tier_run_id, plate_run_id=plate_run_id)
        withdrawn += _withdraw_dropped_alerts(session, actor, batch, reason=reason)
        _alert_referrals(session, actor, batch, reflex)
        decided |= batch.ids
        done |= batch.ids
        firsts = requests_changed(batch.before_rows, batch.rows)
    return LateDecisions(decided, withdrawn)


@dataclass
class _Batch:
    """One link of ``decide_late_repeats``: the repeats decided again (barcode -> card), their
    new decisions (``decided``'s rows of them, ``rows`` as stored), their decisions before (by
    card id), their links to the earlier card's requests, the earlier card's barcode, their
    states before, the ids that now wait on the reflex worklist and those referred."""

    repeats: dict[str, Specimen]
    decided: Decided
    mine: pd.DataFrame
    before: dict[int, list[ReflexDecisionRecord]]
    rows: list[dict[str, Any]]
    links: dict[str, RepeatLink]
    earlier_of: dict[str, str]
    states: dict[str, str]
    waits: set[int] = field(default_factory=set)
    referred: set[int] = field(default_factory=set)

    @property
    def ids(self) -> set[int]:
        return {int(s.id or 0) for s in self.repeats.values()}

    @property
    def before_rows(self) -> list[ReflexDecisionRecord]:
        return [d for ds in self.before.values() for d in ds]

    def first_of(self, barcode: str) -> str:
        """The barcode of the repeat's earlier card."""
        link = self.links.get(barcode)
        return link.first.barcode if link is not None else self.earlier_of.get(barcode, "?")


def _decide(session: Session, actor: Actor, pipeline: Screening, reflex: Reflex,
            firsts: Collection[int], *, reason: str, exclude: Collection[int]
            ) -> _Batch | None:
    """Decide again the repeats of ``firsts`` not in ``exclude`` that have their first-tier
    result, store their decisions (the earlier ones retired) and put them on (or off) the
    reflex worklist; None when there is none to decide."""
    repeats = {s.barcode: s for s in repository.repeats_of(session, list(firsts))
               if s.state in _DECIDED and s.id not in exclude}
    if not repeats:
        return None
    decided = decide_stored(session, pipeline, reflex, repeats)
    mine = decided.decisions[decided.decisions[PROFILE_ID].astype(str).isin(list(repeats))]
    before = _current_by_card(session, repeats)
    # a card with no decision before and none now has nothing to decide again
    now = set(mine[PROFILE_ID].astype(str))
    repeats = {b: s for b, s in repeats.items() if b in now or s.id in before}
    if not repeats:
        return None
    mine = mine[mine[PROFILE_ID].astype(str).isin(list(repeats))]
    # the run (if any) measured the earlier card, not the repeat: the rows name no run
    rows = decision_rows(mine, repeats, reflex, None)
    repository.retire_decisions(session, [int(s.id or 0) for s in repeats.values()])
    repository.insert_decisions(session, rows)
    batch = _Batch(repeats, decided, mine, before, rows,
                   {b: link for b, link in decided.links.items() if b in repeats},
                   _earlier_barcodes(session, repeats),
                   {b: str(s.state) for b, s in repeats.items()})
    batch.waits = set(worklist_after_redecision(
        session, actor, {int(s.id or 0): s for s in repeats.values()}, rows, reflex,
        reason=reason))
    # a repeat that waits is flagged when its second-tier run refers it
    batch.referred = referred_repeats(mine, batch.links, repeats) - batch.waits
    return batch


def _current_by_card(session: Session, repeats: Mapping[str, Specimen]
                     ) -> dict[int, list[ReflexDecisionRecord]]:
    """The cards' current reflex decisions, by card id."""
    out: dict[int, list[ReflexDecisionRecord]] = {}
    for old in repository.current_decisions(session, [int(s.id or 0) for s in
                                                      repeats.values()]):
        out.setdefault(old.specimen_id, []).append(old)
    return out


def _earlier_barcodes(session: Session, repeats: Mapping[str, Specimen]) -> dict[str, str]:
    """Barcode of each repeat -> the barcode of its earlier card."""
    earlier_ids = earlier_cards(session, repeats)
    earlier = repository.specimens_by_ids(session, list(set(earlier_ids.values())))
    return {b: earlier[i].barcode for b, i in earlier_ids.items() if i in earlier}


def _audit(session: Session, actor: Actor, batch: _Batch, reflex: Reflex, *, reason: str,
           second_tier_run_id: int | None, plate_run_id: int | None) -> None:
    """One audit event per repeat decided again (the decisions before and after, what sent it
    back, the repeat's values where it is one), and a referred repeat flagged."""
    entries = []
    for barcode, specimen in sorted(batch.repeats.items()):
        assert specimen.id is not None
        link = batch.links.get(barcode)
        why = (f"card {link.first.barcode} sent back for a repeat" if link is not None
               else f"card {batch.first_of(barcode)} no longer asks for a repeat")
        entries.append(AuditEntry(
            "second_tier_decision" if second_tier_run_id is not None else "reflex_decision",
            "specimen", specimen.id, infant_id=specimen.infant_id,
            before={"decisions": plain(batch.before.get(specimen.id, [])),
                    "state": batch.states[barcode]},
            after={"decisions": plain([r for r in batch.rows
                                       if r["specimen_id"] == specimen.id]),
                   "version": reflex.version, "context": context_of(specimen),
                   "released": batch.states[barcode] in _RELEASED,
                   "sent_back_by": {"second_tier_run_id": second_tier_run_id,
                                    "plate_run_id": plate_run_id},
                   "flagged": specimen.id in batch.referred,
                   "waits": specimen.id in batch.waits,
                   **({"repeat": repeat_audit(barcode, link, batch.mine, batch.decided.calls,
                                              reflex, batch.decided.cuts)}
                      if link is not None else {})},
            reason=f"{why}: {reason}"[:500]))
        if specimen.id in batch.referred and not specimen.flagged:
            specimen.flagged = True
            session.add(specimen)
    record_many(session, actor, entries)


def _withdraw_dropped_alerts(session: Session, actor: Actor, batch: _Batch, *, reason: str
                             ) -> list[int]:
    """Withdraw the open alerts the repeats' decisions opened in a group their earlier card no
    longer asks for a repeat in (all of them for a repeat now decided on its own), or in a
    group still asked for that the repeat is now cleared in (new levels); returns their ids."""
    cleared = {(int(r["specimen_id"]), str(r["group_code"])): str(r["reason_code"])
               for r in batch.rows if r["decision"] == ReflexDecision.clear}
    kept = {int(s.id or 0): tuple(g for g in (batch.links[b].groups if b in batch.links else ())
                                  if (int(s.id or 0), g) not in cleared)
            for b, s in batch.repeats.items()}
    barcode_of = {int(s.id or 0): b for b, s in batch.repeats.items()}

    def note(specimen_id: int, group: str) -> str:
        barcode = barcode_of[specimen_id]
        link = batch.links.get(barcode)
        if link is not None and group in link.groups:  # still asked for: cleared now
            return (f"card {barcode} is decided again as cleared in {group} "
                    f"({cleared[(specimen_id, group)]}): {reason}")
        where = "" if link is None else f" in {group}"
        return f"card {batch.first_of(barcode)} no longer asks for a repeat{where}: {reason}"

    return withdraw_decision_alerts(session, actor, kept, note=note)


def _alert_referrals(session: Session, actor: Actor, batch: _Batch, reflex: Reflex) -> None:
    """The alerts of the repeats referred (``lims.reflex.repeat_alerts``); a group that waits
    on the worklist is brought to a person by its second-tier run instead."""
    mine = batch.mine
    waiting = mine[PROFILE_ID].astype(str).map(
        {b: s.id in batch.waits for b, s in batch.repeats.items()}).fillna(False).astype(bool)
    mine = mine[~(waiting & (mine["decision"] == AWAITING))]
    alert_repeat_referrals(session, actor, batch.repeats, batch.links, mine,
                           batch.decided.calls, reflex.rules,
                           released=[int(s.id or 0) for b, s in batch.repeats.items()
                                     if batch.states[b] in _RELEASED])
