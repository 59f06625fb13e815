"""No module of train/ imports itself through others: the import graph of train/*.py (imports inside functions
included) has no cycle. `python tests/train/test_import_graph.py` prints the graph and its cycles."""
from __future__ import annotations

import ast
import os
from typing import Dict, List, Tuple

TRAIN = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "train")


def import_graph(folder: str = TRAIN) -> Dict[str, List[str]]:
    """Module -> the other modules of the package it imports anywhere in its source."""
    modules = {name[:-3] for name in os.listdir(folder) if name.endswith(".py")}
    graph: Dict[str, List[str]] = {}
    for module in sorted(modules):
        with open(os.path.join(folder, module + ".py")) as f:
            tree = ast.parse(f.read())
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [node.module + "." + alias.name for alias in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] == "train" and len(parts) > 1 and parts[1] in modules and parts[1] != module:
                    found.add(parts[1])
        graph[module] = sorted(found)
    return graph


def cycles(graph: Dict[str, List[str]]) -> List[Tuple[str, ...]]:
    """Every elementary cycle, each once, starting at its alphabetically first module."""
    out = set()

    def walk(start: str, node: str, path: List[str]) -> None:
        for nxt in graph[node]:
            if nxt == start:
                out.add(tuple(path))
            elif nxt > start and nxt not in path:
                walk(start, nxt, path + [nxt])

    for module in graph:
        walk(module, module, [module])
    return sorted(out)


def test_cycles_finds_a_circle():
    assert cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [("a", "b", "c")]


def test_train_has_no_import_cycle():
    found = cycles(import_graph())
    assert not found, "import cycles: %s" % "; ".join(" -> ".join(c + (c[0],)) for c in found)


if __name__ == "__main__":
    graph = import_graph()
    for module, deps in graph.items():
        print("%-12s -> %s" % (module, ", ".join(deps) or "-"))
    found = cycles(graph)
    print("cycles: %d" % len(found))
    for c in found:
        print("  " + " -> ".join(c + (c[0],)))
