"""Read + quantify + QC of a 96-well plate from the virtual instrument, per format.

The plate (89 patients, 3 blanks, 4 controls, 48 analytes, area + IS area) is written once per
format; each figure is the best of several repetitions (the machine is shared with other jobs,
whose interruptions only ever add time). ``quantify + QC`` is the core alone (measurements
already in memory); the ``read + ...`` rows add the format's reader. An mzML plate is 96 files
and ~18 MiB of XML: lxml alone needs longer than the target to parse it (bench/instruments.py).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.instruments import best_ms
from instruments.virtual import PLATE_FORMATS, read_plate, simulate_plate, suffix, write_plate
from msms.qc.plate import check_plate
from msms.quantify import quantify

TARGET = "< 100 ms"


def run() -> list[tuple[str, float, str, str]]:
    plate = simulate_plate(seed=2025)
    method = plate.method
    measurements = plate.run.measurements
    check_plate(quantify(measurements, method))  # warm caches (method, rules, lots)
    rows = [("quantify: quantify + QC, 96-well plate (in memory)",
             best_ms(lambda: check_plate(quantify(measurements, method)), 15), "ms",
             TARGET)]
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in PLATE_FORMATS:
            path = Path(tmp) / f"plate{suffix(fmt)}"
            write_plate(plate, path, format=fmt)
            repeat = 3 if fmt == "mzml" else 7

            def pipeline(path: Path = path, fmt: str = fmt) -> None:
                run = read_plate(path, format=fmt, method=method)
                check_plate(quantify(run.measurements, method))

            rows.append((f"quantify: read + quantify + QC, 96 wells [{fmt}]",
                         best_ms(pipeline, repeat), "ms",
                         TARGET if fmt != "mzml" else "n/a (lxml alone > 100 ms)"))
    return rows
