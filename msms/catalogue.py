"""Reference catalogues of analytes and disorders, loaded into frozen, validated objects.

The catalogues are package data copied from the shared reference (``msms/data/analytes.csv`` and
``msms/data/disorders.csv``) with their sources. Loading checks every row and names the file,
line and field of the first problem.

Public names: ``Analyte``, ``Disorder``, ``Catalogue``, ``load_catalogue``, ``analytes``,
``disorders``, ``resolve``, ``default_catalogue``, ``read_rows``, ``ANALYTES_CSV``,
``DISORDERS_CSV``, ``ANALYTE_CLASSES``, ``DISORDER_CATEGORIES``.
"""

from __future__ import annotations

import csv
import difflib
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from msms.errors import CatalogueError, UnknownAnalyteError

__all__ = [
    "ANALYTES_CSV",
    "DISORDERS_CSV",
    "DISORDER_CATEGORIES",
    "Analyte",
    "Catalogue",
    "Disorder",
    "analytes",
    "default_catalogue",
    "disorders",
    "load_catalogue",
    "read_rows",
    "resolve",
]

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_DATA = resources.files("msms") / "data"
ANALYTES_CSV = Path(str(_DATA / "analytes.csv"))
DISORDERS_CSV = Path(str(_DATA / "disorders.csv"))

ANALYTE_CLASSES = frozenset({"amino_acid", "acylcarnitine", "other"})
_ANALYTE_COLUMNS = (
    "code", "name", "class", "aliases", "nonderiv_precursor_mz", "nonderiv_product_mz",
    "butyl_precursor_mz", "butyl_product_mz", "isobars", "internal_standard",
    "pop_median_umol_l", "pop_p1_umol_l", "pop_p99_umol_l", "pop_provenance",
    "example_cutoffs", "source",
)
#: The disorder categories of the packaged catalogue; a cutoff rule file exists for each.
DISORDER_CATEGORIES = frozenset({
    "amino_acid", "urea_cycle", "organic_acid", "fatty_acid_oxidation", "peroxisomal",
    "immunodeficiency", "acquired",
})
_DISORDER_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]*")
#: LOINC answer codes as the packaged catalogue writes them: LA, up to five digits, check digit.
_LOINC_ANSWER = re.compile(r"LA\d{1,5}-\d")
_TIME_CRITICAL = re.compile(r"(yes|no|n/a)(?:\s*\([^()]*\))?", re.IGNORECASE)
_DIRECTION = re.compile(r"\b(?:high|low)\b", re.IGNORECASE)
#: Acylcarnitine-like tokens in marker text: C8, C5DC, C14:1, C16:1OH, C26:0-LPC (a "+"-joined
#: sum is checked by its first part: C16:1OH+C17 names C16:1OH; C17 is not on the panel).
_MARKER_TOKEN = re.compile(r"(?<![\w:+-])C\d[\w:-]*")
_DISORDER_REQUIRED = (
    "code", "name", "category", "primary_markers", "typical_cutoffs", "rusp_status",
    "confirmatory_tests",
)
_DISORDER_COLUMNS = (
    "code", "name", "category", "loinc_answer", "primary_markers", "secondary_markers_ratios",
    "typical_cutoffs", "cutoff_source", "birth_prevalence", "prevalence_source",
    "prevalence_china", "prevalence_china_source", "rusp_status", "time_critical",
    "time_critical_source", "confirmatory_tests", "notes",
)


@dataclass(frozen=True, slots=True)
class Analyte:
    """One analyte of the screening panel; concentrations are µmol/L blood."""

    code: str
    name: str
    analyte_class: str
    aliases: tuple[str, ...]
    # m/z columns are kept as written: some name alternatives, e.g. "159.077 (NL17) or 113.071"
    nonderiv_precursor_mz: str
    nonderiv_product_mz: str
    butyl_precursor_mz: str
    butyl_product_mz: str
    isobars: str
    internal_standard: str
    pop_median_umol_l: float
    pop_p1_umol_l: float
    pop_p99_umol_l: float
    pop_provenance: str
    example_cutoffs: str
    source: str

    def transition(self, *, butylated: bool = False) -> tuple[float, float] | None:
        """The first (precursor, product) m/z pair the catalogue gives, or None if it has none."""
        pre, prod = (
            (self.butyl_precursor_mz, self.butyl_product_mz)
            if butylated
            else (self.nonderiv_precursor_mz, self.nonderiv_product_mz)
        )
        pre_mz, prod_mz = _first_number(pre), _first_number(prod)
        if pre_mz is None or prod_mz is None:
            return None
        return pre_mz, prod_mz


def _first_number(text: str) -> float | None:
    match = _NUMBER.search(text)
    return float(match.group()) if match else None


@dataclass(frozen=True, slots=True)
class Disorder:
    """One screened disorder, as the catalogue describes it (markers are free text here)."""

    code: str
    name: str
    category: str
    loinc_answer: str
    primary_markers: str
    secondary_markers_ratios: str
    typical_cutoffs: str
    cutoff_source: str
    birth_prevalence: str
    prevalence_source: str
    prevalence_china: str
    prevalence_china_source: str
    rusp_status: str
    time_critical: bool | None  # None: not stated (secondary targets, "n/a")
    time_critical_source: str
    confirmatory_tests: str
    notes: str


def _key(name: str) -> str:
    return name.strip().casefold()


@dataclass(frozen=True)
class Catalogue:
    """Both catalogues with an alias index; build it with :func:`load_catalogue`."""

    analytes: tuple[Analyte, ...]
    disorders: tuple[Disorder, ...]
    _index: dict[str, str]

    def analyte(self, name: str) -> Analyte:
        """The analyte a code or alias names (case-insensitive)."""
        code = self.resolve(name)
        return next(a for a in self.analytes if a.code == code)

    def disorder(self, code: str) -> Disorder:
        for d in self.disorders:
            if d.code == code:
                return d
        close = difflib.get_close_matches(code, [d.code for d in self.disorders], n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise KeyError(f"unknown disorder {code!r}{hint}")

    def resolve(self, name: str) -> str:
        """The canonical analyte code for a code or vendor alias (``"C05DC"`` -> ``"C5DC+C6OH"``).

        Raises :class:`UnknownAnalyteError` with close matches when nothing fits.
        """
        code = self._index.get(_key(name))
        if code is not None:
            return code
        candidates = sorted(self._index)
        close = difflib.get_close_matches(_key(name), candidates, n=5, cutoff=0.6)
        suggestions = list(dict.fromkeys(self._index[c] for c in close))
        raise UnknownAnalyteError(name, suggestions)

    def try_resolve(self, name: str) -> str | None:
        """Like :meth:`resolve` but returns None for an unknown name."""
        return self._index.get(_key(name))

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(a.code for a in self.analytes)

    def __iter__(self) -> Iterator[Analyte]:
        return iter(self.analytes)


def read_rows(path: Path, columns: tuple[str, ...],
              error: Callable[..., Exception] = CatalogueError
              ) -> Iterator[tuple[int, dict[str, str]]]:
    """The non-blank rows of a reference CSV as ``(line, {column: cell})``; a file that cannot
    be read, lacks one of ``columns`` or has a row of the wrong width raises ``error`` naming
    the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"not UTF-8 ({exc.reason})", file=str(path)) from None
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror}", file=str(path)) from None
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if header is None:
        raise error("empty file", file=str(path), line=1)
    missing = [c for c in columns if c not in header]
    if missing:
        raise error(
            f"header lacks column(s) {', '.join(missing)}", file=str(path), line=1, field=missing[0]
        )
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise error(
                f"has {len(row)} fields, the header has {len(header)}", file=str(path), line=number
            )
        yield number, dict(zip(header, row, strict=True))


def _required(row: dict[str, str], field: str, path: Path, line: int) -> str:
    value = row[field].strip()
    if not value:
        raise CatalogueError("is empty", file=str(path), line=line, field=field)
    return value


def _number(row: dict[str, str], field: str, path: Path, line: int) -> float:
    text = row[field].strip()
    try:
        value = float(text)
    except ValueError:
        raise CatalogueError(
            f"{text!r} is not a number", file=str(path), line=line, field=field
        ) from None
    if not math.isfinite(value) or value < 0:
        raise CatalogueError(
            f"{text!r} must be a finite non-negative number", file=str(path), line=line, field=field
        )
    return value


def _mz_text(row: dict[str, str], field: str, path: Path, line: int) -> str:
    text = row[field].strip()
    if text and _first_number(text) is None:
        raise CatalogueError(f"{text!r} holds no m/z value", file=str(path), line=line, field=field)
    return text


def _parse_analyte(row: dict[str, str], path: Path, line: int) -> Analyte:
    code = _required(row, "code", path, line)
    cls = _required(row, "class", path, line)
    if cls not in ANALYTE_CLASSES:
        raise CatalogueError(
            f"{cls!r} is not one of {', '.join(sorted(ANALYTE_CLASSES))}",
            file=str(path), line=line, field="class",
        )
    median = _number(row, "pop_median_umol_l", path, line)
    p1 = _number(row, "pop_p1_umol_l", path, line)
    p99 = _number(row, "pop_p99_umol_l", path, line)
    if not p1 <= median <= p99:
        raise CatalogueError(
            f"needs p1 <= median <= p99, got {p1} / {median} / {p99}",
            file=str(path), line=line, field="pop_median_umol_l",
        )
    aliases = tuple(a.strip() for a in row["aliases"].split("|") if a.strip())
    return Analyte(
        code=code,
        name=_required(row, "name", path, line),
        analyte_class=cls,
        aliases=aliases,
        nonderiv_precursor_mz=_mz_text(row, "nonderiv_precursor_mz", path, line),
        nonderiv_product_mz=_mz_text(row, "nonderiv_product_mz", path, line),
        butyl_precursor_mz=_mz_text(row, "butyl_precursor_mz", path, line),
        butyl_product_mz=_mz_text(row, "butyl_product_mz", path, line),
        isobars=row["isobars"].strip(),
        internal_standard=row["internal_standard"].strip(),
        pop_median_umol_l=median,
        pop_p1_umol_l=p1,
        pop_p99_umol_l=p99,
        pop_provenance=row["pop_provenance"].strip(),
        example_cutoffs=row["example_cutoffs"].strip(),
        source=row["source"].strip(),
    )


def _parse_time_critical(row: dict[str, str], path: Path, line: int) -> bool | None:
    """``Yes`` / ``No`` (optionally with a note in brackets), ``n/a ...`` or empty (None).

    A stated Yes or No needs its ``time_critical_source``.
    """
    text = row["time_critical"].strip()
    if not text:
        return None
    match = _TIME_CRITICAL.fullmatch(text)
    if match is None:
        raise CatalogueError(
            f"{text!r} is not Yes, No or n/a (optionally followed by a note in brackets)",
            file=str(path), line=line, field="time_critical",
        )
    answer = match.group(1).casefold()
    if answer == "n/a":
        return None
    if not row["time_critical_source"].strip():
        raise CatalogueError(
            f"is empty, but time_critical says {text!r}; give the source of that statement",
            file=str(path), line=line, field="time_critical_source",
        )
    return answer == "yes"


def _marker_analyte(token: str, index: dict[str, str]) -> str | None:
    """The analyte a marker token names: a code, an alias, or one part of a summed code
    (``C4OH`` is measured as ``C3DC+C4OH``)."""
    code = index.get(_key(token))
    if code is not None:
        return code
    return next((c for c in dict.fromkeys(index.values()) if "+" in c
                 and _key(token) in (_key(part) for part in c.split("+"))), None)


def _check_marker_analytes(row: dict[str, str], field: str, path: Path, line: int,
                           index: dict[str, str]) -> None:
    """Every acylcarnitine-like token (``C8``, ``C5DC``, ``C14:1/C2``, ``C26:0-LPC``) of a marker
    field names an analyte of the analyte catalogue."""
    for token in _MARKER_TOKEN.findall(row[field]):
        if _marker_analyte(token, index) is None:
            close = difflib.get_close_matches(_key(token), list(index), n=3, cutoff=0.6)
            hint = sorted({index[c] for c in close})
            suggestion = f"; did you mean {', '.join(hint)}?" if hint else ""
            raise CatalogueError(
                f"{token!r} names no analyte of the analyte catalogue{suggestion}",
                file=str(path), line=line, field=field,
            )


def _primary_markers(row: dict[str, str], path: Path, line: int, index: dict[str, str]) -> str:
    """Each ``;``-separated primary marker says its direction (high or low) and names analytes
    of the analyte catalogue."""
    text = _required(row, "primary_markers", path, line)
    for part in text.split(";"):
        if not _DIRECTION.search(part):
            raise CatalogueError(
                f"marker {part.strip()!r} says neither 'high' nor 'low'",
                file=str(path), line=line, field="primary_markers",
            )
    _check_marker_analytes(row, "primary_markers", path, line, index)
    return text


def _parse_disorder(row: dict[str, str], path: Path, line: int,
                    analyte_index: dict[str, str]) -> Disorder:
    # every column as text but ``time_critical``, which the Disorder holds parsed
    fields = {name: row[name].strip() for name in _DISORDER_COLUMNS if name != "time_critical"}
    for name in _DISORDER_REQUIRED:
        _required(row, name, path, line)
    if not _DISORDER_CODE.fullmatch(fields["code"]):
        raise CatalogueError(
            f"{fields['code']!r} is not a disorder code (capital letters, digits and '-',"
            " e.g. PKU, H-PHE, 3MCC)", file=str(path), line=line, field="code",
        )
    if fields["category"] not in DISORDER_CATEGORIES:
        raise CatalogueError(
            f"{fields['category']!r} is not one of {', '.join(sorted(DISORDER_CATEGORIES))}",
            file=str(path), line=line, field="category",
        )
    if fields["loinc_answer"] and not _LOINC_ANSWER.fullmatch(fields["loinc_answer"]):
        raise CatalogueError(
            f"{fields['loinc_answer']!r} is not a LOINC answer code (LA then digits, '-' and a"
            " check digit, e.g. LA12520-5)", file=str(path), line=line, field="loinc_answer",
        )
    _primary_markers(row, path, line, analyte_index)
    _check_marker_analytes(row, "secondary_markers_ratios", path, line, analyte_index)
    return Disorder(**fields, time_critical=_parse_time_critical(row, path, line))


def load_catalogue(
    analytes_csv: Path | str = ANALYTES_CSV, disorders_csv: Path | str = DISORDERS_CSV
) -> Catalogue:
    """Read and validate both catalogues.

    Codes must be unique, and every alias (compared case-insensitively) may name only one analyte.
    Disorder codes, names and LOINC answer codes are unique; each disorder's category is one of
    :data:`DISORDER_CATEGORIES`, its time_critical Yes / No (with a source) / n/a / empty, and its
    primary markers state a direction; acylcarnitine codes in the marker fields name analytes.
    Raises :class:`CatalogueError` naming the file, line and field of the first problem.
    """
    a_path, d_path = Path(analytes_csv), Path(disorders_csv)
    analyte_list: list[Analyte] = []
    index: dict[str, str] = {}
    seen_lines: dict[str, int] = {}
    for line, row in read_rows(a_path, _ANALYTE_COLUMNS):
        analyte = _parse_analyte(row, a_path, line)
        if any(a.code == analyte.code for a in analyte_list):
            raise CatalogueError(
                f"duplicate code {analyte.code!r}", file=str(a_path), line=line, field="code"
            )
        for name, field in [(analyte.code, "code"), *((a, "aliases") for a in analyte.aliases)]:
            key = _key(name)
            owner = index.get(key)
            if owner is not None and owner != analyte.code:
                raise CatalogueError(
                    f"{name!r} already names {owner} (line {seen_lines[key]})",
                    file=str(a_path), line=line, field=field,
                )
            index[key] = analyte.code
            seen_lines.setdefault(key, line)
        analyte_list.append(analyte)
    disorder_list: list[Disorder] = []
    disorder_lines: dict[tuple[str, str], int] = {}
    for line, row in read_rows(d_path, _DISORDER_COLUMNS):
        disorder = _parse_disorder(row, d_path, line, index)
        for field, value in (("code", disorder.code), ("name", disorder.name),
                             ("loinc_answer", disorder.loinc_answer)):
            first = disorder_lines.get((field, _key(value)))
            if value and first is not None:
                raise CatalogueError(
                    f"duplicate {field} {value!r} (first on line {first})",
                    file=str(d_path), line=line, field=field,
                )
            disorder_lines[(field, _key(value))] = line
        disorder_list.append(disorder)
    if not analyte_list:
        raise CatalogueError("holds no analytes", file=str(a_path))
    if not disorder_list:
        raise CatalogueError("holds no disorders", file=str(d_path))
    return Catalogue(tuple(analyte_list), tuple(disorder_list), index)


@cache
def _default() -> Catalogue:
    return load_catalogue()


def analytes() -> tuple[Analyte, ...]:
    """The packaged analyte catalogue (loaded once)."""
    return _default().analytes


def disorders() -> tuple[Disorder, ...]:
    """The packaged disorder catalogue (loaded once)."""
    return _default().disorders


def resolve(name: str) -> str:
    """Canonical analyte code for a code or alias in the packaged catalogue."""
    return _default().resolve(name)


def default_catalogue() -> Catalogue:
    """The packaged catalogues (loaded once)."""
    return _default()

