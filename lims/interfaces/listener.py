"""The inbound MLLP listener (``nbs hl7 listen``): each order in a transaction of its own.

``receive_order(engine, text)`` takes one OML^O21 order (``lims.interfaces.inbound
.accept_order``), commits, and returns the acknowledgment: AA when it was taken (or had been
taken before), AE or AR naming the segment and field when it was refused, after rolling
everything back. Two copies of one order arriving at once are resolved by the database's
unique keys: the one that loses is taken again and acknowledged as a repeat. ``listener``
builds the ``MllpServer`` that answers each order this way, off the event loop.

Public names: ``receive_order``, ``listener``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from lims.audit import Actor
from lims.interfaces.inbound import accept_order
from lims.interfaces.mllp import MllpServer
from lims.models import utcnow
from reports.hl7 import MessageError, ack_for

__all__ = ["listener", "receive_order"]


def _ack_id() -> str:
    return uuid.uuid4().hex[:20]


def receive_order(engine: Engine, text: str, *, actor: Actor | None = None) -> str:
    """Take one order in its own transaction; the acknowledgment to answer with."""
    now = utcnow()
    for attempt in (1, 2):
        with Session(engine) as session:
            try:
                accept_order(session, text, actor=actor, received_at=now)
                session.commit()
            except MessageError as error:
                session.rollback()
                return ack_for(text, error, control_id=_ack_id(), message_time=now)
            except IntegrityError:  # the same order (or card) stored meanwhile: take it again
                session.rollback()
                if attempt == 2:
                    raise
                continue
        break
    return ack_for(text, control_id=_ack_id(), message_time=now)


def listener(engine: Engine, *, host: str = "127.0.0.1", port: int = 0,
             actor: Actor | None = None,
             answered: Callable[[str], None] | None = None) -> MllpServer:
    """An MLLP server that takes each order it receives (start it with ``start`` or ``async
    with``); ``answered`` is given each acknowledgment sent (the command's log)."""

    async def handle(text: str) -> str:
        ack = await asyncio.to_thread(receive_order, engine, text, actor=actor)
        if answered is not None:
            answered(ack)
        return ack

    return MllpServer(handle, host=host, port=port)
