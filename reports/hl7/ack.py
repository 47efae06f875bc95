"""Acknowledgments (ACK) for received messages, in HL7 v2.5.1 original mode.

``AA``: the message was accepted. ``AE``: its content has an error; ``AR``: it was rejected (a
type, version or processing id we do not take, or unreadable). With AE and AR nothing from the
message is used, and one ERR segment per error names where it is (ERR-2, segment^occurrence^
field^repetition), the HL7 table 0357 code (ERR-3), the severity and the explanation (ERR-8).
The ACK answers from the receiver of the original message to its sender (MSH-3..6 swapped) and
echoes its control id in MSA-2.

Public names: ``build_ack``, ``ack_for``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from reports.hl7.er7 import escape, escape_text, format_dtm
from reports.hl7.errors import ERROR_CODES, Hl7Error, MessageError
from reports.hl7.oml import MessageHeader, read_header

__all__ = ["ack_for", "build_ack"]

AckCode = Literal["AA", "AE", "AR"]


def _err(error: MessageError) -> str:
    location = error.location.erl() if error.location is not None else ""
    meaning = escape(ERROR_CODES.get(error.code, "Error"))
    return f"ERR||{location}|{error.code}^{meaning}^HL70357|E||||{escape_text(error.detail)}"


def build_ack(header: MessageHeader | None, code: AckCode, *, control_id: str,
              message_time: datetime, errors: Sequence[MessageError] = ()) -> str:
    """The ACK for a message whose MSH is ``header`` (None: it had no readable MSH).

    ``control_id`` is the ACK's own MSH-10. Raises :class:`Hl7Error` for an AA with errors or an
    AE/AR without one (a refusal always says why).
    """
    if code not in ("AA", "AE", "AR"):
        raise Hl7Error(f"acknowledgment code {code!r} is not AA, AE or AR")
    if (code == "AA") == bool(errors):
        raise Hl7Error("an AA carries no error and an AE or AR names at least one")
    header = header or MessageHeader()
    trigger = header.trigger_event or ""
    processing = header.processing_id if header.processing_id in ("P", "D", "T") else "P"
    msh = (f"MSH|^~\\&|{header.receiving_application}|{header.receiving_facility}"
           f"|{header.sending_application}|{header.sending_facility}|{format_dtm(message_time)}"
           f"||ACK^{escape(trigger)}^ACK|{escape(control_id)}|{processing}|2.5.1")
    msa = f"MSA|{code}|{header.control_id}"
    return "\r".join([msh, msa, *(_err(e) for e in errors)]) + "\r"


def ack_for(message: str, error: MessageError | None = None, *, control_id: str,
            message_time: datetime) -> str:
    """The ACK for ``message`` as received: AA without ``error``, else the error's AE or AR."""
    header = read_header(message)
    if error is None:
        return build_ack(header, "AA", control_id=control_id, message_time=message_time)
    code: AckCode = "AR" if error.acknowledgment == "AR" else "AE"
    return build_ack(header, code, control_id=control_id, message_time=message_time,
                     errors=[error])
