"""MLLP, the minimal lower layer protocol HL7 v2 messages travel over TCP with.

Each message is framed as VT (0x0B), the message bytes, FS (0x1C), CR (0x0D). The sender waits for
the framed acknowledgment before sending the next message. Messages are UTF-8.

- :func:`frame` wraps a message; :func:`read_frame` reads the next one from a stream (bytes
  before a VT are skipped; a frame over ``max_bytes`` is refused).
- :class:`MllpClient` keeps one connection and sends one message at a time, each with a timeout
  for its acknowledgment; :func:`send_message` connects, sends one message and closes.
  :class:`Acknowledgment` holds the reply with its MSA-1 code and MSA-2 control id.
- :class:`MllpServer` (asyncio) listens, reads messages from any number of connections, hands
  each to a callback and writes back the acknowledgment the callback returns. A message that is
  not UTF-8 is answered AR; a callback that raises is answered AE (ERR-3 207, application
  internal error) and logged, and the connection stays open.

Nothing here keeps state between messages: the outbox, retries and per-submitter endpoints are
the LIMS's. This module imports nothing else from ``lims``.

Public names: ``frame``, ``read_frame``, ``MllpError``, ``MllpTimeout``, ``FramingError``,
``Acknowledgment``, ``MllpClient``, ``send_message``, ``MllpServer``, ``Handler``, ``START``,
``END``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from uuid import uuid4

from reports.hl7.ack import ack_for
from reports.hl7.errors import MessageError

__all__ = [
    "END",
    "START",
    "Acknowledgment",
    "FramingError",
    "Handler",
    "MllpClient",
    "MllpError",
    "MllpServer",
    "MllpTimeout",
    "frame",
    "read_frame",
    "send_message",
]

START = b"\x0b"
END = b"\x1c\r"
#: The largest message accepted by default (16 MiB).
MAX_BYTES = 16 * 1024 * 1024
_log = logging.getLogger(__name__)

#: What the server calls with each message's text; returns the acknowledgment's text.
Handler = Callable[[str], Awaitable[str] | str]


class MllpError(Exception):
    """A message could not be delivered or its acknowledgment not read."""


class MllpTimeout(MllpError):
    """No connection, or no acknowledgment, within the time allowed."""


class FramingError(MllpError):
    """The peer sent bytes that are not an MLLP frame, or a frame too large."""


def frame(message: str | bytes) -> bytes:
    """The MLLP frame of a message (text is encoded as UTF-8)."""
    body = message.encode("utf-8") if isinstance(message, str) else message
    if START in body or b"\x1c" in body:
        raise FramingError("the message itself contains a VT or FS byte")
    return START + body + END


async def read_frame(reader: asyncio.StreamReader, *, max_bytes: int = MAX_BYTES) -> bytes | None:
    """The body of the next frame, or None when the peer closed the connection between frames.

    Raises :class:`FramingError` when the connection ends inside a frame or a frame is longer
    than ``max_bytes``.
    """
    while True:
        byte = await reader.read(1)
        if not byte:
            return None
        if byte == START:
            break
    try:
        body = await reader.readuntil(END)
    except asyncio.IncompleteReadError:
        raise FramingError("the connection ended inside a frame") from None
    except asyncio.LimitOverrunError:
        raise FramingError("a frame is longer than the reader's limit") from None
    if len(body) - len(END) > max_bytes:
        raise FramingError(f"a frame is longer than {max_bytes} bytes")
    return body[: -len(END)]


@dataclass(frozen=True, slots=True)
class Acknowledgment:
    """An acknowledgment as received: its text, MSA-1 code and MSA-2 control id."""

    text: str
    code: str
    control_id: str

    @property
    def accepted(self) -> bool:
        """AA (original mode) or CA (enhanced mode, commit accept)."""
        return self.code in ("AA", "CA")

    @classmethod
    def parse(cls, text: str) -> Acknowledgment:
        """Read MSA-1 and MSA-2; raises :class:`FramingError` if there is no MSA segment."""
        separator = text[3] if text.startswith("MSH") and len(text) > 3 else "|"
        for line in text.replace("\n", "\r").split("\r"):
            if line.startswith("MSA" + separator):
                fields = line.split(separator)
                code = fields[1] if len(fields) > 1 else ""
                return cls(text, code, fields[2] if len(fields) > 2 else "")
        raise FramingError("the reply has no MSA segment")


class MllpClient:
    """One connection to a receiver; :meth:`send` delivers a message and returns its ACK.

    ``connect_timeout`` bounds opening the connection, ``ack_timeout`` the wait for each
    acknowledgment. After a timeout or framing error the connection is closed (the receiver's
    state is unknown); the next :meth:`send` opens a new one.
    """

    def __init__(self, host: str, port: int, *, connect_timeout: float = 10.0,
                 ack_timeout: float = 30.0, max_bytes: int = MAX_BYTES) -> None:
        self.host, self.port = host, port
        self.connect_timeout, self.ack_timeout, self.max_bytes = (
            connect_timeout, ack_timeout, max_bytes)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is not None and self._writer is not None and \
                not self._writer.is_closing():
            return self._reader, self._writer
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), self.connect_timeout)
        except TimeoutError:
            raise MllpTimeout(f"no connection to {self.host}:{self.port} within "
                              f"{self.connect_timeout:g} s") from None
        except OSError as exc:
            raise MllpError(f"cannot connect to {self.host}:{self.port}: {exc}") from None
        self._reader, self._writer = reader, writer
        return reader, writer

    async def send(self, message: str) -> Acknowledgment:
        """Send one message and wait for its acknowledgment."""
        reader, writer = await self._connect()
        try:
            writer.write(frame(message))
            await asyncio.wait_for(writer.drain(), self.ack_timeout)
            body = await asyncio.wait_for(read_frame(reader, max_bytes=self.max_bytes),
                                          self.ack_timeout)
        except TimeoutError:
            await self.close()
            raise MllpTimeout(f"no acknowledgment from {self.host}:{self.port} within "
                              f"{self.ack_timeout:g} s") from None
        except (OSError, FramingError) as exc:
            await self.close()
            raise MllpError(f"delivery to {self.host}:{self.port} failed: {exc}") from None
        if body is None:
            await self.close()
            raise MllpError(f"{self.host}:{self.port} closed the connection without an "
                            "acknowledgment")
        try:
            return Acknowledgment.parse(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise FramingError("the acknowledgment is not UTF-8") from None

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def __aenter__(self) -> MllpClient:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await self.close()


async def send_message(host: str, port: int, message: str, *, connect_timeout: float = 10.0,
                       ack_timeout: float = 30.0) -> Acknowledgment:
    """Connect, send one message, wait for its acknowledgment and close."""
    async with MllpClient(host, port, connect_timeout=connect_timeout,
                          ack_timeout=ack_timeout) as client:
        return await client.send(message)


def _now() -> datetime:
    return datetime.now(UTC)


class MllpServer:
    """An MLLP listener that answers each message with what ``handler`` returns.

    ``idle_timeout`` closes a connection that sends nothing for that long. Use as an async
    context manager, or :meth:`start` and :meth:`close`; :attr:`port` is the bound port (bind
    port 0 for an ephemeral one).
    """

    def __init__(self, handler: Handler, *, host: str = "127.0.0.1", port: int = 0,
                 idle_timeout: float = 300.0, max_bytes: int = MAX_BYTES) -> None:
        self.handler, self.host, self._port = handler, host, port
        self.idle_timeout, self.max_bytes = idle_timeout, max_bytes
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise MllpError("the server is not listening")
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> MllpServer:
        self._server = await asyncio.start_server(self._serve, self.host, self._port,
                                                  limit=self.max_bytes + len(END) + 1)
        return self

    async def close(self) -> None:
        """Stop listening and close the open connections."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
            for writer in list(self._connections):
                writer.close()
            if self._tasks:  # let each connection see its end, then stop what is left
                _, pending = await asyncio.wait(set(self._tasks), timeout=5)
                for task in pending:
                    task.cancel()
            await server.wait_closed()

    async def __aenter__(self) -> MllpServer:
        return await self.start()

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await self.close()

    async def _answer(self, body: bytes) -> str:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = body.decode("utf-8", errors="replace")
            error = MessageError("the message is not UTF-8", None, code=102, acknowledgment="AR")
            return ack_for(text, error, control_id=uuid4().hex[:20], message_time=_now())
        try:
            reply = self.handler(text)
            return await reply if not isinstance(reply, str) else reply
        except Exception as exc:  # the sender must get an answer whatever went wrong
            _log.exception("the MLLP handler failed")
            error = MessageError(
                f"the receiver could not process the message ({type(exc).__name__})", None,
                code=207, acknowledgment="AE")
            return ack_for(text, error, control_id=uuid4().hex[:20], message_time=_now())

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            while True:
                body = await asyncio.wait_for(read_frame(reader, max_bytes=self.max_bytes),
                                              self.idle_timeout)
                if body is None:
                    break
                writer.write(frame(await self._answer(body)))
                await writer.drain()
        except (TimeoutError, FramingError, OSError) as exc:
            _log.info("MLLP connection closed: %s", exc or type(exc).__name__)
        finally:
            self._connections.discard(writer)
            if task is not None:
                self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
