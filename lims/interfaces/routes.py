"""Routes: submitters' HL7 endpoints, the outbox and its delivery status, card data in (an
OML^O21 order, a card CSV).

Public names: ``router``, ``HL7_MEDIA_TYPE``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from lims.audit import Actor
from lims.deps import PathId, SessionDep, committed, require
from lims.errors import PayloadTooLargeError
from lims.interfaces import inbound, service
from lims.interfaces.schemas import (
    CardImport,
    EndpointCreate,
    EndpointPublic,
    EndpointUpdate,
    OutboxItem,
    OutboxMessage,
)
from lims.models import MAX_ID, Hl7Endpoint, OutboundMessage, User, utcnow
from lims.vocabulary import OutboxStatus, Role
from reports.hl7 import MessageError, ack_for

__all__ = ["HL7_MEDIA_TYPE", "router"]

router = APIRouter(tags=["hl7"])
Admin = Annotated[User, Depends(require(Role.admin))]
#: Who sees the outbox: the laboratory and the administrators.
Lab = Annotated[User, Depends(require(Role.technician, Role.reviewer, Role.admin))]
#: Who sends card data: the laboratory, and a submitter for its own cards.
Sender = Annotated[User, Depends(require(Role.technician, Role.admin, Role.submitter))]
#: The media type of HL7 v2 messages (ER7).
HL7_MEDIA_TYPE = "x-application/hl7-v2+er7"
#: The largest order or card file accepted (bytes).
MAX_BYTES = 5 * 1024 * 1024


@router.get("/hl7/endpoints", response_model=list[EndpointPublic])
def list_endpoints(session: SessionDep, _user: Admin) -> list[Hl7Endpoint]:
    """Every submitter's endpoint with its delivery state (failures, next try, last error)."""
    return service.list_endpoints(session)


@router.post("/hl7/endpoints", response_model=EndpointPublic, status_code=201)
def create_endpoint(body: EndpointCreate, session: SessionDep, user: Admin) -> Hl7Endpoint:
    """Give a submitter its endpoint (one per submitter)."""
    return committed(session, service.create_endpoint(session, Actor.of(user), body))


@router.patch("/hl7/endpoints/{endpoint_id}", response_model=EndpointPublic)
def update_endpoint(endpoint_id: PathId, body: EndpointUpdate, session: SessionDep,
                    user: Admin) -> Hl7Endpoint:
    """Change an endpoint (a new address is tried at once)."""
    return committed(session, service.update_endpoint(session, Actor.of(user), endpoint_id, body))


@router.get("/hl7/outbox", response_model=list[OutboxItem])
def list_outbox(session: SessionDep, user: Lab, status: OutboxStatus | None = None,
                specimen_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                submitter_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> list[dict[str, Any]]:
    """Result messages and their delivery, newest first; filter by status, specimen or
    submitter."""
    return committed(session, service.outbox(session, Actor.of(user), status=status,
                                             specimen_id=specimen_id, submitter_id=submitter_id,
                                             limit=limit, offset=offset))


@router.get("/hl7/outbox/{message_id}", response_model=OutboxMessage)
def get_message(message_id: PathId, session: SessionDep, user: Lab) -> OutboundMessage:
    """One message: its delivery, its text and the acknowledgment received."""
    return committed(session, service.get_message(session, Actor.of(user), message_id))


@router.post("/hl7/outbox/{message_id}/resend", response_model=OutboxItem,
             responses={409: {"description": "the message is not parked"}})
def resend(message_id: PathId, session: SessionDep, user: Admin) -> OutboundMessage:
    """Send a parked message again (after the receiver's problem is fixed)."""
    return committed(session, service.resend(session, Actor.of(user), message_id))


def _take_order(session: Session, user: User, text: str) -> Response:
    now = utcnow()
    try:
        inbound.accept_order(session, text, actor=Actor.of(user), received_at=now)
        session.commit()
    except MessageError as error:
        session.rollback()
        status = 400 if error.acknowledgment == "AR" else 422
        return Response(ack_for(text, error, control_id=f"API{now:%Y%m%d%H%M%S%f}"[:20],
                                message_time=now), status, media_type=HL7_MEDIA_TYPE)
    return Response(ack_for(text, control_id=f"API{now:%Y%m%d%H%M%S%f}"[:20],
                            message_time=now), 200, media_type=HL7_MEDIA_TYPE)


async def _body(request: Request) -> bytes:
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BYTES:
            raise PayloadTooLargeError(f"the message is larger than {MAX_BYTES} bytes")
    return bytes(data)


@router.post("/hl7/orders", response_class=Response,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "text/plain": {"schema": {"type": "string"}}}}},
             responses={200: {"description": "AA: the order was taken",
                              "content": {HL7_MEDIA_TYPE: {}}},
                        400: {"description": "AR: not an order this laboratory takes",
                              "content": {HL7_MEDIA_TYPE: {"schema": {"type": "string"}}}},
                        422: {"description": "AE: a value was refused (ERR names the "
                                             "segment and field); nothing was stored",
                              "content": {HL7_MEDIA_TYPE: {"schema": {"type": "string"}}}}})
async def receive_order(request: Request, session: SessionDep, user: Sender) -> Response:
    """Take a hospital's card data as an HL7 v2.5.1 OML^O21 order (the request body); the
    answer is the acknowledgment (AA, AE or AR)."""
    text = (await _body(request)).decode("utf-8", errors="replace")
    return await run_in_threadpool(_take_order, session, user, text)


@router.post("/hl7/cards", response_model=CardImport, status_code=201,
             responses={413: {"description": "the file is larger than the limit"},
                        422: {"description": "a card was refused (file, line, field); "
                                             "nothing was stored"}})
async def import_cards(file: UploadFile, session: SessionDep, user: Sender) -> CardImport:
    """Take a submitter's card-data CSV (docs/hl7.md "A submitter's CSV"): every card is
    created or updated, or none."""
    data = await file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise PayloadTooLargeError(f"{file.filename or 'the file'} is larger than "
                                   f"{MAX_BYTES} bytes")

    def take() -> CardImport:
        return committed(session, inbound.import_cards(session, Actor.of(user), data,
                                                       file.filename or "cards.csv"))

    return await run_in_threadpool(take)
