"""The code tables HL7 messages are built from, read from ``reports/hl7/data`` with their sources.

- ``concepts.csv``: every fixed code a message uses (panels, observation questions, answers,
  units, the specimen type, profile identifiers), keyed by a concept name such as
  ``obs.birth_weight`` or ``answer.in_range``;
- ``analytes.csv`` and ``ratios.csv``: the LOINC code of each catalogue analyte and ratio and the
  panel it is reported in (empty: no LOINC code was found; it goes under the local system ``L``
  with the catalogue's code);
- ``categories.csv``: each disorder category's panel and interpretation question.

Disorders, their names, categories and LOINC answer (LA) codes come from the disorder catalogue
(``msms/data/disorders.csv``); a disorder without an LA code goes under the local system ``L``.
Every row carries its source. Loading checks that every catalogue analyte, ratio and disorder
category has its codes, and names the file, line and column of the first problem.

Public names: ``Coded``, ``MeasurementCode``, ``DisorderCode``, ``CodeTables``, ``load_codes``,
``default_codes``, ``DATA_DIR``, ``REQUIRED_CONCEPTS``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from msms.catalogue import Catalogue, default_catalogue, read_rows
from msms.ratios import ratio_catalogue
from reports.hl7.er7 import escape
from reports.hl7.errors import CodeTableError

__all__ = [
    "DATA_DIR",
    "REQUIRED_CONCEPTS",
    "CodeTables",
    "Coded",
    "DisorderCode",
    "MeasurementCode",
    "default_codes",
    "load_codes",
]

DATA_DIR = Path(str(resources.files("reports.hl7") / "data"))
_LOINC = re.compile(r"\d{1,6}-\d")
_LOCAL = "system.local"
#: The concepts the message builders and readers use; a concepts file must define them all.
REQUIRED_CONCEPTS: frozenset[str] = frozenset({
    "profile.lri_ng_frn", "profile.lri_ndbs",
    "panel.newborn_screening", "panel.summary", "panel.card", "panel.results",
    "obs.sample_quality", "obs.overall", "obs.positive_conditions", "obs.equivocal_conditions",
    "obs.conditions_tested", "obs.narrative", "obs.barcode", "obs.reason", "obs.birth_weight",
    "obs.gestational_age", "obs.age_at_collection", "obs.feeding", "obs.infant_factors",
    "obs.transfusion_date", "obs.tpn_started", "obs.tpn_stopped", "obs.pivalate_exposure",
    "obs.maternal_b12_low", "obs.maternal_diet", "obs.maternal_disorder",
    "answer.in_range", "answer.out_of_range", "answer.immediate_referral",
    "answer.all_in_range", "answer.some_out_of_range", "answer.none", "answer.acceptable",
    "answer.initial_screen", "answer.subsequent_protocol", "answer.subsequent_law",
    "answer.subsequent_unknown", "answer.breast_milk", "answer.lactose_formula",
    "answer.lactose_free_formula", "answer.tpn", "answer.npo", "answer.nicu",
    "answer.transfusion", "answer.antibiotics",
    "specimen.dried_blood_spot", "unit.umol_l", "unit.ratio", "unit.gram", "unit.week",
    "unit.hour", "relationship.mother", _LOCAL,
})


@dataclass(frozen=True, slots=True)
class Coded:
    """A code, its display text and its coding system; ``cwe`` is the escaped CWE/CE field."""

    code: str
    display: str
    system: str
    cwe: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cwe",
                           f"{escape(self.code)}^{escape(self.display)}^{escape(self.system)}")


@dataclass(frozen=True, slots=True)
class MeasurementCode:
    """How an analyte or ratio is reported: its code (LOINC or local) and its panel concept."""

    coded: Coded
    panel: str


@dataclass(frozen=True, slots=True)
class DisorderCode:
    """A catalogue disorder: its answer code (LA, or local), category, and the panel and
    question (concept names) its interpretation is reported under: the disorder group's LOINC
    question, since LOINC discourages the disorder-specific ones."""

    code: str
    name: str
    category: str
    answer: Coded
    panel: str
    question: str
    #: OBX-3 of the disorder's interpretation: the group question with the disorder as the
    #: alternate (local) code, escaped.
    question_cwe: str


@dataclass(frozen=True, slots=True)
class CodeTables:
    concepts: Mapping[str, Coded]
    analytes: Mapping[str, MeasurementCode]
    ratios: Mapping[str, MeasurementCode]
    disorders: Mapping[str, DisorderCode]
    #: Disorders with a LOINC answer code, in catalogue order (the default conditions tested).
    coded_disorders: tuple[str, ...]

    def __getitem__(self, concept: str) -> Coded:
        return self.concepts[concept]


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    for line, row in read_rows(path, columns, CodeTableError):
        values = {c: row[c].strip() for c in columns}
        for column in columns:
            if column not in ("display", "loinc", "note") and not values[column]:
                raise CodeTableError("is empty", file=str(path), line=line, field=column)
        yield line, values


def _concepts(path: Path) -> dict[str, Coded]:
    concepts: dict[str, Coded] = {}
    for line, row in _rows(path, ("concept", "code", "display", "system", "source")):
        if row["concept"] in concepts:
            raise CodeTableError(f"duplicate concept {row['concept']!r}", file=str(path),
                                 line=line, field="concept")
        concepts[row["concept"]] = Coded(row["code"], row["display"], row["system"])
    missing = sorted(REQUIRED_CONCEPTS - concepts.keys())
    if missing:
        raise CodeTableError(f"missing concept(s) {', '.join(missing)}", file=str(path))
    return concepts


def _measurements(path: Path, key: str, names: Mapping[str, str],
                  concepts: Mapping[str, Coded]) -> dict[str, MeasurementCode]:
    """Rows of analytes.csv or ratios.csv; ``names`` maps each catalogue code to its name."""
    table: dict[str, MeasurementCode] = {}
    for line, row in _rows(path, (key, "loinc", "display", "panel", "source", "note")):
        code = row[key]
        if code not in names:
            raise CodeTableError(f"{code!r} is not in the catalogue", file=str(path), line=line,
                                 field=key)
        if code in table:
            raise CodeTableError(f"duplicate {key} {code!r}", file=str(path), line=line,
                                 field=key)
        if f"panel.{row['panel']}" not in concepts:
            raise CodeTableError(f"no concept panel.{row['panel']}", file=str(path), line=line,
                                 field="panel")
        if row["loinc"] and not _LOINC.fullmatch(row["loinc"]):
            raise CodeTableError(f"{row['loinc']!r} is not a LOINC code", file=str(path),
                                 line=line, field="loinc")
        if row["loinc"] and not row["display"]:
            raise CodeTableError("is empty", file=str(path), line=line, field="display")
        coded = (Coded(row["loinc"], row["display"], "LN") if row["loinc"]
                 else Coded(code, names[code], concepts[_LOCAL].code))
        table[code] = MeasurementCode(coded, f"panel.{row['panel']}")
    missing = [c for c in names if c not in table]
    if missing:
        raise CodeTableError(f"no row for {', '.join(missing)}", file=str(path))
    return table


def _disorders(path: Path, catalogue: Catalogue,
               concepts: Mapping[str, Coded]) -> dict[str, DisorderCode]:
    groups: dict[str, tuple[str, str]] = {}
    for line, row in _rows(path, ("category", "panel", "interpretation", "source")):
        for column in ("panel", "interpretation"):
            if row[column] not in concepts:
                raise CodeTableError(f"no concept {row[column]}", file=str(path), line=line,
                                     field=column)
        groups[row["category"]] = (row["panel"], row["interpretation"])
    local = concepts[_LOCAL].code
    table: dict[str, DisorderCode] = {}
    for disorder in catalogue.disorders:
        if disorder.category not in groups:
            raise CodeTableError(f"no row for category {disorder.category!r}", file=str(path))
        panel, question = groups[disorder.category]
        answer = (Coded(disorder.loinc_answer, disorder.name, "LN") if disorder.loinc_answer
                  else Coded(disorder.code, disorder.name, local))
        question_cwe = (f"{concepts[question].cwe}^{escape(disorder.code)}"
                        f"^{escape(disorder.name)}^{escape(local)}")
        table[disorder.code] = DisorderCode(disorder.code, disorder.name, disorder.category,
                                            answer, panel, question, question_cwe)
    return table


def load_codes(data_dir: Path | str = DATA_DIR, *,
               catalogue: Catalogue | None = None) -> CodeTables:
    """Read and check the code tables in ``data_dir`` against the catalogues.

    Raises :class:`CodeTableError` naming the file, line and column of the first problem.
    """
    directory = Path(data_dir)
    catalogue = catalogue or default_catalogue()
    concepts = _concepts(directory / "concepts.csv")
    analytes = _measurements(directory / "analytes.csv", "analyte",
                             {a.code: a.name for a in catalogue.analytes}, concepts)
    ratios = _measurements(directory / "ratios.csv", "ratio",
                           {r.name: r.name for r in ratio_catalogue()}, concepts)
    disorders = _disorders(directory / "categories.csv", catalogue, concepts)
    coded = tuple(d.code for d in catalogue.disorders if d.loinc_answer)
    return CodeTables(MappingProxyType(concepts), MappingProxyType(analytes),
                      MappingProxyType(ratios), MappingProxyType(disorders), coded)


@cache
def default_codes() -> CodeTables:
    """The packaged code tables against the packaged catalogues (loaded once)."""
    return load_codes()
