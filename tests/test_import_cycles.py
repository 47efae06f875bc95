"""No import cycle among the project's modules (the five packages).

grimp (installed with import-linter) builds the graph of direct imports, including imports made
inside functions, so a cycle hidden behind a lazy import is found too; a cycle is a strongly
connected component of more than one module (scipy).
"""

from __future__ import annotations

import grimp
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

PACKAGES = ("msms", "instruments", "cutoffs", "reports", "lims")


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The groups of modules that import each other, directly or through others."""
    modules = sorted(graph.modules)
    index = {name: i for i, name in enumerate(modules)}
    edges = [(index[importer], index[imported]) for importer in modules
             for imported in graph.find_modules_directly_imported_by(importer)
             if imported in index]
    rows, cols = zip(*edges, strict=True) if edges else ((), ())
    adjacency = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(modules),) * 2)
    _, labels = connected_components(adjacency, directed=True, connection="strong")
    groups = [[modules[i] for i in np.flatnonzero(labels == label)] for label in set(labels)]
    return sorted(group for group in groups if len(group) > 1)


def test_no_module_imports_itself_through_others():
    graph = grimp.build_graph(*PACKAGES)
    cycles = import_cycles(graph)
    details = [
        " -> ".join(graph.find_shortest_chain(group[0], group[1]) or ())
        + " -> ... -> " + group[0]
        for group in cycles
    ]
    assert not cycles, "import cycles:\n" + "\n".join(details)


def test_the_check_finds_a_cycle_hidden_behind_a_function_level_import():
    graph = grimp.ImportGraph()
    for name in ("pkg", "pkg.a", "pkg.b", "pkg.c"):
        graph.add_module(name)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.c")
    assert import_cycles(graph) == []
    graph.add_import(importer="pkg.c", imported="pkg.a")
    assert import_cycles(graph) == [["pkg.a", "pkg.b", "pkg.c"]]
