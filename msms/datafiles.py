"""Data files: TOML files described by typed schemas (pydantic), read by one loader that names
the file, line and field of any problem, and written with ``tomli-w``.

A kind of data file (a quantitation method, plate-QC rules, disorder rules, a cutoff table, ...)
declares its layout as a :class:`Schema` (types, ranges, choices, required and unknown keys) and
reads it with :func:`load_toml`; what the schema cannot say (a code the catalogue lacks, a name
defined elsewhere in the file) the caller checks and reports through :meth:`DataFile.error`,
which finds the line of a key path in the text. A TOML syntax error, a missing key, a wrong
type, a value out of range or an unknown key raises the caller's error type (``DataError`` or a
subclass, or any type taking ``file``, ``line`` and ``field``) with a message in the project's
words. Writing builds plain values and goes through :func:`write_toml` (comments first).

Public names: ``Schema``, ``LenientSchema``, ``DataFile``, ``read_toml``, ``load_toml``,
``dump_toml``, ``write_toml``, ``line_of``, ``key_lines``, ``key_text``, ``field_name``, ``Loc``,
``Text``, ``Positive``, ``NonNegative``, ``Count``, ``Range``, ``OneOf``, ``Fraction``,
``not_below``, ``ErrorType``.
"""

from __future__ import annotations

import bisect
import math
import re
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import rtoml
import tomli_w
from pydantic import (
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import core_schema

from msms.errors import DataError

__all__ = [
    "Count",
    "DataFile",
    "ErrorType",
    "LenientSchema",
    "Loc",
    "NonNegative",
    "OneOf",
    "Positive",
    "Range",
    "Fraction",
    "Schema",
    "Text",
    "dump_toml",
    "field_name",
    "key_lines",
    "key_text",
    "line_of",
    "not_below",
    "load_toml",
    "read_toml",
    "write_toml",
]

#: A key path in a document: table and key names, and list positions.
Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR = re.compile(r"[^,\]}\n#]*")  # a number, boolean or date: up to what follows it


#: What a loader raises: an exception type taking the message and ``file``, ``line``, ``field``.
ErrorType = Callable[..., Exception]


class Schema(BaseModel):
    """Base of every data-file schema: TOML's own types only (no text read as a number, no
    true read as 1), finite numbers, unknown keys refused, frozen."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False,
                              populate_by_name=True)


class LenientSchema(Schema):
    """A schema that reads keys beyond its own (``source``, notes) and leaves them unused."""

    model_config = ConfigDict(extra="ignore")


class _Check:
    """Annotation metadata that checks a value after its type (see Range, OneOf)."""

    def __get_pydantic_core_schema__(self, source: Any,
                                     handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def check(self, value: Any) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class Range(_Check):
    """A number in ``[low, high]`` (open at an end with ``open_low`` / ``open_high``), as
    annotation metadata: ``Annotated[float, Range(0, 1)]``."""

    low: float
    high: float
    open_low: bool = False
    open_high: bool = False

    def check(self, value: float) -> float:
        above = value > self.low if self.open_low else value >= self.low
        below = value < self.high if self.open_high else value <= self.high
        if above and below:
            return value
        if self.high == math.inf:
            bound = f"> {self.low:g}" if self.open_low else f"at least {self.low:g}"
            raise ValueError(f"must be {bound}, got {value!r}")
        left, right = "([" [not self.open_low], ")]" [not self.open_high]
        raise ValueError(f"must lie in {left}{self.low:g}, {self.high:g}{right}, got {value!r}")


@dataclass(frozen=True)
class OneOf(_Check):
    """A value among ``choices`` (a tuple declared elsewhere), as annotation metadata:
    ``Annotated[str, OneOf(COVARIATE_COLUMNS)]``."""

    choices: tuple[Any, ...]

    def check(self, value: Any) -> Any:
        if value not in self.choices:
            raise ValueError(f"must be one of {', '.join(map(str, self.choices))}, "
                             f"got {value!r}")
        return value


def not_below(field: str, other: str) -> Any:
    """A validator for a schema: ``field`` must not be below ``other``, a key declared before
    it (``_high = not_below("high_hours", "low_hours")``)."""
    def check(value: float | None, info: ValidationInfo) -> float | None:
        low = info.data.get(other)
        if value is not None and low is not None and value < low:
            raise ValueError(f"must not be below {other} ({low:g}), got {value!r}")
        return value
    return field_validator(field)(check)


#: A number from 0 to 1.
Fraction = Annotated[float, Range(0, 1)]
#: A non-empty string (surrounding blanks removed).
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
#: A finite number > 0.
Positive = Annotated[float, Range(0, math.inf, open_low=True)]
#: A finite number >= 0.
NonNegative = Annotated[float, Range(0, math.inf)]
#: A whole number >= 0.
Count = Annotated[int, Range(0, math.inf)]


# ---- where a key is written ---------------------------------------------------------------------


def key_text(key: str | int) -> str:
    """A key as TOML writes it: bare when it can be, else quoted."""
    text = str(key)
    return text if _BARE.fullmatch(text) else '"' + text.replace("\\", "\\\\").replace(
        '"', '\\"') + '"'


def field_name(loc: Loc) -> str:
    """``("effect", 3, "analytes")`` -> ``effect[3].analytes``; keys quoted where TOML would."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + key_text(part)
    return out


class _Scanner:
    """Walks valid TOML text and records the line of every key path (tables, keys, array
    elements, keys of inline tables)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.lines: dict[Loc, int] = {}
        self.arrays: dict[Loc, int] = {}

    def line(self) -> int:
        return bisect.bisect_right(self.starts, self.pos)

    def record(self, loc: Loc, line: int) -> None:
        for k in range(1, len(loc)):
            self.lines.setdefault(loc[:k], line)
        self.lines.setdefault(loc, line)

    def skip(self, newlines: bool) -> None:
        """Skip blanks and comments (and line ends when ``newlines``)."""
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if ch in " \t\r" or (newlines and ch == "\n"):
                self.pos += 1
            elif ch == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            else:
                return

    def key(self) -> list[str]:
        """A dotted key at the current position."""
        parts = []
        while True:
            self.skip(False)
            ch = self.text[self.pos]
            if ch in "\"'":
                start = self.pos
                self.string()
                parts.append(tomllib.loads(f"k = {self.text[start:self.pos]}")["k"])
            else:
                match = _BARE.match(self.text, self.pos)
                assert match is not None
                parts.append(match.group())
                self.pos = match.end()
            self.skip(False)
            if self.pos < len(self.text) and self.text[self.pos] == ".":
                self.pos += 1
                continue
            return parts

    def string(self) -> None:
        text, quote = self.text, self.text[self.pos]
        if text.startswith(quote * 3, self.pos):
            self.pos += 3
            while True:
                end = text.index(quote * 3, self.pos)
                if quote == "'" or not _escaped(text, end):
                    self.pos = end + 3
                    while self.pos < len(text) and text[self.pos] == quote:  # """a"""" -> a"
                        self.pos += 1
                    return
                self.pos = end + 1
        self.pos += 1
        while True:
            end = text.index(quote, self.pos)
            if quote == "'" or not _escaped(text, end):
                self.pos = end + 1
                return
            self.pos = end + 1

    def value(self, loc: Loc) -> None:
        ch = self.text[self.pos]
        if ch in "\"'":
            self.string()
        elif ch == "[":
            self.array(loc)
        elif ch == "{":
            self.inline_table(loc)
        else:
            match = _SCALAR.match(self.text, self.pos)
            assert match is not None
            self.pos = match.end()

    def array(self, loc: Loc) -> None:
        self.pos += 1
        index = 0
        while True:
            self.skip(True)
            if self.text[self.pos] == "]":
                self.pos += 1
                return
            self.record((*loc, index), self.line())
            self.value((*loc, index))
            index += 1
            self.skip(True)
            if self.text[self.pos] == ",":
                self.pos += 1

    def inline_table(self, loc: Loc) -> None:
        self.pos += 1
        while True:
            self.skip(True)
            if self.text[self.pos] == "}":
                self.pos += 1
                return
            self.pair(loc)
            self.skip(True)
            if self.text[self.pos] == ",":
                self.pos += 1

    def pair(self, table: Loc) -> None:
        line = self.line()
        loc = (*table, *self.key())
        self.record(loc, line)
        self.skip(False)
        self.pos += 1  # "="
        self.skip(False)
        self.value(loc)

    def resolve(self, parts: list[str]) -> Loc:
        """A header's names as a key path: an array of tables stands for its latest element."""
        loc: Loc = ()
        for part in parts:
            loc = (*loc, part)
            if loc in self.arrays:
                loc = (*loc, self.arrays[loc])
        return loc

    def header(self) -> Loc:
        line = self.line()
        double = self.text.startswith("[[", self.pos)
        self.pos += 2 if double else 1
        parts = self.key()
        self.pos += 2 if double else 1
        if not double:
            loc = self.resolve(parts)
        else:
            array = (*self.resolve(parts[:-1]), parts[-1])
            self.arrays[array] = self.arrays.get(array, -1) + 1
            self.record(array, line)
            loc = (*array, self.arrays[array])
        self.record(loc, line)
        return loc

    def scan(self) -> dict[Loc, int]:
        table: Loc = ()
        while True:
            self.skip(True)
            if self.pos >= len(self.text):
                return self.lines
            if self.text[self.pos] == "[":
                table = self.header()
            else:
                self.pair(table)


def _escaped(text: str, end: int) -> bool:
    """Whether the quote at ``end`` follows an odd number of backslashes."""
    count = 0
    while end - count - 1 >= 0 and text[end - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def key_lines(text: str) -> dict[Loc, int]:
    """The 1-based line of every key path written in valid TOML ``text``: tables (an array of
    tables also by its position), keys (dotted keys and their parts), array elements and the
    keys of inline tables."""
    return _Scanner(text).scan()


def line_of(text: str | Mapping[Loc, int], loc: Loc) -> int | None:
    """The line of ``loc`` in TOML ``text`` (or in its :func:`key_lines`); for a path that is
    not written (a missing key) the line of its nearest written parent; None at the top."""
    lines = key_lines(text) if isinstance(text, str) else text
    for k in range(len(loc), 0, -1):
        found = lines.get(loc[:k])
        if found is not None:
            return found
    return None


# ---- reading -----------------------------------------------------------------------------------


class DataFile:
    """A TOML file that was read: its name, text and data; errors name file, line and field."""

    def __init__(self, path: str, text: str, data: dict[str, Any],
                 error: ErrorType = DataError) -> None:
        self.path = path
        self.text = text
        self.data = data
        self.error_type = error
        self._lines: dict[Loc, int] | None = None

    def line(self, loc: Loc) -> int | None:
        """The line of a key path (of its nearest written parent when it is not written)."""
        if self._lines is None:
            self._lines = key_lines(self.text)
        return line_of(self._lines, loc)

    def error(self, message: str, *loc: str | int, field: str | None = None) -> Exception:
        """An error at key path ``loc`` (``field`` overrides the name shown)."""
        return self.error_type(message, file=self.path, line=self.line(loc) if loc else None,
                               field=field if field is not None else field_name(loc) or None)

    def validate(self, schema: type[M], data: Any = None, *, loc: Loc = (),
                 label: str | None = None) -> M:
        """``data`` (default: the whole file) as ``schema``; ``loc`` is where ``data`` sits in
        the file, ``label`` a name shown for it instead (``rule[PKU]``)."""
        try:
            return schema.model_validate(self.data if data is None else data)
        except ValidationError as exc:
            problems = [(tuple(e["loc"]), e) for e in exc.errors()]
            where, first = min(problems, key=lambda p: self.line((*loc, *p[0])) or 1 << 60)
            name = field_name((*loc, *where)) if label is None else label + (
                ("" if not where or isinstance(where[0], int) else ".") + field_name(where))
            raise self.error(_message(first, schema, where), *loc, *where, field=name) from None


def _parse_toml(text: str) -> dict[str, Any]:
    """The TOML document in ``text``: parsed by rtoml (fast; the same values and types as
    tomllib on every TOML file of the repository and on derived cutoff tables), and by tomllib
    when rtoml refuses it, so that tomllib decides what is an error and words it."""
    try:
        return dict(rtoml.loads(text))
    except Exception:  # noqa: BLE001 - any refusal: let tomllib parse or explain
        return tomllib.loads(text)


def read_toml(path: str | Path, *, error: ErrorType = DataError) -> DataFile:
    """Read a UTF-8 TOML file; a file that cannot be read or is not TOML raises ``error``
    naming the file (and the line of a syntax error)."""
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise error("no such file", file=name) from None
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror or exc}", file=name) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"not UTF-8 ({exc.reason})", file=name) from None
    try:
        data = _parse_toml(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise error(f"not valid TOML: {exc}", file=name,
                    line=int(match.group(1)) if match else None) from None
    return DataFile(name, text, data, error)


def load_toml(path: str | Path, schema: type[M], *,
              error: ErrorType = DataError) -> tuple[M, DataFile]:
    """Read a TOML file as ``schema``: the validated model and the file (for further checks)."""
    file = read_toml(path, error=error)
    return file.validate(schema), file


_KINDS = {"float": "a number", "int": "an integer", "bool": "true or false", "string": "a string",
          "date": "a TOML date (2027-12-31)", "list": "a list", "dict": "a table",
          "model": "a table", "tuple": "a list"}


def _message(error: Mapping[str, Any], schema: type[BaseModel], where: Loc) -> str:
    """A pydantic error in the project's words."""
    kind, value = error["type"], error.get("input")
    if kind == "missing":
        return f"missing key {where[-1]!r}"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(schema, where[:-1])
        return f"unknown key {where[-1]!r}" + (f" (allowed: {', '.join(allowed)})"
                                               if allowed else "")
    if kind == "literal_error":
        return f"must be one of {error['ctx']['expected']}, got {value!r}"
    if kind == "string_too_short":
        return f"must be a non-empty string, got {value!r}"
    if kind == "too_short" and not value:
        return "must not be empty"
    if kind == "finite_number":
        return f"must be a finite number, got {value!r}"
    if kind in ("value_error", "assertion_error"):
        return str(error["ctx"]["error"])
    for prefix, what in _KINDS.items():
        if kind.startswith(prefix):
            return f"must be {what}, got {value!r}"
    return f"{error['msg']}, got {value!r}"


def _allowed_keys(schema: Any, loc: Loc) -> list[str]:
    """The keys the schema allows at ``loc`` (empty when it cannot tell)."""
    for part in (*loc, None):
        while typing.get_origin(schema) in (Annotated, typing.Union, types.UnionType):
            schema = next(a for a in typing.get_args(schema) if a is not type(None))
        fields = ({f.alias or n: f for n, f in schema.model_fields.items()}
                  if isinstance(schema, type) and issubclass(schema, BaseModel) else None)
        if part is None:
            return sorted(fields or ())
        if fields is not None:
            if part not in fields:
                return []
            schema = fields[part].annotation
        elif typing.get_origin(schema) in (list, tuple, dict):
            schema = typing.get_args(schema)[-1 if typing.get_origin(schema) is dict else 0]
        else:
            return []
    return []


# ---- writing -----------------------------------------------------------------------------------


def dump_toml(data: Mapping[str, Any], *, comment: str = "") -> str:
    """TOML text of plain values (``None`` values left out), after ``comment`` lines (``# ``)."""
    head = "".join(f"# {line}".rstrip() + "\n" for line in comment.splitlines())
    return head + tomli_w.dumps(_plain(data))


def write_toml(data: Mapping[str, Any], path: str | Path, *, comment: str = "") -> Path:
    """Write :func:`dump_toml` text to ``path`` (UTF-8)."""
    path = Path(path)
    path.write_text(dump_toml(data, comment=comment), encoding="utf-8")
    return path


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        raise ValueError("cannot write NaN to a data file")
    return value
