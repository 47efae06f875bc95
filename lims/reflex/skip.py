"""A reviewer sends a card waiting for the reflex second tier to review without it: signed by
re-entering the password, with a reason, audited (docs/second_tier.md "In the LIMS").

For a card the laboratory will not run the assays on: the reflex second tier switched off while
the card waited, an assay out of service, or a result the reviewer will not wait for. The
card's open request on the reflex worklist is withdrawn (``second_tier_skipped``, on the
card) and the card moves from ``awaiting_second_tier`` to review (``skip_second_tier``); its
reflex decisions stay as they were (still waiting), so the specimen page and the audit trail
show that the second tier was never run.

Public names: ``send_to_review``.
"""

from __future__ import annotations

from sqlmodel import Session

from lims.audit import Actor, record
from lims.auth.service import confirm_password
from lims.errors import InvalidInputError, NotFoundError
from lims.models import Specimen, User
from lims.reflex import repository
from lims.vocabulary import ReflexRequestStatus, Transition
from lims.workflow import apply_transition

__all__ = ["send_to_review"]


def send_to_review(session: Session, user: User, specimen_id: int, *, reason: str,
                   password: str) -> Specimen:
    """Move a card waiting for the second tier to review without it (the caller commits);
    raises before anything is written when the password, the reason, the role or the card's
    state does not allow it."""
    confirm_password(user, password, session.get_bind())
    if not reason.strip():
        raise InvalidInputError("give a reason for sending the card to review without the "
                                "second tier", field="reason")
    specimen = session.get(Specimen, specimen_id)
    if specimen is None:
        raise NotFoundError(f"specimen {specimen_id} not found")
    actor = Actor.of(user)
    apply_transition(session, actor, specimen, Transition.skip_second_tier, reason=reason)
    request = repository.open_requests_for(session, [specimen_id]).get(specimen_id)
    if request is not None:
        before = {"request": request.id, "status": request.status, "groups": request.groups,
                  "assays": request.assays}
        request.status = ReflexRequestStatus.withdrawn
        session.add(request)
        record(session, actor, "second_tier_skipped", "specimen", specimen.id,
               infant_id=specimen.infant_id, before=before,
               after={**before, "status": request.status}, reason=reason)
    return specimen
