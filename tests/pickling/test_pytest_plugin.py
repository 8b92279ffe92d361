"""The pytest plugin, run the way a user runs it: pytest in a subprocess, loaded by its entry point."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def run_pytest(tmp_path, source: str, *args: str) -> subprocess.CompletedProcess:
    test_file = tmp_path / "test_user_pipeline.py"
    test_file.write_text(textwrap.dedent(source))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(test_file),
            *args,
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )


USER_TESTS = """
    import socket
    import apache_beam as beam
    import pytest


    class HoldsSocket(beam.DoFn):
        def __init__(self):
            self.conn = socket.socket()

        def process(self, x):
            yield x


    class Clean(beam.DoFn):
        def setup(self):
            self.conn = None

        def process(self, x):
            yield x


    def test_bad_pipeline_runs():
        with beam.Pipeline() as p:
            p | beam.Create([1]) | "Bad" >> beam.ParDo(HoldsSocket())


    def test_clean_pipeline_runs():
        with beam.Pipeline() as p:
            p | beam.Create([1]) | "Fine" >> beam.ParDo(Clean())


    def test_fixture_reports_the_path(assert_picklable):
        assert_picklable({"db": [socket.socket()]})
"""


def test_check_picklable_option_fails_a_test_with_the_report_and_passes_a_clean_one(tmp_path):
    result = run_pytest(tmp_path, USER_TESTS, "--check-picklable")
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "2 failed, 1 passed" in out
    # the pipeline check names the transform, the path to the socket, and the fix
    assert "[Bad] HoldsSocket.conn" in out
    assert "socket.socket" in out and "setup()" in out
    # the fixture reports the path inside the value
    assert "obj['db'][0]" in out


def test_without_the_option_beam_stops_at_construction_as_usual(tmp_path):
    result = run_pytest(tmp_path, USER_TESTS)
    assert "Unable to pickle fn" in result.stdout
    assert "HoldsSocket.conn" not in result.stdout


def test_marker_checks_one_test_and_pipelines_never_run(tmp_path):
    source = (
        USER_TESTS
        + """

    @pytest.mark.check_picklable
    def test_built_but_never_run():
        p = beam.Pipeline()
        p | beam.Create([1]) | "NeverRun" >> beam.ParDo(HoldsSocket())
    """
    )
    result = run_pytest(tmp_path, source, "-k", "never_run")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "[NeverRun] HoldsSocket.conn" in result.stdout


def test_marker_with_keys_also_fails_on_grouping_keys_that_are_not_deterministic(tmp_path):
    source = """
    import typing
    import apache_beam as beam
    import pytest


    def build():
        p = beam.Pipeline()
        (p | beam.Create([(0.0, 1), (-0.0, 2)]).with_output_types(typing.Tuple[float, int])
           | "GroupByAmount" >> beam.GroupByKey())
        return p


    @pytest.mark.check_picklable(keys=True)
    def test_keys_checked():
        build()


    @pytest.mark.check_picklable
    def test_keys_not_checked():
        build()
    """
    result = run_pytest(tmp_path, source)
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "1 failed, 1 passed" in out and "FAILED test_user_pipeline.py::test_keys_checked" in out
    assert "[GroupByAmount] GroupByKey key" in out and "CanonicalFloatCoder" in out


SNAPSHOT_TESTS = """
    import dataclasses
    from pathlib import Path

    from coders.testing import assert_compatible


    @dataclasses.dataclass
    class Point:
        x: int
        y: int


    def test_point_reads_old_bytes():
        assert_compatible(Point, Path(__file__).with_name("point.json"))
"""


def stale_snapshot() -> dict:
    """What the old code wrote: a Point whose second field was ``z: str`` (renamed and retyped since)."""
    lenient = {"lenient": True}
    return {
        "coderkit_snapshot": 1,
        "root": {
            "coder": "RecordCoder",
            "format": "record",
            "type": "test_user_pipeline.Point",
            "fields": [
                {"name": "x", "coder": {"coder": "VarIntCoder", "params": lenient}},
                {"name": "z", "coder": {"coder": "StrUtf8Coder", "params": lenient}},
            ],
        },
    }


def test_update_snapshots_option_rewrites_a_stale_snapshot_that_fails_without_it(tmp_path, monkeypatch):
    monkeypatch.delenv("CODERKIT_UPDATE_SNAPSHOTS", raising=False)  # the subprocess inherits the environment
    snapshot_file = tmp_path / "point.json"
    stale = json.dumps(stale_snapshot(), indent=2)
    snapshot_file.write_text(stale)

    without = run_pytest(tmp_path, SNAPSHOT_TESTS)
    assert without.returncode == 1, without.stdout + without.stderr
    assert "1 failed" in without.stdout
    assert "verdict: incompatible" in without.stdout, without.stdout
    assert "Point.y: field 'z' was renamed to 'y'" in without.stdout
    assert snapshot_file.read_text() == stale  # a failing check never touches the file

    updated = run_pytest(tmp_path, SNAPSHOT_TESTS, "--coderkit-update-snapshots")
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert "1 passed" in updated.stdout
    rewritten = json.loads(snapshot_file.read_text())
    assert [f["name"] for f in rewritten["root"]["fields"]] == ["x", "y"]
    assert [f["coder"]["coder"] for f in rewritten["root"]["fields"]] == ["VarIntCoder", "VarIntCoder"]

    again = run_pytest(tmp_path, SNAPSHOT_TESTS)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "1 passed" in again.stdout


def test_update_snapshots_option_is_listed_in_the_coderkit_group(tmp_path):
    result = run_pytest(tmp_path, "def test_nothing():\n    pass\n", "--help")
    assert result.returncode == 0, result.stderr
    assert "--coderkit-update-snapshots" in result.stdout
    group = result.stdout.split("\ncoderkit:\n", 1)[1].split("\n\n", 1)[0]
    assert "--check-picklable" in group and "--coderkit-update-snapshots" in group, group
