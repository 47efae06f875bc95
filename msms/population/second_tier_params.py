"""Parameters of the simulated second tier and repeat specimens
(``msms/data/population/second_tier.toml``), validated against the assay catalogue and the
population parameters; errors name the file, line and key.

Public names: ``SecondTierParams``, ``load_second_tier_params``,
``default_second_tier_params``, ``SECOND_TIER_TOML``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import Field

from msms.datafiles import LenientSchema, Range, Text, load_toml
from msms.errors import DataError
from msms.population.params import SEVERITIES, PopulationParams, default_params
from msms.second_tier_assays import SecondTierAssay, second_tier_assays

__all__ = ["SECOND_TIER_TOML", "SecondTierParams", "default_second_tier_params",
           "load_second_tier_params"]

SECOND_TIER_TOML = Path(str(resources.files("msms") / "data" / "population" /
                            "second_tier.toml"))

Unit = Annotated[float, Range(0, 1)]
Pos = Annotated[float, Range(0, float("inf"), open_low=True)]
Pair = Annotated[list[Pos], Field(min_length=2, max_length=2)]


class _Analytical(LenientSchema):
    cv: Annotated[float, Range(0, 0.5)]


class _Analyte(LenientSchema):
    anchor: Text
    rho: Annotated[float, Range(-0.95, 0.95)]


class _Split(LenientSchema):
    analyte: Text
    isovaleryl_share: Annotated[list[Unit], Field(min_length=2, max_length=2)]
    pivaloyl_trace_umol_l: Pos
    mechanism: Text
    isovaleryl_disorder: Text
    methylbutyryl_disorder: Text


class _Effect(LenientSchema):
    analyte: Text
    fold: Pair


class _Mechanism(LenientSchema):
    name: Text
    effects: list[_Effect]


class _Disorder(LenientSchema):
    code: Text
    analyte: Text
    mild: Pair
    moderate: Pair
    severe: Pair


class _Genotype(LenientSchema):
    assay: Text
    disorder: Text
    carrier_mechanism: Text
    detection_per_allele: Unit
    vus_rate: Annotated[float, Range(0, 0.1)]


class _Context(LenientSchema):
    pivalate_exposure_recorded: Unit
    pivalate_exposure_false: Unit
    maternal_b12_low_recorded: Unit
    maternal_b12_low_false: Unit


class _Repeat(LenientSchema):
    delay_days: Pair
    latent_correlation: Annotated[float, Range(0, 0.99)]
    tpn_continues: Unit
    redrawn: list[str]
    persistence: dict[str, Unit]


class _File(LenientSchema):
    analytical: _Analytical
    analyte: dict[str, _Analyte]
    c5_split: _Split
    mechanism: list[_Mechanism]
    disorder: list[_Disorder]
    genotype: list[_Genotype] = []
    context: _Context
    repeat: _Repeat


@dataclass(frozen=True)
class SecondTierParams:
    """Validated parameters (see ``second_tier.toml`` for what each means)."""

    assays: dict[str, SecondTierAssay]
    cv: float
    anchors: dict[str, tuple[str, float]]  # assay -> (first-tier anchor analyte, rho)
    split_analyte: str
    isovaleryl_share: tuple[float, float]
    pivaloyl_trace: float
    split_mechanism: str
    isovaleryl_disorder: str
    methylbutyryl_disorder: str
    mechanism_effects: dict[str, tuple[tuple[str, float, float], ...]]
    disorder_levels: dict[str, tuple[tuple[str, dict[str, tuple[float, float]]], ...]]
    context: dict[str, float]
    delay_days: tuple[float, float]
    latent_correlation: float
    tpn_continues: float
    redrawn: tuple[str, ...]
    persistence: dict[str, float]
    #: genotype assay -> (disorder, carrier mechanism, per-allele detection, VUS rate)
    genotypes: dict[str, tuple[str, str, float, float]] = field(default_factory=dict)


def load_second_tier_params(path: Path | str = SECOND_TIER_TOML,
                            params: PopulationParams | None = None) -> SecondTierParams:
    """Read and validate the second-tier simulation parameters.

    Raises
    ------
    DataError
        Naming the file, line and key of the first problem (an unknown assay, analyte,
        mechanism or disorder; a range whose ends are not in order).
    """
    doc, file = load_toml(path, _File, error=DataError)
    p = params if params is not None else default_params()
    assays = second_tier_assays()
    analytes = set(p.analyte_codes)
    mechanisms = {m.name for m in p.mechanisms}
    disorders = set(p.disorder_codes)
    for code, a in doc.analyte.items():
        if code not in assays:
            raise file.error(f"unknown second-tier assay {code!r}", "analyte", code)
        if a.anchor not in analytes:
            raise file.error(f"unknown analyte {a.anchor!r}", "analyte", code, "anchor")
    split = doc.c5_split
    if split.analyte not in analytes:
        raise file.error(f"unknown analyte {split.analyte!r}", "c5_split", "analyte")
    if split.mechanism not in mechanisms:
        raise file.error(f"unknown mechanism {split.mechanism!r}", "c5_split", "mechanism")
    for key in ("isovaleryl_disorder", "methylbutyryl_disorder"):
        if getattr(split, key) not in disorders:
            raise file.error(f"not a simulated disorder: {getattr(split, key)!r}",
                             "c5_split", key)
    lo, hi = split.isovaleryl_share
    if lo > hi:
        raise file.error("the ends must be in order", "c5_split", "isovaleryl_share")
    effects: dict[str, tuple[tuple[str, float, float], ...]] = {}
    for i, m in enumerate(doc.mechanism):
        if m.name not in mechanisms:
            raise file.error(f"unknown mechanism {m.name!r}", "mechanism", i, "name")
        for k, e in enumerate(m.effects):
            if e.analyte not in doc.analyte:
                raise file.error(f"unknown second-tier analyte {e.analyte!r}",
                                 "mechanism", i, "effects", k)
        effects[m.name] = tuple((e.analyte, e.fold[0], e.fold[1]) for e in m.effects)
    levels: dict[str, list[tuple[str, dict[str, tuple[float, float]]]]] = {}
    for i, d in enumerate(doc.disorder):
        if d.code not in disorders:
            raise file.error(f"not a simulated disorder: {d.code!r}", "disorder", i, "code")
        if d.analyte not in doc.analyte:
            raise file.error(f"unknown second-tier analyte {d.analyte!r}", "disorder", i,
                             "analyte")
        ranges = {}
        for s in SEVERITIES:
            a, b = getattr(d, s)
            if a > b:
                raise file.error("the ends must be in order", "disorder", i, s)
            ranges[s] = (a, b)
        levels.setdefault(d.code, []).append((d.analyte, ranges))
    genotypes: dict[str, tuple[str, str, float, float]] = {}
    for i, g in enumerate(doc.genotype):
        if g.assay not in assays or not assays[g.assay].is_count:
            raise file.error(f"not a genotype of the assay catalogue: {g.assay!r}",
                             "genotype", i, "assay")
        if g.disorder not in disorders:
            raise file.error(f"not a simulated disorder: {g.disorder!r}", "genotype", i,
                             "disorder")
        if g.carrier_mechanism not in mechanisms:
            raise file.error(f"unknown mechanism {g.carrier_mechanism!r}", "genotype", i,
                             "carrier_mechanism")
        genotypes[g.assay] = (g.disorder, g.carrier_mechanism, g.detection_per_allele,
                              g.vus_rate)
    for code, assay in assays.items():
        if assay.is_count and code not in genotypes:
            raise file.error(f"the catalogue's genotype {code!r} has no [[genotype]] entry",
                             "genotype")
    rep = doc.repeat
    for name in (*rep.redrawn, *rep.persistence):
        if name not in mechanisms:
            raise file.error(f"unknown mechanism {name!r}", "repeat")
    if rep.delay_days[0] > rep.delay_days[1]:
        raise file.error("the ends must be in order", "repeat", "delay_days")
    return SecondTierParams(
        assays=assays, cv=doc.analytical.cv,
        anchors={c: (a.anchor, a.rho) for c, a in doc.analyte.items()},
        split_analyte=split.analyte, isovaleryl_share=(lo, hi),
        pivaloyl_trace=split.pivaloyl_trace_umol_l, split_mechanism=split.mechanism,
        isovaleryl_disorder=split.isovaleryl_disorder,
        methylbutyryl_disorder=split.methylbutyryl_disorder,
        mechanism_effects=effects,
        disorder_levels={k: tuple(v) for k, v in levels.items()},
        context=doc.context.model_dump(),
        delay_days=(rep.delay_days[0], rep.delay_days[1]),
        latent_correlation=rep.latent_correlation, tpn_continues=rep.tpn_continues,
        redrawn=tuple(rep.redrawn), persistence=dict(rep.persistence), genotypes=genotypes)


@cache
def default_second_tier_params() -> SecondTierParams:
    """The packaged parameters with the packaged population (loaded once)."""
    return load_second_tier_params()
