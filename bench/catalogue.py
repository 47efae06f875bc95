"""Loading and resolving the reference catalogues."""

from __future__ import annotations

import time

from msms.catalogue import load_catalogue


def run() -> list[tuple[str, float, str, str]]:
    start = time.perf_counter()
    for _ in range(20):
        catalogue = load_catalogue()
    load_ms = (time.perf_counter() - start) / 20 * 1000
    names = [alias for a in catalogue.analytes for alias in a.aliases] * 100
    start = time.perf_counter()
    for name in names:
        catalogue.resolve(name)
    per_us = (time.perf_counter() - start) / len(names) * 1e6
    return [
        ("catalogue: load and validate both CSVs", load_ms, "ms", "-"),
        ("catalogue: resolve one alias", per_us, "us", "-"),
    ]
