"""Read a submitter's card-data CSV (one row per card) into :class:`AccessionRecord` objects.

Columns (UTF-8, header row; only the first four are required, the others may be absent or
empty): ``barcode``, ``submitter``, ``collected_at``, ``birth_at`` (ISO 8601; without an offset
a time is in ``default_tz``), ``sex`` (M, F, U), ``baby_family_name``, ``baby_given_name``,
``medical_record_number``, ``mother_family_name``, ``mother_given_name``, ``mother_id``,
``birth_weight_g`` (whole grams), ``gestational_age_weeks``, ``feeding`` (breast, formula, mixed,
tpn, none, unknown), ``tpn``, ``transfused``, ``nicu``, ``multiple_birth`` (1/0, yes/no,
true/false), ``transfused_at``, ``kind`` (initial, repeat), ``birth_order``,
``placer_order_number``; the context the reflex second tier reads: ``tpn_started_at``,
``tpn_stopped_at`` (times), ``pivalate_exposure`` (an antibiotic with pivalate, or a pivalate
nipple balm), ``maternal_b12_low`` (flags), ``maternal_diet`` (e.g. vegan, vegetarian),
``maternal_disorder`` (text). An unknown column, a row with fewer or more cells than the header
(a file cut short ends in one), a malformed value or a bar code given twice raises
:class:`CardFileError` naming the file, line and column; nothing from the file is returned then.

Public names: ``read_cards_csv``, ``CardFileError``, ``CARD_COLUMNS``.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from reports.hl7.errors import Hl7Error
from reports.hl7.model import FEEDINGS, PersonName
from reports.hl7.records import AccessionRecord

__all__ = ["CARD_COLUMNS", "CardFileError", "read_cards_csv"]

_REQUIRED = ("barcode", "submitter", "collected_at", "birth_at")
CARD_COLUMNS: tuple[str, ...] = (
    *_REQUIRED, "sex", "baby_family_name", "baby_given_name", "medical_record_number",
    "mother_family_name", "mother_given_name", "mother_id", "birth_weight_g",
    "gestational_age_weeks", "feeding", "tpn", "transfused", "transfused_at", "nicu", "kind",
    "multiple_birth", "birth_order", "placer_order_number", "tpn_started_at",
    "tpn_stopped_at", "pivalate_exposure", "maternal_b12_low", "maternal_diet",
    "maternal_disorder",
)
_TRUE, _FALSE = {"1", "y", "yes", "true"}, {"0", "n", "no", "false"}


class CardFileError(Hl7Error):
    """A card-data file cannot be read; names the file, line and column."""

    def __init__(self, message: str, *, file: str, line: int, column: str | None = None) -> None:
        where = f"{file}, line {line}" + (f", column {column}" if column else "")
        super().__init__(f"{where}: {message}")
        self.file, self.line, self.column = file, line, column


def _time(tz: tzinfo) -> Callable[[str], datetime]:
    def parse(text: str) -> datetime:
        value = datetime.fromisoformat(text)
        return value if value.tzinfo else value.replace(tzinfo=tz)
    return parse


def _flag(text: str) -> bool:
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise ValueError(f"{text!r} is not 1/0, yes/no or true/false")


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(f"{text!r} is not one of {', '.join(allowed)}")
        return text
    return parse


def _whole(text: str) -> int:
    if not text.isdigit():
        raise ValueError(f"{text!r} is not a whole number")
    return int(text)


def _weeks(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a number")
    return value


def _parsers(tz: tzinfo) -> dict[str, Callable[[str], Any]]:
    time = _time(tz)
    return {"collected_at": time, "birth_at": time, "transfused_at": time,
            "sex": _choice("M", "F", "U"), "birth_weight_g": _whole,
            "gestational_age_weeks": _weeks, "feeding": _choice(*FEEDINGS), "tpn": _flag,
            "transfused": _flag, "nicu": _flag, "multiple_birth": _flag,
            "kind": _choice("initial", "repeat"), "birth_order": _whole,
            "tpn_started_at": time, "tpn_stopped_at": time, "pivalate_exposure": _flag,
            "maternal_b12_low": _flag}


def _record(row: dict[str, str], line: int, file: str, tz: tzinfo) -> AccessionRecord:
    values: dict[str, Any] = {}
    parsers = _parsers(tz)
    for column in CARD_COLUMNS:
        text = (row.get(column) or "").strip()
        if not text:
            if column in _REQUIRED:
                raise CardFileError("is empty", file=file, line=line, column=column)
            continue
        try:
            values[column] = parsers.get(column, str)(text)
        except ValueError as exc:
            raise CardFileError(str(exc), file=file, line=line, column=column) from None
    if values.get("transfused_at") is not None:
        values.setdefault("transfused", True)
    for who in ("baby", "mother"):
        family = values.pop(f"{who}_family_name", "")
        given = values.pop(f"{who}_given_name", "")
        if family or given:
            values[f"{who}_name"] = PersonName(family, given)
    return AccessionRecord(**values, line=line)


def read_cards_csv(source: Path | str | io.TextIOBase, *,
                   default_tz: tzinfo = UTC) -> list[AccessionRecord]:
    """Every card of a submitter's CSV, all or nothing (see the module docstring)."""
    if isinstance(source, io.TextIOBase):
        name, text = getattr(source, "name", "<stream>"), source.read()
    else:
        name = str(source)
        try:
            text = Path(source).read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CardFileError(f"not UTF-8 ({exc.reason})", file=name, line=1) from None
        except OSError as exc:
            raise CardFileError(f"cannot read: {exc.strerror or exc}", file=name, line=1) from None
    reader = csv.DictReader(io.StringIO(text))
    try:
        return _records(reader, name, default_tz)
    except csv.Error as exc:
        detail = ("a line break inside a cell that is not quoted" if "new-line" in str(exc)
                  else str(exc))
        raise CardFileError(f"is not a well-formed CSV: {detail}", file=name,
                            line=reader.line_num + 1) from None


def _records(reader: csv.DictReader, name: str, default_tz: tzinfo) -> list[AccessionRecord]:
    unknown = [c for c in reader.fieldnames or [] if c not in CARD_COLUMNS]
    missing = [c for c in _REQUIRED if c not in (reader.fieldnames or [])]
    if unknown or missing:
        problem = (f"unknown column(s) {', '.join(unknown)}" if unknown
                   else f"missing column(s) {', '.join(missing)}")
        raise CardFileError(f"{problem}; the columns are {', '.join(CARD_COLUMNS)}", file=name,
                            line=1)
    records: list[AccessionRecord] = []
    first_line: dict[str, int] = {}
    rows = [(row, reader.line_num) for row in reader]
    width = len(reader.fieldnames or [])
    for index, (row, line) in enumerate(rows):
        if None in row:
            raise CardFileError("has more cells than the header", file=name, line=line)
        cells = sum(value is not None for value in row.values())
        if cells < width:  # a row cut short: its missing cells are not empty values
            hint = ("the file may be cut short" if index == len(rows) - 1
                    else "a cell or a separator is missing")
            raise CardFileError(f"line {line} has {cells} of {width} fields ({hint})",
                                file=name, line=line)
        record = _record(row, line, name, default_tz)
        if record.barcode in first_line:
            raise CardFileError(f"bar code {record.barcode} is also on line "
                                f"{first_line[record.barcode]}", file=name,
                                line=line, column="barcode")
        first_line[record.barcode] = line
        records.append(record)
    return records
