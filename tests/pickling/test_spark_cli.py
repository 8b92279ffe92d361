"""`coderkit spark-pickle dump`: what it says when a trusted file names code this Python lacks."""

from __future__ import annotations

import sys
import types

from pickling import spark
from pickling.cli import main


def _dump_with_module(tmp_path, module_name: str):
    """Write a pickle file holding an instance of a class from ``module_name``, then forget the module."""
    module = types.ModuleType(module_name)
    exec("class Thing:\n    def __init__(self, x):\n        self.x = x\n", module.__dict__)
    module.Thing.__module__ = module_name
    saved = sys.modules.get(module_name)
    sys.modules[module_name] = module
    try:
        spark.dump([module.Thing(1)], tmp_path / "out")
    finally:
        if saved is None:
            del sys.modules[module_name]
        else:
            sys.modules[module_name] = saved
    return tmp_path / "out"


def test_a_module_this_python_lacks_is_named_with_the_fix_not_called_malformed(tmp_path, capsys):
    out = _dump_with_module(tmp_path, "coderkit_gone_module")
    code = main(["spark-pickle", "dump", str(out), "--trust"])
    err = capsys.readouterr().err
    assert code == 1
    assert "malformed" not in err
    assert "'coderkit_gone_module', which this Python cannot import" in err
    assert "PYTHONPATH" in err and "part-00000" in err


def test_a_class_the_module_no_longer_defines_is_named(tmp_path, capsys):
    out = _dump_with_module(tmp_path, "json")  # a module that exists, without a Thing
    code = main(["spark-pickle", "dump", str(out), "--trust"])
    err = capsys.readouterr().err
    assert code == 1
    assert "malformed" not in err and "does not define" in err and "Thing" in err


def test_bytes_that_are_not_a_pickle_file_are_still_malformed(tmp_path, capsys):
    (tmp_path / "bad").write_bytes(b"garbage")
    assert main(["spark-pickle", "dump", str(tmp_path / "bad")]) == 1
    assert "malformed file: " in capsys.readouterr().err


def test_a_directory_without_part_files_is_noted_not_silent(tmp_path, capsys):
    (tmp_path / "_SUCCESS").write_bytes(b"")
    assert main(["spark-pickle", "dump", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert out == "" and f"note: no part files in {str(tmp_path)!r}; it holds only _SUCCESS" in err


def test_a_part_file_that_cannot_be_read_is_an_error_with_its_name_not_a_traceback(tmp_path, capsys, monkeypatch):
    spark.dump(range(30), tmp_path / "out", batch_size=10)
    real = spark.iter_values

    def vanishing(file):
        if file.endswith("part-00000"):
            raise PermissionError(13, "Permission denied", file)
        return real(file)

    monkeypatch.setattr(spark, "iter_values", vanishing)
    assert main(["spark-pickle", "dump", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "coderkit spark-pickle dump: cannot read: [Errno 13] Permission denied" in err and "part-00000" in err


def test_stops_quietly_when_its_reader_goes_away(tmp_path):
    import json
    import subprocess

    spark.dump([f"record-{i}" for i in range(30_000)], tmp_path / "out")  # far more than a pipe buffers
    proc = subprocess.Popen(
        [sys.executable, "-m", "pickling.cli", "spark-pickle", "dump", str(tmp_path / "out")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    first = proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    err = proc.stderr.read()
    assert proc.wait() == 0
    assert json.loads(first) == "record-0"
    assert err == b""
