"""``--actor NAME``: who runs a command that changes or reads the LIMS, for the audit trail.

The default is the operating-system user running ``nbs``. The command line works with the
database's own access (there is no sign-in), so the name is recorded as given, with no LIMS user
id, in every audit event the command writes.

Public names: ``ActorOption``, ``cli_actor``, ``os_user_name``.
"""

from __future__ import annotations

import getpass
import os
from typing import Annotated

import typer

from lims.audit import Actor

__all__ = ["ActorOption", "cli_actor", "os_user_name"]

MAX_NAME = 64  # AuditEvent.username


def os_user_name() -> str:
    """The operating-system user name (``uid-N`` when the system has none for this user)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid-{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def _check(name: str | None) -> str | None:
    if name is None:
        return None
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise typer.BadParameter(f"a name of 1 to {MAX_NAME} characters")
    return name


ActorOption = Annotated[str | None, typer.Option(
    "--actor", metavar="NAME", callback=_check,
    help="who is running this, recorded in the audit trail (default: your OS user name)")]


def cli_actor(name: str | None) -> Actor:
    """The audit identity of the person running the command."""
    return Actor(user_id=None, username=name or os_user_name()[:MAX_NAME], role="admin")
