"""Which cards wait for the second tier, and their place on the reflex worklist
(docs/second_tier.md "In the LIMS").

A card waits when one of its referral groups is ``awaiting_second_tier`` (a reflex assay not
run yet) and no group is referred at once (``AT_ONCE``). ``worklist_after_redecision`` keeps
the worklist in step with the decisions a card received after its first tier (a repeat decided
again, ``lims.reflex.late``): a card that now waits goes on the worklist with the assays of its
waiting groups (from review to ``awaiting_second_tier``, unless its calls open a
time-critical alert: such a card stays in review while its assays run; a released card keeps
its release and the second-tier run decides it as it stands); a card already on it has its
request follow the
groups that wait now; a card that no longer waits leaves it (its request ``withdrawn``; from
``awaiting_second_tier`` to review).

``held_cards`` lists the cards that wait (``awaiting_second_tier``), for the review queue.

Public names: ``AT_ONCE``, ``held_cards``, ``waiting_groups``, ``request_row``,
``worklist_after_redecision``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session

from cutoffs.reflex.decide import AWAITING
from lims.alerts.rule import raises_alert
from lims.audit import Actor
from lims.models import Specimen, utcnow
from lims.pipeline import Reflex
from lims.reflex import repository
from lims.vocabulary import ReflexRequestStatus, SpecimenState, Transition
from lims.workflow import apply_transitions

__all__ = ["AT_ONCE", "held_cards", "request_row", "waiting_groups", "worklist_after_redecision"]

#: Reason codes of a group referred at once: such a card never waits for the second tier.
AT_ONCE = ("CRITICAL", "BYPASS")


def waiting_groups(decisions: Iterable[Mapping[str, Any]]) -> list[str]:
    """The groups of one card's decisions (``group_code``, ``decision``, ``reason_code``)
    that make it wait for the second tier: none when a group is referred at once."""
    rows = list(decisions)
    if any(str(r["reason_code"]) in AT_ONCE for r in rows):
        return []
    return list(dict.fromkeys(str(r["group_code"]) for r in rows
                              if r["decision"] == AWAITING))


def held_cards(session: Session, *, limit: int = 500) -> list[Specimen]:
    """The cards waiting for the second tier (``awaiting_second_tier``), oldest first."""
    return repository.cards_awaiting_second_tier(session, limit=limit)


def request_row(specimen_id: int, run_id: int, groups: list[str], reflex: Reflex,
                time_critical: bool, now: datetime) -> dict[str, Any]:
    """A reflex worklist entry: the assays of these waiting groups on this card."""
    assays = list(dict.fromkeys(a for g in groups for a in reflex.rules.group(g).assays))
    return {"specimen_id": specimen_id, "source_run_id": run_id,
            "groups": ", ".join(groups)[:200], "assays": ", ".join(assays)[:500],
            "time_critical": time_critical, "status": ReflexRequestStatus.open,
            "requested_at": now}


def _time_critical(session: Session, specimen_id: int) -> bool:
    """Whether a current call of the card opens a time-critical alert (``lims.alerts.rule``,
    as the worklist reads it)."""
    return any(raises_alert(c.time_critical, c.final)
               for c in repository.current_calls(session, [specimen_id]))


def worklist_after_redecision(session: Session, actor: Actor, specimens: Mapping[int, Specimen],
                              rows: list[dict[str, Any]], reflex: Reflex, *, reason: str
                              ) -> list[int]:
    """Put on the reflex worklist (or take off it) these cards (id -> card) as their new
    decisions ``rows`` say (the caller commits); returns the ids of the cards that now wait."""
    by_card: dict[int, list[dict[str, Any]]] = {i: [] for i in specimens}
    for r in rows:
        by_card.setdefault(int(r["specimen_id"]), []).append(r)
    requests = repository.open_requests_for(session, list(specimens))
    runs = repository.latest_plate_runs(session, list(specimens))
    now = utcnow()
    new, moves, waiting = [], [], []
    for specimen_id, specimen in sorted(specimens.items()):
        groups = waiting_groups(by_card.get(specimen_id, []))
        request = requests.get(specimen_id)
        if groups:
            waiting.append(specimen_id)
            row = request_row(specimen_id, runs.get(specimen_id, 0), groups, reflex,
                              _time_critical(session, specimen_id), now)
            if request is not None:
                request.groups, request.assays = row["groups"], row["assays"]
                request.time_critical = row["time_critical"]
                session.add(request)
                continue
            if specimen_id not in runs:  # no first-tier result on a plate: nothing to run on
                continue
            new.append(row)
            if specimen.state == SpecimenState.awaiting_review and not row["time_critical"]:
                moves.append((specimen, Transition.request_second_tier,
                              f"reflex assays; {reason}"))
        elif request is not None:  # nothing left to run: the request is withdrawn
            request.status = ReflexRequestStatus.withdrawn
            session.add(request)
            if specimen.state == SpecimenState.awaiting_second_tier:
                moves.append((specimen, Transition.record_second_tier,
                              f"no reflex assay waits; {reason}"))
    repository.insert_requests(session, new)
    apply_transitions(session, actor, moves)
    return waiting
