"""`coderkit check` and `coderkit doctor`: what a CI job runs, its output formats and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from pickling.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BROKEN = os.path.join(ROOT, "examples", "doctor", "orders_pipeline_broken.py")
FIXED = os.path.join(ROOT, "examples", "doctor", "orders_pipeline_fixed.py")
TWO_BAD = os.path.join(ROOT, "tests", "pickling", "doctor_files", "two_bad_dofns.py")


@pytest.fixture(autouse=True)
def beam_registry_left_as_found():
    """The fixed example calls coders.beam.install() while the doctor loads it (in this process):
    undo it, so later tests see Beam's own coders."""
    yield
    # `install` first: coders.beam's lazy loader would otherwise leave the attribute `install` bound to the
    # submodule coders.beam.install once `uninstall` has imported it, and the fixed example calls install()
    from coders.beam import install, uninstall  # noqa: F401

    uninstall()


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_doctor_finds_every_mistake_of_the_broken_example_and_exits_1(capsys):
    code, out, _ = run(capsys, "doctor", BROKEN)
    assert code == 1
    assert "ERROR: [Enrich] EnrichFromDatabase.conn" in out and "sqlite3.Connection" in out
    assert "ERROR: [Audit] AuditLog.handler.stream" in out
    assert "WARNING: [Audit] AuditLog.lock" in out
    assert "ERROR: [GroupByAmount] GroupByKey key" in out and "-0.0" in out
    assert "WARNING: [Parse] output" in out and "coders.beam.install()" in out


def test_doctor_says_the_fixed_example_is_clean_and_exits_0(capsys):
    code, out, err = run(capsys, "doctor", FIXED)
    assert code == 0, out + err
    assert "(0 error(s), 0 warning(s)" in out


def test_doctor_reports_both_bad_dofns_where_beam_stops_at_the_first(capsys):
    code, out, _ = run(capsys, "doctor", TWO_BAD, "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert [(p["label"], p["path"], p["type"]) for p in report["problems"]] == [
        ("a", "A.sock", "socket.socket"),
        ("b", "B.gen", "generator"),
    ]
    assert report["ok"] is False and report["errors"] == 2


def test_junit_output_has_one_failing_testcase_per_transform(capsys):
    code, out, _ = run(capsys, "doctor", TWO_BAD, "--format", "junit")
    assert code == 1
    suite = ET.fromstring(out)
    assert suite.get("failures") == "2"
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == {"a", "b"}
    assert "A.sock" in cases["a"].find("failure").get("message")


def test_check_objects_with_backend_comparison(capsys):
    code, out, _ = run(capsys, "check", "threading:Lock()", "--compare")
    # Beam's pickler recreates locks (a warning), stock cloudpickle and pickle refuse them.
    assert code == 0
    assert "WARNING: [threading:Lock()]" in out
    assert (
        "[threading:Lock()] lock (_thread.lock): error with cloudpickle, pickle; "
        "warning with beam:cloudpickle, beam:dill, dill" in out
    )
    code, out, _ = run(capsys, "check", "threading:Lock()", "--strict")
    assert code == 1
    code, out, _ = run(capsys, "check", "threading:Lock()", "--backend", "all")
    assert code == 0 and "error with cloudpickle, pickle" in out


def test_usage_and_import_errors_exit_2_with_a_message(capsys):
    code, _, err = run(capsys, "check", "no_such_module_xyz:thing")
    assert code == 2 and "cannot load no_such_module_xyz:thing: ModuleNotFoundError" in err
    code, _, err = run(capsys, "check", "not-a-target")
    assert code == 2 and "is not MODULE:ATTR" in err
    code, _, err = run(capsys, "doctor", os.path.join(ROOT, "nope.py"))
    assert code == 2 and "no such pipeline file" in err
    assert main([]) == 2


def test_console_script_is_installed():
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "coderkit"), "doctor", TWO_BAD],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "ERROR: [a] A.sock" in result.stdout


def test_fresh_interpreter_finds_a_module_only_the_driver_can_import(capsys):
    target = os.path.join(ROOT, "tests", "pickling", "doctor_files", "uses_local_module.py")
    code, out, _ = run(capsys, "doctor", target)
    assert code == 0, out  # in process the module imports fine
    code, out, _ = run(capsys, "doctor", target, "--fresh-interpreter", "--format", "json")
    assert code == 1
    problems = json.loads(out)["problems"]
    assert [(p["label"], p["type"]) for p in problems] == [("Tokenize", "local_helpers.Tokenize")]
    assert "local_helpers" in problems[0]["error"]


def two_generators():
    return {"a": (i for i in range(2)), "b": (i for i in range(3))}


def test_junit_counts_failing_testcases_and_lists_every_problem_in_one_failure(capsys):
    # two problems under one target: one testcase, one <failure> listing both, failures <= tests
    code, out, _ = run(capsys, "check", "tests.pickling.test_doctor_cli:two_generators()", "--format", "junit")
    assert code == 1
    suite = ET.fromstring(out)
    assert (suite.get("tests"), suite.get("failures")) == ("1", "1")
    [case] = suite.iter("testcase")
    [failure] = case.findall("failure")
    assert "(and 1 more)" in failure.get("message")
    assert failure.text.count("ERROR:") == 2


def test_junit_with_strict_makes_warnings_failures_as_the_exit_status_does(capsys):
    code, out, _ = run(capsys, "check", "threading:Lock()", "--format", "junit")
    assert code == 0
    suite = ET.fromstring(out)
    assert suite.get("failures") == "0" and "WARNING" in suite.find("testcase/system-err").text
    code, out, _ = run(capsys, "check", "threading:Lock()", "--format", "junit", "--strict")
    assert code == 1
    suite = ET.fromstring(out)
    assert suite.get("failures") == "1"
    assert "lock" in suite.find("testcase/failure").get("message")


def test_doctor_checks_a_file_that_reads_its_output_after_running_and_notes_why_that_failed(capsys):
    target = os.path.join(ROOT, "tests", "pickling", "doctor_files", "reads_its_output.py")
    code, out, err = run(capsys, "doctor", target)
    assert code == 1
    assert "ERROR: [Send] HoldsSocket.sock" in out
    assert "coderkit: note: " in err and "raised FileNotFoundError after running its pipeline" in err


def test_a_file_that_needs_arguments_says_how_to_pass_them(capsys):
    target = os.path.join(ROOT, "tests", "pickling", "doctor_files", "needs_arguments.py")
    code, _, err = run(capsys, "doctor", target)
    assert code == 2
    assert "the following arguments are required: --input" in err  # the file's own parser, as usual
    assert "exited with status 2 while building its pipeline" in err and "--pipeline-args" in err
    code, out, _ = run(capsys, "doctor", target, "--pipeline-args", "--input gs://bucket/in.txt")
    assert code == 0, out


def test_json_and_junit_stdout_is_the_report_alone_and_a_script_reading_metrics_keeps_going(capsys):
    target = os.path.join(ROOT, "tests", "pickling", "doctor_files", "prints_while_building.py")
    code, out, err = run(capsys, "doctor", target, "--format", "json")
    assert code == 0
    assert json.loads(out)["checked"] == 1  # the lambda; the report is valid JSON
    assert "building the pipeline" in err and "state DONE, 0 counters" in err  # the script's prints, on stderr
    assert "a log line from the script" not in out + err  # log lines are dropped ...
    code, out, err = run(capsys, "doctor", target, "--format", "junit", "--verbose")
    assert ET.fromstring(out).get("failures") == "0"
    assert "WARNING:root:a log line from the script" in err  # ... or shown on stderr with --verbose


def test_a_directory_says_it_is_one_and_what_to_pass(capsys):
    directory = os.path.join(ROOT, "examples", "doctor")
    code, _, err = run(capsys, "doctor", directory)
    assert code == 2
    assert f"coderkit: {directory!r} is a directory: pass the Python file that builds the pipeline" in err
    assert os.path.join(directory, "orders_pipeline_broken.py") in err


def test_a_file_that_fails_at_import_names_the_file_and_line(capsys):
    target = os.path.join(ROOT, "tests", "pickling", "doctor_files", "fails_at_import.py")
    code, _, err = run(capsys, "doctor", target)
    assert code == 2
    assert f"coderkit: {target}:4 raised ModuleNotFoundError while building its pipeline" in err
    assert "No module named 'no_such_module_for_the_doctor'" in err


MAIN_NAMEDTUPLE = os.path.join(ROOT, "tests", "pickling", "doctor_files", "main_namedtuple.py")


def test_a_main_namedtuple_that_reaches_a_grouping_is_an_error(capsys):
    code, out, _ = run(capsys, "doctor", MAIN_NAMEDTUPLE, "--format", "json")
    assert code == 1
    [error] = [p for p in json.loads(out)["problems"] if p["severity"] == "error"]
    assert (error["label"], error["kind"], error["type"]) == (
        "Map(<lambda at main_namedtuple.py:29>)",
        "fallback",
        "Order",
    )
    assert (
        "PicklingError: Can't pickle <class '__main__.Order'>: attribute lookup Order on __main__ failed"
        in error["error"]
    )
    assert error["advice"].startswith("move Order into a module the workers can import")


@pytest.mark.pipeline
def test_the_main_namedtuple_really_breaks_workers_on_the_direct_runner():
    """The evidence for the error above: Beam's own run, in worker processes, fails the way the doctor says."""
    result = subprocess.run(
        [
            sys.executable,
            MAIN_NAMEDTUPLE,
            "--direct_running_mode=multi_processing",
            "--direct_num_workers=2",
            "--save_main_session",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert "Can't pickle <class '__main__.Order'>: attribute lookup Order on __main__ failed" in result.stderr
