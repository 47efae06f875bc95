"""Disorder signatures: which markers a disorder's score weighs, in which direction, how much.

Data: ``cutoffs/data/signatures.csv`` (``disorder, marker, direction, weight, role, source``),
one row per disorder and marker; directions and roles follow the disorder rules
(``cutoffs/data/rules``), weights are estimates a laboratory may refine from its own confirmed
cases (docs/first_tier_scores.md).

Public names: ``SignatureMarker``, ``Signature``, ``load_signatures``, ``default_signatures``,
``SIGNATURES_CSV``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from cutoffs.csv_rows import number, read_rows, text
from cutoffs.errors import CutoffError
from cutoffs.rules import resolve_marker
from msms.catalogue import default_catalogue
from msms.ratios import RatioError

__all__ = ["SIGNATURES_CSV", "Signature", "SignatureMarker", "default_signatures",
           "load_signatures"]

SIGNATURES_CSV = Path(str(resources.files("cutoffs") / "data" / "signatures.csv"))
_COLUMNS = ("disorder", "marker", "direction", "weight", "role", "source")


@dataclass(frozen=True, slots=True)
class SignatureMarker:
    """One marker of a signature: canonical name, +1 (high) or -1 (low), weight, role."""

    name: str
    sign: int
    weight: float
    role: str
    source: str


@dataclass(frozen=True, slots=True)
class Signature:
    """A disorder's markers, in file order."""

    disorder: str
    markers: tuple[SignatureMarker, ...]

    @property
    def marker_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.markers)


def load_signatures(path: Path | str | None = None) -> dict[str, Signature]:
    """Read and validate a signatures CSV (default: the packaged one); errors name the file,
    line and field (unknown disorder or marker, bad direction or weight, duplicate row)."""
    path = Path(path) if path is not None else SIGNATURES_CSV
    file = str(path)
    catalogue = default_catalogue()
    codes = {d.code for d in catalogue.disorders}
    found: dict[str, list[SignatureMarker]] = {}
    for line, row in read_rows(path, _COLUMNS):
        disorder = text(row, "disorder", file, line)
        if disorder not in codes:
            raise CutoffError(f"unknown disorder {disorder!r}", file=file, line=line,
                              field="disorder")
        raw = text(row, "marker", file, line)
        try:
            name, _ = resolve_marker(raw, catalogue)
        except (RatioError, KeyError) as exc:
            raise CutoffError(f"unknown marker {raw!r} ({exc})", file=file, line=line,
                              field="marker") from None
        direction = text(row, "direction", file, line, ("high", "low"))
        weight = number(row, "weight", file, line)
        role = text(row, "role", file, line, ("primary", "secondary"))
        source = text(row, "source", file, line)
        markers = found.setdefault(disorder, [])
        if any(m.name == name for m in markers):
            raise CutoffError(f"{disorder} lists {name} twice", file=file, line=line,
                              field="marker")
        markers.append(SignatureMarker(name, 1 if direction == "high" else -1, weight, role,
                                       source))
    return {code: Signature(code, tuple(m)) for code, m in found.items()}


@cache
def default_signatures() -> dict[str, Signature]:
    """The packaged signatures (``cutoffs/data/signatures.csv``)."""
    return load_signatures()
