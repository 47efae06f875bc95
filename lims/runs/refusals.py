"""Why an upload, a plate's QC sign-off or a held well's resolution was refused: English texts
written with phrases (``msms.phrases``), so that the pages read them back in their own
language (``lims.web.phrases``). Plate ids, file names, wells, sample ids and barcodes are kept
as written; ``qc_reasons`` holds a run's QC reasons (each worded as the plate page words it)
and ``rejection`` why a plate was rejected (``lims.runs.held.rejected_plate``).

Public names: ``RUN_REFUSALS``.
"""

from __future__ import annotations

from msms.phrases import Phrasebook

__all__ = ["RUN_REFUSALS"]

RUN_REFUSALS = Phrasebook((
    # lims.runs.service: an upload
    ("empty_file", "the file is empty"),
    ("empty_plate_map", "the plate map is empty"),
    ("plate_stored", "plate {plate} is already stored from {file_name} (run {run}, sha256 "
                     "{sha256}); a different file for the same plate, or the same file with "
                     "another plate map, is refused"),
    ("plate_stored_meanwhile", "{file_name}: another file for plate {plate} was stored at the "
                               "same time"),
    ("same_plate_meanwhile", "{file_name}: another file for the same plate was stored at the "
                             "same time"),
    # lims.runs.plate: the technician's sign-off
    ("reason_for_qc", "give a reason for the plate's QC decision"),
    ("too_long", "at most {n} characters"),
    ("rejected_by_qc", "plate {plate} was rejected by QC ({qc_reasons}); upload a new run of it"),
    ("has_results", "plate {plate} has {n} patient results stored; to reject it, withdraw the "
                    "plate (its unreleased results are withdrawn and the cards wait for a new "
                    "run)"),
    ("held_resolved_on_plate", "a held well of plate {plate} was resolved meanwhile; look at "
                               "the plate again"),
    ("rejected_meanwhile", "plate {plate} was rejected meanwhile"),
    # lims.runs.held: a held well attached or discarded
    ("held_resolved", "held well {held} is already {status}"),
    ("held_resolved_by_other", "the held well was resolved by someone else meanwhile"),
    ("held_on_rejected_plate", "held well {well} ({sample_id}) is on plate {plate}, which was "
                               "rejected ({rejection}); its wells are never attached to a "
                               "card: run the card on a new plate"),
    ("rejected_by_qc_alone", "rejected by QC"),
    ("not_relabelled", "held well {well} holds sample {sample}; it can be attached only to the "
                       "card with that barcode (a well is never relabelled)"),
    ("no_card", "no card with barcode {barcode}; accession the card first"),
    ("card_not_waiting", "card {barcode} is {state}; a held well is attached only to a card "
                         "waiting for its first results"),
    ("no_values", "held well {well} has no values to attach"),
    ("note_for_arrived", "give a note for attaching the held wells"),
), fields={"plate": r"\S+", "run": r"\d+", "sha256": r"[0-9a-f]+", "n": r"\d+", "held": r"\d+",
           "status": r"\w+", "well": r"\S+", "state": r"\w+", "barcode": r"\S+",
           "file_name": r"[^:]+"})
