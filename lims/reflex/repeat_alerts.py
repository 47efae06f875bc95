"""The alerts a repeat card's reflex decision opens (docs/second_tier.md "In the LIMS", "A
repeat specimen").

- A repeat referred in a group its earlier card was sent back for, whose deciding disorder is
  time-critical, opens an alert as a time-critical result does, unless the repeat's own result
  already opened one.
- A repeat already released when it is decided (``lims.reflex.late``) opens an alert for every
  such group it is not cleared in, time-critical or not, naming the card, the earlier card, the
  group and the decision: its release stays, and no review queue shows a released card, so the
  alert is what brings the decision to a person (acknowledged by name, escalated while open).

Each alert names the plate run of the repeat's own latest first-tier result, the result the
decision was made from: withdrawing that plate (``lims.runs.withdrawal``) withdraws the alert.
Each names the repeat's reflex decision that opened it (``alert.reflex_decision_id``, and so
its group): when the earlier card no longer asks for a repeat in that group, the alert is
withdrawn (``lims.reflex.late``).

Public names: ``time_critical_referrals``, ``alert_repeat_referrals``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import pandas as pd
from sqlmodel import Session

from lims.alerts.messages import ALERT_MESSAGES
from lims.alerts.service import open_alert
from lims.audit import Actor
from lims.models import Specimen
from lims.reflex import repository
from lims.reflex.repeat import RepeatLink
from lims.vocabulary import ReflexDecision
from msms.tables import PROFILE_ID

__all__ = ["alert_repeat_referrals", "time_critical_referrals"]


def time_critical_referrals(barcode: str, link: RepeatLink, decided: pd.DataFrame,
                            calls: pd.DataFrame, rules: Any) -> list[tuple[str, str, str]]:
    """(group, disorder, reason code) of each group asked for on this repeat that is referred
    and whose deciding disorder is time-critical (an alert is raised for it, as for a
    time-critical result)."""
    group_of = rules.group_of()
    mine = calls[calls[PROFILE_ID].astype(str) == barcode]
    critical = mine[mine["time_critical"].astype(str).str.lower().isin(["true", "1"])]
    out = []
    for r in decided[decided[PROFILE_ID].astype(str) == barcode].to_dict("records"):
        if r["group"] not in link.groups or r["decision"] != ReflexDecision.referral:
            continue
        flagged = critical[(critical["disorder"].astype(str).map(group_of) == r["group"])
                           & (critical["first_tier"].astype(str) != "normal")]
        disorders = [str(r["disorder"])] if str(r["disorder"]) in set(
            critical["disorder"].astype(str)) else []
        disorders += [str(d) for d in flagged["disorder"]]
        if disorders:
            out.append((str(r["group"]), disorders[0], str(r["reason_code"])))
    return out


def _not_cleared(barcode: str, link: RepeatLink, decided: pd.DataFrame
                 ) -> list[dict[str, Any]]:
    mine = decided[(decided[PROFILE_ID].astype(str) == barcode)
                   & decided["group"].isin(list(link.groups))
                   & (decided["decision"] != ReflexDecision.clear)]
    return list(mine.to_dict("records"))


def alert_repeat_referrals(session: Session, actor: Actor, specimens: Mapping[str, Specimen],
                           links: Mapping[str, RepeatLink], decided: pd.DataFrame,
                           calls: pd.DataFrame, rules: Any,
                           already: Collection[tuple[str, str]] = (),
                           released: Collection[int] = ()) -> int:
    """Open an alert for each time-critical referral on these repeats and, on the repeats
    already released (``released``: their ids), for each group asked for that is not cleared
    (``already``: the (barcode, disorder) pairs whose alert the card's result opens). Each
    alert names the repeat's own plate run and the repeat's current decision in its group.
    Returns how many were opened."""
    ids = [int(specimens[b].id or 0) for b in links if specimens[b].id is not None]
    runs = repository.latest_plate_runs(session, ids)
    decision_of = {(d.specimen_id, d.group_code): d.id
                   for d in repository.current_decisions(session, ids)}
    opened = 0
    for barcode, link in links.items():
        specimen = specimens[barcode]
        assert specimen.id is not None
        evaluations = {e.disorder: e.id for e in repository.current_calls(session, [specimen.id])}
        alerted: set[str] = set()
        for group, disorder, reason_code in time_critical_referrals(barcode, link, decided,
                                                                    calls, rules):
            alerted.add(group)
            if (barcode, disorder) in already or repository.has_open_alert(
                    session, specimen.id, disorder):
                continue
            open_alert(session, actor, specimen, disorder=disorder,
                       message=ALERT_MESSAGES.text(
                           "time_critical", disorder=disorder, barcode=barcode,
                           reasons=f"repeat of card {link.first.barcode}: referral "
                                   f"({reason_code})"),
                       evaluation_id=evaluations.get(disorder), run_id=runs.get(specimen.id),
                       reflex_decision_id=decision_of.get((specimen.id, group)))
            opened += 1
        if specimen.id not in released:
            continue
        for r in _not_cleared(barcode, link, decided):
            disorder = str(r["disorder"])
            if r["group"] in alerted or repository.has_open_alert(session, specimen.id,
                                                                  disorder):
                continue
            open_alert(session, actor, specimen, disorder=disorder,
                       message=ALERT_MESSAGES.text(
                           "released_repeat", barcode=barcode, first=link.first.barcode,
                           group=str(r["group"]), decision=str(r["decision"]),
                           reason_code=str(r["reason_code"])),
                       evaluation_id=evaluations.get(disorder), run_id=runs.get(specimen.id),
                       reflex_decision_id=decision_of.get((specimen.id, str(r["group"]))))
            opened += 1
    return opened
