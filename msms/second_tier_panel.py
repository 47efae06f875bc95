"""The second-tier panel as a quantitation method: the analytes of the second-tier assay
catalogue (``msms/data/second_tier_assays.csv``) measured by LC-MS/MS on the first card, so a
second-tier run is read by the same instrument readers and quantified by the same code as a
first-tier plate (docs/second_tier.md "In the LIMS").

- ``second_tier_catalogue()``: the analyte catalogue extended by the second-tier analytes
  (their code and name as aliases, m/z from the panel's method, the assay catalogue's reference
  median, limit of quantitation and 99th percentile as the population figures); a name that
  already names a first-tier analyte is refused.
- ``second_tier_method()``: the packaged panel method (``msms/data/second_tier_panel.toml``),
  validated against that catalogue; every analyte of it is a concentration assay of the
  catalogue and the other way round (the genotypes, counts of ACADM and ACADVL variants, are
  not measured by the panel and cannot be imported through it).

Public names: ``SECOND_TIER_METHOD_TOML``, ``second_tier_catalogue``, ``second_tier_method``,
``load_second_tier_method``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from msms.catalogue import Analyte, Catalogue, default_catalogue
from msms.datafiles import load_toml
from msms.errors import CatalogueError, DataError
from msms.methods import Method, MethodFile, load_method
from msms.second_tier_assays import SecondTierAssay, second_tier_assays

__all__ = ["SECOND_TIER_METHOD_TOML", "load_second_tier_method", "second_tier_catalogue",
           "second_tier_method"]

SECOND_TIER_METHOD_TOML = Path(str(resources.files("msms") / "data" / "second_tier_panel.toml"))


def _analyte(assay: SecondTierAssay, precursor: float, product: float) -> Analyte:
    return Analyte(
        code=assay.code, name=assay.name, analyte_class="other",
        aliases=tuple(dict.fromkeys((assay.code, assay.name))),
        nonderiv_precursor_mz=f"{precursor:g}", nonderiv_product_mz=f"{product:g}",
        butyl_precursor_mz="", butyl_product_mz="", isobars="", internal_standard="",
        pop_median_umol_l=assay.reference_median_umol_l, pop_p1_umol_l=assay.loq_umol_l,
        pop_p99_umol_l=assay.reference_p99_umol_l,
        pop_provenance=f"second-tier reference: {assay.figures_provenance}",
        example_cutoffs=f"{assay.cutoff_umol_l:g} umol/L", source=assay.source)


def _extended(base: Catalogue, path: Path) -> Catalogue:
    doc, file = load_toml(path, MethodFile)
    assays = second_tier_assays()
    index = dict(base._index)
    added: list[Analyte] = []
    for code, entry in doc.analytes.items():
        assay = assays.get(code)
        if assay is None or assay.is_count:
            measured = [c for c, a in assays.items() if not a.is_count]
            raise file.error(f"{code!r} is not an assay of the second-tier catalogue "
                             f"measured by the panel ({', '.join(measured)})", "analytes", code)
        if entry.precursor_mz is not None and entry.product_mz is not None:
            precursor, product = float(entry.precursor_mz), float(entry.product_mz)
        elif entry.transitions:
            precursor, product = entry.transitions[0].precursor_mz, entry.transitions[0].product_mz
        else:
            raise file.error("missing key 'precursor_mz'", "analytes", code)
        analyte = _analyte(assay, precursor, product)
        for name in analyte.aliases:
            key = name.strip().casefold()
            if index.get(key, code) != code:
                raise CatalogueError(f"second-tier name {name!r} already names {index[key]}",
                                     file=str(path), field=f"analytes.{code}")
            index[key] = code
        added.append(analyte)
    # a genotype (count of variants) is not measured by the LC-MS/MS panel
    missing = [code for code, a in assays.items() if not a.is_count and code not in doc.analytes]
    if missing:
        raise file.error(f"the panel measures no {', '.join(missing)} of the second-tier "
                         "catalogue", "analytes")
    return Catalogue(base.analytes + tuple(added), base.disorders, index)


def load_second_tier_method(path: Path | str = SECOND_TIER_METHOD_TOML, *,
                            base: Catalogue | None = None) -> tuple[Method, Catalogue]:
    """The panel method in ``path`` and the catalogue extended by its analytes.

    Raises
    ------
    DataError
        Naming the file, line and key of the first problem.
    """
    path = Path(path)
    if not path.exists():
        raise DataError("no such second-tier method file", file=str(path))
    catalogue = _extended(base or default_catalogue(), path)
    return load_method(path, catalogue=catalogue), catalogue


@cache
def _packaged() -> tuple[Method, Catalogue]:
    return load_second_tier_method()


def second_tier_catalogue() -> Catalogue:
    """The packaged analyte catalogue with the second-tier analytes (loaded once)."""
    return _packaged()[1]


def second_tier_method() -> Method:
    """The packaged second-tier panel method (loaded once)."""
    return _packaged()[0]
