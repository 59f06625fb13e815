"""The agent bundle (main.py, agent.py, lux/, strategy/, magma_policy/) never imports ray or pettingzoo: they are
training tools, absent from Kaggle's image. Every import statement is read, those inside functions included."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from typing import List, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUNDLE = ("main.py", "agent.py", "lux", "strategy", "magma_policy")
TRAINING_ONLY = ("ray", "pettingzoo")


def bundle_files() -> List[str]:
    out = []
    for entry in BUNDLE:
        path = os.path.join(ROOT, entry)
        if os.path.isfile(path):
            out.append(path)
            continue
        for folder, _, names in os.walk(path):
            out += [os.path.join(folder, n) for n in sorted(names) if n.endswith(".py")]
    return out


def imported_modules(source: str) -> List[str]:
    """Every module an import statement names, plus string literals given to __import__ / import_module."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if called in ("__import__", "import_module") and isinstance(node.args[0].value, str):
                names.append(node.args[0].value)
    return names


def training_only_imports(files: List[str]) -> List[Tuple[str, str]]:
    found = []
    for path in files:
        with open(path) as f:
            for name in imported_modules(f.read()):
                if name.split(".")[0] in TRAINING_ONLY:
                    found.append((os.path.relpath(path, ROOT), name))
    return found


def test_the_scan_finds_such_imports():
    source = "import os\ndef f():\n    import ray.util\n    from pettingzoo import ParallelEnv\n" \
             "    importlib.import_module('ray')\n"
    assert imported_modules(source) == ["os", "ray.util", "pettingzoo", "ray"]


def test_bundle_sources_import_neither_ray_nor_pettingzoo():
    files = bundle_files()
    assert any(f.endswith("agent.py") for f in files) and any("magma_policy" in f for f in files)
    found = training_only_imports(files)
    assert not found, "the agent bundle imports training-only packages: %s" % found


def test_importing_the_agent_loads_neither():
    """Nor through a third-party import: the agent's modules loaded, neither package is in sys.modules."""
    code = ("import sys, main, agent, lux.state, strategy.units, magma_policy.runtime, magma_policy.features, "
            "magma_policy.actions\nprint(sorted(m for m in sys.modules if m.split('.')[0] in %r))" % (TRAINING_ONLY,))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
