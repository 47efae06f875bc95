"""``nbs users``: the LIMS's user accounts from the command line (the first admin, a forgotten
password, someone who left, a locked account).

- ``create USERNAME --role ROLE --full-name NAME [--submitter-id N]``: the password is asked
  twice (hidden), or read from standard input when it is not a terminal;
- ``reset-password USERNAME``: a new password (asked the same way); the failed sign-ins and
  the lock are cleared and every token of the user is revoked;
- ``deactivate USERNAME``: the user can no longer sign in or sign, and its tokens are revoked;
- ``unlock USERNAME``: clear a lock after failed sign-ins or signatures;
- ``list``: every user, with its role, whether it is active, and its lock.

Each change is audited under ``--actor``. A running service keeps a signed-in user in its cache
for at most 5 s (``lims.deps.TokenCache``), so a revoked token stops working within 5 s.

Public names: ``users_app``.
"""

from __future__ import annotations

import typer
from pydantic import ValidationError

from lims.auth import service
from lims.auth.schemas import UserCreate
from lims.cli.actor import ActorOption
from lims.cli.common import in_session, print_table
from lims.errors import InvalidInputError
from lims.models import utcnow
from lims.vocabulary import Role

__all__ = ["users_app"]

users_app = typer.Typer(help="User accounts: create, reset a password, deactivate, unlock, "
                             "list.", no_args_is_help=True)


def _password() -> str:
    password: str = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    return password


@users_app.command("create")
def create_command(
    username: str = typer.Argument(..., help="sign-in name: 3-64 of a-z 0-9 _ . -"),
    role: Role = typer.Option(..., "--role", help="the user's role"),
    full_name: str = typer.Option(..., "--full-name", help="the person's name"),
    submitter_id: int = typer.Option(None, "--submitter-id",
                                     help="a submitter user's submitter"),
    actor: ActorOption = None,
) -> None:
    """Add a user; the password is asked for (at least 10 characters)."""
    try:
        body = UserCreate(username=username, full_name=full_name, role=role,
                          password=_password(), submitter_id=submitter_id)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise InvalidInputError(error["msg"], field=str(error["loc"][0])) from None
    user = in_session(lambda s, a: service.create_user(s, a, **body.model_dump()), actor)
    typer.echo(f"user {user.username} ({user.role}) created, id {user.id}")


@users_app.command("reset-password")
def reset_password_command(username: str = typer.Argument(...),
                           actor: ActorOption = None) -> None:
    """Set a new password (asked for), clear the lock and revoke the user's tokens."""
    password = _password()
    revoked = in_session(lambda s, a: service.reset_password(s, a, username, password), actor)
    typer.echo(f"password of {username} reset; {len(revoked)} token(s) revoked")


@users_app.command("deactivate")
def deactivate_command(username: str = typer.Argument(...), actor: ActorOption = None) -> None:
    """Stop the user signing in or signing, and revoke its tokens."""
    revoked = in_session(
        lambda s, a: service.deactivate(s, a, service.user_named(s, username)), actor)
    typer.echo(f"user {username} deactivated; {len(revoked)} token(s) revoked")


@users_app.command("unlock")
def unlock_command(username: str = typer.Argument(...), actor: ActorOption = None) -> None:
    """Clear the lock that failed sign-ins or signatures set."""
    in_session(lambda s, a: service.unlock(s, a, service.user_named(s, username)), actor)
    typer.echo(f"user {username} unlocked")


@users_app.command("list")
def list_command() -> None:
    """Every user, in the order they were added."""
    users = in_session(lambda s, _: service.list_users(s))
    now = utcnow()
    print_table(["id", "username", "full name", "role", "active", "locked until (UTC)"],
                [[u.id, u.username, u.full_name, u.role, "yes" if u.active else "no",
                  f"{u.locked_until:%Y-%m-%d %H:%M}" if u.locked_until and u.locked_until > now
                  else ""] for u in users], noun="users")
