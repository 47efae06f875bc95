"""Run the benchmark modules listed in ``BENCHMARKS`` (all, or those named) and print their figures.

``python -m bench`` runs every benchmark, ``python -m bench population quantify`` only those
named, ``python -m bench --list`` lists the names and ``--help`` explains it all. Each benchmark
module has a ``run() -> list[tuple[str, float, str, str]]`` returning ``(name, value, unit,
target)`` rows. Exit 0 on success, 2 on a usage error (such as an unknown name).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import sys
import textwrap
import time
from collections.abc import Sequence

BENCHMARKS: tuple[str, ...] = ("bench.catalogue", "bench.population", "bench.instruments",
                              "bench.archive",
                              "bench.quantify",
                              "bench.evaluate", "bench.first_tier_scores",
                              "bench.second_tier", "bench.reflex",
                              "bench.reflex_study",
                              "bench.lims",
                              "bench.release_normals",
                              "bench.followup",
                              "bench.hl7",
                              "bench.web",
                              "bench.case_board",
                              "bench.reports",
                              "bench.documents",
                              "bench.programme_pages")


def _short(module: str) -> str:
    return module.removeprefix("bench.")


def _summary(module: str) -> str:
    """The first sentence of a benchmark module's docstring, read without importing it (some
    benchmarks import the whole service)."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return "(module not found)"
    with open(spec.origin, encoding="utf-8") as handle:
        doc = ast.get_docstring(ast.parse(handle.read())) or ""
    paragraph = " ".join(doc.split("\n\n")[0].split())
    return paragraph.split(". ")[0].rstrip(".")


def _listing(indent: str = "") -> str:
    """One entry per benchmark: its name and summary, wrapped to 96 columns."""
    pad = indent + " " * 13
    return "\n".join(
        textwrap.fill(_summary(m), width=96, initial_indent=f"{indent}{_short(m):12} ",
                      subsequent_indent=pad)
        for m in BENCHMARKS
    )


def _parser() -> argparse.ArgumentParser:
    names = _listing("  ")
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run the benchmarks and print their figures: name, value, unit "
                    "and target. Progress and each benchmark's duration go to stderr.",
        epilog=f"benchmarks (in the order they run):\n{names}\n\n"
               "examples:\n  python -m bench                      all of them (make bench)\n"
               "  python -m bench population quantify  only these two",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME",
        help="benchmarks to run, by the names listed below (default: all)",
    )
    parser.add_argument("--list", action="store_true",
                        help="list the benchmark names and exit")
    return parser


def select(names: Sequence[str]) -> list[str]:
    """The modules of ``BENCHMARKS`` that ``names`` pick (all for none), in the listed order.

    Raises ValueError naming an unknown benchmark and the known ones.
    """
    known = {_short(m): m for m in BENCHMARKS}
    unknown = [n for n in names if n not in known and n not in BENCHMARKS]
    if unknown:
        raise ValueError(f"unknown benchmark {', '.join(repr(n) for n in unknown)}; "
                         f"choose from {', '.join(known)}")
    if not names:
        return list(BENCHMARKS)
    wanted = {known.get(n, n) for n in names}
    return [m for m in BENCHMARKS if m in wanted]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.list:
        print(_listing())
        return 0
    try:
        modules = select(args.names)
    except ValueError as exc:
        parser.error(str(exc))  # exits 2
    print(f"{'benchmark':58} {'value':>12} {'unit':8} target")
    for name in modules:
        module = importlib.import_module(name)
        start = time.perf_counter()
        for label, value, unit, target in module.run():
            print(f"{label:58} {value:12.3f} {unit:8} {target}", flush=True)
        print(f"  ({name} took {time.perf_counter() - start:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
