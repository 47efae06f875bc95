"""Instrument readers: read time of a 96-well plate per format, and the mzML reader against a
bare lxml pass over the same bytes (iterparse + base64/zlib decoding of every array).

Every figure is the best of several repetitions (the machine is shared). The mzML rows also give
what lxml alone needs to build the trees of the plate's 96 files: the floor under any reader
that parses the XML, whatever it does afterwards.
"""

from __future__ import annotations

import base64
import io
import time
import zipfile
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
from lxml import etree

import instruments
from instruments.virtual import simulate_plate
from instruments.vocabulary import psi_ms

_NS = "{http://psi.hupo.org/ms/mzml}"


def best_ms(action: Callable[[], Any], repeat: int = 5) -> float:
    """The fastest of ``repeat`` runs of ``action``, in milliseconds (also bench.quantify's)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def _members(data: bytes) -> list[bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [archive.read(n) for n in archive.namelist() if n.endswith(".mzML")]


def _bare_lxml(data: bytes) -> int:
    arrays = 0
    for member in _members(data):
        for _, element in etree.iterparse(io.BytesIO(member), tag=_NS + "binaryDataArray"):
            raw = zlib.decompress(base64.b64decode(element.findtext(_NS + "binary")))
            np.frombuffer(raw, dtype="<f8")
            arrays += 1
            element.clear()
    return arrays


def _trees_only(data: bytes) -> int:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return sum(len(etree.fromstring(member, parser)) for member in _members(data))


def run() -> list[tuple[str, float, str, str]]:
    psi_ms()  # the vocabulary is loaded once per process; not part of a plate's read time
    simulated = simulate_plate(seed=7)  # a realistic plate from the virtual instrument
    plate = simulated.run
    rows: list[tuple[str, float, str, str]] = []
    blobs: dict[str, tuple[bytes, str, dict]] = {}
    for fmt, name, options in [("masslynx", "plate.txt", {}), ("quandata", "plate.xml", {}),
                               ("delimited", "plate.csv", {}),
                               ("delimited", "plate_long.csv", {"profile": "generic_long"}),
                               ("mzml", "plate.zip", {"transitions": simulated.method})]:
        buffer = io.BytesIO()
        instruments.write(plate, buffer, format=fmt, **options)
        blobs[name] = (buffer.getvalue(), fmt, options)
    for name, (data, fmt, options) in blobs.items():
        label = f"{fmt}{' long' if 'long' in name else ''}"
        ms = best_ms(lambda d=data, n=name, o=options: instruments.read(
            d, name=n, profile=o.get("profile"), transitions=o.get("transitions")),
            repeat=3 if fmt == "mzml" else 7)
        rows.append((f"instruments: read a 96-well plate, {label} ({len(data) // 1024} KiB)", ms,
                     "ms", "-"))
    data = blobs["plate.zip"][0]
    mzml_ms = rows[-1][1]
    xml_mib = sum(len(m) for m in _members(data)) / 2**20
    bare_ms = best_ms(lambda: _bare_lxml(data), repeat=3)
    rows.append(("instruments: bare lxml pass over the same mzML plate", bare_ms, "ms", "-"))
    rows.append((f"instruments: lxml trees alone, same plate ({xml_mib:.1f} MiB of XML)",
                 best_ms(lambda: _trees_only(data), repeat=3), "ms", "-"))
    rows.append(("instruments: mzML reader / bare lxml pass", mzml_ms / bare_ms, "x", "<= 3"))
    return rows
