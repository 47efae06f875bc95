"""MLLP framing, client and server over a real listener on 127.0.0.1 (port 0)."""

from __future__ import annotations

import ast
import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lims.interfaces.mllp import (
    END,
    START,
    Acknowledgment,
    FramingError,
    MllpClient,
    MllpError,
    MllpServer,
    MllpTimeout,
    frame,
    read_frame,
    send_message,
)
from reports.hl7 import MessageError, ack_for, parse_oml
from tests.reports.hl7.builders import REFERENCE

MN = (REFERENCE / "002_MN_OML_O21_NBS.hl7").read_text(encoding="utf-8").replace("\n", "\r")
CA = (REFERENCE / "001_CA_OML_O21.hl7").read_text(encoding="utf-8").replace("\n", "\r")


def accession(message: str) -> str:
    """A handler without the database: read the card, answer."""
    now = datetime.now(UTC)
    try:
        parse_oml(message)
    except MessageError as error:
        return ack_for(message, error, control_id="R1", message_time=now)
    return ack_for(message, control_id="R1", message_time=now)


def run(coroutine):  # type: ignore[no-untyped-def]
    return asyncio.run(asyncio.wait_for(coroutine, 30))


@given(st.binary().filter(lambda b: START not in b and b"\x1c" not in b),
       st.binary(max_size=20).filter(lambda b: START not in b))
def test_a_framed_message_reads_back_whatever_precedes_it(body: bytes, junk: bytes) -> None:
    async def check() -> bytes | None:
        reader = asyncio.StreamReader()
        reader.feed_data(junk + frame(body))
        reader.feed_eof()
        return await read_frame(reader)

    assert run(check()) == body


def test_a_message_with_a_framing_byte_cannot_be_framed() -> None:
    with pytest.raises(FramingError):
        frame("MSH|\x1c|")


def test_orders_are_answered_over_one_connection() -> None:
    async def scenario() -> list[Acknowledgment]:
        async with MllpServer(accession) as server, MllpClient("127.0.0.1", server.port) as client:
            return [await client.send(m) for m in (MN, CA, MN)]

    good, bad, again = run(scenario())
    assert good.accepted and good.control_id == "31808297"
    assert bad.code == "AE" and "ERR||PID^1^25^1|" in bad.text
    assert again.accepted


def test_a_failing_handler_is_answered_ae_and_the_connection_survives() -> None:
    calls = []

    async def handler(message: str) -> str:
        calls.append(message)
        if len(calls) == 1:
            raise RuntimeError("database is down")
        return accession(message)

    async def scenario() -> list[Acknowledgment]:
        async with MllpServer(handler) as server, MllpClient("127.0.0.1", server.port) as client:
            return [await client.send(MN), await client.send(MN)]

    failed, ok = run(scenario())
    assert failed.code == "AE" and "|207^Application internal error^HL70357|" in failed.text
    assert ok.accepted


def test_bytes_that_are_not_utf8_are_rejected() -> None:
    async def scenario() -> bytes | None:
        async with MllpServer(accession) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(START + MN.encode() + b"\xff\xfe" + END)
            reply = await read_frame(reader)
            writer.close()
            return reply

    reply = run(scenario())
    assert reply is not None and Acknowledgment.parse(reply.decode()).code == "AR"


def test_a_frame_sent_in_pieces_after_noise_is_answered() -> None:
    async def scenario() -> Acknowledgment:
        async with MllpServer(accession) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            data = b"\r\nnoise" + frame(MN)
            for start in range(0, len(data), 700):
                writer.write(data[start:start + 700])
                await writer.drain()
                await asyncio.sleep(0.01)
            reply = await read_frame(reader)
            writer.close()
            assert reply is not None
            return Acknowledgment.parse(reply.decode())

    assert run(scenario()).accepted


def test_no_acknowledgment_in_time_is_a_timeout_and_the_next_send_reconnects() -> None:
    slow = {"first": True}

    async def handler(message: str) -> str:
        if slow.pop("first", False):
            await asyncio.sleep(1.0)
        return accession(message)

    async def scenario() -> Acknowledgment:
        async with MllpServer(handler) as server:
            client = MllpClient("127.0.0.1", server.port, ack_timeout=0.2)
            with pytest.raises(MllpTimeout, match="no acknowledgment"):
                await client.send(MN)
            client.ack_timeout = 5
            try:
                return await client.send(MN)
            finally:
                await client.close()

    assert run(scenario()).accepted


def test_a_closed_port_or_an_oversized_frame_is_an_error() -> None:
    async def closed_port() -> None:
        server = await MllpServer(accession).start()
        port = server.port
        await server.close()
        await send_message("127.0.0.1", port, MN, connect_timeout=2)

    with pytest.raises(MllpError, match="cannot connect"):
        run(closed_port())

    async def oversized() -> None:
        async with MllpServer(accession, max_bytes=100) as server:
            await send_message("127.0.0.1", server.port, MN, ack_timeout=5)

    with pytest.raises(MllpError):
        run(oversized())


def test_the_transport_imports_nothing_else_from_lims() -> None:
    path = Path(__file__).resolve().parents[3] / "lims" / "interfaces" / "mllp.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        for name in names:
            assert not name.startswith("lims"), f"mllp.py imports {name}"
