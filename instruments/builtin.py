"""Registers the built-in formats with the registry, in detection order.

Public names: ``BUILTIN_FORMATS``.
"""

from __future__ import annotations

from instruments import delimited, masslynx, mzml, quandata
from instruments.registry import FormatSpec, register

__all__ = ["BUILTIN_FORMATS"]

BUILTIN_FORMATS: tuple[FormatSpec, ...] = (
    FormatSpec("mzml", mzml.detect, mzml.read, mzml.write, mzml.DEFAULT_PROFILE,
               "mzML plate: a directory or .zip of per-injection mzML files with a sample list, "
               "or one mzML file", uses_transitions=True),
    FormatSpec("quandata", quandata.detect, quandata.read, quandata.write,
               quandata.DEFAULT_PROFILE, "TargetLynx quandata.xml"),
    FormatSpec("masslynx", masslynx.detect, masslynx.read, masslynx.write,
               masslynx.DEFAULT_PROFILE,
               "MassLynx Quantify Compound/Sample Summary Report (text)"),
    FormatSpec("delimited", delimited.detect, delimited.read, delimited.write,
               delimited.DEFAULT_PROFILE, "CSV/TSV (wide or long) driven by a profile",
               choose_profile=delimited.choose_profile),
)

for _spec in BUILTIN_FORMATS:
    register(_spec)
