"""Zip bombs: the time and peak memory of refusing an mzML zip of two 700 MiB members (the
shape a probe of the service used), next to reading a real 96-well mzML plate.

Peak memory is what ``tracemalloc`` sees allocated by Python during the read (the zip's own
bytes, already in memory, excluded); the plate row shows the working size of an ordinary read,
where one member is held at a time.
"""

from __future__ import annotations

import io
import time
import tracemalloc

import instruments
from instruments.virtual import simulate_plate, write_plate
from tests.instruments.builders import zip_bomb

MIB = 2**20


def _measured(data: bytes, name: str) -> tuple[float, float, str]:
    tracemalloc.start()
    start = time.perf_counter()
    outcome = "read"
    try:
        instruments.read(data, name=name)
    except instruments.ArchiveTooLargeError:
        outcome = "refused"
    elapsed = (time.perf_counter() - start) * 1000
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak / MIB, outcome


def run() -> list[tuple[str, float, str, str]]:
    bomb = zip_bomb({"P1_A01.mzML": 700 * MIB, "P1_A02.mzML": 700 * MIB}, level=1)
    buffer = io.BytesIO()
    write_plate(simulate_plate(seed=1), buffer, format="mzml")
    plate = buffer.getvalue()
    bomb_ms, bomb_peak, outcome = _measured(bomb, "bomb.zip")
    assert outcome == "refused"
    plate_ms, plate_peak, _ = _measured(plate, "plate.zip")
    return [
        ("zip bomb size (2 x 700 MiB inflated)", len(bomb) / MIB, "MiB", "-"),
        ("zip bomb refused in", bomb_ms, "ms", "< 100 ms"),
        ("zip bomb peak memory while refused", bomb_peak, "MiB", "< 8 MiB"),
        ("96-well mzML plate read in (under tracemalloc)", plate_ms, "ms", "-"),
        ("96-well mzML plate peak memory", plate_peak, "MiB", "-"),
    ]
