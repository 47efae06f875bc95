"""``nbs hl7``: HL7 v2.5.1 result messages out, card data in (docs/hl7.md "Commands").

- ``export SPECIMEN [--version N] [--out FILE]``: the ORU^R01 of a released specimen (its
  card's barcode or its id), as queued in the outbox: segments on lines on stdout, or the
  message exactly as sent (segments ending in CR) in FILE;
- ``send [--loop] [--every S]``: deliver the outbox over MLLP once, or keep delivering;
- ``listen [--host H] [--port P]``: an MLLP listener taking OML^O21 orders (card data), one
  line on stderr per order answered;
- ``outbox [--status S] [--specimen SPECIMEN]``, ``resend MESSAGE_ID``: delivery status, and
  sending a parked message again;
- ``endpoints``, ``endpoint SUBMITTER_CODE ...``: the submitters' endpoints (create or change);
- ``cards FILE.csv``: a submitter's card-data CSV into the LIMS.

Every command that reads a baby's record or changes anything is audited under ``--actor``.

Public names: ``hl7_app``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path

import typer
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lims.accession.repository import submitter_by_code
from lims.accession.service import find_card
from lims.audit import Actor
from lims.cli.actor import ActorOption
from lims.cli.common import database, in_session, print_table
from lims.errors import InvalidInputError, NotFoundError
from lims.interfaces import inbound, service
from lims.interfaces.delivery import DeliveryPolicy, deliver_once, worker_name
from lims.interfaces.listener import listener
from lims.interfaces.schemas import EndpointCreate, EndpointUpdate
from lims.models import Hl7Endpoint, OutboundMessage
from lims.settings import get_settings
from lims.vocabulary import OutboxStatus

__all__ = ["hl7_app"]

hl7_app = typer.Typer(help="HL7 v2.5.1: result messages out (ORU^R01), card data in "
                           "(OML^O21, CSV), MLLP.", no_args_is_help=True)


@hl7_app.command("export")
def export_command(
    specimen: str = typer.Argument(..., help="the card's barcode, or the specimen id"),
    version: int = typer.Option(None, "--version", min=1,
                                help="the released version (default: the latest)"),
    out: Path = typer.Option(None, "--out", help="write the message here (segments end in CR)"),
    actor: ActorOption = None,
) -> None:
    """The ORU^R01 result message of a released specimen, as queued for delivery."""
    def work(session: Session, who: Actor) -> OutboundMessage:
        found = find_card(session, specimen)
        assert found.id is not None
        return service.message_of_release(session, who, found.id, version)

    message = in_session(work, actor)
    if not message.body:
        raise NotFoundError(f"message {message.control_id} could not be built: "
                            f"{message.last_error}")
    if out is None:
        typer.echo(message.body.replace("\r", "\n"), nl=False)
        return
    out.write_bytes(message.body.encode("utf-8"))
    typer.echo(f"wrote {message.control_id} (specimen {message.specimen_id} version "
               f"{message.version}, {message.status}) to {out}", err=True)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


@hl7_app.command("send")
def send_command(
    loop: bool = typer.Option(False, "--loop", help="keep delivering until stopped"),
    every: float = typer.Option(5.0, "--every", min=0.05,
                                help="with --loop: seconds to wait when nothing was due"),
) -> None:
    """Deliver the outbox to the submitters' endpoints over MLLP (one pass, or --loop)."""
    settings = get_settings()
    policy, worker, stop = DeliveryPolicy.from_settings(settings), worker_name(), (
        _stop_on_signals())
    with database(settings) as engine:
        while True:
            report = deliver_once(engine, policy, worker=worker, stopped=stop.is_set)
            if report.attempted or report.withheld or not loop:
                typer.echo(f"delivered {report.delivered}, to retry {report.retried}, parked "
                           f"{report.parked}, withheld {report.withheld}"
                           + "".join(f"; unreachable {u}" for u in report.unreachable))
            if not loop or stop.is_set():
                break
            if report.delivered + report.retried + report.parked == 0:
                stop.wait(every)


def _log_answer(ack: str) -> None:
    """One line on stderr per order answered: when, from whom, its control id, the ACK code
    and, when refused, where and why (ERR-2, ERR-8)."""
    separator = ack[3] if ack.startswith("MSH") and len(ack) > 3 else "|"
    fields = {line[:3]: line.split(separator) for line in ack.split("\r") if line[:3]}
    msh, msa = fields.get("MSH", []), fields.get("MSA", [])
    sender = msh[5].split("^")[0] if len(msh) > 5 else ""  # the ACK's receiver: the sender
    code, control = (msa + ["", "", ""])[1:3]
    errors = [line.split(separator) for line in ack.split("\r") if line.startswith("ERR")]
    why = "; ".join(f"{(e + [''] * 9)[2]} {(e + [''] * 9)[8]}".strip() for e in errors)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    typer.echo(f"{stamp} order {control or '-'} from {sender or '-'}: {code}"
               + (f" ({why})" if why else ""), err=True)


@hl7_app.command("listen")
def listen_command(
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
    port: int = typer.Option(2575, "--port", min=0, max=65535,
                             help="port (0: any free port, printed)"),
) -> None:
    """Take OML^O21 orders (card data) over MLLP until stopped, answering AA, AE or AR."""
    async def serve(engine: Engine) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        async with listener(engine, host=host, port=port, answered=_log_answer) as server:
            typer.echo(f"listening for HL7 orders on {host}:{server.port}", err=True)
            await stop.wait()

    with database() as engine, contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(engine))


@hl7_app.command("outbox")
def outbox_command(
    status: OutboxStatus = typer.Option(None, "--status", help="only messages in this status"),
    specimen: str = typer.Option(None, "--specimen", help="only this card (barcode) or id"),
    limit: int = typer.Option(100, "--limit", min=1, max=10_000),
    actor: ActorOption = None,
) -> None:
    """Result messages and their delivery, newest first."""
    rows = in_session(lambda s, a: service.outbox(
        s, a, status=status, specimen_id=find_card(s, specimen).id if specimen
        else None, limit=limit), actor)
    print_table(["id", "specimen", "version", "control id", "status", "attempts", "ack",
                 "delivered (UTC)", "last error"],
                [[r["id"], r["specimen_id"], r["version"], r["control_id"], r["status"],
                  r["attempts"], r["ack_code"],
                  f"{r['delivered_at']:%Y-%m-%d %H:%M:%S}" if r["delivered_at"] else "",
                  r["last_error"]] for r in rows], noun="messages", limit=limit)


@hl7_app.command("resend")
def resend_command(message_id: int = typer.Argument(..., min=1),
                   actor: ActorOption = None) -> None:
    """Send a parked message again."""
    message = in_session(lambda s, a: service.resend(s, a, message_id), actor)
    typer.echo(f"message {message_id} ({message.control_id}) is {message.status} again")


@hl7_app.command("endpoints")
def endpoints_command() -> None:
    """Every submitter's endpoint and its delivery state."""
    rows = in_session(lambda s, _: service.list_endpoints(s))
    print_table(["id", "submitter", "host:port", "application", "facility", "time zone",
                 "enabled", "failures", "last error"],
                [[e.id, e.submitter_id, f"{e.host}:{e.port}", e.receiving_application,
                  e.receiving_facility, e.time_zone, "yes" if e.enabled else "no", e.failures,
                  e.last_error] for e in rows], noun="endpoints")


@hl7_app.command("endpoint")
def endpoint_command(
    submitter: str = typer.Argument(..., help="the submitter's code"),
    host: str = typer.Option(None, "--host"),
    port: int = typer.Option(None, "--port", min=1, max=65535),
    application: str = typer.Option(None, "--application", help="MSH-5 of its messages"),
    facility: str = typer.Option(None, "--facility",
                                 help="MSH-6 of its messages; the MSH-4 of its orders"),
    time_zone: str = typer.Option(None, "--time-zone",
                                  help="IANA zone of its times without an offset"),
    enabled: bool = typer.Option(None, "--enable/--disable"),
    actor: ActorOption = None,
) -> None:
    """Give a submitter its endpoint, or change it (only the options given)."""
    given = {k: v for k, v in {"host": host, "port": port, "receiving_application": application,
                               "receiving_facility": facility, "time_zone": time_zone,
                               "enabled": enabled}.items() if v is not None}
    def work(session: Session, who: Actor) -> Hl7Endpoint:
        found = submitter_by_code(session, submitter)
        if found is None or found.id is None:
            raise InvalidInputError(f"no submitter with code {submitter!r}", field="submitter")
        existing = next((e for e in service.list_endpoints(session)
                         if e.submitter_id == found.id), None)
        try:
            if existing is None:
                return service.create_endpoint(session, who, EndpointCreate.model_validate(
                    {"submitter_id": found.id, **given}))
            assert existing.id is not None
            return service.update_endpoint(session, who, existing.id,
                                           EndpointUpdate.model_validate(given))
        except ValidationError as exc:
            problem = exc.errors()[0]
            raise InvalidInputError(problem["msg"], field=str(problem["loc"][-1])) from None

    endpoint = in_session(work, actor)
    typer.echo(f"endpoint {endpoint.id}: submitter {submitter} -> "
               f"{endpoint.host}:{endpoint.port} ({endpoint.receiving_application}/"
               f"{endpoint.receiving_facility}, {endpoint.time_zone}, "
               f"{'enabled' if endpoint.enabled else 'disabled'})")


@hl7_app.command("cards")
def cards_command(file: Path = typer.Argument(..., help="a submitter's card-data CSV"),
                  actor: ActorOption = None) -> None:
    """Create or update the cards of a submitter's CSV, all of them or none."""
    if not file.is_file():
        raise InvalidInputError("no such file", file=str(file))
    outcome = in_session(lambda s, a: inbound.import_cards(s, a, file.read_bytes(), str(file)),
                         actor)
    typer.echo(f"{file}: {outcome.created} created, {outcome.updated} updated, "
               f"{outcome.unchanged} unchanged")
