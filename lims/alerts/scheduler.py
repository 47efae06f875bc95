"""The service's periodic escalation of overdue alerts.

``periodic_escalation(engine, every_s)`` is an async context manager for the app's lifespan: it
runs ``escalate_now`` at start-up and then every ``every_s`` seconds in a worker thread, logs
each escalation (logger ``lims.alerts``) and keeps running if one pass fails. ``every_s`` None
or 0: nothing runs (the default in tests, see ``Settings.alert_escalation_every_s``).

Public names: ``periodic_escalation``, ``escalate_now``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import Engine
from sqlmodel import Session

from lims.alerts.service import Escalation, escalate_overdue
from lims.audit import SYSTEM, Actor
from lims.followup.service import remind_overdue

__all__ = ["escalate_now", "periodic_escalation"]

log = logging.getLogger("lims.alerts")
#: How long shutdown waits for an escalation pass under way (a lock wait can hold one).
_SHUTDOWN_WAIT_S = 30.0


def escalate_now(engine: Engine, actor: Actor = SYSTEM) -> list[Escalation]:
    """Raise a reminder for each newly overdue follow-up case (an alert,
    ``lims.followup.service.remind_overdue``), then escalate every overdue alert, in a
    transaction of its own; what was escalated."""
    with Session(engine) as session:
        remind_overdue(session, actor)
        escalated = escalate_overdue(session, actor=actor)
        session.commit()
    for e in escalated:
        log.warning("alert %s (%s, specimen %s) escalated to level %s: notify %s (%s)",
                    e.alert_id, e.disorder, e.specimen_id, e.escalation_level,
                    ", ".join(e.notify_roles), ", ".join(e.notify_users) or "no active user")
    return escalated


async def _every(engine: Engine, every_s: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await asyncio.to_thread(escalate_now, engine)
        except Exception:  # a lost database must not stop the next pass
            log.exception("escalating overdue alerts failed; trying again in %s s", every_s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)


@asynccontextmanager
async def periodic_escalation(engine: Engine, every_s: float | None) -> AsyncIterator[
        asyncio.Task[None] | None]:
    """Escalate overdue alerts every ``every_s`` seconds while the block runs.

    On leaving the block a pass under way is finished, not abandoned: its worker thread could
    not be stopped anyway, and it would still hold a database connection (and its transaction)
    after the service had closed the engine. The wait is bounded (30 s) and logged when it runs
    out.
    """
    if not every_s:
        yield None
        return
    stop = asyncio.Event()
    task = asyncio.create_task(_every(engine, every_s, stop), name="nbs-alert-escalation")
    try:
        yield task
    finally:
        stop.set()
        try:  # shielded: cancelling the shutdown must not cancel the pass under way
            await asyncio.wait_for(asyncio.shield(task), _SHUTDOWN_WAIT_S)
        except TimeoutError:
            log.warning("an escalation pass was still running %s s after shutdown began; "
                        "it was left to finish on its own", _SHUTDOWN_WAIT_S)
