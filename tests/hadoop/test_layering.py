"""Imports point one way in the Hadoop/Spark file formats: no module cycles, and ``coders`` never imports
``pickling`` (read from the source with tests/layering.py, function-level imports included)."""

from __future__ import annotations

from pathlib import Path

from tests.layering import find_cycles, import_graph, imports_of

ROOT = Path(__file__).resolve().parents[2]
MODULES = [
    *sorted((ROOT / "coders" / "hadoop").glob("*.py")),
    ROOT / "coders" / "beam" / "sources.py",
    *sorted((ROOT / "pickling").glob("spark*.py")),
]


def test_the_file_format_modules_are_all_looked_at():
    names = set(import_graph(MODULES, ROOT))
    assert {
        "coders.hadoop",
        "coders.hadoop.classes",
        "coders.hadoop.comparators",
        "coders.hadoop.javaio",
        "coders.hadoop.writables",
        "coders.hadoop.sequencefile",
        "coders.beam.sources",
        "pickling.spark",
        "pickling.spark_beam",
        "pickling.spark_cli",
    } <= names


def test_no_import_cycles_among_the_file_format_modules():
    assert find_cycles(import_graph(MODULES, ROOT)) == []


def test_no_coders_module_imports_pickling():
    graph = import_graph(MODULES, ROOT)
    upward = {
        module: sorted(t for t in targets if t == "pickling" or t.startswith("pickling."))
        for module, targets in graph.items()
        if module.startswith("coders.")
    }
    assert {module: targets for module, targets in upward.items() if targets} == {}


# ---- the cycle finder itself -------------------------------------------------------------------


def write_package(root: Path, files: dict[str, str]) -> list[Path]:
    paths = []
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def test_imports_count_at_any_depth_and_resolve_relative_names(tmp_path):
    paths = write_package(
        tmp_path,
        {
            "pkg/__init__.py": "from .a import thing\n",
            "pkg/a.py": "from . import b as _b\nfrom .sub.c import name\n",
            "pkg/b.py": "import os\n\ndef later():\n    from pkg import a\n    from ..outside import x\n",
            "pkg/sub/__init__.py": "",
            "pkg/sub/c.py": "class C:\n    def m(self):\n        from .. import b\n        from ...up import z\n",
        },
    )
    graph = import_graph(paths, tmp_path)
    assert graph == {
        "pkg": {"pkg.a"},
        "pkg.a": {"pkg.b", "pkg.sub.c"},
        "pkg.b": {"os", "pkg.a", "outside"},  # a function-level import is still an import
        "pkg.sub": set(),
        "pkg.sub.c": {"pkg.b", "up"},
    }
    assert imports_of(paths[2], tmp_path) == graph["pkg.b"]


def test_find_cycles_names_each_strongly_connected_group_once():
    graph = {
        "a": {"b"},
        "b": {"c", "x"},  # x is outside the graph: ignored
        "c": {"a"},
        "d": {"e"},
        "e": {"d", "a"},
        "f": {"a", "d"},  # reaches both cycles, is in neither
        "g": {"g"},  # importing itself is not a cycle between modules
    }
    assert find_cycles(graph) == [["a", "b", "c"], ["d", "e"]]
    assert find_cycles({"top": {"mid", "low"}, "mid": {"low"}, "low": set()}) == []  # a diamond is layered
