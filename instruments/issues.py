"""The warnings the readers write (``Issue`` of severity ``warning``, ``instruments.run``) as
phrases (``msms.phrases``): a run keeps them among its QC reasons as ``str(issue)``
(``warning: <file>:<line> [<field>]: <message>``), and whoever shows them in another language
reads the message back into its code and fields and words it again (:func:`word_issue`). A
run with an error is never returned, so errors and notes (``info``) are not stored with a run
and stay plain sentences.

Fields that name things in the file (a compound, a column, a well, a sample id, a value as
written) are kept as written; so are the profile's settings (``values.censored``) a person
changes to act on a warning.

Public names: ``WARNINGS``, ``read_issue``, ``word_issue``.
"""

from __future__ import annotations

from msms.phrases import Phrase, Phrasebook
from msms.qc.messages import FindingWords

__all__ = ["WARNINGS", "read_issue", "word_issue"]

_FIELDS = {"n": r"\d+", "well": r"\S+", "plate": r"\S+", "control": r"\S+", "role": r"\S+",
           "read_as": r"\S+", "tolerance": r"\S+", "mz": r"\S+", "scan_mz": r"\S+"}

WARNINGS = Phrasebook((
    # instruments.delimited
    ("no_column_sample_ids", "no column {column} (profile columns.{role}): sample ids must come "
                             "from a plate map (well -> barcode)"),
    ("no_column", "no column {column} (profile columns.{role})"),
    ("censored", "censored value {value} in {n} row(s), read as {read_as} (values.censored)"),
    # instruments.masslynx
    ("acquisition_date", "cannot read acquisition date {day}"),
    # instruments.mzml, instruments.mzml_elements
    ("time_unit", "chromatogram {label}: time unit {unit} is not stated or not a time unit; "
                  "times used as minutes only for a plateau window"),
    ("cv_name", "cvParam {accession} is named {written} in the file but {expected} in the "
                "PSI-MS vocabulary; decoded by accession"),
    ("no_polarity", "chromatogram {label} states no polarity; matched on m/z only"),
    ("no_point_precursor", "no data point within {tolerance} m/z of {transition} ({mz}) in the "
                           "precursor scans at {scan_mz}"),
    ("no_point_loss", "no data point within {tolerance} m/z of {transition} ({mz}) in the loss "
                      "scans at {scan_mz}"),
    ("no_sample_list", "no {sample_list}: wells are read from each run id (<plate>_<well>)"),
    # instruments.quandata
    ("no_peak_element", "compound {compound} of sample {sample} has no PEAK"),
    # instruments.normalise
    ("unmapped_ignored", "unmapped analyte {compound} ignored (validation.unmapped_analytes = "
                         "\"ignore\")"),
    ("trays", "positions span autosampler trays {trays}: each tray is a plate of its own "
              "(plate ids {plate}-<tray>)"),
    ("no_peak", "no value (no peak) for {compound} in {n} well(s): {wells}"),
    ("no_blank", "the plate has no blank well (validation.require_blank); plate QC judges it"),
    ("no_blank_of_plate", "plate {plate} has no blank well (validation.require_blank); plate QC "
                          "judges it"),
    ("no_control", "the plate has no {control} control well (validation.require_controls); "
                   "plate QC judges it"),
    ("no_control_of_plate", "plate {plate} has no {control} control well "
                            "(validation.require_controls); plate QC judges it"),
    ("sample_type_differs", "well {well}: the file's sample type {file_type} differs from the "
                            "plate map's {map_type}; the plate map is used"),
    ("not_in_plate_map", "well {well} is not in the plate map"),
    ("sample_type_unmapped", "well {well} ({sample_id}): sample type {vendor_type} is not "
                             "mapped; set to 'unknown'"),
), fields=_FIELDS)

_SEVERITIES = ("error", "warning", "info")


def read_issue(text: str) -> tuple[str, str, Phrase, dict[str, str]] | None:
    """A stored issue (``str(issue)``) as its severity, where it was found (``file:line
    [field]``, '' if nowhere), and the phrase and fields of its message; None when no phrase
    wrote it."""
    severity, sep, rest = text.strip().partition(": ")
    if not sep or severity not in _SEVERITIES:
        return None
    start = 0
    while True:  # the message is what follows the first ": " after which a phrase reads
        found = WARNINGS.parse(rest[start:])
        if found is not None:
            where = rest[:start - 2] if start else ""
            return severity, where, found[0], found[1]
        start = rest.find(": ", start) + 2
        if start == 1:
            return None


def word_issue(text: str, words: FindingWords) -> str | None:
    """A stored issue in a language (``words``): its severity, where, and its message; None
    when no phrase wrote it."""
    read = read_issue(text)
    if read is None:
        return None
    severity, where, phrase, fields = read
    template = words.template(phrase)
    if template is None:
        message = phrase.text(**fields)
    else:  # a required control is named by its sample type
        message = template.format(**{
            name: words.field("sample_type" if name == "control" else name, value)
            for name, value in fields.items()})
    if where:
        message = words.reason.format(step=where, message=message)
    return words.reason.format(step=words.severity(severity), message=message)
