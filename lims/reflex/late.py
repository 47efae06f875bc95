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
where none is left (its decisions as the repeat retired, audited, and the open alerts they
opened withdrawn). A repeat decided again so
that a group now waits for a reflex assay goes on the reflex worklist (``lims.reflex.waiting``).

Public names: ``requests_changed``, ``decide_late_repeats``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from sqlmodel import Session

from cutoffs.reflex.decide import AWAITING
from lims.alerts.service import withdraw_decision_alerts
from lims.audit import Actor, AuditEntry, record_many
from lims.models import ReflexDecisionRecord
from lims.pipeline import Reflex, Screening
from lims.reflex import repository
from lims.reflex.repeat import earlier_cards, referred_repeats, repeat_audit
from lims.reflex.repeat_alerts import alert_repeat_referrals
from lims.reflex.stored import context_of, decide_stored, decision_rows, plain
from lims.reflex.waiting import worklist_after_redecision
from lims.vocabulary import ReflexDecision, SpecimenState
from msms.tables import PROFILE_ID

__all__ = ["decide_late_repeats", "requests_changed"]

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


def decide_late_repeats(session: Session, actor: Actor, pipeline: Screening, reflex: Reflex,
                        firsts: Collection[int], *, reason: str,
                        second_tier_run_id: int | None = None,
                        plate_run_id: int | None = None,
                        exclude: Collection[int] = ()) -> set[int]:
    """Decide again the repeats of the cards ``firsts`` (whose requests for a repeat just
    changed, ``requests_changed``) that already have their first-tier result (the caller
    commits); returns their ids. Each is decided against its earlier card's current requests:
    as a repeat in the groups it asks for, on its own where it asks for none. The audit event
    is ``second_tier_decision`` when the earlier cards' second-tier run
    (``second_tier_run_id``) changed them, else ``reflex_decision``; ``plate_run_id``: the
    earlier cards' plate run that did, or whose withdrawal did (both named in the audit
    event); ``exclude``: cards the caller decides itself (read on the same plate or run). A
    repeat referred here opens its alerts (``lims.reflex.repeat_alerts``): a time-critical
    referral, and on a released repeat every group not cleared; a repeat that now waits for
    a reflex assay goes on the reflex worklist (``lims.reflex.waiting``).

    Chained: a repeat decided here whose own requests for a repeat change (its own groups are
    decided again with the levels in use now) has its own repeats decided again in turn, each
    card once."""
    done = set(exclude) | set(firsts)
    decided: set[int] = set()
    while firsts:
        ids, before, rows = _decide(session, actor, pipeline, reflex, firsts, reason=reason,
                                    second_tier_run_id=second_tier_run_id,
                                    plate_run_id=plate_run_id, exclude=done)
        decided |= ids
        done |= ids
        firsts = requests_changed(before, rows)
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
    mine = decided.decisions[decided.decisions[PROFILE_ID].astype(str).isin(list(repeats))]
    before: dict[int, list[ReflexDecisionRecord]] = {}
    for old in repository.current_decisions(session, [int(s.id or 0) for s in
                                                      repeats.values()]):
        before.setdefault(old.specimen_id, []).append(old)
    # a card with no decision before and none now has nothing to decide again
    now = set(mine[PROFILE_ID].astype(str))
    repeats = {b: s for b, s in repeats.items() if b in now or s.id in before}
    if not repeats:
        return set(), [], []
    mine = mine[mine[PROFILE_ID].astype(str).isin(list(repeats))]
    ids = [int(s.id or 0) for s in repeats.values()]
    # the run (if any) measured the earlier card, not the repeat: the rows name no run
    rows = decision_rows(mine, repeats, reflex, None)
    repository.retire_decisions(session, ids)
    repository.insert_decisions(session, rows)
    links = {b: link for b, link in decided.links.items() if b in repeats}
    earlier_ids = earlier_cards(session, repeats)
    earlier = repository.specimens_by_ids(session, list(set(earlier_ids.values())))
    earlier_of = {b: earlier[i].barcode for b, i in earlier_ids.items() if i in earlier}
    states = {b: str(s.state) for b, s in repeats.items()}
    cuts = decided.cuts
    waits = set(worklist_after_redecision(
        session, actor, {int(s.id or 0): s for s in repeats.values()}, rows, reflex,
        reason=reason))
    # a repeat that waits is flagged when its second-tier run refers it
    referred = referred_repeats(mine, links, repeats) - waits
    entries = []
    for barcode, specimen in sorted(repeats.items()):
        assert specimen.id is not None
        link = links.get(barcode)
        why = (f"card {link.first.barcode} sent back for a repeat" if link is not None
               else f"card {earlier_of.get(barcode, '?')} no longer asks for a repeat")
        entries.append(AuditEntry(
            "second_tier_decision" if second_tier_run_id is not None else "reflex_decision",
            "specimen", specimen.id, infant_id=specimen.infant_id,
            before={"decisions": plain(before.get(specimen.id, [])),
                    "state": states[barcode]},
            after={"decisions": plain([r for r in rows if r["specimen_id"] == specimen.id]),
                   "version": reflex.version, "context": context_of(specimen),
                   "released": states[barcode] in _RELEASED,
                   "sent_back_by": {"second_tier_run_id": second_tier_run_id,
                                    "plate_run_id": plate_run_id},
                   "flagged": specimen.id in referred, "waits": specimen.id in waits,
                   **({"repeat": repeat_audit(barcode, link, mine, decided.calls, reflex,
                                              cuts)} if link is not None else {})},
            reason=f"{why}: {reason}"[:500]))
        if specimen.id in referred and not specimen.flagged:
            specimen.flagged = True
            session.add(specimen)
    record_many(session, actor, entries)
    # a repeat now decided on its own: the alerts its decisions as the repeat opened go too
    for barcode, specimen in sorted(repeats.items()):
        if barcode not in links and specimen.id in before:
            withdraw_decision_alerts(
                session, actor, [int(specimen.id or 0)],
                note=f"card {earlier_of.get(barcode, '?')} no longer asks for a repeat: "
                     f"{reason}")
    # a group that waits on the worklist is brought to a person by its second-tier run
    waiting = mine[PROFILE_ID].astype(str).map(
        {b: s.id in waits for b, s in repeats.items()}).fillna(False).astype(bool)
    mine = mine[~(waiting & (mine["decision"] == AWAITING))]
    alert_repeat_referrals(session, actor, repeats, links, mine, decided.calls,
                           reflex.rules, released=[int(s.id or 0) for b, s in repeats.items()
                                                   if states[b] in _RELEASED])
    return set(ids), [d for ds in before.values() for d in ds], rows
