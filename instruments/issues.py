"""The warnings the readers write (``Issue`` of severity ``warning``, ``instruments.run``) as
phrases (``msms.phrases``): a run keeps them among its QC reasons as ``str(issue)``
(``warning: <file>:<line> [<field>]: <message>``), and whoever shows them in another language
reads the message back into its code and fields and words it again (:func:`word_issue`). A
run with an error is never returned, so errors and notes (``info``) are not stored with a run.
The errors a person uploading a file meets most (a plate map that cannot be used, a header
without the profile's columns, an analyte no profile maps, a unit, a well with two samples or
none, a plate map the file does not fit) are phrases too (``READER_ERRORS``), so that the
pages show them in their language; the others stay plain sentences.

Fields that name things in the file (a compound, a column, a well, a sample id, a value as
written) are kept as written; so are the profile's settings (``values.censored``) a person
changes to act on a warning.

Public names: ``READER_ERRORS``, ``WARNINGS``, ``read_issue``, ``word_issue``.
"""

from __future__ import annotations

from msms.phrases import Phrase, Phrasebook
from msms.qc.messages import FindingWords

__all__ = ["READER_ERRORS", "WARNINGS", "read_issue", "word_issue"]

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

#: The errors of ``instruments.platemap``, ``instruments.delimited`` and
#: ``instruments.normalise`` a person uploading a file meets (``more_errors``: the first of
#: several, ``instruments.errors.ValidationError``; its ``message`` is read back again).
READER_ERRORS = Phrasebook((
    ("more_errors", "{message} (and {n} more error(s))"),
    # instruments.platemap
    ("map_empty", "is empty"),
    ("map_no_well", "header lacks a 'well' column"),
    ("map_no_sample", "header needs 'sample_id' (or 'barcode') or 'sample_type'"),
    ("map_fields", "has {n} fields, the header has {expected}"),
    ("map_sample_type", "{value} is not one of {choices}"),
    ("map_well_twice", "well {well} already given on line {line}"),
    ("map_file_twice", "file {file} already given on line {line}"),
    ("map_no_wells", "holds no wells"),
    # instruments.delimited
    ("no_header", "is empty (no header line)"),
    ("named_twice", "column(s) named twice: {columns}"),
    ("no_required_column", "the file has no column {column} (profile columns.{setting}); "
                           "its header is {header}"),
    # instruments.normalise
    ("unmapped", "unmapped analyte {compound}: not a catalogue code or alias; map it in the "
                 "profile's [analytes] table (or to \"ignore\")"),
    ("no_position", "sample {sample} has no well position"),
    ("two_samples", "well {well} holds two samples: {first} (line {line}) and {second}"),
    ("unit", "unit {unit} is not µmol/L; concentrations must be in µmol/L blood"),
    ("given_twice", "{analyte} {kind} for well {well} given twice with different values "
                    "({first} on line {line}, {second})"),
    ("no_measurements", "no measurements: the file holds no value for any mapped analyte"),
    ("map_lacks_wells", "the plate map lists {n} well(s) the file lacks: {wells} (a file cut "
                        "short, or the map of another plate)"),
    ("sample_differs", "well {well}: the file says sample {file_sample}, the plate map says "
                       "{map_sample}"),
    ("no_sample_id_in_map", "well {well} has no sample id: the file gives none and the plate "
                            "map has no barcode for it"),
    ("no_sample_id_not_in_map", "well {well} has no sample id: the file gives none and the "
                                "plate map does not list the well"),
    ("no_sample_id", "well {well} has no sample id: the file gives none and no plate map "
                     "gives one (--plate-map MAP.csv: well, barcode)"),
), fields={**_FIELDS, "line": r"\d+", "expected": r"\d+", "kind": r"\w+"})

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
