"""The HL7 outbox and the submitters' endpoints (docs/hl7.md "In the LIMS").

- ``enqueue_release`` is called by the release service in the release's own transaction: it
  builds the release's ORU^R01 from the stored data (``lims.interfaces.results``) and adds it to
  the outbox, unique per (specimen, version), so a released version is queued exactly once and
  survives any restart. ``enqueue_releases`` queues several (a bulk release's) the same way,
  with what they read read once, one insert flush and one audit insert. A message that cannot
  be built never stops the release: it is stored parked with the reason, and ``resend`` builds
  it again.
- endpoints (one per submitter) are data, managed by admins; every change is audited.
- ``outbox`` lists messages with their delivery status; ``resend`` puts a parked message back
  in the queue.
- ``withhold_for_correction`` is called by the correction service in the correction's own
  transaction: the messages of the earlier versions not delivered yet are withheld (never
  sent), each with the reason and an audit event; a delivered one is not altered (the
  corrected version is sent with result status C once released). A message a worker is
  sending at that moment is left to it (``lims.interfaces.delivery`` withholds it if it
  comes back undelivered).

Services flush, never commit.

Public names: ``enqueue_release``, ``enqueue_releases``, ``list_endpoints``,
``create_endpoint``, ``update_endpoint``, ``outbox``, ``get_message``, ``resend``,
``message_of_release``, ``withhold_for_correction``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlmodel import Session

from lims.audit import Actor, AuditEntry, record, record_list_read, record_many, snapshot, store
from lims.errors import ConflictError, NotFoundError, found
from lims.interfaces import repository
from lims.interfaces.phrases import DELIVERY_PHRASES
from lims.interfaces.results import (
    Measured,
    Sender,
    Stored,
    control_id,
    measurements,
    result_message,
    stored_for,
)
from lims.interfaces.schemas import EndpointCreate, EndpointUpdate
from lims.models import (
    Evaluation,
    Hl7Endpoint,
    OutboundMessage,
    Release,
    Specimen,
    Submitter,
    utcnow,
)
from lims.settings import get_settings
from lims.vocabulary import OutboxStatus
from reports.hl7 import Hl7Error, build_oru

__all__ = ["create_endpoint", "enqueue_release", "enqueue_releases", "get_message",
           "list_endpoints", "message_of_release", "outbox", "resend", "update_endpoint",
           "withhold_for_correction"]

#: The longest part of a correction's reason a withheld message's note quotes (the audit
#: events keep it whole).
_REASON_CHARS = 600


def _build(session: Session, specimen: Specimen, release: Release, *,
           sender: Sender | None = None, stored: Stored | None = None,
           measured: Measured | None = None) -> tuple[str, str]:
    """(the message text, "") or ("", why it could not be built)."""
    try:
        view = result_message(session, specimen, release,
                              sender=sender or Sender.from_settings(get_settings()),
                              stored=stored, measured=measured)
        return build_oru(view), ""
    except Hl7Error as exc:
        return "", f"the message could not be built: {exc}"[:1000]


def enqueue_release(session: Session, actor: Actor, specimen: Specimen,
                    release: Release) -> OutboundMessage:
    """Queue the ORU^R01 of ``release`` (a correction when its version is above 1)."""
    return enqueue_releases(session, actor, [(specimen, release)])[0]


def enqueue_releases(session: Session, actor: Actor,
                     released: Sequence[tuple[Specimen, Release]],
                     calls: Mapping[int, Sequence[Evaluation]] | None = None) -> list[
                         OutboundMessage]:
    """Queue the ORU^R01 of each ``(specimen, release)``, as ``enqueue_release`` queues one:
    what the messages read is read once for all (``calls``: the specimens' current calls,
    when the caller has them), the messages are inserted in one flush and audited in one
    insert."""
    if not released:
        return []
    sender = Sender.from_settings(get_settings())
    stored = stored_for(session, [s for s, _ in released], calls)
    measured = measurements([(r.summary or {}).get("values_umol_l", {}) for _, r in released])
    now = utcnow()
    messages = []
    for (specimen, release), values in zip(released, measured, strict=True):
        assert specimen.id is not None and release.id is not None
        body, error = _build(session, specimen, release, sender=sender, stored=stored,
                             measured=values)
        messages.append(OutboundMessage(
            specimen_id=specimen.id, version=release.version, release_id=release.id,
            submitter_id=specimen.submitter_id, infant_id=specimen.infant_id,
            control_id=control_id(specimen.id, release.version), body=body,
            status=OutboxStatus.pending if body else OutboxStatus.parked, last_error=error,
            next_attempt_at=now))
    session.add_all(messages)
    session.flush()
    record_many(session, actor, [AuditEntry(
        "enqueue", "outbound_message", m.id, infant_id=m.infant_id,
        after={"specimen_id": m.specimen_id, "version": m.version,
               "control_id": m.control_id, "status": m.status, "error": m.last_error})
        for m in messages])
    return messages


def withhold_for_correction(session: Session, actor: Actor, specimen: Specimen,
                            reason: str) -> list[int]:
    """Withhold the messages of ``specimen``'s earlier versions that are not delivered (it was
    reopened for correction as ``specimen.version`` in this transaction); their ids."""
    assert specimen.id is not None
    session.flush()  # the new version is written before the messages are locked
    withheld, _in_flight = repository.withhold_earlier(
        session, specimen.id, specimen.version, now=utcnow(),
        note=lambda version: DELIVERY_PHRASES.text(
            "withheld_correction", version=version, user=actor.username,
            reason=reason.strip()[:_REASON_CHARS]))
    for message in withheld:
        record(session, actor, "withhold", "outbound_message", message.id,
               infant_id=message.infant_id, before={"status": message.status},
               after={"status": OutboxStatus.withheld, "control_id": message.control_id,
                      "version": message.version, "reopened_as": specimen.version},
               reason=reason)
    return [m.id for m in withheld]


def list_endpoints(session: Session) -> list[Hl7Endpoint]:
    return repository.endpoints(session)


def _check_facility(session: Session, facility: str, endpoint_id: int | None) -> None:
    other = repository.endpoint_by_facility(session, facility)
    if other is not None and other.id != endpoint_id:
        raise ConflictError(f"receiving facility {facility!r} is already the endpoint of "
                            f"submitter {other.submitter_id}")


def create_endpoint(session: Session, actor: Actor, data: EndpointCreate) -> Hl7Endpoint:
    """A submitter's endpoint (one per submitter)."""
    found(session.get(Submitter, data.submitter_id), f"submitter {data.submitter_id}")
    if repository.endpoint_for_submitter(session, data.submitter_id) is not None:
        raise ConflictError(f"submitter {data.submitter_id} has an endpoint already; change "
                            "it instead")
    _check_facility(session, data.receiving_facility, None)
    endpoint = Hl7Endpoint(**data.model_dump())
    return store(session, actor, "create", "hl7_endpoint", endpoint)


def update_endpoint(session: Session, actor: Actor, endpoint_id: int,
                    data: EndpointUpdate) -> Hl7Endpoint:
    """Change an endpoint; a new host or port clears its failures (deliver at once)."""
    endpoint = found(repository.endpoint_by_id(session, endpoint_id), f"endpoint {endpoint_id}")
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if "receiving_facility" in changes:
        _check_facility(session, changes["receiving_facility"], endpoint.id)
    before = snapshot(endpoint)
    moved = any(k in changes and changes[k] != getattr(endpoint, k) for k in ("host", "port"))
    for key, value in changes.items():
        setattr(endpoint, key, value)
    if moved or changes.get("enabled"):
        endpoint.failures, endpoint.retry_at, endpoint.last_error = 0, None, ""
    endpoint.updated_at = utcnow()
    return store(session, actor, "update", "hl7_endpoint", endpoint, before=before)


def _waiting_for(endpoint: Hl7Endpoint | None) -> str:
    """Why a pending message of a submitter with this endpoint is not delivered yet."""
    if endpoint is None:
        return DELIVERY_PHRASES.text("no_endpoint")
    if not endpoint.enabled:
        return DELIVERY_PHRASES.text("endpoint_disabled")
    if endpoint.retry_at is not None:
        due_at = endpoint.retry_at.isoformat(timespec="minutes")
        if not endpoint.last_error:
            return DELIVERY_PHRASES.text("endpoint_failed_silent", failures=endpoint.failures,
                                         due_at=due_at)
        return DELIVERY_PHRASES.text("endpoint_failed", failures=endpoint.failures,
                                     error=endpoint.last_error, due_at=due_at)
    return DELIVERY_PHRASES.text("queued")


def outbox(session: Session, actor: Actor, *, status: str | None = None,
           specimen_id: int | None = None, submitter_id: int | None = None, limit: int = 100,
           offset: int = 0) -> list[dict[str, Any]]:
    """Messages with their delivery, newest first, a pending one with why it waits
    (``waiting_for``: no endpoint for its submitter, a disabled one, one waiting after a
    failure); the read is one audit event."""
    rows = repository.outbox_rows(session, status=status, specimen_id=specimen_id,
                                  submitter_id=submitter_id, limit=limit, offset=offset)
    by_submitter = {e.submitter_id: e for e in repository.endpoints(session)}
    for row in rows:
        row["waiting_for"] = (_waiting_for(by_submitter.get(row["submitter_id"]))
                              if row["status"] == OutboxStatus.pending else "")
    record_list_read(session, actor, "outbound_message", [r["id"] for r in rows],
                     (r["infant_id"] for r in rows),
                     filters={"status": status, "specimen_id": specimen_id,
                              "submitter_id": submitter_id, "limit": limit, "offset": offset})
    return rows


def get_message(session: Session, actor: Actor, message_id: int) -> OutboundMessage:
    """One message with its text and acknowledgment (an audited read of the baby's record)."""
    message = found(repository.message_by_id(session, message_id), f"message {message_id}")
    record(session, actor, "read", "outbound_message", message_id, infant_id=message.infant_id)
    return message


def message_of_release(session: Session, actor: Actor, specimen_id: int,
                       version: int | None = None) -> OutboundMessage:
    """The message of a released version of a specimen (the latest by default); audited."""
    message = (repository.latest_message(session, specimen_id) if version is None
               else repository.message_for(session, specimen_id, version))
    if message is None:
        which = "any released version" if version is None else f"version {version}"
        raise NotFoundError(f"specimen {specimen_id} has no HL7 message for {which} (is it "
                            "released?)")
    record(session, actor, "read", "outbound_message", message.id, infant_id=message.infant_id)
    return message


def resend(session: Session, actor: Actor, message_id: int) -> OutboundMessage:
    """Put a parked message back in the queue, due now (built again if it never was)."""
    message = found(repository.message_by_id(session, message_id), f"message {message_id}")
    if message.status == OutboxStatus.withheld:
        raise ConflictError(f"message {message_id} is withheld: the result it reports was "
                            "reopened for correction; the corrected version is sent once "
                            "released")
    if message.status != OutboxStatus.parked:
        raise ConflictError(f"message {message_id} is {message.status}; only a parked message "
                            "is sent again")
    body = None
    if not message.body:
        specimen = session.get(Specimen, message.specimen_id)
        release = session.get(Release, message.release_id)
        assert specimen is not None and release is not None
        body, error = _build(session, specimen, release)
        if error:
            raise ConflictError(f"message {message_id}: {error}")
    if not repository.requeue(session, message_id, now=utcnow(), body=body):
        raise ConflictError(f"message {message_id} is no longer parked")
    session.refresh(message)
    record(session, actor, "resend", "outbound_message", message_id,
           infant_id=message.infant_id, after={"status": message.status})
    return message
