"""Run every benchmark module listed in ``BENCHMARKS`` and print its figures.

Each benchmark module has a ``run() -> list[tuple[str, float, str, str]]`` returning
``(name, value, unit, target)`` rows.
"""

from __future__ import annotations

import importlib
import sys
import time

BENCHMARKS: tuple[str, ...] = ("bench.catalogue", "bench.population", "bench.instruments",
                              "bench.quantify",
                              "bench.evaluate",
                              "bench.second_tier",
                              "bench.lims")


def main() -> int:
    print(f"{'benchmark':58} {'value':>12} {'unit':8} target")
    for name in BENCHMARKS:
        module = importlib.import_module(name)
        start = time.perf_counter()
        for label, value, unit, target in module.run():
            print(f"{label:58} {value:12.3f} {unit:8} {target}", flush=True)
        print(f"  ({name} took {time.perf_counter() - start:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
