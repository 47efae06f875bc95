"""Quantitation methods as data: per analyte its transition(s), internal standard, the internal
standard's concentration and a response factor (DESIGN §6.1).

A method is a TOML file with a ``[method]`` header (name, version, ``verified``), a table of
``[internal_standards."NAME"]`` (transition, ``conc_umol_l`` referred to blood) and a table of
``[analytes.CODE]`` (transition or ``transitions = [...]``, ``internal_standard``,
``response_factor``). Two defaults ship with the package (``nonderivatized`` and ``butylated``);
they are marked ``verified = false`` and a laboratory must check them against its kit insert.

Loading validates every entry against the analyte catalogue and names the file, line and key of
the first problem (an unknown analyte, a missing internal standard, a non-positive concentration,
two compounds sharing one transition, ...).

Public names: ``Transition``, ``InternalStandard``, ``AnalyteMethod``, ``Method``,
``load_method``, ``default_method``, ``packaged_methods``, ``METHODS_DIR``, ``POLARITIES``,
``TomlSource`` (finds the line of a TOML key, for error messages), ``read_toml``.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from msms.catalogue import Catalogue, default_catalogue
from msms.errors import DataError

__all__ = [
    "METHODS_DIR",
    "POLARITIES",
    "AnalyteMethod",
    "InternalStandard",
    "Method",
    "TomlSource",
    "Transition",
    "default_method",
    "load_method",
    "packaged_methods",
    "read_toml",
]

METHODS_DIR = Path(str(resources.files("msms") / "data" / "methods"))
POLARITIES = ("positive", "negative")
DERIVATIZATIONS = ("none", "butyl")

#: Two compounds whose precursor and product m/z both lie within this distance (unit resolution
#: of a triple quadrupole) cannot be told apart by the instrument.
_SAME_TRANSITION_MZ = 0.5

_METHOD_KEYS = {"name", "title", "derivatization", "version", "verified", "notice", "sources"}
_IS_KEYS = {"precursor_mz", "product_mz", "polarity", "conc_umol_l", "verified", "note"}
_ANALYTE_KEYS = {
    "precursor_mz", "product_mz", "transitions", "polarity", "internal_standard",
    "response_factor", "verified", "note",
}
_TRANSITION_KEYS = {"precursor_mz", "product_mz", "label"}


@dataclass(frozen=True, slots=True)
class Transition:
    """One MRM transition: precursor (Q1) and product (Q3) m/z, polarity, optional label."""

    precursor_mz: float
    product_mz: float
    polarity: str = "positive"
    label: str = ""


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

    def factors(self) -> pd.DataFrame:
        """One row per analyte: ``analyte, internal_standard, is_conc_umol_l, response_factor,
        factor_umol_l`` (the last is what the analyte/IS ratio is multiplied by)."""
        rows = [
            (a.analyte, a.internal_standard.name, a.is_conc_umol_l, a.response_factor,
             a.factor_umol_l)
            for a in self
        ]
        return pd.DataFrame(
            rows,
            columns=["analyte", "internal_standard", "is_conc_umol_l", "response_factor",
                     "factor_umol_l"],
        )

    def transition_table(self) -> pd.DataFrame:
        """Every transition the instrument acquires, one row each.

        Columns: ``analyte`` (the canonical code the row serves), ``role`` (``analyte`` or
        ``internal_standard``), ``compound`` (analyte code or IS name), ``precursor_mz``,
        ``product_mz``, ``polarity``, ``label``. An internal standard serving several analytes
        appears once per analyte, so a reader can key IS intensities by the analyte they serve.
        """
        rows: list[tuple[str, str, str, float, float, str, str]] = []
        for a in self:
            for t in a.transitions:
                rows.append((a.analyte, "analyte", a.analyte, t.precursor_mz, t.product_mz,
                             t.polarity, t.label))
            t = a.internal_standard.transition
            rows.append((a.analyte, "internal_standard", a.internal_standard.name,
                         t.precursor_mz, t.product_mz, t.polarity, t.label))
        return pd.DataFrame(
            rows,
            columns=["analyte", "role", "compound", "precursor_mz", "product_mz", "polarity",
                     "label"],
        )


# ---- loading ----------------------------------------------------------------------------------


class TomlSource:
    """The text of a TOML file, to find the line a key is written on (tomllib gives none).

    Also used by the QC data loaders (``msms.qc``) so their errors name lines the same way.
    """

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def line_of(self, table: str | tuple[str, ...], key: str | None = None) -> int | None:
        """The line of ``[table]`` (or of ``key = `` inside it), 1-based; None if not found.

        ``table`` is a tuple of name parts, or a string split at its first dot
        (``"analytes.C8"``).
        """
        head = _table_header(_parts(table))
        start = None
        for number, line in enumerate(self.lines, start=1):
            if head.fullmatch(line.strip()):
                start = number
                break
        if start is None or key is None:
            return start
        key_re = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for number in range(start + 1, len(self.lines) + 1):
            text = self.lines[number - 1]
            if text.lstrip().startswith("["):
                break
            if key_re.match(text):
                return number
        return start

    def error(self, message: str, table: str | tuple[str, ...],
              key: str | None = None) -> DataError:
        """A DataError at ``table`` (and ``key``), with the line they are on."""
        name = ".".join(_parts(table))
        field = f"{name}.{key}" if key else name
        return DataError(message, file=self.path, line=self.line_of(table, key), field=field)


def _parts(table: str | tuple[str, ...]) -> tuple[str, ...]:
    return tuple(table.split(".", 1)) if isinstance(table, str) else table


def _table_header(parts: tuple[str, ...]) -> re.Pattern[str]:
    def part(name: str) -> str:
        return rf'(?:{re.escape(name)}|"{re.escape(name)}"|\'{re.escape(name)}\')'

    dotted = r"\s*\.\s*".join(part(p) for p in parts)
    return re.compile(rf"\[\s*{dotted}\s*\]")


def _check_keys(src: TomlSource, table: str, data: Mapping[str, Any], allowed: set[str]) -> None:
    for key in data:
        if key not in allowed:
            raise src.error(
                f"unknown key {key!r} (allowed: {', '.join(sorted(allowed))})", table, key
            )


def _text(src: TomlSource, table: str, data: Mapping[str, Any], key: str, *,
          required: bool = True, default: str = "") -> str:
    if key not in data:
        if required:
            raise src.error(f"missing {key!r}", table)
        return default
    value = data[key]
    if not isinstance(value, str) or (required and not value.strip()):
        raise src.error(f"{key} must be a non-empty string, got {value!r}", table, key)
    return value.strip()


def _positive(src: TomlSource, table: str, data: Mapping[str, Any], key: str, *,
              default: float | None = None) -> float:
    if key not in data:
        if default is None:
            raise src.error(f"missing {key!r}", table)
        return default
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise src.error(f"{key} must be a number, got {value!r}", table, key)
    if not math.isfinite(value) or value <= 0:
        raise src.error(f"{key} must be a finite number > 0, got {value!r}", table, key)
    return float(value)


def _flag(src: TomlSource, table: str, data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise src.error(f"{key} must be true or false, got {value!r}", table, key)
    return value


def _polarity(src: TomlSource, table: str, data: Mapping[str, Any]) -> str:
    value = data.get("polarity", "positive")
    if value not in POLARITIES:
        raise src.error(f"polarity must be one of {', '.join(POLARITIES)}, got {value!r}",
                        table, "polarity")
    return str(value)


def _internal_standard(src: TomlSource, name: str, data: Any) -> InternalStandard:
    table = f"internal_standards.{name}"
    if not isinstance(data, dict):
        raise src.error("must be a table", table)
    _check_keys(src, table, data, _IS_KEYS)
    transition = Transition(
        _positive(src, table, data, "precursor_mz"),
        _positive(src, table, data, "product_mz"),
        _polarity(src, table, data),
    )
    return InternalStandard(
        name=name,
        transition=transition,
        conc_umol_l=_positive(src, table, data, "conc_umol_l"),
        verified=_flag(src, table, data, "verified"),
        note=_text(src, table, data, "note", required=False),
    )


def _transitions(src: TomlSource, table: str, data: Mapping[str, Any]) -> tuple[Transition, ...]:
    polarity = _polarity(src, table, data)
    if "transitions" in data:
        if "precursor_mz" in data or "product_mz" in data:
            raise src.error("give either precursor_mz/product_mz or transitions, not both",
                            table, "transitions")
        listed = data["transitions"]
        if not isinstance(listed, list) or not listed:
            raise src.error("transitions must be a non-empty list of tables", table,
                            "transitions")
        out = []
        for i, entry in enumerate(listed):
            where = f"{table}.transitions[{i}]"
            if not isinstance(entry, dict):
                raise src.error(f"{where} must be a table", table, "transitions")
            for key in entry:
                if key not in _TRANSITION_KEYS:
                    raise src.error(f"{where}: unknown key {key!r}", table, "transitions")
            try:
                pre = _positive(src, table, entry, "precursor_mz")
                prod = _positive(src, table, entry, "product_mz")
            except DataError as exc:
                raise src.error(f"{where}: {exc.reason}", table, "transitions") from None
            label = entry.get("label", "")
            out.append(Transition(pre, prod, polarity, str(label)))
        return tuple(out)
    return (
        Transition(
            _positive(src, table, data, "precursor_mz"),
            _positive(src, table, data, "product_mz"),
            polarity,
        ),
    )


def _check_distinct_transitions(src: TomlSource, method: Method) -> None:
    """No two compounds may share a transition the instrument cannot tell apart."""
    seen: list[tuple[str, str, Transition]] = []
    for name, standard in method.internal_standards.items():
        seen.append((name, f"internal_standards.{name}", standard.transition))
    for code, entry in method.analytes.items():
        for t in entry.transitions:
            seen.append((code, f"analytes.{code}", t))
    for i, (name_a, _, ta) in enumerate(seen):
        for name_b, table_b, tb in seen[i + 1:]:
            if name_a == name_b or ta.polarity != tb.polarity:
                continue
            if (abs(ta.precursor_mz - tb.precursor_mz) < _SAME_TRANSITION_MZ
                    and abs(ta.product_mz - tb.product_mz) < _SAME_TRANSITION_MZ):
                raise src.error(
                    f"transition {tb.precursor_mz:g} > {tb.product_mz:g} cannot be told apart "
                    f"from {name_a}'s {ta.precursor_mz:g} > {ta.product_mz:g}",
                    table_b, "precursor_mz",
                )


def _parse(src: TomlSource, doc: Mapping[str, Any], catalogue: Catalogue) -> Method:
    for key in doc:
        if key not in ("method", "internal_standards", "analytes"):
            raise src.error(f"unknown table [{key}]", key)
    head = doc.get("method")
    if not isinstance(head, dict):
        raise DataError("has no [method] table", file=src.path, field="method")
    _check_keys(src, "method", head, _METHOD_KEYS)
    derivatization = _text(src, "method", head, "derivatization")
    if derivatization not in DERIVATIZATIONS:
        raise src.error(
            f"derivatization must be one of {', '.join(DERIVATIZATIONS)}, got {derivatization!r}",
            "method", "derivatization",
        )
    sources = head.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise src.error("sources must be a list of strings", "method", "sources")

    standards_raw = doc.get("internal_standards")
    if not isinstance(standards_raw, dict) or not standards_raw:
        raise DataError("has no [internal_standards] entries", file=src.path,
                        field="internal_standards")
    standards = {name: _internal_standard(src, name, data) for name, data in
                 standards_raw.items()}

    analytes_raw = doc.get("analytes")
    if not isinstance(analytes_raw, dict) or not analytes_raw:
        raise DataError("has no [analytes] entries", file=src.path, field="analytes")
    entries: dict[str, AnalyteMethod] = {}
    for key, data in analytes_raw.items():
        table = f"analytes.{key}"
        code = catalogue.try_resolve(key)
        if code is None:
            raise src.error(f"unknown analyte {key!r} (not a catalogue code or alias)", table)
        if code != key:
            raise src.error(f"{key!r} is an alias; use the canonical code {code!r}", table)
        if not isinstance(data, dict):
            raise src.error("must be a table", table)
        _check_keys(src, table, data, _ANALYTE_KEYS)
        is_name = _text(src, table, data, "internal_standard")
        if is_name not in standards:
            raise src.error(f"internal standard {is_name!r} is not defined in "
                            "[internal_standards]", table, "internal_standard")
        entries[code] = AnalyteMethod(
            analyte=code,
            transitions=_transitions(src, table, data),
            internal_standard=standards[is_name],
            response_factor=_positive(src, table, data, "response_factor", default=1.0),
            verified=_flag(src, table, data, "verified"),
            note=_text(src, table, data, "note", required=False),
        )
    used = {e.internal_standard.name for e in entries.values()}
    unused = [name for name in standards if name not in used]
    if unused:
        raise src.error(f"internal standard {unused[0]!r} serves no analyte",
                        f"internal_standards.{unused[0]}")
    order = {code: i for i, code in enumerate(catalogue.codes)}
    ordered = dict(sorted(entries.items(), key=lambda item: order[item[0]]))
    verified = _flag(src, "method", head, "verified")
    all_verified = verified and all(e.verified for e in ordered.values()) and all(
        s.verified for s in standards.values())
    method = Method(
        name=_text(src, "method", head, "name"),
        title=_text(src, "method", head, "title", required=False),
        version=_text(src, "method", head, "version"),
        derivatization=derivatization,
        verified=all_verified,
        notice=_text(src, "method", head, "notice", required=False),
        sources=tuple(sources),
        internal_standards=MappingProxyType(standards),
        analytes=MappingProxyType(ordered),
        source_file=src.path,
    )
    _check_distinct_transitions(src, method)
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
    src, doc = read_toml(path)
    return _parse(src, doc, catalogue)


def read_toml(path: Path) -> tuple[TomlSource, dict[str, Any]]:
    """Read a UTF-8 TOML file; a problem raises DataError naming the file (and line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 ({exc.reason})", file=str(path)) from None
    except OSError as exc:
        raise DataError(f"cannot read: {exc.strerror or exc}", file=str(path)) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise DataError(f"not valid TOML: {exc}", file=str(path),
                        line=int(match.group(1)) if match else None) from None
    return TomlSource(str(path), text), doc


@cache
def _packaged(name: str) -> Method:
    return load_method(name)


def default_method(name: str = "nonderivatized") -> Method:
    """A packaged method, loaded once (``nonderivatized`` or ``butylated``)."""
    return _packaged(name)
