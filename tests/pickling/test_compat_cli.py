"""`coderkit compat snapshot|check`: what a CI job runs before updating a pipeline, its output and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from pickling.cli import main

V1 = """
import dataclasses
from typing import List, Optional

@dataclasses.dataclass
class Item:
    sku: str
    qty: int

@dataclasses.dataclass
class Order:
    id: int
    items: List[Item]
"""

V2_COMPATIBLE = V1.replace("items: List[Item]", "items: tuple[Item, ...]")
V2_INCOMPATIBLE = V1.replace("    qty: int", "    quantity: int") + "    note: Optional[str] = None\n"

COINS = "coderkit_compat_models"


@pytest.fixture
def models(tmp_path, monkeypatch):
    """Write a version of the models module and make it importable (fresh each time it is written)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(text: str, name: str = COINS):
        (tmp_path / f"{name}.py").write_text(text)
        sys.modules.pop(name, None)
        return tmp_path

    yield write
    sys.modules.pop(COINS, None)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_snapshot_to_stdout_and_to_a_file(models, capsys, tmp_path):
    models(V1)
    code, out, err = run(capsys, "compat", "snapshot", f"{COINS}:Order")
    assert code == 0 and err == ""
    snap = json.loads(out)
    assert snap["coderkit_snapshot"] == 1 and snap["root"]["type"] == f"{COINS}.Order"
    assert [f["name"] for f in snap["root"]["fields"]] == ["id", "items"]
    code, out, err = run(capsys, "compat", "snapshot", f"{COINS}:Order", "-o", "order.json")
    assert code == 0 and out == ""
    assert err == f"coderkit compat: wrote the snapshot of {COINS}:Order to order.json\n"
    assert json.loads((tmp_path / "order.json").read_text()) == snap
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary file left


def test_check_identical_compatible_and_incompatible(models, capsys, tmp_path):
    models(V1)
    assert run(capsys, "compat", "snapshot", f"{COINS}:Order", "-o", "order.json")[0] == 0
    code, out, _ = run(capsys, "compat", "check", "order.json", f"{COINS}:Order")
    assert (code, out) == (0, f"{COINS}:Order against order.json: verdict: identical\n")

    models(V2_COMPATIBLE)
    code, out, _ = run(capsys, "compat", "check", "order.json", f"{COINS}:Order")
    assert code == 0
    assert out.splitlines() == [
        f"{COINS}:Order against order.json: verdict: compatible",
        "1 change(s) the new coder reads through",
        "  - Order.items: decodes as a tuple instead of a list (the same bytes: count, elements)",
    ]

    models(V2_INCOMPATIBLE)
    code, out, _ = run(capsys, "compat", "check", "order.json", f"{COINS}:Order")
    assert code == 1
    assert "verdict: incompatible\n2 problem(s)" in out
    assert "  - Order.items[].quantity: field 'qty' was renamed to 'quantity'" in out
    assert "  - Order.note: field 'note' was added: old bytes hold no value for it" in out
    assert out.count("    Fix: ") == 2

    code, out, _ = run(capsys, "compat", "check", "order.json", f"{COINS}:Order", "--json")
    assert code == 1
    report = json.loads(out)
    assert report["verdict"] == "incompatible" and report["ok"] is False
    assert [p["path"] for p in report["problems"]] == ["Order.note", "Order.items[].quantity"]
    assert all(p["fix"] for p in report["problems"])


def test_usage_import_and_snapshot_errors_exit_2_with_one_line(models, capsys, tmp_path):
    models(V1)
    code, _, err = run(capsys, "compat", "snapshot", "no_colon_here")
    assert (
        code == 2 and err == "coderkit compat: 'no_colon_here' is not MODULE:QUALNAME (for example shop.models:Order)\n"
    )
    code, _, err = run(capsys, "compat", "snapshot", "coderkit_no_such_module:Order")
    assert code == 2
    assert err == (
        "coderkit compat: cannot import coderkit_no_such_module: ModuleNotFoundError: "
        "No module named 'coderkit_no_such_module'\n"
    )
    code, _, err = run(capsys, "compat", "snapshot", f"{COINS}:Nope")
    assert (code, err) == (2, f"coderkit compat: {COINS} has no attribute 'Nope'\n")
    models("raise RuntimeError('boom at import')\n", name="coderkit_broken_models")
    code, _, err = run(capsys, "compat", "snapshot", "coderkit_broken_models:Order")
    assert (code, err) == (2, "coderkit compat: cannot import coderkit_broken_models: RuntimeError: boom at import\n")

    (tmp_path / "corrupt.json").write_text('{"coderkit_snapshot": 1, "root": {"coder": "RecordCoder", "fields": 3}}')
    code, out, err = run(capsys, "compat", "check", "corrupt.json", f"{COINS}:Order")
    assert (code, out) == (2, "")
    assert err == "coderkit compat: corrupt.json: snapshot node at root: 'fields' is not a list: the file is corrupt\n"
    (tmp_path / "truncated.json").write_text('{"coderkit_snapshot": 1, "root": {"coder": "Rec')
    code, _, err = run(capsys, "compat", "check", "truncated.json", f"{COINS}:Order")
    assert code == 2 and err.startswith("coderkit compat: truncated.json: the snapshot is not valid JSON")
    code, _, err = run(capsys, "compat", "check", "missing.json", f"{COINS}:Order")
    assert code == 2 and "cannot read the snapshot 'missing.json': No such file or directory" in err
    assert "Traceback" not in err
    code, _, err = run(capsys, "compat")
    assert code == 2 and "snapshot" in err and "check" in err  # the help, on stderr


def test_a_coder_object_is_snapshotted_as_it_is_and_format_is_refused_for_it(models, capsys):
    models(V1 + "\nfrom coders import VarIntCoder\nID_CODER = VarIntCoder()\n")
    code, out, _ = run(capsys, "compat", "snapshot", f"{COINS}:ID_CODER")
    assert code == 0 and json.loads(out)["root"] == {"coder": "VarIntCoder", "params": {"lenient": False}}
    code, _, err = run(capsys, "compat", "snapshot", f"{COINS}:ID_CODER", "--format", "row")
    assert code == 2 and "record_format='row' picks how a registry derives a type's coder" in err


def test_the_console_script_exits_1_on_an_incompatible_change(tmp_path):
    (tmp_path / "shop_v.py").write_text(V1)
    script = os.path.join(os.path.dirname(sys.executable), "coderkit")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.getcwd()]))
    written = subprocess.run(
        [script, "compat", "snapshot", "shop_v:Order", "-o", str(tmp_path / "s.json")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert written.returncode == 0, written.stderr
    (tmp_path / "shop_v.py").write_text(V1.replace("    id: int\n", "    id: str\n"))
    checked = subprocess.run(
        [script, "compat", "check", str(tmp_path / "s.json"), "shop_v:Order"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert checked.returncode == 1, checked.stderr
    assert "Order.id: the coder changed from VarIntCoder to StrUtf8Coder" in checked.stdout


def test_the_row_format_lets_an_optional_field_be_appended(models, capsys):
    models(V1)
    assert run(capsys, "compat", "snapshot", f"{COINS}:Order", "--format", "row", "-o", "row.json")[0] == 0
    assert run(capsys, "compat", "snapshot", f"{COINS}:Order", "-o", "record.json")[0] == 0
    models(V1 + "    note: Optional[str] = None\n")
    code, out, _ = run(capsys, "compat", "check", "row.json", f"{COINS}:Order", "--format", "row")
    assert code == 0 and "verdict: compatible" in out
    assert "Order.note: new field with a default: old rows decode it as the default" in out
    code, out, _ = run(capsys, "compat", "check", "record.json", f"{COINS}:Order")
    assert code == 1 and "Order.note: field 'note' was added" in out
    code, out, _ = run(capsys, "compat", "check", "record.json", f"{COINS}:Order", "--format", "row")
    assert code == 1 and "the record format changed from record to row" in out
