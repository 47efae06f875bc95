"""``nbs serve``, ``nbs init-db``, ``nbs seed-demo``: run the service and prepare its database.

Public names: ``bind_listener``, ``init_db_command``, ``refuse_demo_outside_development``,
``seed_demo_command``, ``serve_command``.
"""

from __future__ import annotations

import socket

import typer

from lims.cli.common import open_database
from lims.db import init_db, make_engine
from lims.errors import ConfigurationError
from lims.service_role import grant_service_role, owns_append_only_tables
from lims.settings import Settings, get_settings, redact_url

__all__ = ["bind_listener", "init_db_command", "refuse_demo_outside_development",
           "seed_demo_command", "serve_command"]


def refuse_demo_outside_development(settings: Settings, command: str) -> None:
    """Stop ``command`` (which creates demo accounts, an admin among them, prints their
    passwords and ingests simulated plates) unless ``NBS_ENVIRONMENT`` is ``development``."""
    if settings.environment != "development":
        raise ConfigurationError(
            f"{command} creates demo accounts (an admin among them), prints their passwords "
            f"and loads simulated plates: refused with NBS_ENVIRONMENT={settings.environment}; "
            f"it runs only with NBS_ENVIRONMENT=development")


def init_db_command(
    service_role: str = typer.Option(
        None, "--service-role", metavar="ROLE",
        help="PostgreSQL: grant ROLE what the service needs (read and write the data, only "
             "read and append the audit trail and releases) and run the service as ROLE"),
) -> None:
    """Create (or bring up to date) the tables of the configured database."""
    settings = get_settings()
    engine = make_engine(settings)
    init_db(engine)
    typer.echo(f"database ready: {redact_url(settings.database_url)}")
    if service_role:
        grant_service_role(engine, service_role)
        typer.echo(f"role {service_role} granted: read and write the data; audit_event and "
                   f"release only read and appended; no table it can alter, drop or truncate")


def seed_demo_command(
    force: bool = typer.Option(False, help="load the demo data even if the database has data"),
) -> None:
    """Load demo data (simulated submitters, users and plates) into an empty database."""
    from lims.demo import seed_demo  # with the pipeline, what only the demo and serve need
    from lims.pipeline import ScreeningPipeline

    settings = get_settings()
    refuse_demo_outside_development(settings, "nbs seed-demo")
    engine = open_database(settings)
    summary = seed_demo(engine, force=force, pipeline=ScreeningPipeline.from_settings(settings))
    typer.echo(summary)


def serve_command(
    host: str = typer.Option(None, help="address to listen on (default NBS_HOST, 127.0.0.1)"),
    port: int = typer.Option(None, help="port (default NBS_PORT, 8000)"),
    demo: bool = typer.Option(
        False, "--demo", help="load demo data first if the database is empty"
    ),
) -> None:
    """Start the web application and API on the configured database."""
    import uvicorn

    from lims.app import create_app, settle
    from lims.demo import seed_demo
    from lims.pipeline import ScreeningPipeline

    settings = get_settings()
    if demo:
        refuse_demo_outside_development(settings, "nbs serve --demo")
    pipeline = ScreeningPipeline.from_settings(settings)  # catalogues, cutoff table, model
    engine = open_database(settings)
    host = host or settings.host
    port = port or settings.port
    listener = bind_listener(host, port)  # a busy port stops here, before "Open ..."
    if demo:
        typer.echo(seed_demo(engine, force=False, pipeline=pipeline))
    typer.echo(f"Newborn screening laboratory on {redact_url(settings.database_url)}")
    typer.echo(f"Open http://{host}:{port}/  (API docs: http://{host}:{port}/docs)")
    if owns_append_only_tables(engine):
        typer.echo("warning: the service's database user owns the audit tables and could "
                   "disable their append-only triggers; run it as a role granted with "
                   "nbs init-db --service-role ROLE", err=True)
    app = create_app(settings, engine, pipeline=pipeline)
    settle(pipeline)
    config = uvicorn.Config(app, host=host, port=port, log_level=settings.log_level)
    uvicorn.Server(config).run(sockets=[listener])


def bind_listener(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (the service listens on it); a port in use or an
    address this machine does not have raises ConfigurationError naming them."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM)[0]
        listener = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ConfigurationError(f"cannot listen on {host}:{port} (--host, NBS_HOST): "
                                 f"{exc.strerror or exc}") from None
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
    except OSError as exc:
        listener.close()
        raise ConfigurationError(f"cannot listen on {host}:{port} (--port, NBS_PORT): "
                                 f"{exc.strerror or exc}") from None
    return listener
