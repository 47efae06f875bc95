"""The reasons a run's QC shows (``run.qc_reasons``) that the pages read back as phrases and
show in their own language (``lims.web.phrases``): the method-coverage finding (written by
``msms.qc.completeness`` with its ``COVERAGE_MESSAGES``, after its step's name), a rejected
run superseded by a new file of its plate (``lims.runs.service``) and a withdrawn plate
(``lims.runs.withdrawal``). The other QC findings are shown as the QC wrote them.

Public names: ``RUN_NOTES``, ``LISTING``.
"""

from __future__ import annotations

from cutoffs.phrases import Phrasebook
from msms.qc.completeness import COVERAGE_MESSAGES, COVERAGE_STEP

__all__ = ["LISTING", "RUN_NOTES"]

RUN_NOTES = Phrasebook((
    ("method_coverage", f"{COVERAGE_STEP}: {COVERAGE_MESSAGES['wells']}"),
    ("method_coverage_no_wells", f"{COVERAGE_STEP}: {COVERAGE_MESSAGES['no_wells']}"),
    ("superseded", "superseded: plate {plate_id} was uploaded again as {file_name} (sha256 "
                   "{sha256}); this rejected run stays recorded as {retired}"),
    ("withdrawn", "withdrawn by {user}: {reason}"),
), fields={"absent": r"\d+", "total": r"\d+", "n_wells": r"\d+", "method": r"\S+",
           "plate_id": r"\S+", "sha256": r"[0-9a-f]+", "retired": r"\S+", "user": r"\S+"})
#: A list cut short by the QC (``msms.qc.completeness``): its first items and how many more.
LISTING = Phrasebook((("more", "{items} and {more} more"),), fields={"more": r"\d+"})
