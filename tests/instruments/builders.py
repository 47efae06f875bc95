"""Readable builders for the instrument tests and benchmarks: a 96-well plate run as the virtual
instrument makes one (blanks, low and high controls, patients; analyte areas and
internal-standard areas, one IS value per IS compound and well), and an FIA neutral-loss scan
injection written as a real mzML file with psims."""

from __future__ import annotations

import gc
import re
import warnings
from pathlib import Path

import numpy as np
from psims.mzml.writer import MzMLWriter

from instruments.raw import RawRun
from instruments.run import PlateRun, measurements_frame
from instruments.transitions import load_transitions
from instruments.wells import plate_wells

__all__ = ["FLOW_INJECTION_SHAPE", "neutral_loss_mzml", "plate_run", "zip_bomb"]


def in_order(raw: RawRun, field: str) -> list[str]:
    """The distinct values of one field of a parsed file's records (``compound``,
    ``sample_name``, ``position``) in order of first appearance."""
    return list(dict.fromkeys(getattr(r, field) for r in raw.records))


def plate_run(*, seed: int = 1, plate_id: str = "PLATE0001", analytes: list[str] | None = None,
              kinds: tuple[str, ...] = ("area", "is_area"), n_wells: int = 96,
              transitions: str = "butylated") -> PlateRun:
    """A plate run with ``n_wells`` wells: A01-A02 blanks, A03-A04 qc_low, A05-A06 qc_high."""
    rng = np.random.default_rng(seed)
    table = load_transitions(transitions)
    if analytes is None:
        analytes = [t.analytes[0] for t in table.transitions
                    if t.role == "analyte" and table.internal_standard_for(t.analytes[0])]
    rows = []
    for i, well in enumerate(plate_wells(96)[:n_wells]):
        sample_type = ("blank" if i < 2 else "qc_low" if i < 4 else "qc_high" if i < 6
                       else "patient")
        sample_id = f"{sample_type.upper()}-{i + 1:03d}" if i < 6 else f"NB{seed:02d}{i:05d}"
        is_values: dict[str, float] = {}
        for analyte in analytes:
            if "area" in kinds:
                rows.append(dict(run_id=plate_id, plate_id=plate_id, well=well,
                                 sample_id=sample_id, sample_type=sample_type, analyte=analyte,
                                 value=float(rng.lognormal(8, 1)), unit="counts", kind="area",
                                 source_file="", source_row=0))
            if "is_area" in kinds:
                is_name = table.internal_standard_for(analyte).name
                value = is_values.setdefault(is_name, float(rng.lognormal(10, 0.3)))
                rows.append(dict(run_id=plate_id, plate_id=plate_id, well=well,
                                 sample_id=sample_id, sample_type=sample_type, analyte=analyte,
                                 value=value, unit="counts", kind="is_area",
                                 source_file="", source_row=0))
            if "concentration" in kinds:
                rows.append(dict(run_id=plate_id, plate_id=plate_id, well=well,
                                 sample_id=sample_id, sample_type=sample_type, analyte=analyte,
                                 value=float(rng.lognormal(1, 1)), unit="umol/L",
                                 kind="concentration", source_file="", source_row=0))
    return PlateRun(run_id=plate_id, plate_id=plate_id, format="virtual", source_file="",
                    metadata={}, measurements=measurements_frame(rows))


#: A flow-injection profile over 20 scans: exactly 1 on the plateau, below half on the flanks.
FLOW_INJECTION_SHAPE = np.array([0.0] * 4 + [0.1, 0.3] + [1.0] * 8 + [0.3, 0.1] + [0.0] * 4)


def neutral_loss_mzml(path: Path, peaks: dict[float, float], *, loss: float | None = 102.068,
                      window: tuple[float, float] = (140.0, 250.0), run_id: str = "PLATE0001_A01",
                      baseline: float = 10.0) -> Path:
    """Write one FIA injection of constant-neutral-loss scans (MS:1000326 with the loss as
    MS:1000336, positive, times in minutes) with psims.

    Each scan is a profile spectrum on a 0.5 m/z grid over ``window`` plus a point at every
    m/z of ``peaks``; a peak's intensity is its amplitude times ``FLOW_INJECTION_SHAPE`` at the
    scan, every other point ``baseline`` times the shape. ``loss=None`` leaves MS:1000336 out.
    """
    grid = np.arange(window[0], window[1] + 0.25, 0.5)
    centres = np.array(sorted(peaks))
    keep = np.all(np.abs(grid[:, None] - centres[None, :]) > 0.6, axis=1)
    mz = np.concatenate([grid[keep], centres])
    order = np.argsort(mz)
    amplitude = np.concatenate([np.full(keep.sum(), baseline), [peaks[c] for c in centres]])
    times = np.linspace(0.0, 1.5, len(FLOW_INJECTION_SHAPE))
    # psims leaves its bundled unit ontology file open when it loads the vocabularies: that
    # ResourceWarning is psims' own, silenced here and collected before leaving
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        _write_neutral_loss(path, mz[order], amplitude[order], times, loss, window, run_id)
        gc.collect()
    return path


def _write_neutral_loss(path: Path, mz: np.ndarray, amplitude: np.ndarray, times: np.ndarray,
                        loss: float | None, window: tuple[float, float], run_id: str) -> None:
    with MzMLWriter(open(path, "wb"), close=True) as out:
        out.controlled_vocabularies()
        out.file_description(["constant neutral loss spectrum"])
        out.software_list([{"id": "psims", "version": "1", "params": ["python-psims"]}])
        components = out.ComponentList([
            out.Source(1, ["electrospray ionization"]), out.Analyzer(2, ["quadrupole"]),
            out.Analyzer(3, ["quadrupole"]), out.Analyzer(4, ["quadrupole"]),
            out.Detector(5, ["electron multiplier"])])
        out.instrument_configuration_list([out.InstrumentConfiguration(
            id="IC1", component_list=components)])
        out.data_processing_list([out.DataProcessing([out.ProcessingMethod(
            order=0, software_reference="psims", params=["Conversion to mzML"])], id="dp")])
        with (out.run(id=run_id, instrument_configuration="IC1"),
              out.spectrum_list(count=len(times))):
            for number, (t, factor) in enumerate(zip(times, FLOW_INJECTION_SHAPE, strict=True),
                                                 start=1):
                params: list = ["constant neutral loss spectrum", {"ms level": 2}]
                if loss is not None:
                    params.append({"neutral loss": loss, "unit_accession": "MS:1000040"})
                out.write_spectrum(mz, amplitude * factor, id=f"function=1 process=0 scan={number}",
                                   centroided=False, scan_start_time=float(t), params=params,
                                   scan_window_list=[window])


def zip_bomb(members: dict[str, int], *, extra: dict[str, bytes] | None = None,
             level: int = 9) -> bytes:
    """A zip whose members are ``size`` bytes of mzML-looking text then zeros (each compresses
    about a thousand to one at ``level`` 9, two hundred at 1), written in 1 MiB chunks, and
    ``extra`` members as given."""
    import io
    import zipfile

    out = io.BytesIO()
    chunk = bytes(2**20)
    head = b'<?xml version="1.0"?>\n<mzML xmlns="http://psi.hupo.org/ms/mzml">'
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
        for name, size in members.items():
            with archive.open(name, "w", force_zip64=True) as member:
                member.write(head)
                left = size - len(head)
                while left > 0:
                    member.write(chunk[:left])
                    left -= len(chunk)
    return out.getvalue()


#: A value for every field of the readers' warnings (``instruments.issues.WARNINGS``), as the
#: readers write them (names as written in the file are quoted).
WARNING_FIELDS: dict[str, str] = {
    "column": "'Barcode'", "role": "sample_id", "value": "'<LOD'", "n": "7", "read_as": "nan",
    "day": "'31-Feb-2025'", "label": "'SRM Phe'", "unit": "None", "accession": "MS:1000574",
    "written": "'zlib'", "expected": "'zlib compression'", "tolerance": "0.5",
    "transition": "Phe", "mz": "166.1", "scan_mz": "120.1", "sample_list": "samples.csv",
    "compound": "'C8'", "sample": "'S001'", "trays": "1, 2", "plate": "P-2025-0311",
    "wells": "A01, A02, A03, A04, A05, A06 ...", "control": "qc_high", "well": "D07",
    "file_type": "'patient'", "map_type": "'qc_low'", "sample_id": "'250301042'",
    "vendor_type": "'Std Bracket'",
}


def every_reader_warning() -> list[str]:
    """Every phrase of the readers' warnings as a run stores it (``str(issue)``)."""
    from instruments.issues import WARNINGS
    from instruments.run import Issue

    return [str(Issue("warning", "P-2025-0311.csv", 12, "Name",
                      p.text(**{name: WARNING_FIELDS[name] for name in p.fields})))
            for p in WARNINGS]


#: What a reader's warning prints as written in every language: names as the file writes them
#: (quoted), the reader profile's settings (``values.censored``), the field and the file where
#: it was found, the PSI-MS term ``cvParam`` and a value the profile or file gives (``nan``,
#: ``None``).
AS_WRITTEN = re.compile(r"(?<![A-Za-z])'[^']*'(?![A-Za-z])|\"[^\"]*\"|\b[a-z_]+\.[a-z_]+\b"
                        r"|\[[A-Za-z_]+\]|\bcvParam\b|\bNone\b|\bnan\b|[\w-]+\.csv\b")
