"""The packages ship typed: a user's mypy sees the real types of the lazily exported names, the
``TYPE_CHECKING`` imports in the package ``__init__`` files stay in step with ``_LAZY``, and
``import coders`` / ``import pickling`` stay lazy at run time (read in a fresh interpreter).

mypy runs once, on a small user script, from the venv this suite runs in. It resolves the local
packages from the repository root (``MYPYPATH`` and the working directory), and reports errors in the
user's script only (``--follow-imports=silent``): what a user sees for an installed package, whose own
errors mypy never reports. An empty config file keeps the repository's own mypy settings out of it.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

import coders
import pickling

ROOT = Path(__file__).resolve().parents[1]

USER_SCRIPT = """\
from dataclasses import dataclass

import coders
import pickling


@dataclass
class Order:
    id: int
    item: str


coder = coders.get_coder(Order)
reveal_type(coder)
data = coder.encode(Order(1, "pen"))
reveal_type(data)
reveal_type(coder.decode_nested_at(coder.encode_nested(Order(2, "ink"))))
reveal_type(coder.is_deterministic())
reveal_type(coder.as_deterministic_coder())
reveal_type(coders.VarIntCoder())
reveal_type(coders.registry)
reveal_type(coders.CoderRegistry(strict=True).get_coder(list[int]))
coders.register_coder(Order, coder)
coders.registry.register_coder(Order, coders.RecordCoder)


def shout(text: str) -> str:
    return text.upper()


report = pickling.check_picklable(shout)
reveal_type(report)
reveal_type(report.ok)
reveal_type(pickling.assert_picklable(shout))


def check(pipeline: object) -> None:
    reveal_type(pickling.check_pipeline(pipeline))


# wrong calls, each reported on its own line
coders.get_coder(int).encode_nested()
coder.decode("not bytes")
coders.register_coder(Order, 42)
"""

# (a line of USER_SCRIPT, what mypy says there)
EXPECTED = [
    ("reveal_type(coder)", 'note: Revealed type is "coders.base.Coder"'),
    ("reveal_type(data)", 'note: Revealed type is "bytes"'),
    (
        'reveal_type(coder.decode_nested_at(coder.encode_nested(Order(2, "ink"))))',
        'note: Revealed type is "tuple[Any, int]"',
    ),
    ("reveal_type(coder.is_deterministic())", 'note: Revealed type is "bool"'),
    ("reveal_type(coder.as_deterministic_coder())", 'note: Revealed type is "coders.base.Coder"'),
    ("reveal_type(coders.VarIntCoder())", 'note: Revealed type is "coders.primitives.VarIntCoder"'),
    ("reveal_type(coders.registry)", 'note: Revealed type is "coders.typecoders.CoderRegistry"'),
    (
        "reveal_type(coders.CoderRegistry(strict=True).get_coder(list[int]))",
        'note: Revealed type is "coders.base.Coder"',
    ),
    ("reveal_type(report)", 'note: Revealed type is "pickling.report.PicklabilityReport"'),
    ("reveal_type(report.ok)", 'note: Revealed type is "bool"'),
    ("reveal_type(pickling.assert_picklable(shout))", 'note: Revealed type is "pickling.report.PicklabilityReport"'),
    (
        "    reveal_type(pickling.check_pipeline(pipeline))",
        'note: Revealed type is "pickling.report.PicklabilityReport"',
    ),
    (
        "coders.get_coder(int).encode_nested()",
        'error: Missing positional argument "value" in call to "encode_nested" of "Coder"  [call-arg]',
    ),
    (
        'coder.decode("not bytes")',
        'error: Argument 1 to "decode" of "Coder" has incompatible type "str"; '
        'expected "bytes | bytearray | memoryview"  [arg-type]',
    ),
    (
        "coders.register_coder(Order, 42)",
        'error: Argument 2 to "register_coder" has incompatible type "int"; '
        'expected "Coder | Callable[..., Coder]"  [arg-type]',
    ),
]


def _expected(kind: str) -> list[str]:
    """``"<line number>: <message>"`` for the expectations of one kind (``note`` or ``error``)."""
    lines = USER_SCRIPT.splitlines()
    return [f"{lines.index(source) + 1}: {said}" for source, said in EXPECTED if said.startswith(kind + ":")]


@pytest.fixture(scope="module")
def mypy_lines(tmp_path_factory) -> list[str]:
    """mypy's output lines for the user script (one run for the whole module)."""
    work = tmp_path_factory.mktemp("typing")
    script = work / "user_pipeline.py"
    script.write_text(USER_SCRIPT, encoding="utf-8")
    config = work / "mypy.ini"
    config.write_text("[mypy]\n", encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "mypy",
        "--python-executable",
        sys.executable,
        "--config-file",
        str(config),
        "--cache-dir",
        str(work / "mypy-cache"),
        "--follow-imports=silent",
        "--no-implicit-reexport",
        "--hide-error-context",
        "--no-pretty",
        "--no-color-output",
        "--no-error-summary",
        str(script),
    ]
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert "No module named mypy" not in result.stderr, (
        f"mypy is not installed in the venv ({sys.executable}); it is in the dev extra: pip install -e '.[dev]'"
    )
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)  # 1: errors found
    prefix = f"{script}:"
    assert all(line.startswith(prefix) for line in result.stdout.splitlines()), result.stdout
    return [_plain(line[len(prefix) :]) for line in result.stdout.splitlines()]


def _plain(line: str) -> str:
    """mypy versions differ in how they print builtins (``builtins.bytes`` or ``bytes``; ``memoryview``
    or ``memoryview[int]``, as typeshed made it generic): the expectations use the short form."""
    return line.replace("builtins.", "").replace("memoryview[int]", "memoryview")


def test_a_users_mypy_sees_the_real_types_of_the_lazy_exports(mypy_lines):
    notes = [line for line in mypy_lines if " note: " in line]
    assert notes == _expected("note")


def test_a_users_mypy_reports_each_wrong_call_and_nothing_else(mypy_lines):
    errors = [line for line in mypy_lines if " error: " in line]
    assert errors == _expected("error")
    assert len(mypy_lines) == len(EXPECTED)


@pytest.mark.parametrize("package", ["coders", "pickling"])
def test_the_package_carries_a_py_typed_marker_that_is_package_data(package):
    assert (ROOT / package / "py.typed").is_file()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in config["tool"]["setuptools"]["package-data"][package]


def _type_checking_imports(path: Path) -> dict[str, str]:
    """Name -> relative module for every ``from .module import name`` under ``if typing.TYPE_CHECKING:``."""
    found: dict[str, str] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "typing.TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom) and stmt.level == 1, ast.unparse(stmt)
                for alias in stmt.names:
                    assert alias.asname is None, ast.unparse(stmt)
                    found[alias.name] = f".{stmt.module}"
    return found


@pytest.mark.parametrize("package", [coders, pickling], ids=["coders", "pickling"])
def test_every_lazy_name_is_imported_for_type_checkers_from_where_it_is_loaded(package):
    assert _type_checking_imports(Path(package.__file__)) == package._LAZY


@pytest.mark.parametrize("package", [coders, pickling], ids=["coders", "pickling"])
def test_all_is_the_eager_names_and_the_lazy_ones(package):
    eager = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith(package.__name__ + ".")
    }
    assert len(package.__all__) == len(set(package.__all__))
    assert set(package.__all__) == eager | set(package._LAZY)


LAZINESS_PROBE = textwrap.dedent(
    """
    import json, sys
    import coders, pickling
    loaded = sorted(sys.modules)
    get_coder = coders.get_coder
    check_picklable = pickling.check_picklable
    print(json.dumps({
        "after_import": loaded,
        "after_use": sorted(sys.modules),
        "get_coder": get_coder.__module__ + "." + get_coder.__qualname__,
        "check_picklable": check_picklable.__module__ + "." + check_picklable.__qualname__,
    }))
    """
)

HEAVY = [
    "apache_beam",
    "hypothesis",
    "numpy",
    "dill",
    "cloudpickle",
    "coders.primitives",
    "coders.collections",
    "coders.records",
    "coders.wrappers",
    "coders.typecoders",
    "coders.dynamic",
    "coders.pickle",
    "coders.accel",
    "coders.testing",
    "coders.beam",
    "coders.hadoop",
    "pickling.backends",
    "pickling.check",
    "pickling.report",
    "pickling.pipeline",
    "pickling.spark",
]


def _loaded(modules: list[str], name: str) -> bool:
    return any(m == name or m.startswith(name + ".") for m in modules)


@pytest.fixture(scope="module")
def laziness() -> dict:
    result = subprocess.run(
        [sys.executable, "-c", LAZINESS_PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(result.stdout)


def test_importing_the_packages_loads_no_heavy_module(laziness):
    assert [name for name in HEAVY if _loaded(laziness["after_import"], name)] == []


def test_a_lazy_name_loads_its_module_on_first_use(laziness):
    assert laziness["get_coder"] == "coders.typecoders.get_coder"
    assert laziness["check_picklable"] == "pickling.check.check_picklable"
    assert {"coders.typecoders", "pickling.check"} <= set(laziness["after_use"])
    assert not _loaded(laziness["after_use"], "apache_beam")
