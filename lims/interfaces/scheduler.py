"""The service's periodic delivery of the HL7 outbox.

``periodic_delivery(engine, policy, every_s)`` is an async context manager for the app's
lifespan, like the alerts' escalation (``lims.alerts.scheduler``): it runs a delivery pass
(``lims.interfaces.delivery.deliver_pass``) at start-up and then every ``every_s`` seconds
(at once again when a pass delivered something, so a backlog drains without waiting), logs
what each pass could not do (logger ``lims.interfaces``) and keeps running if a pass fails.
``every_s`` None or 0: nothing runs (the default in tests, see
``Settings.hl7_delivery_every_s``). On leaving the block the pass under way stops after the
message it is sending.

Public names: ``periodic_delivery``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import Engine

from lims.interfaces.delivery import DeliveryPolicy, deliver_pass, worker_name

__all__ = ["periodic_delivery"]

log = logging.getLogger("lims.interfaces")
#: How long shutdown waits for the message being sent (its timeouts bound it).
_SHUTDOWN_WAIT_S = 60.0


async def _every(engine: Engine, policy: DeliveryPolicy, every_s: float,
                 stop: asyncio.Event) -> None:
    worker = worker_name()
    while not stop.is_set():
        busy = False
        try:
            report = await deliver_pass(engine, policy, worker=worker, stopped=stop.is_set)
            busy = report.delivered + report.retried + report.parked > 0
        except Exception:  # a lost database must not stop the next pass
            log.exception("delivering the HL7 outbox failed; trying again in %s s", every_s)
        if not busy:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every_s)


@asynccontextmanager
async def periodic_delivery(engine: Engine, policy: DeliveryPolicy,
                            every_s: float | None) -> AsyncIterator[asyncio.Task[None] | None]:
    """Deliver the outbox every ``every_s`` seconds while the block runs."""
    if not every_s:
        yield None
        return
    stop = asyncio.Event()
    task = asyncio.create_task(_every(engine, policy, every_s, stop), name="nbs-hl7-delivery")
    try:
        yield task
    finally:
        stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), _SHUTDOWN_WAIT_S)
        except TimeoutError:
            log.warning("an HL7 delivery pass was still running %s s after shutdown began; it "
                        "was left to finish on its own", _SHUTDOWN_WAIT_S)
