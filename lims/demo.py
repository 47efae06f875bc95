"""Demo data for ``make run``: loaded once, into an empty database.

Public names: ``seed_demo``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from lims.models import SystemInfo

__all__ = ["seed_demo"]

_MARKER = "demo_loaded_at"


def seed_demo(engine: Engine, *, force: bool = False) -> str:
    """Load the demo data unless it is already there; returns a one-line summary."""
    with Session(engine) as session:
        marker = session.get(SystemInfo, _MARKER)
        if marker is not None and not force:
            return f"demo data already loaded ({marker.value})"
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        session.merge(SystemInfo(key=_MARKER, value=stamp))
        session.commit()
        loaded = session.exec(select(SystemInfo)).all()
    return f"demo data loaded ({len(loaded)} system records)"
