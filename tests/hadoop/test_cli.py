"""`coderkit seqfile info|dump`, driven through the argparse wiring that pickling.cli uses."""

from __future__ import annotations

import argparse
import io
import json
import sys

import pytest

from coders.hadoop import SequenceFileWriter, cli, register_writable, writable_registry


def run(argv):
    parser = argparse.ArgumentParser(prog="coderkit")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture
def seqdir(tmp_path):
    d = tmp_path / "out"
    d.mkdir()
    for part in range(2):
        with SequenceFileWriter(
            d / f"part-{part:05d}",
            "Text",
            "MapWritable",
            compression="block",
            codec="gzip",
            metadata={"writer": "test"},
            block_size=200,
        ) as w:
            for i in range(30):
                w.append(f"p{part}-{i}", {"n": i, "b": b"\x00\x01", "f": float("nan"), "x": None, 7: "int key"})
    (d / "_SUCCESS").write_bytes(b"")
    return d


def test_info_prints_header_counts_and_syncs(seqdir, capsys):
    assert run(["seqfile", "info", str(seqdir)]) == 0
    out = capsys.readouterr().out
    assert out.count("part-0000") == 2
    assert "key class:    org.apache.hadoop.io.Text" in out
    assert "compression:  block (org.apache.hadoop.io.compress.GzipCodec)" in out
    assert "records:      30" in out
    assert "writer: test" in out


def test_info_json(seqdir, capsys):
    assert run(["seqfile", "info", "--json", str(seqdir / "part-00000")]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["records"] == 30 and info["codec"] == "gzip" and info["metadata"] == {"writer": "test"}
    assert info["sync_markers"] == len(info["sync_offsets"]) > 1


def test_dump_json_lines_with_limit(seqdir, capsys):
    assert run(["seqfile", "dump", "--limit", "32", str(seqdir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 32
    first = json.loads(lines[0])
    assert first == {
        "key": "p0-0",
        "value": {
            "$map": [["n", 0], ["b", {"$base64": "AAE="}], ["f", {"$float": "NaN"}], ["x", None], [7, "int key"]]
        },
    }
    assert json.loads(lines[31])["key"] == "p1-1"  # continues into the next part, in part order


def test_dump_raw_and_positions(seqdir, capsys):
    assert run(["seqfile", "dump", "--raw", "--positions", "--limit", "1", str(seqdir / "part-00001")]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["position"] > 0 and record["file"].endswith("part-00001")
    assert record["key"] == {"$base64": "BHAxLTA="}  # Text "p1-0"


def test_dump_progress_bar_on_a_terminal(seqdir, capsys, monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    fake = Tty()
    monkeypatch.setattr(sys, "stderr", fake)
    monkeypatch.setattr(cli, "PROGRESS_MIN_BYTES", 0)
    assert run(["seqfile", "dump", str(seqdir)]) == 0
    assert "100.0% 60 records" in fake.getvalue()
    assert len(capsys.readouterr().out.splitlines()) == 60


def test_no_progress_bar_when_not_a_terminal(seqdir, capsys, monkeypatch):
    monkeypatch.setattr(cli, "PROGRESS_MIN_BYTES", 0)
    assert run(["seqfile", "dump", str(seqdir)]) == 0
    assert capsys.readouterr().err == ""


def test_corrupt_file_exits_1_with_file_and_offset(tmp_path, capsys):
    p = tmp_path / "bad.seq"
    p.write_bytes(b"SEQ\x09rest")
    assert run(["seqfile", "dump", str(p)]) == 1
    err = capsys.readouterr().err
    assert "bad.seq: unsupported SequenceFile version 9" in err and "at byte offset 3" in err


def test_unknown_class_suggests_raw(tmp_path, capsys):
    p = tmp_path / "c.seq"
    from coders.hadoop import IntWritableCoder

    with SequenceFileWriter(p, "Text", ("com.example.Custom", IntWritableCoder())) as w:
        w.append("a", 1)
    assert run(["seqfile", "dump", str(p)]) == 1
    err = capsys.readouterr().err
    assert "'com.example.Custom'" in err and "--raw" in err
    assert run(["seqfile", "dump", "--raw", str(p)]) == 0
    assert json.loads(capsys.readouterr().out)["value"] == {"$base64": "AAAAAQ=="}


def test_missing_path_and_bad_limit_exit_2(tmp_path, capsys):
    assert run(["seqfile", "info", str(tmp_path / "nope")]) == 2
    assert "no such file or directory" in capsys.readouterr().err
    assert run(["seqfile", "dump", "--limit", "-1", str(tmp_path)]) == 2


def test_to_json_value_is_lossless_for_what_json_lacks():
    assert cli.to_json_value([b"a", float("inf"), float("-inf"), {1: 2}]) == [
        {"$base64": "YQ=="},
        {"$float": "Infinity"},
        {"$float": "-Infinity"},
        {"$map": [[1, 2]]},
    ]


def test_values_that_would_print_alike_print_differently():
    # a Text "NaN" and a Double NaN, a map that looks like a wrapper and the bytes it mimics
    assert cli.to_json_value({"t": "NaN", "d": float("nan")}) == {"t": "NaN", "d": {"$float": "NaN"}}
    assert cli.to_json_value({"$base64": "eA=="}) == {"$map": [["$base64", "eA=="]]}
    assert cli.to_json_value(b"x") == {"$base64": "eA=="}


def test_a_value_json_has_no_form_for_is_wrapped_not_a_crash(tmp_path, capsys):
    import datetime

    from coders.primitives import TimestampCoder

    when = datetime.datetime(2024, 1, 2, tzinfo=datetime.UTC)
    p = tmp_path / "ts.seq"
    with SequenceFileWriter(p, "Text", ("com.example.When", TimestampCoder())) as w:
        w.append("a", when)
    register_writable("com.example.When", TimestampCoder())
    try:
        assert run(["seqfile", "dump", str(p)]) == 0
    finally:
        writable_registry.unregister("com.example.When")
    assert json.loads(capsys.readouterr().out) == {
        "key": "a",
        "value": {"$type": "datetime.datetime", "$repr": repr(when)},
    }


def test_the_coderkit_command_stops_quietly_when_its_reader_goes_away(tmp_path):
    import subprocess

    p = tmp_path / "many.seq"
    with SequenceFileWriter(p, "Text", "LongWritable") as w:
        for i in range(30_000):  # far more output than a pipe buffers
            w.append(f"key-{i}", i)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pickling.cli", "seqfile", "dump", str(p)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    first = proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    err = proc.stderr.read()
    assert proc.wait() == 0
    assert json.loads(first) == {"key": "key-0", "value": 0}
    assert err == b""


def test_a_directory_without_part_files_is_noted_not_silent(tmp_path, capsys):
    (tmp_path / "_SUCCESS").write_bytes(b"")
    (tmp_path / "_temporary").mkdir()
    assert run(["seqfile", "dump", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert f"note: no part files in {str(tmp_path)!r}; it holds only _SUCCESS, _temporary" in err
    assert "may not have committed" in err
    empty = tmp_path / "_temporary"
    assert run(["seqfile", "info", str(empty)]) == 0
    assert "it is empty" in capsys.readouterr().err
