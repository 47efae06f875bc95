"""The audit view: who read or changed a baby's record, filterable by baby, user, action (chosen
by its label from the actions the code writes) and dates; for admins and the programme's
directors. Reading the trail is itself audited.

The baby is named as the pages name it: its medical record number or its mother's name
(``baby``); several babies of that name are listed to choose from (a list read, audited).
The baby's id (``infant_id``, the links of the trail and of the specimen page) still works.

Public names: ``router``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from lims.accession.repository import barcodes_by_ids, infants_by_ids, infants_named
from lims.audit import Actor, audit_trail, record, record_list_read
from lims.errors import InvalidInputError
from lims.followup.service import is_director
from lims.models import MAX_ID
from lims.vocabulary import Role
from lims.web.context import (
    Page,
    PageError,
    in_session,
    lab_zone,
    page,
    render,
    shown_on_page,
)
from lims.web.messages import AUDIT_ACTIONS
from lims.web.names import babies_of
from lims.web.refusals import PAGE_REFUSALS

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Current = Annotated[Page, Depends(page)]


def _day(value: str, field: str, zone: ZoneInfo, *, after: int = 0) -> datetime | None:
    """The start of a day of the laboratory's calendar (``zone``; ``after`` days later), in
    UTC."""
    if not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip()) + timedelta(days=after)
    except ValueError:
        raise InvalidInputError(f"not a date (YYYY-MM-DD): {value!r}", field=field) from None
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def _trail(session: Session, current: Page, filters: dict[str, Any],
           named: str) -> dict[str, Any]:
    if current.role != Role.admin and not (current.role == Role.reviewer
                                           and is_director(session, current.user.id)):
        raise PageError(403, PAGE_REFUSALS.text("audit_for_admins"))
    if named:
        found = infants_named(session, named)
        if len(found) != 1:  # none, or several to choose from: no trail read yet
            ids = [int(i.id or 0) for i in found]
            record_list_read(session, Actor.of(current.user), "infant", ids, ids,
                             filters={"baby": named})
            return {"rows": [], "babies": {}, "barcodes": {}, "choices": found,
                    "chosen": None}
        filters["infant_id"] = found[0].id
    rows = audit_trail(session, **filters)
    record(session, Actor.of(current.user), "read_audit", "audit_event", "list",
           infant_id=filters.get("infant_id"),
           after={k: (v.isoformat() if isinstance(v, datetime) else v)
                  for k, v in filters.items() if v not in (None, "")})
    cards = [int(r["entity_id"]) for r in rows
             if r["entity"] == "specimen" and str(r["entity_id"]).isdigit()]
    chosen = filters.get("infant_id")
    return {"rows": rows, "babies": babies_of(session, [r for r in rows if r["infant_id"]]),
            "barcodes": barcodes_by_ids(session, cards), "choices": [],
            "chosen": infants_by_ids(session, [chosen]).get(chosen) if chosen else None}


@router.get("/lab/audit", response_class=HTMLResponse)
def audit_page(request: Request, current: Current,
               infant_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
               baby: Annotated[str, Query(max_length=200)] = "",
               username: str = "", action: str = "", since: str = "",
               until: str = "") -> HTMLResponse:
    with shown_on_page():
        zone = lab_zone(request)
        start, end = _day(since, "since", zone), _day(until, "until", zone, after=1)
        filters: dict[str, Any] = {
            "infant_id": infant_id, "username": username.strip() or None,
            "action": action.strip() or None, "since": start,
            "until": end}
        named = baby.strip()  # the name typed wins over the id of a link followed
        trail = in_session(request, lambda s: _trail(s, current, filters, named))
    chosen = action.strip()
    actions = [*AUDIT_ACTIONS, *([chosen] if chosen and chosen not in AUDIT_ACTIONS else [])]
    return render(request, "audit.html", current, **trail, baby_text=baby.strip(),
                  infant_id="" if baby.strip() else (infant_id or ""),
                  username=username, action=chosen, actions=actions, since=since, until=until)
