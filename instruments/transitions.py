"""Transition tables: which (Q1, Q3, polarity) is which analyte or internal standard.

A table is a CSV (``#`` lines are comments) with columns ``name, role, analytes, precursor_mz,
product_mz, polarity``: ``role`` is ``analyte`` or ``is``; ``analytes`` names the analyte (or,
for an internal standard, the ``;``-separated analytes it serves) by catalogue code. The packaged
tables are the quantitation methods' own (``msms/data/methods``: ``nonderivatized``,
``butylated``; defaults a laboratory must verify), so reading and quantifying always agree on
which transition is which compound. Loading rejects unknown analytes and transitions too close to
tell apart at the matching tolerance.

Public names: ``Transition``, ``TransitionTable``, ``load_transitions``, ``from_method``.
"""

from __future__ import annotations

import csv
import io
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from instruments.errors import ProfileError
from msms.catalogue import Catalogue, default_catalogue
from msms.methods import Method, default_method, load_method, packaged_methods

__all__ = ["Transition", "TransitionTable", "from_method", "load_transitions"]

_COLUMNS = ("name", "role", "analytes", "precursor_mz", "product_mz", "polarity")


@dataclass(frozen=True, slots=True)
class Transition:
    """One SRM transition: an analyte's, or an internal standard's (``analytes`` it serves)."""

    name: str
    role: str
    analytes: tuple[str, ...]
    precursor_mz: float
    product_mz: float
    polarity: str  # "+" or "-"
    line: int

    @property
    def target(self) -> str:
        """The compound spelling the importing step maps (``Phe`` or ``IS:C6,C8``)."""
        return self.analytes[0] if self.role == "analyte" else "IS:" + ",".join(self.analytes)

    @property
    def neutral_loss(self) -> float:
        return self.precursor_mz - self.product_mz


@dataclass(frozen=True)
class TransitionTable:
    """A validated table; :meth:`match` finds the transition of a measured (Q1, Q3)."""

    name: str
    path: str
    transitions: tuple[Transition, ...]

    @cached_property
    def _by_precursor(self) -> tuple[list[float], list[int]]:
        """Precursor m/z in ascending order and the table index of each (for :meth:`match`)."""
        order = sorted(range(len(self.transitions)),
                       key=lambda i: self.transitions[i].precursor_mz)
        return [self.transitions[i].precursor_mz for i in order], order

    def match(self, precursor_mz: float, product_mz: float, polarity: str | None,
              tolerance: float) -> Transition | None:
        """The transition within ``tolerance`` m/z on both quadrupoles (and of the same
        polarity when ``polarity`` is given), or None; the first in table order when several
        are (a bisection on Q1, then the exact checks)."""
        keys, order = self._by_precursor
        slack = tolerance * (1 + 1e-9) + 1e-12  # never narrower than the exact test below
        found = None
        for j in range(bisect_left(keys, precursor_mz - slack),
                       bisect_right(keys, precursor_mz + slack)):
            i = order[j]
            t = self.transitions[i]
            if ((found is None or i < found) and abs(t.precursor_mz - precursor_mz) <= tolerance
                    and abs(t.product_mz - product_mz) <= tolerance
                    and (polarity is None or t.polarity == polarity)):
                found = i
        return None if found is None else self.transitions[found]

    def internal_standard_for(self, analyte: str) -> Transition | None:
        for t in self.transitions:
            if t.role == "is" and analyte in t.analytes:
                return t
        return None

    def analyte(self, code: str) -> Transition | None:
        for t in self.transitions:
            if t.role == "analyte" and t.analytes[0] == code:
                return t
        return None

    def check_resolvable(self, tolerance: float) -> None:
        """Raise ProfileError when two transitions could match the same measured pair."""
        ts = self.transitions
        for i, a in enumerate(ts):
            for b in ts[i + 1:]:
                if (a.polarity == b.polarity
                        and abs(a.precursor_mz - b.precursor_mz) <= 2 * tolerance
                        and abs(a.product_mz - b.product_mz) <= 2 * tolerance):
                    raise ProfileError(
                        f"transitions {a.name} (line {a.line}) and {b.name} cannot be told apart "
                        f"at a tolerance of {tolerance} m/z", file=self.path, line=b.line,
                        field="precursor_mz")


def from_method(method: Method) -> TransitionTable:
    """A quantitation method's transitions as a table.

    One row per analyte (its first transition) and one per internal standard, serving the
    analytes the method assigns to it.
    """
    rows: list[Transition] = []
    served: dict[str, list[str]] = {}
    for entry in method:
        served.setdefault(entry.internal_standard.name, []).append(entry.analyte)
    for entry in method:
        t = entry.transitions[0]
        rows.append(Transition(entry.analyte, "analyte", (entry.analyte,), t.precursor_mz,
                               t.product_mz, "+" if t.polarity == "positive" else "-",
                               len(rows) + 1))
    for name, analytes in served.items():
        t = method.internal_standards[name].transition
        rows.append(Transition(name, "is", tuple(analytes), t.precursor_mz, t.product_mz,
                               "+" if t.polarity == "positive" else "-", len(rows) + 1))
    return TransitionTable(f"method {method.name} {method.version}", method.source_file,
                           tuple(rows))


def load_transitions(spec: str | Path | TransitionTable | Method, *,
                     catalogue: Catalogue | None = None) -> TransitionTable:
    """A transition table from a method (a :class:`~msms.methods.Method`, or a packaged method's
    name such as ``nonderivatized``), or from a laboratory's CSV (a path), validated."""
    if isinstance(spec, TransitionTable):
        return spec
    if isinstance(spec, Method):
        return from_method(spec)
    if str(spec) in packaged_methods():
        method = default_method(str(spec)) if catalogue is None else load_method(
            str(spec), catalogue=catalogue)
        return from_method(method)
    catalogue = catalogue or default_catalogue()
    path = Path(spec)
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(
            f"no transition table {str(spec)!r}: name a packaged method "
            f"({', '.join(packaged_methods())}) or a CSV file",
            file=where, field="mzml.transitions") from None
    except UnicodeDecodeError:
        raise ProfileError("transition tables must be UTF-8", file=where) from None
    rows = [(n, line) for n, line in enumerate(text.splitlines(), start=1)
            if line.strip() and not line.lstrip().startswith("#")]
    if not rows:
        raise ProfileError("holds no transitions", file=where)
    reader = csv.reader(io.StringIO("\n".join(line for _, line in rows)))
    header = [h.strip() for h in next(reader)]
    missing = [c for c in _COLUMNS if c not in header]
    if missing:
        raise ProfileError(f"header lacks {', '.join(missing)}", file=where, line=rows[0][0],
                           field=missing[0])
    transitions = []
    for (number, _), row in zip(rows[1:], reader, strict=False):
        if len(row) != len(header):
            raise ProfileError(f"has {len(row)} fields, the header has {len(header)}",
                               file=where, line=number)
        values = {h: v.strip() for h, v in zip(header, row, strict=True)}
        role = values["role"]
        if role not in ("analyte", "is"):
            raise ProfileError(f"role {role!r} must be 'analyte' or 'is'", file=where,
                               line=number, field="role")
        codes = []
        for name in values["analytes"].split(";"):
            code = catalogue.try_resolve(name.strip())
            if code is None:
                raise ProfileError(f"{name.strip()!r} is no catalogue analyte", file=where,
                                   line=number, field="analytes")
            codes.append(code)
        if role == "analyte" and len(codes) != 1:
            raise ProfileError("an analyte row names one analyte", file=where, line=number,
                               field="analytes")
        mz = []
        for field in ("precursor_mz", "product_mz"):
            try:
                value = float(values[field])
            except ValueError:
                raise ProfileError(f"{values[field]!r} is not an m/z", file=where, line=number,
                                   field=field) from None
            if not value > 0:
                raise ProfileError("m/z must be > 0", file=where, line=number, field=field)
            mz.append(value)
        polarity = values["polarity"]
        if polarity not in ("+", "-"):
            raise ProfileError(f"polarity {polarity!r} must be + or -", file=where, line=number,
                               field="polarity")
        transitions.append(Transition(values["name"], role, tuple(codes), mz[0], mz[1],
                                      polarity, number))
    return TransitionTable(path.stem, where, tuple(transitions))
