"""Profiles: TOML files that tell a reader how a laboratory's export is laid out and what its
names mean (column mapping, sample-type map, analyte aliases, encodings, decimal comma, well
format, null and censored tokens, validation rules, mzML transition table and tolerances).

Packaged profiles live in ``instruments/data/profiles/<name>.toml``; :func:`load_profile` takes a
packaged name, a path, or ``None`` for a format's default profile. Every key is checked: an
unknown key or a bad value is a :class:`~instruments.errors.ProfileError` naming the file and key.

Public names: ``Profile``, ``load_profile``, ``packaged_profiles``, ``PROFILE_DIR``,
``CENSORED_POLICIES``, ``IS_PREFIX``, ``IGNORE``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from instruments.errors import ProfileError
from instruments.formats import formats
from instruments.wells import PLATE_SIZES, WELL_FORMATS
from msms.methods import packaged_methods
from msms.tables import MEASUREMENT_KINDS, SAMPLE_TYPES

__all__ = [
    "CENSORED_POLICIES",
    "IGNORE",
    "IS_PREFIX",
    "PROFILE_DIR",
    "Profile",
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
_SCHEMA: dict[str, set[str]] = {
    "profile": {"name", "description", "format", "version", "source"},
    "file": {"encodings", "delimiter", "decimal", "layout", "skip_rows", "header_row"},
    "columns": set(_ROLES) | {"ignore"},
    "values": {"kind", "unit", "null_tokens", "censored_tokens", "censored", "columns"},
    "wells": {"format", "plate_size", "from_row_order", "order"},
    "sample_types": set(),
    "sample_type_patterns": set(),
    "analytes": set(),
    "validation": {"require_blank", "require_controls", "unmapped_analytes"},
    "mzml": {"transitions", "mz_tolerance", "plateau_fraction", "plateau_window_min",
             "require_polarity"},
    "defaults": {"sample_type", "plate_id"},
}
_FREE_TABLES = {"sample_types", "sample_type_patterns", "analytes"}


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

    def sample_type_for(self, vendor_value: str | None, sample_name: str | None
                        ) -> str | None:
        """Canonical sample type from the vendor's value (exact, then case-insensitive), then
        from the name patterns, then the profile's default; None when nothing says."""
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


def _fail(message: str, path: str, key: str | None = None) -> ProfileError:
    return ProfileError(message, file=path, field=key)


def _str_list(value: Any, path: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail("must be a list of strings", path, key)
    return tuple(value)


def _choice(value: Any, choices: tuple[str, ...] | set[str], path: str, key: str) -> str:
    if value not in choices:
        raise _fail(f"{value!r} is not one of {', '.join(sorted(choices))}", path, key)
    return str(value)


def _bool(value: Any, path: str, key: str) -> bool:
    if not isinstance(value, bool):
        raise _fail("must be true or false", path, key)
    return value


def _number(value: Any, path: str, key: str, *, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail("must be a number", path, key)
    if positive and not value > 0:
        raise _fail("must be > 0", path, key)
    return float(value)


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


def load_profile(spec: str | Path | Profile | None, *, default: str | None = None) -> Profile:
    """Load and validate a profile from a packaged name or a TOML path.

    ``spec=None`` loads ``default`` (a packaged name); a :class:`Profile` is returned as is.
    """
    if isinstance(spec, Profile):
        return spec
    if spec is None:
        if default is None:
            return Profile(name="builtin", path="<builtin>")
        spec = default
    path = _resolve_path(spec)
    where = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError("no such file", file=where) from None
    except UnicodeDecodeError:
        raise ProfileError("profile files must be UTF-8", file=where) from None
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        raise ProfileError(f"not valid TOML: {exc}", file=where, line=line) from None
    return _build(raw, where, path.stem)


def _build(raw: dict[str, Any], where: str, stem: str) -> Profile:
    for table, value in raw.items():
        if table not in _SCHEMA:
            raise _fail(f"unknown table [{table}]; known: {', '.join(sorted(_SCHEMA))}", where,
                        table)
        if not isinstance(value, dict):
            raise _fail("must be a table", where, table)
        if table in _FREE_TABLES:
            for key, target in value.items():
                if not isinstance(target, str):
                    raise _fail("must map to a string", where, f"{table}.{key}")
            continue
        for key in value:
            if key not in _SCHEMA[table]:
                raise _fail(f"unknown key; known: {', '.join(sorted(_SCHEMA[table]))}", where,
                            f"{table}.{key}")
    kw: dict[str, Any] = {"path": where}
    prof, file_, cols = raw.get("profile", {}), raw.get("file", {}), raw.get("columns", {})
    values, wells, val = raw.get("values", {}), raw.get("wells", {}), raw.get("validation", {})
    mzml, defaults = raw.get("mzml", {}), raw.get("defaults", {})
    kw["name"] = str(prof.get("name", stem))
    kw["description"] = str(prof.get("description", ""))
    kw["version"] = str(prof.get("version", ""))
    if "format" in prof:
        kw["format"] = _choice(prof["format"], set(formats()),
                               where, "profile.format")
    if "encodings" in file_:
        kw["encodings"] = _str_list(file_["encodings"], where, "file.encodings")
        for enc in kw["encodings"]:
            try:
                "".encode(enc)
            except LookupError:
                raise _fail(f"unknown encoding {enc!r}", where, "file.encodings") from None
    if "delimiter" in file_:
        kw["delimiter"] = _choice(file_["delimiter"], {"auto", ",", ";", "\t", "|"}, where,
                                  "file.delimiter")
    if "decimal" in file_:
        kw["decimal"] = _choice(file_["decimal"], {".", ","}, where, "file.decimal")
    if "layout" in file_:
        kw["layout"] = _choice(file_["layout"], {"wide", "long"}, where, "file.layout")
    if "skip_rows" in file_:
        skip = file_["skip_rows"]
        if isinstance(skip, bool) or not isinstance(skip, int) or skip < 0:
            raise _fail("must be a whole number >= 0", where, "file.skip_rows")
        kw["skip_rows"] = skip
    columns = {}
    for role in _ROLES:
        if role in cols:
            if not isinstance(cols[role], str) or not cols[role]:
                raise _fail("must be a column header", where, f"columns.{role}")
            columns[role] = cols[role]
    kw["columns"] = columns
    if "ignore" in cols:
        kw["ignore_columns"] = _str_list(cols["ignore"], where, "columns.ignore")
    if "kind" in values:
        kw["value_kind"] = _choice(values["kind"], MEASUREMENT_KINDS, where, "values.kind")
    if "unit" in values:
        kw["value_unit"] = str(values["unit"])
    if "columns" in values:
        vc = values["columns"]
        if not isinstance(vc, dict):
            raise _fail("must be a table of header = kind", where, "values.columns")
        for header, kind in vc.items():
            _choice(kind, MEASUREMENT_KINDS, where, f"values.columns.{header}")
        kw["value_columns"] = dict(vc)
    if "null_tokens" in values:
        kw["null_tokens"] = _str_list(values["null_tokens"], where, "values.null_tokens")
    if "censored_tokens" in values:
        kw["censored_tokens"] = _str_list(values["censored_tokens"], where,
                                          "values.censored_tokens")
    if "censored" in values:
        kw["censored"] = _choice(values["censored"], CENSORED_POLICIES, where, "values.censored")
    if "format" in wells:
        kw["well_format"] = _choice(wells["format"], WELL_FORMATS, where, "wells.format")
    if "plate_size" in wells:
        if wells["plate_size"] not in PLATE_SIZES:
            raise _fail(f"must be one of {sorted(PLATE_SIZES)}", where, "wells.plate_size")
        kw["plate_size"] = wells["plate_size"]
    if "from_row_order" in wells:
        kw["well_from_row_order"] = _bool(wells["from_row_order"], where, "wells.from_row_order")
    if "order" in wells:
        kw["well_order"] = _choice(wells["order"], ("row-major", "column-major"), where,
                                   "wells.order")
    if kw.get("well_format") in ("row-major", "column-major"):
        kw["well_order"] = kw["well_format"]
    sample_types = {}
    for vendor, canonical in raw.get("sample_types", {}).items():
        sample_types[vendor] = _choice(canonical, SAMPLE_TYPES, where, f"sample_types.{vendor}")
    kw["sample_types"] = sample_types
    patterns = []
    for pattern, canonical in raw.get("sample_type_patterns", {}).items():
        _choice(canonical, SAMPLE_TYPES, where, f"sample_type_patterns.{pattern}")
        try:
            patterns.append((re.compile(pattern), canonical))
        except re.error as exc:
            raise _fail(f"bad regular expression: {exc}", where,
                        f"sample_type_patterns.{pattern}") from None
    kw["sample_type_patterns"] = tuple(patterns)
    kw["analytes"] = dict(raw.get("analytes", {}))
    if "require_blank" in val:
        kw["require_blank"] = _bool(val["require_blank"], where, "validation.require_blank")
    if "require_controls" in val:
        controls = _str_list(val["require_controls"], where, "validation.require_controls")
        for c in controls:
            _choice(c, SAMPLE_TYPES, where, "validation.require_controls")
        kw["require_controls"] = controls
    if "unmapped_analytes" in val:
        kw["unmapped_analytes"] = _choice(val["unmapped_analytes"], ("error", "ignore"), where,
                                          "validation.unmapped_analytes")
    if "transitions" in mzml:
        kw["transitions"] = _transitions_path(str(mzml["transitions"]), where)
    if "mz_tolerance" in mzml:
        kw["mz_tolerance"] = _number(mzml["mz_tolerance"], where, "mzml.mz_tolerance")
    if "plateau_fraction" in mzml:
        frac = _number(mzml["plateau_fraction"], where, "mzml.plateau_fraction")
        if frac >= 1:
            raise _fail("must be between 0 and 1", where, "mzml.plateau_fraction")
        kw["plateau_fraction"] = frac
    if "plateau_window_min" in mzml:
        window = mzml["plateau_window_min"]
        if (not isinstance(window, list) or len(window) != 2
                or not all(isinstance(w, (int, float)) for w in window)
                or not 0 <= window[0] < window[1]):
            raise _fail("must be [start, end] in minutes with start < end", where,
                        "mzml.plateau_window_min")
        kw["plateau_window_min"] = (float(window[0]), float(window[1]))
    if "require_polarity" in mzml:
        kw["require_polarity"] = _bool(mzml["require_polarity"], where, "mzml.require_polarity")
    if "sample_type" in defaults:
        kw["default_sample_type"] = _choice(defaults["sample_type"], SAMPLE_TYPES, where,
                                            "defaults.sample_type")
    if "plate_id" in defaults:
        kw["default_plate_id"] = str(defaults["plate_id"])
    if kw.get("layout") == "long":
        for role in ("analyte", "value"):
            if role not in columns:
                raise _fail(f"a long layout needs columns.{role}", where, f"columns.{role}")
    return Profile(**kw)
