"""The second-tier assay catalogue: analytes measured on the first card after a first-tier flag
(methylcitric and methylmalonic acid, total homocysteine, the C5 isomers, allo-isoleucine,
succinylacetone, glutaric acids, C26:0-LPC) and genotypes read from the same card (the number
of pathogenic ACADM and ACADVL variants detected), as cited package data
(``msms/data/second_tier_assays.csv``).

A concentration assay has unit ``umol/L``. A genotype has unit ``variants`` (:data:`VARIANTS`):
its result is a count (0, 1 or 2 pathogenic variants detected in the gene, a variant of
uncertain significance counted as one), and its four number columns hold counts: the smallest
count reported (``loq_umol_l``, 1), the unaffected babies' median (0) and 99th percentile (1
where carriers exceed 1%), and the count that refers (``cutoff_umol_l``, 2).

Each assay row gives its unit, limit of quantitation, the unaffected reference median and 99th
percentile, the cutoff, the first-tier disorders it informs, the false-positive mechanisms it
resolves (names of the population model, plus ``normal_tail``: an unaffected baby in the tail
of the first-tier marker) and the first-tier markers whose flag it follows. Loading checks every
row and names the file, line and field of the first problem.

Public names: ``SecondTierAssay``, ``load_second_tier_assays``, ``second_tier_assays``,
``SECOND_TIER_ASSAYS_CSV``, ``NORMAL_TAIL``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from msms.catalogue import default_catalogue, read_rows
from msms.errors import CatalogueError, UnknownAnalyteError

__all__ = [
    "NORMAL_TAIL",
    "SECOND_TIER_ASSAYS_CSV",
    "VARIANTS",
    "SecondTierAssay",
    "load_second_tier_assays",
    "second_tier_assays",
]

SECOND_TIER_ASSAYS_CSV = Path(str(resources.files("msms") / "data" / "second_tier_assays.csv"))
#: An unaffected baby whose first-tier marker lies in the population's tail (no mechanism).
NORMAL_TAIL = "normal_tail"
#: The unit of a genotype: pathogenic variants detected in the gene (a count, 0-2).
VARIANTS = "variants"
_COLUMNS = (
    "code", "name", "assay", "unit", "loq_umol_l", "reference_median_umol_l",
    "reference_p99_umol_l", "cutoff_umol_l", "informs", "resolves", "first_tier_markers",
    "figures_provenance", "source",
)
_NUMBERS = ("loq_umol_l", "reference_median_umol_l", "reference_p99_umol_l", "cutoff_umol_l")


@dataclass(frozen=True, slots=True)
class SecondTierAssay:
    """One second-tier analyte; concentrations in µmol/L blood, or a genotype's count of
    variants detected (``unit == "variants"``: the number columns hold counts)."""

    code: str
    name: str
    assay: str
    unit: str
    loq_umol_l: float
    reference_median_umol_l: float
    reference_p99_umol_l: float
    cutoff_umol_l: float
    informs: tuple[str, ...]
    resolves: tuple[str, ...]
    first_tier_markers: tuple[str, ...]
    figures_provenance: str
    source: str

    @property
    def is_count(self) -> bool:
        """A genotype (count of variants detected), not a concentration."""
        return self.unit == VARIANTS


def _split(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split("|") if p.strip())


def _mechanism_names() -> frozenset[str]:
    from msms.population import fp_mechanisms  # the population model names the mechanisms

    return frozenset((NORMAL_TAIL, *fp_mechanisms()))


def _check_marker(name: str, path: Path, line: int) -> None:
    catalogue = default_catalogue()
    for part in name.split("/"):
        try:
            catalogue.resolve(part)
        except UnknownAnalyteError as exc:
            raise CatalogueError(str(exc), file=str(path), line=line,
                                 field="first_tier_markers") from None


_Fail = Callable[[str, str], CatalogueError]


def _concentrations(raw: dict[str, str], fail: _Fail) -> dict[str, float]:
    values: dict[str, float] = {}
    for field in _NUMBERS:
        try:
            value = float(raw[field])
        except ValueError:
            raise fail(field, f"not a number: {raw[field]!r}") from None
        if not math.isfinite(value) or value <= 0:
            raise fail(field, f"must be a positive number, got {raw[field]!r}")
        values[field] = value
    if not values["reference_median_umol_l"] < values["reference_p99_umol_l"]:
        raise fail("reference_p99_umol_l", "must be above the reference median")
    if not values["reference_median_umol_l"] < values["cutoff_umol_l"]:
        raise fail("cutoff_umol_l", "must be above the reference median")
    if not values["loq_umol_l"] < values["cutoff_umol_l"]:
        raise fail("loq_umol_l", "must be below the cutoff")
    return values


def _counts(raw: dict[str, str], fail: _Fail) -> dict[str, float]:
    """A genotype's numbers: counts of variants, 0 <= median <= p99 < cutoff <= 2 and
    1 <= smallest reported count <= cutoff."""
    values: dict[str, float] = {}
    for field in _NUMBERS:
        text = raw[field].strip()
        if text not in ("0", "1", "2"):
            raise fail(field, f"a count of variants must be 0, 1 or 2, got {raw[field]!r}")
        values[field] = float(text)
    if not (values["reference_median_umol_l"] <= values["reference_p99_umol_l"]
            < values["cutoff_umol_l"]):
        raise fail("reference_p99_umol_l", "counts must satisfy median <= p99 < cutoff")
    if not 1 <= values["loq_umol_l"] <= values["cutoff_umol_l"]:
        raise fail("loq_umol_l", "the smallest reported count must be 1 .. the cutoff")
    return values


def _row(raw: dict[str, str], path: Path, line: int, disorders: frozenset[str],
         mechanisms: frozenset[str]) -> SecondTierAssay:
    def fail(field: str, message: str) -> CatalogueError:
        return CatalogueError(message, file=str(path), line=line, field=field)

    for field in ("code", "name", "assay", "unit", "figures_provenance", "source"):
        if not raw.get(field, "").strip():
            raise fail(field, "must not be empty")
    unit = raw["unit"].strip()
    if unit not in ("umol/L", VARIANTS):
        raise fail("unit", f"must be umol/L or {VARIANTS}, got {raw['unit']!r}")
    values = (_counts(raw, fail) if unit == VARIANTS else _concentrations(raw, fail))
    informs = _split(raw["informs"])
    for code in informs:
        if code not in disorders:
            raise fail("informs", f"unknown disorder code {code!r}")
    resolves = _split(raw["resolves"])
    if not resolves:
        raise fail("resolves", "must name at least one false-positive mechanism")
    for name in resolves:
        if name not in mechanisms:
            raise fail("resolves", f"unknown false-positive mechanism {name!r}")
    markers = _split(raw["first_tier_markers"])
    if not markers:
        raise fail("first_tier_markers", "must name at least one first-tier marker")
    for marker in markers:
        _check_marker(marker, path, line)
    return SecondTierAssay(
        code=raw["code"].strip(), name=raw["name"].strip(), assay=raw["assay"].strip(),
        unit=unit, informs=informs, resolves=resolves, first_tier_markers=markers,
        figures_provenance=raw["figures_provenance"].strip(), source=raw["source"].strip(),
        **values)


def load_second_tier_assays(path: Path | str = SECOND_TIER_ASSAYS_CSV
                            ) -> dict[str, SecondTierAssay]:
    """Read and validate an assay catalogue; the result maps code -> assay in file order.

    Codes must be unique and distinct from the first-tier analyte codes (a second-tier
    C26:0-LPC is ``C26:0-LPC-2T``); raises :class:`CatalogueError` naming the file, line and
    field of the first problem.
    """
    path = Path(path)
    catalogue = default_catalogue()
    disorders = frozenset(d.code for d in catalogue.disorders)
    first_tier = frozenset(a.code for a in catalogue.analytes)
    mechanisms = _mechanism_names()
    out: dict[str, SecondTierAssay] = {}
    for line, raw in read_rows(path, _COLUMNS):
        assay = _row(raw, path, line, disorders, mechanisms)
        if assay.code in out:
            raise CatalogueError(f"duplicate code {assay.code!r}", file=str(path),
                                 line=line, field="code")
        if assay.code in first_tier:
            raise CatalogueError(f"{assay.code!r} is a first-tier analyte code",
                                 file=str(path), line=line, field="code")
        out[assay.code] = assay
    if not out:
        raise CatalogueError("no assays", file=str(path))
    return out


@cache
def second_tier_assays() -> dict[str, SecondTierAssay]:
    """The packaged assay catalogue (loaded once; do not modify the result)."""
    return load_second_tier_assays()
