"""The notes the LIMS adds to a run's QC reasons (``run.qc_reasons``), which the pages read
back as phrases and show in their own language (``lims.web.phrases``): a rejected run
superseded by a new file of its plate (``lims.runs.service``), a withdrawn plate
(``lims.runs.withdrawal``) and a plate a technician rejected (``lims.runs.plate``); and why an
ingest held a patient well for a technician (``HELD_REASONS``, ``lims.runs.held``). The plate
QC's own findings are worded by its phrasebook (``msms.qc.messages``), the instrument readers'
issues by theirs (``instruments.issues``).

Public names: ``HELD_REASONS``, ``RUN_NOTES``.
"""

from __future__ import annotations

from msms.phrases import Phrasebook

__all__ = ["HELD_REASONS", "RUN_NOTES"]

RUN_NOTES = Phrasebook((
    ("superseded", "superseded: plate {plate_id} was uploaded again as {file_name} (sha256 "
                   "{sha256}); this rejected run stays recorded as {retired}"),
    ("withdrawn", "withdrawn by {user}: {reason}"),
    ("rejected", "rejected by {user}: {reason}"),
), fields={"plate_id": r"\S+", "sha256": r"[0-9a-f]+", "retired": r"\S+", "user": r"\S+"})

#: Why a patient well was held (``held_well.reason``): its barcode is no card, or the card is
#: not waiting for results.
HELD_REASONS = Phrasebook((
    ("unknown_barcode", "unknown barcode: no accessioned card"),
    ("card_state", "card is {state}; results are not accepted in that state"),
), fields={"state": r"\w+"})
