"""The whole tree is layered: no import cycles among coderkit's modules, and `coders` never imports `pickling`.

Every import counts, function-level ones included (tests/layering.py reads them from the source).
"""

from __future__ import annotations

from pathlib import Path

from .layering import find_cycles, import_graph

ROOT = Path(__file__).resolve().parents[1]


def graph() -> dict[str, set[str]]:
    paths = sorted(p for package in ("coders", "pickling") for p in (ROOT / package).rglob("*.py"))
    return import_graph(paths, ROOT)


def test_no_module_cycles_in_coders_and_pickling():
    assert find_cycles(graph()) == []


def test_coders_never_imports_pickling():
    offenders = {
        module: sorted(t for t in targets if t == "pickling" or t.startswith("pickling."))
        for module, targets in graph().items()
        if module.startswith("coders")
    }
    assert {m: t for m, t in offenders.items() if t} == {}
