"""Profiles: TOML files that tell a reader how a laboratory's export is laid out and what its
names mean (column mapping, sample-type map, analyte aliases, encodings, decimal comma, well
format, null and censored tokens, validation rules, mzML transition table and tolerances).

Packaged profiles live in ``instruments/data/profiles/<name>.toml``; :func:`load_profile` takes a
packaged name, a path, or ``None`` for a format's default profile. Every key is checked
(``ProfileFile``, :mod:`msms.datafiles`): an unknown key or a bad value is a
:class:`~instruments.errors.ProfileError` naming the file, line and key.

Public names: ``Profile``, ``ProfileFile`` (the file's schema), ``load_profile``,
``packaged_profiles``, ``PROFILE_DIR``, ``CENSORED_POLICIES``, ``IS_PREFIX``, ``IGNORE``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator

from instruments.errors import ProfileError
from instruments.formats import formats
from instruments.wells import PLATE_SIZES, WELL_FORMATS
from msms.datafiles import Count, DataFile, OneOf, Positive, Range, Schema, Text, load_toml
from msms.methods import packaged_methods
from msms.tables import MEASUREMENT_KINDS, SAMPLE_TYPES

__all__ = [
    "CENSORED_POLICIES",
    "IGNORE",
    "IS_PREFIX",
    "PROFILE_DIR",
    "Profile",
    "ProfileFile",
    "load_profile",
    "packaged_profiles",
]

PROFILE_DIR = Path(str(resources.files("instruments") / "data" / "profiles"))

#: What a censored token (``<LOD``, ``<0.05``) becomes: ``nan`` (no number), ``zero``, ``limit``
#: (the number after ``<``/``>``) or ``half-limit``; each censored cell is reported as an issue.
CENSORED_POLICIES: tuple[str, ...] = ("nan", "zero", "limit", "half-limit")
#: An analyte alias target ``IS:Phe`` (or ``IS:C8,C10``) marks an internal standard and names
#: the analyte(s) it serves.
IS_PREFIX = "IS:"
#: An analyte alias target that drops the compound on purpose (reported as info).
IGNORE = "ignore"

_ROLES = ("well", "sample_id", "sample_name", "sample_type", "plate_id", "analyte", "value",
          "kind", "unit")


@dataclass(frozen=True)
class Profile:
    """A validated profile; see ``docs/instruments.md`` for every key."""

    name: str
    path: str
    format: str = "delimited"
    description: str = ""
    version: str = ""
    encodings: tuple[str, ...] = ("utf-8-sig", "cp1252")
    delimiter: str = "auto"
    decimal: str = "."
    layout: str = "wide"
    skip_rows: int = 0
    columns: dict[str, str] = field(default_factory=dict)
    ignore_columns: tuple[str, ...] = ()
    value_kind: str = "concentration"
    value_unit: str = "umol/L"
    value_columns: dict[str, str] = field(default_factory=dict)
    null_tokens: tuple[str, ...] = ("", "NA", "N/A", "n/a", "-", "NaN", "nan")
    censored_tokens: tuple[str, ...] = ("<LOD", "<LOQ", "BLQ", "ND", "<LLOQ")
    censored: str = "nan"
    well_format: str = "auto"
    plate_size: int = 96
    well_from_row_order: bool = False
    well_order: str = "row-major"
    sample_types: dict[str, str] = field(default_factory=dict)
    sample_type_patterns: tuple[tuple[re.Pattern[str], str], ...] = ()
    sample_name_types: tuple[tuple[re.Pattern[str], str], ...] = ()
    analytes: dict[str, str] = field(default_factory=dict)
    require_blank: bool = True
    require_controls: tuple[str, ...] = ("qc_low", "qc_high")
    unmapped_analytes: str = "error"
    transitions: str = "nonderivatized"
    mz_tolerance: float = 0.3
    plateau_fraction: float = 0.5
    plateau_window_min: tuple[float, float] | None = None
    require_polarity: bool = False
    default_sample_type: str | None = None
    default_plate_id: str | None = None

    def sample_type_for(self, vendor_value: str | None, sample_name: str | None,
                        sample_id: str | None = None) -> str | None:
        """Canonical sample type from the sample-name patterns that decide first
        (``[sample_name_types]``, matched against the sample name and then the sample id:
        exports whose type column says only ``QC`` and whose names carry the level,
        ``QC-HIGH-L2301``), then the vendor's value (exact, then
        case-insensitive), then the fallback name patterns (``[sample_type_patterns]``), then
        the profile's default; None when nothing says."""
        for text in (sample_name, sample_id):
            if not text:
                continue
            for pattern, sample_type in self.sample_name_types:
                if pattern.search(text.strip()):
                    return sample_type
        if vendor_value:
            value = vendor_value.strip()
            if value in SAMPLE_TYPES:
                return value
            if value in self.sample_types:
                return self.sample_types[value]
            folded = {k.casefold(): v for k, v in self.sample_types.items()}
            if value.casefold() in folded:
                return folded[value.casefold()]
        if sample_name:
            for pattern, sample_type in self.sample_type_patterns:
                if pattern.search(sample_name):
                    return sample_type
        return self.default_sample_type

    def vendor_sample_type(self, sample_type: str) -> str:
        """The vendor value a writer uses for a canonical sample type (first map entry)."""
        for vendor, canonical in self.sample_types.items():
            if canonical == sample_type:
                return vendor
        return sample_type


def packaged_profiles() -> list[str]:
    """Names of the profiles shipped in ``instruments/data/profiles``."""
    return sorted(p.stem for p in PROFILE_DIR.glob("*.toml"))


def _resolve_path(spec: str | Path) -> Path:
    path = Path(spec)
    if path.suffix.lower() == ".toml" or path.exists():
        return path
    packaged = PROFILE_DIR / f"{spec}.toml"
    if packaged.exists():
        return packaged
    raise ProfileError(
        f"no profile {str(spec)!r}: give a .toml path or one of {', '.join(packaged_profiles())}",
        field="profile")


def _transitions_path(spec: str, where: str) -> str:
    """A packaged method's name as is; a relative CSV path found next to the profile file is
    taken from there (else it is left relative to the working directory)."""
    if spec in packaged_methods() or Path(spec).is_absolute() or where.startswith("<"):
        return spec
    beside = Path(where).parent / spec
    return str(beside) if beside.exists() else spec


SampleType = Annotated[str, OneOf(SAMPLE_TYPES)]
Kind = Annotated[str, OneOf(MEASUREMENT_KINDS)]


def _registered(name: str) -> str:
    if name not in formats():
        raise ValueError(f"must be one of {', '.join(formats())}, got {name!r}")
    return name


def _encodings(names: list[str]) -> list[str]:
    for name in names:
        try:
            "".encode(name)
        except LookupError:
            raise ValueError(f"unknown encoding {name!r}") from None
    return names


def _window(window: list[float]) -> list[float]:
    if len(window) != 2 or not 0 <= window[0] < window[1]:
        raise ValueError("must be [start, end] in minutes with start < end")
    return window


class _Head(Schema):
    name: str | None = None
    description: str = ""
    format: Annotated[str, AfterValidator(_registered)] | None = None
    version: Annotated[Any, AfterValidator(str)] = ""
    source: str = ""


class _File(Schema):
    encodings: Annotated[list[str], AfterValidator(_encodings)] | None = None
    delimiter: Literal["auto", ",", ";", "\t", "|"] | None = None
    decimal: Literal[".", ","] | None = None
    layout: Literal["wide", "long"] | None = None
    skip_rows: Count | None = None
    header_row: Count | None = None


class _Columns(Schema):
    well: Text | None = None
    sample_id: Text | None = None
    sample_name: Text | None = None
    sample_type: Text | None = None
    plate_id: Text | None = None
    analyte: Text | None = None
    value: Text | None = None
    kind: Text | None = None
    unit: Text | None = None
    ignore: list[str] | None = None


class _Values(Schema):
    kind: Kind | None = None
    unit: Annotated[Any, AfterValidator(str)] = None
    columns: dict[str, Kind] | None = None
    null_tokens: list[str] | None = None
    censored_tokens: list[str] | None = None
    censored: Annotated[str, OneOf(CENSORED_POLICIES)] | None = None


class _Wells(Schema):
    format: Annotated[str, OneOf(WELL_FORMATS)] | None = None
    plate_size: Annotated[int, OneOf(tuple(sorted(PLATE_SIZES)))] | None = None
    from_row_order: bool | None = None
    order: Literal["row-major", "column-major"] | None = None


class _Validation(Schema):
    require_blank: bool | None = None
    require_controls: list[SampleType] | None = None
    unmapped_analytes: Literal["error", "ignore"] | None = None


class _Mzml(Schema):
    transitions: Annotated[Any, AfterValidator(str)] = None
    mz_tolerance: Positive | None = None
    plateau_fraction: Annotated[float, Range(0, 1, open_low=True, open_high=True)] | None = None
    plateau_window_min: Annotated[list[float], AfterValidator(_window)] | None = None
    require_polarity: bool | None = None


class _Defaults(Schema):
    sample_type: SampleType | None = None
    plate_id: Annotated[Any, AfterValidator(str)] = None


class ProfileFile(Schema):
    """The layout of a profile file; ``docs/instruments.md`` says what each key means."""

    profile: _Head = _Head()
    file: _File = _File()
    columns: _Columns = _Columns()
    values: _Values = _Values()
    wells: _Wells = _Wells()
    sample_types: dict[str, SampleType] = {}
    sample_type_patterns: dict[str, SampleType] = {}
    sample_name_types: dict[str, SampleType] = {}
    analytes: dict[str, str] = {}
    validation: _Validation = _Validation()
    mzml: _Mzml = _Mzml()
    defaults: _Defaults = _Defaults()


#: Where each key of a profile file goes in :class:`Profile` (keys not listed keep their name).
_RENAMES = {
    ("columns", "ignore"): "ignore_columns", ("values", "kind"): "value_kind",
    ("values", "unit"): "value_unit", ("values", "columns"): "value_columns",
    ("wells", "format"): "well_format", ("wells", "from_row_order"): "well_from_row_order",
    ("wells", "order"): "well_order", ("defaults", "sample_type"): "default_sample_type",
    ("defaults", "plate_id"): "default_plate_id",
}
_TUPLES = {"encodings", "ignore_columns", "null_tokens", "censored_tokens", "require_controls"}


def _build(file: DataFile, doc: ProfileFile, stem: str) -> Profile:
    kw: dict[str, Any] = {"path": file.path, "name": doc.profile.name or stem}
    for section in ("profile", "file", "values", "wells", "validation", "mzml", "defaults"):
        written = getattr(doc, section).model_dump(exclude_none=True)
        for key, value in written.items():
            if (section, key) in (("profile", "name"), ("profile", "source"),
                                  ("file", "header_row")):
                continue
            name = _RENAMES.get((section, key), key)
            kw[name] = tuple(value) if name in _TUPLES else value
    columns = doc.columns.model_dump(exclude_none=True)
    if "ignore" in columns:
        kw["ignore_columns"] = tuple(columns.pop("ignore"))
    kw["columns"] = columns
    if kw.get("well_format") in ("row-major", "column-major"):
        kw["well_order"] = kw["well_format"]
    if "plateau_window_min" in kw:
        kw["plateau_window_min"] = tuple(kw["plateau_window_min"])
    if "transitions" in kw:
        kw["transitions"] = _transitions_path(kw["transitions"], file.path)
    compiled: dict[str, tuple[tuple[re.Pattern[str], str], ...]] = {}
    for table in ("sample_type_patterns", "sample_name_types"):
        patterns = []
        for pattern, canonical in getattr(doc, table).items():
            try:
                patterns.append((re.compile(pattern), canonical))
            except re.error as exc:
                raise file.error(f"bad regular expression: {exc}", table, pattern) from None
        compiled[table] = tuple(patterns)
    kw.update(sample_types=dict(doc.sample_types), analytes=dict(doc.analytes), **compiled)
    if kw.get("layout") == "long":
        for role in ("analyte", "value"):
            if role not in columns:
                raise file.error(f"a long layout needs columns.{role}", "columns", role)
    return Profile(**kw)


@cache
def _packaged(path: Path) -> Profile:
    doc, file = load_toml(path, ProfileFile, error=ProfileError)
    return _build(file, doc, path.stem)


def load_profile(spec: str | Path | Profile | None, *, default: str | None = None) -> Profile:
    """Load and validate a profile from a packaged name or a TOML path (a packaged profile is
    read once).

    ``spec=None`` loads ``default`` (a packaged name); a :class:`Profile` is returned as is.
    """
    if isinstance(spec, Profile):
        return spec
    if spec is None:
        if default is None:
            return Profile(name="builtin", path="<builtin>")
        spec = default
    path = _resolve_path(spec)
    if path.parent == PROFILE_DIR:
        return _packaged(path)
    doc, file = load_toml(path, ProfileFile, error=ProfileError)
    return _build(file, doc, path.stem)
