"""Request and response models of the HL7 interfaces: submitters' endpoints, the outbox, card
data received.

Public names: ``EndpointCreate``, ``EndpointUpdate``, ``EndpointPublic``, ``OutboxItem``,
``OutboxMessage``, ``CardOutcome``, ``CardImport``.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator

from lims.models import DbId, FromAttributes, RequestBody
from lims.vocabulary import InboundAction, OutboxStatus

__all__ = ["CardImport", "CardOutcome", "EndpointCreate", "EndpointPublic", "EndpointUpdate",
           "OutboxItem", "OutboxMessage"]

#: An HL7 name (HD namespace): no HL7 delimiter.
_NAME = r"^[^|^~\\&\r\n]*$"
_HOST = r"^[A-Za-z0-9.:_-]+$"


def _zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. Asia/Shanghai, UTC)"
                         ) from None
    return value


class EndpointCreate(RequestBody):
    """A submitter's endpoint: where its result messages go and the names they use.
    ``receiving_facility`` is also the name its own orders give in MSH-4; ``time_zone`` is
    the zone of its times written without an offset."""

    submitter_id: DbId
    host: str = Field(min_length=1, max_length=255, pattern=_HOST)
    port: int = Field(ge=1, le=65535)
    receiving_application: str = Field(default="", max_length=20, pattern=_NAME)
    receiving_facility: str = Field(min_length=1, max_length=20, pattern=_NAME)
    time_zone: str = Field(default="UTC", min_length=1, max_length=64)
    enabled: bool = True

    _check_zone = field_validator("time_zone")(_zone)


class EndpointUpdate(RequestBody):
    """The fields to change; a new address clears the failures, so delivery tries at once."""

    host: str | None = Field(default=None, min_length=1, max_length=255, pattern=_HOST)
    port: int | None = Field(default=None, ge=1, le=65535)
    receiving_application: str | None = Field(default=None, max_length=20, pattern=_NAME)
    receiving_facility: str | None = Field(default=None, min_length=1, max_length=20,
                                           pattern=_NAME)
    time_zone: str | None = Field(default=None, min_length=1, max_length=64)
    enabled: bool | None = None

    _check_zone = field_validator("time_zone")(_zone)


class EndpointPublic(FromAttributes):
    id: int
    submitter_id: int
    host: str
    port: int
    receiving_application: str
    receiving_facility: str
    time_zone: str
    enabled: bool
    failures: int
    retry_at: datetime | None
    last_error: str
    created_at: datetime
    updated_at: datetime


class OutboxItem(FromAttributes):
    """One message of the outbox and its delivery."""

    id: int
    specimen_id: int
    version: int
    submitter_id: int
    infant_id: int
    message_type: str
    control_id: str
    status: OutboxStatus
    attempts: int
    application_errors: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_error: str
    ack_code: str
    ack_control_id: str
    delivered_at: datetime | None
    created_at: datetime
    #: Why a pending message is not delivered yet (empty otherwise, and on a single message).
    waiting_for: str = ""
    #: The card's barcode (in listings).
    barcode: str = ""


class OutboxMessage(OutboxItem):
    """A message with its text and the acknowledgment received."""

    body: str
    ack_text: str


class CardOutcome(BaseModel):
    """What one card of a card-data file did."""

    line: int
    barcode: str
    specimen_id: int
    action: InboundAction


class CardImport(BaseModel):
    """A card-data file taken: every card, in one transaction."""

    file: str
    created: int
    updated: int
    unchanged: int
    cards: list[CardOutcome]
