"""Quantitation methods as data: per analyte its transition(s), internal standard, the internal
standard's concentration and a response factor (docs/quantitation.md).

A method is a TOML file with a ``[method]`` header (name, version, ``verified``), a table of
``[internal_standards."NAME"]`` (transition, ``conc_umol_l`` referred to blood) and a table of
``[analytes.CODE]`` (transition or ``transitions = [...]``, ``internal_standard``,
``response_factor``, and for a chromatographic method ``retention_time_min``, which tells
isomers of one transition apart). Two defaults ship with the package (``nonderivatized`` and
``butylated``); they are marked ``verified = false`` and a laboratory must check them
against its kit insert.

Loading validates every entry against the analyte catalogue and names the file, line and key of
the first problem (an unknown analyte, a missing internal standard, a non-positive concentration,
two compounds sharing one transition, ...).

Public names: ``Transition``, ``InternalStandard``, ``AnalyteMethod``, ``Method``,
``load_method``, ``default_method``, ``packaged_methods``, ``METHODS_DIR``, ``POLARITIES``,
``MethodFile`` (the file's schema, :mod:`msms.datafiles`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Literal

from pydantic import Field

from msms.catalogue import Catalogue, default_catalogue
from msms.datafiles import DataFile, Positive, Schema, Text, load_toml
from msms.errors import DataError

__all__ = [
    "METHODS_DIR",
    "POLARITIES",
    "AnalyteMethod",
    "InternalStandard",
    "Method",
    "MethodFile",
    "Transition",
    "default_method",
    "load_method",
    "packaged_methods",
]

METHODS_DIR = Path(str(resources.files("msms") / "data" / "methods"))
POLARITIES = ("positive", "negative")

#: Two compounds whose precursor and product m/z both lie within this distance (unit resolution
#: of a triple quadrupole) cannot be told apart by the instrument.
_SAME_TRANSITION_MZ = 0.5
#: Two compounds of one transition eluting at least this far apart (minutes) are separated.
_SAME_RETENTION_MIN = 0.1


@dataclass(frozen=True, slots=True)
class Transition:
    """One MRM transition: precursor (Q1) and product (Q3) m/z, polarity, optional label."""

    precursor_mz: float
    product_mz: float
    polarity: str = "positive"
    label: str = ""
    #: Where a chromatographic (LC-MS/MS) method elutes the compound; isomers sharing one
    #: transition (the C5 acylcarnitines) are told apart by it. None for flow injection.
    retention_time_min: float | None = None


@dataclass(frozen=True, slots=True)
class InternalStandard:
    """A stable-isotope internal standard and its concentration referred to blood (µmol/L)."""

    name: str
    transition: Transition
    conc_umol_l: float
    verified: bool
    note: str = ""


@dataclass(frozen=True, slots=True)
class AnalyteMethod:
    """How one analyte is measured and quantified.

    ``conc_umol_l = intensity / is_intensity * internal_standard.conc_umol_l * response_factor``.
    When ``transitions`` holds more than one entry the analyte's intensity is their sum.
    """

    analyte: str
    transitions: tuple[Transition, ...]
    internal_standard: InternalStandard
    response_factor: float
    verified: bool
    note: str = ""

    @property
    def is_conc_umol_l(self) -> float:
        return self.internal_standard.conc_umol_l

    @property
    def factor_umol_l(self) -> float:
        """What the analyte/IS intensity ratio is multiplied by: IS concentration x RF."""
        return self.internal_standard.conc_umol_l * self.response_factor


@dataclass(frozen=True)
class Method:
    """A quantitation method: header, internal standards and analytes (in catalogue order)."""

    name: str
    title: str
    version: str
    derivatization: str
    verified: bool
    notice: str
    sources: tuple[str, ...]
    internal_standards: Mapping[str, InternalStandard]
    analytes: Mapping[str, AnalyteMethod]
    source_file: str = ""

    def __contains__(self, code: object) -> bool:
        return code in self.analytes

    def __iter__(self) -> Iterator[AnalyteMethod]:
        return iter(self.analytes.values())

    def __len__(self) -> int:
        return len(self.analytes)

    def analyte(self, code: str) -> AnalyteMethod:
        """The entry for a canonical analyte code (KeyError if the method does not measure it)."""
        try:
            return self.analytes[code]
        except KeyError:
            raise KeyError(f"method {self.name!r} does not measure {code!r}") from None

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self.analytes)

    @property
    def label(self) -> str:
        """``name version`` plus ``(unverified)`` while any part is unverified."""
        return f"{self.name} {self.version}" + ("" if self.verified else " (unverified)")


# ---- loading ----------------------------------------------------------------------------------

Polarity = Literal["positive", "negative"]


class _TransitionEntry(Schema):
    precursor_mz: Positive
    product_mz: Positive
    label: str = ""


class _InternalStandardEntry(Schema):
    precursor_mz: Positive
    product_mz: Positive
    polarity: Polarity = "positive"
    conc_umol_l: Positive
    verified: bool = False
    note: str = ""


class _AnalyteEntry(Schema):
    precursor_mz: Positive | None = None
    product_mz: Positive | None = None
    transitions: Annotated[list[_TransitionEntry], Field(min_length=1)] | None = None
    polarity: Polarity = "positive"
    retention_time_min: Positive | None = None
    internal_standard: Text
    response_factor: Positive = 1.0
    verified: bool = False
    note: str = ""


class _MethodHead(Schema):
    name: Text
    title: str = ""
    derivatization: Literal["none", "butyl"]
    version: Text
    verified: bool = False
    notice: str = ""
    sources: list[str] = []


class MethodFile(Schema):
    """The layout of a method file (see the module docstring)."""

    method: _MethodHead
    internal_standards: Annotated[dict[str, _InternalStandardEntry], Field(min_length=1)]
    analytes: Annotated[dict[str, _AnalyteEntry], Field(min_length=1)]


def _transitions(file: DataFile, code: str, entry: _AnalyteEntry) -> tuple[Transition, ...]:
    if entry.transitions is not None:
        if entry.precursor_mz is not None or entry.product_mz is not None:
            raise file.error("give either precursor_mz/product_mz or transitions, not both",
                             "analytes", code, "transitions")
        return tuple(Transition(t.precursor_mz, t.product_mz, entry.polarity, t.label,
                                entry.retention_time_min) for t in entry.transitions)
    for key in ("precursor_mz", "product_mz"):
        if getattr(entry, key) is None:
            raise file.error(f"missing key {key!r}", "analytes", code, key)
    assert entry.precursor_mz is not None and entry.product_mz is not None
    return (Transition(entry.precursor_mz, entry.product_mz, entry.polarity,
                       retention_time_min=entry.retention_time_min),)


def _check_distinct_transitions(file: DataFile, method: Method) -> None:
    """No two compounds may share a transition the instrument cannot tell apart."""
    seen: list[tuple[str, tuple[str, str], Transition]] = []
    for name, standard in method.internal_standards.items():
        seen.append((name, ("internal_standards", name), standard.transition))
    for code, entry in method.analytes.items():
        for t in entry.transitions:
            seen.append((code, ("analytes", code), t))
    for i, (name_a, _, ta) in enumerate(seen):
        for name_b, table_b, tb in seen[i + 1:]:
            if name_a == name_b or ta.polarity != tb.polarity:
                continue
            if (ta.retention_time_min is not None and tb.retention_time_min is not None
                    and abs(ta.retention_time_min - tb.retention_time_min) >= _SAME_RETENTION_MIN):
                continue  # separated by the chromatography
            if (abs(ta.precursor_mz - tb.precursor_mz) < _SAME_TRANSITION_MZ
                    and abs(ta.product_mz - tb.product_mz) < _SAME_TRANSITION_MZ):
                raise file.error(
                    f"transition {tb.precursor_mz:g} > {tb.product_mz:g} cannot be told apart "
                    f"from {name_a}'s {ta.precursor_mz:g} > {ta.product_mz:g}",
                    *table_b, "precursor_mz",
                )


def _method(file: DataFile, doc: MethodFile, catalogue: Catalogue) -> Method:
    standards = {
        name: InternalStandard(name, Transition(s.precursor_mz, s.product_mz, s.polarity),
                               s.conc_umol_l, s.verified, s.note)
        for name, s in doc.internal_standards.items()
    }
    entries: dict[str, AnalyteMethod] = {}
    for key, entry in doc.analytes.items():
        code = catalogue.try_resolve(key)
        if code is None:
            raise file.error(f"unknown analyte {key!r} (not a catalogue code or alias)",
                             "analytes", key)
        if code != key:
            raise file.error(f"{key!r} is an alias; use the canonical code {code!r}",
                             "analytes", key)
        if entry.internal_standard not in standards:
            raise file.error(f"internal standard {entry.internal_standard!r} is not defined in "
                             "[internal_standards]", "analytes", key, "internal_standard")
        entries[code] = AnalyteMethod(
            analyte=code, transitions=_transitions(file, key, entry),
            internal_standard=standards[entry.internal_standard],
            response_factor=entry.response_factor, verified=entry.verified, note=entry.note,
        )
    used = {e.internal_standard.name for e in entries.values()}
    unused = [name for name in standards if name not in used]
    if unused:
        raise file.error(f"internal standard {unused[0]!r} serves no analyte",
                         "internal_standards", unused[0])
    order = {code: i for i, code in enumerate(catalogue.codes)}
    ordered = dict(sorted(entries.items(), key=lambda item: order[item[0]]))
    head = doc.method
    all_verified = head.verified and all(e.verified for e in ordered.values()) and all(
        s.verified for s in standards.values())
    method = Method(
        name=head.name, title=head.title.strip(), version=head.version,
        derivatization=head.derivatization, verified=all_verified, notice=head.notice.strip(),
        sources=tuple(head.sources), internal_standards=MappingProxyType(standards),
        analytes=MappingProxyType(ordered), source_file=file.path,
    )
    _check_distinct_transitions(file, method)
    return method


def packaged_methods() -> tuple[str, ...]:
    """Names of the methods shipped with the package (``nonderivatized``, ``butylated``)."""
    return tuple(sorted(p.stem for p in METHODS_DIR.glob("*.toml")))


def load_method(source: str | Path, *, catalogue: Catalogue | None = None) -> Method:
    """Read and validate a method.

    Parameters
    ----------
    source
        A packaged method's name (see :func:`packaged_methods`) or the path of a method TOML file.
    catalogue
        The analyte catalogue to validate codes against (default: the packaged one).

    Returns
    -------
    Method
        Analytes in catalogue order. ``Method.verified`` is true only when the header and every
        internal standard and analyte entry say ``verified = true``.

    Raises
    ------
    DataError
        Naming the file, line and key of the first problem.
    """
    catalogue = catalogue or default_catalogue()
    path = Path(source)
    if not path.suffix and str(source) in packaged_methods():
        path = METHODS_DIR / f"{source}.toml"
    if not path.exists():
        known = ", ".join(packaged_methods())
        raise DataError(f"no such method file (packaged methods: {known})", file=str(path))
    doc, file = load_toml(path, MethodFile)
    return _method(file, doc, catalogue)


@cache
def _packaged(name: str) -> Method:
    return load_method(name)


def default_method(name: str = "nonderivatized") -> Method:
    """A packaged method, loaded once (``nonderivatized`` or ``butylated``)."""
    return _packaged(name)
