"""The mzML plate writer used by the virtual instrument: one mzML per well (SRM chromatograms
whose flow-injection plateau mean is exactly each value, 64-bit floats, zlib, times in minutes)
and ``samples.csv``, as a ``.zip`` or a directory. :mod:`instruments.mzml` reads it back.

Public names: ``write``, ``SAMPLE_LIST`` (the plate's sample list, ``samples.csv``),
``DEFAULT_PROFILE``.
"""

from __future__ import annotations

import base64
import io
import math
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from lxml import etree

from instruments.errors import WriteError
from instruments.profiles import Profile, load_profile
from instruments.run import PlateRun
from instruments.sources import write_bytes
from instruments.transitions import Transition, TransitionTable, load_transitions
from instruments.vocabulary import ACCESSIONS
from instruments.wells import well_sort_key
from msms import csvsafe

__all__ = ["DEFAULT_PROFILE", "SAMPLE_LIST", "write"]

DEFAULT_PROFILE = "mzml"
SAMPLE_LIST = "samples.csv"

_NS = "http://psi.hupo.org/ms/mzml"


def _cv(parent: Any, accession: str, value: str = "", unit: str | None = None) -> None:
    attrs = {"cvRef": accession.split(":")[0].replace("MS", "MS"), "accession": accession,
             "name": ACCESSIONS[accession], "value": value}
    if unit is not None:
        attrs.update({"unitCvRef": unit.split(":")[0], "unitAccession": unit,
                      "unitName": ACCESSIONS[unit]})
    etree.SubElement(parent, "cvParam", attrs)


def _array(parent: Any, values: np.ndarray, kind: str, unit: str) -> None:
    encoded = base64.b64encode(zlib.compress(np.asarray(values, dtype="<f8").tobytes()))
    bda = etree.SubElement(parent, "binaryDataArray", encodedLength=str(len(encoded)))
    _cv(bda, kind, unit=unit)
    _cv(bda, "MS:1000574")
    _cv(bda, "MS:1000523")
    etree.SubElement(bda, "binary").text = encoded.decode("ascii")


def _window(parent: Any, tag: str, mz: float) -> None:
    element = etree.SubElement(parent, tag)
    iso_window = etree.SubElement(element, "isolationWindow")
    _cv(iso_window, "MS:1000827", repr(mz), "MS:1000040")
    if tag == "precursor":
        ions = etree.SubElement(element, "selectedIonList", count="1")
        _cv(etree.SubElement(ions, "selectedIon"), "MS:1000744", repr(mz), "MS:1000040")
        _cv(etree.SubElement(element, "activation"), "MS:1000133")


def _injection_xml(run_id: str, sample_id: str, channels: list[tuple[Transition, float]],
                   times: np.ndarray, shape: np.ndarray) -> bytes:
    root = etree.Element("mzML", nsmap={None: _NS}, version="1.1.0")
    cvs = etree.SubElement(root, "cvList", count="2")
    etree.SubElement(cvs, "cv", id="MS", fullName="PSI-MS",
                     URI="http://purl.obolibrary.org/obo/ms/psi-ms.obo")
    etree.SubElement(cvs, "cv", id="UO", fullName="Unit Ontology",
                     URI="http://purl.obolibrary.org/obo/uo.obo")
    content = etree.SubElement(etree.SubElement(root, "fileDescription"), "fileContent")
    _cv(content, "MS:1001473")
    samples = etree.SubElement(root, "sampleList", count="1")
    etree.SubElement(samples, "sample", id="sample1", name=sample_id)
    software = etree.SubElement(etree.SubElement(root, "softwareList", count="1"), "software",
                                id="nbs_lab", version="1")
    etree.SubElement(software, "userParam", name="nbs-lab instruments.mzml writer")
    ic = etree.SubElement(etree.SubElement(root, "instrumentConfigurationList", count="1"),
                          "instrumentConfiguration", id="IC1")
    _cv(ic, "MS:1000031")
    dp = etree.SubElement(etree.SubElement(root, "dataProcessingList", count="1"),
                          "dataProcessing", id="dp1")
    _cv(etree.SubElement(dp, "processingMethod", order="0", softwareRef="nbs_lab"),
        "MS:1000544")
    run = etree.SubElement(root, "run", id=run_id, defaultInstrumentConfigurationRef="IC1",
                           sampleRef="sample1")
    chroms = etree.SubElement(run, "chromatogramList", count=str(len(channels) + 1),
                              defaultDataProcessingRef="dp1")
    tic = np.zeros_like(shape)
    for _, value in channels:
        tic = tic + value * shape
    entries: list[tuple[str, np.ndarray, Transition | None]] = [("TIC", tic, None)]
    entries += [(f"SRM Q1={t.precursor_mz} Q3={t.product_mz}", v * shape, t)
                for t, v in channels]
    for index, (label, intensity, t) in enumerate(entries):
        c = etree.SubElement(chroms, "chromatogram", index=str(index), id=label,
                             defaultArrayLength=str(len(times)))
        if t is None:
            _cv(c, "MS:1000235")
        else:
            _cv(c, "MS:1000130" if t.polarity == "+" else "MS:1000129")
            _cv(c, "MS:1001473")
            etree.SubElement(c, "userParam", name="compound", value=t.name)
            _window(c, "precursor", t.precursor_mz)
            _window(c, "product", t.product_mz)
        arrays = etree.SubElement(c, "binaryDataArrayList", count="2")
        _array(arrays, times, "MS:1000595", "UO:0000031")
        _array(arrays, intensity, "MS:1000515", "MS:1000131")
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _flat_top(points: int = 40, duration_min: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
    """A flow-injection profile whose plateau is exactly 1 and whose flanks stay below half."""
    times = np.linspace(0.0, duration_min, points)
    shape = np.zeros(points)
    start, end = points // 4, points // 4 + points // 3
    shape[start - 2:start] = (0.1, 0.3)
    shape[start:end] = 1.0
    shape[end:end + 2] = (0.3, 0.1)
    return times, shape


def write(run: PlateRun, dest: Any, *, transitions: TransitionTable | str | Path | None = None,
          profile: Profile | str | None = None, points: int = 40) -> None:
    """Write a plate run as an mzML plate: a ``.zip`` (``dest`` ending in .zip, or a binary
    buffer) or a directory, with one mzML per well and ``samples.csv``.

    Each area / is_area value becomes an SRM chromatogram whose flow-injection plateau mean is
    exactly that value (64-bit floats, times in minutes). Analytes sharing an internal standard
    must carry the same is_area value in a well (one IS chromatogram serves them).
    """
    prof = load_profile(profile, default=DEFAULT_PROFILE)
    table = load_transitions(transitions or prof.transitions)
    m = run.measurements
    if m.empty:
        raise WriteError("the run holds no measurements", file=str(dest))
    bad = sorted(set(m["kind"]) - {"area", "is_area"})
    if bad:
        raise WriteError(f"mzML carries intensities only (area, is_area), not {', '.join(bad)}",
                         field="kind")
    times, shape = _flat_top(points)
    files: list[tuple[str, bytes]] = []
    sample_rows = []
    samples = m[["plate_id", "well", "sample_id", "sample_type"]].drop_duplicates()
    if samples[["plate_id", "well"]].duplicated().any():
        raise WriteError("a well holds two samples", field="well")
    for s in sorted(samples.itertuples(index=False),
                    key=lambda s: (s.plate_id, well_sort_key(s.well))):
        rows = m[(m["plate_id"] == s.plate_id) & (m["well"] == s.well)]
        channels: dict[str, tuple[Transition, float, str]] = {}
        for r in rows.itertuples(index=False):
            if r.kind == "area":
                t = table.analyte(r.analyte)
                if t is None:
                    raise WriteError(f"no transition for {r.analyte} in {table.name}",
                                     field="analyte")
            else:
                t = table.internal_standard_for(r.analyte)
                if t is None:
                    raise WriteError(f"no internal standard for {r.analyte} in {table.name}",
                                     field="analyte")
            if t.name in channels:
                prev = channels[t.name]
                if not (prev[1] == r.value or (math.isnan(prev[1]) and math.isnan(r.value))):
                    raise WriteError(
                        f"well {s.well}: {t.name} serves {prev[2]} and {r.analyte} but their "
                        f"is_area values differ ({prev[1]:g} vs {r.value:g})", field="value")
                continue
            if math.isnan(r.value):
                continue
            channels[t.name] = (t, float(r.value), r.analyte)
        name = f"{s.plate_id}_{s.well}.mzML"
        files.append((name, _injection_xml(f"{s.plate_id}_{s.well}", s.sample_id,
                                           [(t, v) for t, v, _ in channels.values()],
                                           times, shape)))
        sample_rows.append([name, s.well, s.sample_id, s.sample_type, s.plate_id])
    listing = io.StringIO()
    writer = csvsafe.writer(listing, lineterminator="\n")
    writer.writerow(["file", "well", "sample_id", "sample_type", "plate_id"])
    writer.writerows(sample_rows)
    files.append((SAMPLE_LIST, listing.getvalue().encode("utf-8")))
    as_zip = hasattr(dest, "write") or str(dest).lower().endswith(".zip")
    if as_zip:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in files:
                archive.writestr(name, data)
        write_bytes(dest, buffer.getvalue())
        return
    folder = Path(dest)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files:
        (folder / name).write_bytes(data)
