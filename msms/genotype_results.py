"""A molecular laboratory's genotype results for the reflex second tier: a CSV file, one row per
card and gene, the count of pathogenic variants detected (docs/second_tier.md "Genotype
results").

Columns (a header row, any order, other columns ignored):

- ``barcode``: the card's barcode;
- ``gene``: a genotype assay of the assay catalogue (unit ``variants``), by its code or gene
  symbol (``ACADM``, ``ACADVL``; any case);
- ``variants_detected``: 0, 1 or 2 (a variant of uncertain significance counts as one);
- ``variants`` (optional): the variants as HGVS text, kept for the reviewer;
- ``reported_at``: when the laboratory reported it, ISO 8601 (a date, or a date and time; a
  time without an offset is read in ``default_tz``);
- ``lab_reference``: the laboratory's reference for the result.

Every row is checked before anything is returned: a missing column or value, a count other
than 0-2, a gene that is not a genotype assay, a text too long to store, or the same card and
gene twice with different results raises ``DataError`` naming the file, line and field. The
same card and gene twice with the same result is read once.

Public names: ``GENOTYPE_FORMAT``, ``GenotypeRow``, ``read_genotype_results``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo

from msms.errors import DataError
from msms.second_tier_assays import second_tier_assays

__all__ = ["GENOTYPE_FORMAT", "GenotypeRow", "read_genotype_results"]

#: The format a stored genotype import records (a second-tier run's ``format``).
GENOTYPE_FORMAT = "genotype_csv"
_REQUIRED = ("barcode", "gene", "variants_detected", "reported_at", "lab_reference")
_LENGTHS = {"barcode": 32, "variants": 500, "lab_reference": 64}
_COUNTS = {"0": 0, "1": 1, "2": 2}


@dataclass(frozen=True)
class GenotypeRow:
    """One card's result for one gene: its line in the file, the assay code, the count of
    pathogenic variants detected, the HGVS text ("" when not given), when it was reported
    (UTC) and the laboratory's reference."""

    line: int
    barcode: str
    assay: str
    variants_detected: int
    variants: str
    reported_at: datetime
    lab_reference: str


def _genes() -> dict[str, str]:
    """Upper-case gene symbol or code -> assay code, for the catalogue's genotypes."""
    return {a.code.upper(): a.code for a in second_tier_assays().values() if a.is_count}


def _reported(text: str, default_tz: tzinfo, name: str, line: int) -> datetime:
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), default_tz).astimezone(UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise DataError(
            f"{text!r} is not an ISO 8601 date or time (2026-12-03 or 2026-12-03T14:20)",
            file=name,
            line=line,
            field="reported_at",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=default_tz)
    return moment.astimezone(UTC)


def read_genotype_results(data: bytes, name: str, *, default_tz: tzinfo = UTC) -> list[GenotypeRow]:
    """The rows of a genotype results file (``name`` for the messages), in file order.

    Raises
    ------
    DataError
        Naming the file, line and field of the first problem; nothing is returned.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text (byte {exc.start})", file=name) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise DataError("the file is empty", file=name, line=1)
    columns = [h.strip().lower() for h in header]
    for column in _REQUIRED:
        if column not in columns:
            raise DataError(
                f"missing column {column!r} (columns: {', '.join(_REQUIRED)}, variants optional)",
                file=name,
                line=1,
                field=column,
            )
    index = {c: columns.index(c) for c in (*_REQUIRED, "variants") if c in columns}
    genes = _genes()
    rows: list[GenotypeRow] = []
    seen: dict[tuple[str, str], GenotypeRow] = {}
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        values = {c: (cells[i].strip() if i < len(cells) else "") for c, i in index.items()}
        for column in _REQUIRED:
            if not values[column]:
                raise DataError("missing value", file=name, line=line, field=column)
        for column, most in _LENGTHS.items():
            if len(values.get(column, "")) > most:
                raise DataError(
                    f"longer than {most} characters", file=name, line=line, field=column
                )
        gene = genes.get(values["gene"].upper())
        if gene is None:
            raise DataError(
                f"{values['gene']!r} is not a genotype assay of the catalogue "
                f"(known: {', '.join(sorted(genes.values()))})",
                file=name,
                line=line,
                field="gene",
            )
        count = _COUNTS.get(values["variants_detected"])
        if count is None:
            raise DataError(
                f"{values['variants_detected']!r} is not a count of pathogenic "
                "variants detected: 0, 1 or 2",
                file=name,
                line=line,
                field="variants_detected",
            )
        row = GenotypeRow(
            line,
            values["barcode"],
            gene,
            count,
            values.get("variants", ""),
            _reported(values["reported_at"], default_tz, name, line),
            values["lab_reference"],
        )
        earlier = seen.get((row.barcode, gene))
        if earlier is None:
            seen[(row.barcode, gene)] = row
            rows.append(row)
            continue
        for field in ("variants_detected", "variants"):
            if getattr(earlier, field) != getattr(row, field):
                raise DataError(
                    f"card {row.barcode} {gene} is on line {earlier.line} with "
                    f"{field} {getattr(earlier, field)!r}, here "
                    f"{getattr(row, field)!r}",
                    file=name,
                    line=line,
                    field=field,
                )
    if not rows:
        raise DataError("no genotype result in the file", file=name, line=2)
    return rows
