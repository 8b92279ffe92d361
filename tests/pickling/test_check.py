"""check_picklable on the mistakes people really make: each case asserts the exact path and
type found (or that the object is clean), the severity, and that the advice fits."""

from __future__ import annotations

import functools
import json
import os
import pickle
import sys
import threading

import apache_beam as beam
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pickling
from pickling import PicklabilityReport, Problem, UnpicklableError, check_picklable
from pickling.check import check_many, worker_sys_path
from tests.pickling import cases

DRIVER_ONLY_DIR = os.path.join(os.path.dirname(__file__), "driver_only")


def only(report: PicklabilityReport, severity: str = "error") -> Problem:
    found = [p for p in report.problems if p.severity == severity]
    assert len(found) == 1, str(report)
    return found[0]


def assert_clean(report: PicklabilityReport):
    assert report.ok and bool(report), str(report)
    assert report.problems == [], str(report)


# -- DoFns holding things that cannot travel ------------------------------------------------


def test_dofn_holding_a_socket():
    report = check_picklable(cases.SocketDoFn())
    problem = only(report)
    assert (problem.path, problem.type_name) == ("SocketDoFn.sock", "socket.socket")
    assert problem.error == "TypeError: cannot pickle 'socket' object"
    assert "setup()" in problem.advice and "__init__ runs on the driver" in problem.advice
    assert not report.ok and not bool(report) and report.size_bytes is None


def test_dofn_holding_a_sqlite_connection():
    problem = only(check_picklable(cases.SqliteDoFn()))
    assert (problem.path, problem.type_name) == ("SqliteDoFn.conn", "sqlite3.Connection")
    assert "self.conn = None in __init__" in problem.advice


def test_client_with_sockets_deep_inside_is_one_problem_listing_both():
    problem = only(check_picklable(cases.ClientDoFn()))
    assert (problem.path, problem.type_name) == ("ClientDoFn.client", "tests.pickling.cases.ApiClient")
    assert [(leaf.path, leaf.type_name) for leaf in problem.leaves] == [
        ("ClientDoFn.client._transport._sock", "socket.socket"),
        ("ClientDoFn.client._transport._pool[0]", "socket.socket"),
    ]
    assert "Pass the value, not the client" in problem.advice


def test_lock_is_a_warning_under_beam_and_an_error_under_stock_cloudpickle():
    report = check_picklable(cases.LockDoFn(), backend="beam")
    warning = only(report, "warning")
    assert (warning.path, warning.type_name) == ("LockDoFn.lock", "_thread.lock")
    assert "new, unrelated lock on each worker" in warning.error
    assert report.ok
    error = only(check_picklable(cases.LockDoFn(), backend="cloudpickle"))
    assert (error.path, error.type_name) == ("LockDoFn.lock", "_thread.lock")
    assert error.error == "TypeError: cannot pickle '_thread.lock' object"


def test_open_file_for_writing_fails_and_for_reading_changes_meaning(tmp_path):
    problem = only(check_picklable(cases.FileDoFn(str(tmp_path / "out.txt"))))
    assert (problem.path, problem.type_name) == ("FileDoFn.out", "_io.TextIOWrapper")
    assert problem.error == ("PicklingError: Cannot pickle files that are not opened for reading: w")
    assert "pass its path" in problem.advice
    (tmp_path / "in.txt").write_text("a,b\n")
    report = check_picklable(cases.ReadFileDoFn(str(tmp_path / "in.txt")))
    warning = only(report, "warning")
    assert (warning.path, warning.type_name) == ("ReadFileDoFn.lookup", "_io.TextIOWrapper")
    assert "in-memory file" in warning.error and report.ok
    dill_warning = only(check_picklable(cases.ReadFileDoFn(str(tmp_path / "in.txt")), backend="beam:dill"), "warning")
    assert "reopens it on the worker" in dill_warning.error


def test_dofn_holding_a_generator():
    problem = only(check_picklable(cases.GeneratorDoFn()))
    assert (problem.path, problem.type_name) == ("GeneratorDoFn.rows", "generator")
    assert "A running generator cannot be pickled" in problem.advice


def test_logging_handler_with_a_file_stream(tmp_path):
    report = check_picklable(cases.LoggingDoFn(str(tmp_path / "log.txt")))
    problem = only(report)
    assert (problem.path, problem.type_name) == ("LoggingDoFn.handler.stream", "_io.TextIOWrapper")
    warning = only(report, "warning")
    assert (warning.path, warning.type_name) == ("LoggingDoFn.handler.lock", "_thread.RLock")


def test_thread_pool():
    dofn = cases.PoolDoFn()
    try:
        problem = only(check_picklable(dofn))
    finally:
        dofn.pool.shutdown()
    assert (problem.path, problem.type_name) == ("PoolDoFn.pool._work_queue", "_queue.SimpleQueue")
    assert "create them on the worker" in problem.advice


def test_grpc_like_channel():
    report = check_picklable(cases.ChannelDoFn())
    problem = only(report)
    assert (problem.path, problem.type_name) == ("ChannelDoFn.channel._sock", "socket.socket")
    warning = only(report, "warning")
    assert (warning.path, warning.type_name) == ("ChannelDoFn.channel._lock", "_thread.lock")


# -- functions and what they capture ---------------------------------------------------------


def test_lambda_capturing_a_large_numpy_array_warns_with_its_path():
    weights = np.arange(200_000, dtype=np.float64)  # 1.6 MB
    report = check_picklable(cases.make_scorer(weights))
    warning = only(report, "warning")
    assert (warning.path, warning.type_name) == ("<lambda>", "function")
    assert warning.kind == "size" and "1,000,000-byte warning threshold" in warning.error
    assert report.ok and report.size_bytes > 1_600_000
    assert report.largest[0][0] == "<lambda>.<closure>.weights"
    assert report.largest[0][1] >= 1_600_000
    assert "numpy" in report.modules


def test_size_error_above_the_hard_limit():
    weights = np.ones(100_000)
    report = check_picklable(cases.make_scorer(weights), size_warning_bytes=100_000, size_error_bytes=500_000)
    problem = only(report)
    assert (problem.path, problem.kind) == ("<lambda>", "size")
    assert "above the 500,000-byte limit" in problem.error
    assert "<lambda>.<closure>.weights" in problem.error


def test_lambda_capturing_a_big_dict():
    table = {f"key-{i}": i for i in range(20_000)}
    report = check_picklable(cases.make_lookup(table), size_warning_bytes=100_000)
    assert only(report, "warning").kind == "size"
    assert report.largest[0][0] == "<lambda>.<closure>.table"


def test_closure_over_a_local_class():
    report = check_picklable(cases.make_parser())
    warning = only(report, "warning")
    assert (warning.path, warning.type_name) == ("parse.<closure>.Record", "type")
    assert "move this class to module level" in warning.advice
    problem = only(check_picklable(cases.make_parser(), backend="pickle"))
    assert (problem.path, problem.type_name) == ("parse", "function")
    assert "Can't pickle local object" in problem.error


def test_nested_function_referring_to_a_module_level_object_with_a_lock():
    report = check_picklable(cases.make_handler(), backend="beam")
    warning = only(report, "warning")
    assert (warning.path, warning.type_name) == ("handle.<globals>.REGISTRY._lock", "_thread.lock")
    problem = only(check_picklable(cases.make_handler(), backend="cloudpickle"))
    assert (problem.path, problem.type_name) == ("handle.<globals>.REGISTRY._lock", "_thread.lock")
    assert "module-level `REGISTRY`" in problem.advice


def test_lambda_capturing_self_of_a_job_holding_the_pipeline():
    job = cases.Job(beam.Pipeline(), threshold=3)
    report = check_picklable(job.keep_big())
    warning = only(report, "warning")
    assert (warning.path, warning.type_name) == ("<lambda>.<closure>.self.pipeline", "apache_beam.pipeline.Pipeline")
    assert "driver-side object" in warning.error


def test_bound_method_of_a_service_object():
    problem = only(check_picklable(cases.Service().fetch))
    assert (problem.path, problem.type_name) == ("Service.fetch.__self__.session", "socket.socket")
    assert "bound method pickles its whole object" in problem.advice


def test_dataclass_with_a_lock_field():
    report = check_picklable(cases.Counter("requests"))
    assert report.ok
    lock = [p for p in report.warnings if p.path == "Counter.lock"]
    assert [p.type_name for p in lock] == ["_thread.lock"]
    problem = only(check_picklable(cases.Counter("requests"), backend="pickle"))
    assert (problem.path, problem.type_name) == ("Counter.lock", "_thread.lock")


# -- the object's own pickling code ----------------------------------------------------------


def test_reduce_raising_quotes_the_users_message():
    problem = only(check_picklable(cases.LicensedDoFn()))
    assert (problem.path, problem.type_name) == ("LicensedDoFn.model", "tests.pickling.cases.LicensedModel")
    assert problem.error == ("TypeError: LicensedModel holds a live license handle; build it on the worker")
    assert "Its own __reduce__ refused" in problem.advice


def test_setstate_failing_on_load():
    problem = only(check_picklable(cases.FragileDoFn()))
    assert (problem.path, problem.type_name) == ("FragileDoFn.model", "tests.pickling.cases.Fragile")
    assert problem.kind == "unloadable"
    assert problem.error == ("ValueError: schema version 3 is not supported by this reader (raised while unpickling)")
    assert "fails to unpickle (__setstate__ raised)" in problem.advice
    # without the round trip, nothing is wrong at pickling time
    assert_clean(check_picklable(cases.FragileDoFn(), roundtrip=False))


def test_cryptic_cython_error_is_explained():
    problem = only(check_picklable(cases.CythonLike(), root_name="reader"))
    assert (problem.path, problem.type_name) == ("reader", "tests.pickling.cases.CythonLike")
    assert "no default __reduce__ due to non-trivial __cinit__" in problem.error
    assert "C extension (Cython) type" in problem.advice


# -- recursion and self-reference -------------------------------------------------------------


def test_deep_linked_list_is_summarised():
    problem = only(check_picklable(cases.linked_list(100_000), root_name="head"))
    assert (problem.path, problem.type_name) == ("head", "tests.pickling.cases.Node")
    assert problem.kind == "recursion"
    assert "nested 99999 levels deep along head(.next)x99999 " in problem.error
    assert "flat list" in problem.advice


def test_cycle_through_reduce_arguments():
    problem = only(check_picklable(cases.Loop()))
    assert (problem.path, problem.type_name) == ("Loop", "tests.pickling.cases.Loop")
    assert "through the arguments its __reduce__ returns" in problem.error
    assert "Loop.<reduce args>[0]" in problem.error


def test_self_references_are_followed_once():
    assert_clean(check_picklable(cases.SelfRef(with_socket=False)))
    problem = only(check_picklable(cases.SelfRef(with_socket=True)))
    assert (problem.path, problem.type_name) == ("SelfRef.sock", "socket.socket")


def test_the_same_socket_reached_twice_is_one_leaf_with_an_alias():
    dofn = cases.SocketDoFn()
    dofn.backup = [dofn.sock]
    report = check_picklable(dofn)
    paths = sorted(p.path for p in report.errors)
    assert paths == ["SocketDoFn.sock"], str(report)
    assert report.errors[0].leaves[0].aliases == ["SocketDoFn.backup[0]"]


def test_container_root_and_dict_paths():
    import socket

    with socket.socket() as sock:
        cfg = {"db": cases.Scaler(2), "pool": [1, sock]}
        problem = only(check_picklable(cfg, root_name="cfg"))
    assert (problem.path, problem.type_name) == ("cfg['pool'][1]", "socket.socket")


def test_closure_and_default_argument_paths():
    import socket

    with socket.socket() as conn:

        def process(x, retries=conn):
            return conn, x

        report = check_picklable(process)
    assert sorted((p.path, p.type_name) for p in report.errors) == [("process.<closure>.conn", "socket.socket")]
    assert report.errors[0].leaves[0].aliases == ["process.<defaults>[0]"]


# -- clean objects -------------------------------------------------------------------------


def test_setup_and_teardown_done_right():
    report = check_picklable(cases.GoodDoFn())
    assert_clean(report)
    assert report.modules == ["tests.pickling.cases"]


def test_partial_of_a_module_function():
    assert_clean(check_picklable(cases.SCALE_BY_3))
    assert_clean(check_picklable(functools.partial(cases.scale, factor=2)))


def test_staticmethod():
    assert_clean(check_picklable(cases.Tools.normalize))
    assert_clean(check_picklable(cases.Tools.__dict__["normalize"]))


def test_bound_method_of_a_picklable_object():
    assert_clean(check_picklable(cases.Scaler(2).scale))


def test_named_tuple_config():
    assert_clean(check_picklable(cases.Config("db.internal", 5432), backend="pickle"))
    assert_clean(check_picklable(cases.Config("db.internal", 5432)))


def test_attribute_dropped_by_getstate_is_not_a_problem():
    assert_clean(check_picklable(cases.CachingDoFn()))


# -- report API ---------------------------------------------------------------------------


def test_assert_picklable_raises_with_the_report():
    with pytest.raises(UnpicklableError) as info:
        pickling.assert_picklable(cases.SocketDoFn())
    assert isinstance(info.value, pickle.PicklingError)
    assert info.value.report.errors[0].path == "SocketDoFn.sock"
    assert "ERROR: SocketDoFn.sock" in str(info.value)
    assert pickling.assert_picklable(cases.GoodDoFn()).ok
    with pytest.raises(UnpicklableError):
        pickling.assert_picklable(cases.LockDoFn(), strict=True)


def test_report_text_json_and_merge():
    bad = check_picklable(cases.ClientDoFn(), label="Enrich")
    warn = check_picklable(cases.LockDoFn(), label="Count")
    text = str(bad)
    assert text.splitlines()[0].startswith("ClientDoFn: NOT picklable")
    assert "ERROR: [Enrich] ClientDoFn.client" in text
    assert "- ClientDoFn.client._transport._sock (socket.socket)" in text
    assert "fix:" in text
    data = json.loads(json.dumps(bad.to_dict()))
    assert data["ok"] is False and data["problems"][0]["label"] == "Enrich"
    assert [leaf["path"] for leaf in data["problems"][0]["leaves"]] == [
        "ClientDoFn.client._transport._sock",
        "ClientDoFn.client._transport._pool[0]",
    ]
    merged = PicklabilityReport.merge([bad, warn])
    assert merged.checked == 2 and not merged.ok
    assert [(p.label, p.severity) for p in merged.problems] == [("Enrich", "error"), ("Count", "warning")]
    assert str(merged).startswith("2 objects: NOT picklable")


def test_unknown_severity_is_rejected():
    with pytest.raises(ValueError, match="severity must be one of"):
        Problem(path="x", type_name="int", error="", advice="", severity="fatal")


def test_bad_size_thresholds_are_rejected():
    with pytest.raises(ValueError, match="size_warning_bytes <= size_error_bytes"):
        check_picklable(1, size_warning_bytes=10, size_error_bytes=5)


# -- the fresh interpreter: one process for every case ---------------------------------------


@pytest.fixture(scope="module")
def fresh_reports():
    sys.path.insert(0, DRIVER_ONLY_DIR)
    os.environ["CODERKIT_TEST_TOKEN"] = "s3cr3t"
    main = sys.modules["__main__"].__dict__
    exec("def coderkit_lookup(key):\n    return CODERKIT_TABLE[key]\n", main)
    main["CODERKIT_TABLE"] = {"a": 1}
    try:
        import coderkit_driver_only

        objects = {
            "driver-only": cases.UsesDriverOnly(coderkit_driver_only.DriverOnlyConfig("t")),
            "driver-only-twice": cases.UsesDriverOnly(coderkit_driver_only.DriverOnlyConfig("t")),
            "env": cases.EnvBound(),
            "good": cases.GoodDoFn(),
            "main-function": main["coderkit_lookup"],
            "lambda": cases.make_lookup({"a": 1}),
        }
        objects["driver-only-twice"].replica = coderkit_driver_only.DriverOnlyConfig("t2")
        reports = check_many(objects, backend="beam:dill", fresh_interpreter=True, exclude_paths=[DRIVER_ONLY_DIR])
        yield dict(zip(objects, reports))
    finally:
        sys.path.remove(DRIVER_ONLY_DIR)
        sys.modules.pop("coderkit_driver_only", None)
        del os.environ["CODERKIT_TEST_TOKEN"]
        del main["coderkit_lookup"], main["CODERKIT_TABLE"]


def test_class_only_importable_on_the_driver(fresh_reports):
    report = fresh_reports["driver-only"]
    problem = only(report)
    assert (problem.path, problem.type_name) == ("UsesDriverOnly.config", "coderkit_driver_only.DriverOnlyConfig")
    assert problem.error == ("ModuleNotFoundError: No module named 'coderkit_driver_only' (in a fresh interpreter)")
    assert "coderkit_driver_only" in report.modules
    assert problem.label == "driver-only"


def test_every_use_of_a_module_the_workers_lack_is_one_problem(fresh_reports):
    """Two attributes, one cause (the module), one fix: one problem listing both places."""
    problem = only(fresh_reports["driver-only-twice"])
    error = "ModuleNotFoundError: No module named 'coderkit_driver_only' (in a fresh interpreter)"
    assert (problem.path, problem.type_name, problem.error) == (
        "UsesDriverOnly.config",
        "coderkit_driver_only.DriverOnlyConfig",
        error,
    )
    assert [(leaf.path, leaf.type_name, leaf.error) for leaf in problem.leaves] == [
        ("UsesDriverOnly.config", "coderkit_driver_only.DriverOnlyConfig", error),
        ("UsesDriverOnly.replica", "coderkit_driver_only.DriverOnlyConfig", error),
    ]
    assert problem.advice.startswith("The workers cannot import 'coderkit_driver_only': it is only on the driver's")


def test_setstate_needing_the_launchers_environment(fresh_reports):
    problem = only(fresh_reports["env"])
    assert (problem.path, problem.type_name) == ("EnvBound", "tests.pickling.cases.EnvBound")
    assert problem.error == "KeyError: 'CODERKIT_TEST_TOKEN' (in a fresh interpreter)"


def test_globals_dill_did_not_capture(fresh_reports):
    problem = only(fresh_reports["main-function"])
    assert (problem.path, problem.type_name) == ("coderkit_lookup.<globals>.CODERKIT_TABLE", "NameError")
    assert problem.kind == "unresolved-global"


def test_clean_objects_stay_clean_in_a_fresh_interpreter(fresh_reports):
    assert_clean(fresh_reports["good"])
    assert_clean(fresh_reports["lambda"])


# -- a part that loads only where the driver's environment is: bisected in the fresh interpreter


def test_part_failing_only_in_a_fresh_interpreter_is_named_by_its_path(monkeypatch):
    monkeypatch.setenv("WAREHOUSE_TOKEN", "s3cr3t")  # the driver has it; the worker will not
    dofn = cases.LoadToWarehouseDoFn()
    assert_clean(check_picklable(dofn))  # pickles and loads in this process
    report = check_picklable(dofn, fresh_interpreter=True)
    problem = only(report)
    assert (problem.path, problem.type_name, problem.kind) == (
        "LoadToWarehouseDoFn.client",
        "tests.pickling.cases.WarehouseClient",
        "fresh-interpreter",
    )
    assert problem.error == "KeyError: 'WAREHOUSE_TOKEN' (in a fresh interpreter)"
    assert [(leaf.path, leaf.type_name, leaf.error) for leaf in problem.leaves] == [
        ("LoadToWarehouseDoFn.client", "tests.pickling.cases.WarehouseClient", problem.error)
    ]
    assert problem.advice == (
        "LoadToWarehouseDoFn.__init__ runs on the driver and everything it stores on self is "
        "pickled and shipped: set self.client = None in __init__ and create it in setup() (or "
        "start_bundle()), which runs on each worker (close it in teardown()). Unpickling "
        "WarehouseClient needs something only the launching process has (an environment "
        "variable, a file, a module state): make loading self-contained or rebuild the object on "
        "the worker (in setup())."
    )
    assert report.size_bytes is not None and report.size_bytes > 0


def test_fresh_interpreter_bisection_descends_and_runs_in_one_interpreter(monkeypatch):
    """Two objects, the culprit two levels down in one of them: both are located by the one
    interpreter that loaded them (its launches are counted through the real Popen)."""
    import subprocess

    monkeypatch.setenv("WAREHOUSE_TOKEN", "s3cr3t")
    launches = []
    real_popen = subprocess.Popen

    def counting_popen(args, *rest, **kwargs):
        launches.append(args[:2])
        return real_popen(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", counting_popen)
    objects = {"export": cases.ExportDoFn(), "load": cases.LoadToWarehouseDoFn(), "good": cases.GoodDoFn()}
    reports = dict(zip(objects, check_many(objects, fresh_interpreter=True)))
    assert launches == [[sys.executable, "-I"]]
    export = only(reports["export"])
    assert (export.path, export.type_name, export.error, export.label) == (
        "ExportDoFn.sink.client",
        "tests.pickling.cases.WarehouseClient",
        "KeyError: 'WAREHOUSE_TOKEN' (in a fresh interpreter)",
        "export",
    )
    assert "set self.sink = None in __init__" in export.advice
    assert only(reports["load"]).path == "LoadToWarehouseDoFn.client"
    assert_clean(reports["good"])


def test_fresh_interpreter_bisects_a_long_list_down_to_each_failing_item(monkeypatch):
    monkeypatch.setenv("WAREHOUSE_TOKEN", "s3cr3t")
    policies = [cases.RetryPolicy(attempts=i) for i in range(40)]
    policies[3] = cases.WarehouseClient("https://a.example.com")
    policies[29] = cases.WarehouseClient("https://b.example.com")
    problem = only(check_picklable({"policies": policies}, backend="pickle", fresh_interpreter=True))
    assert (problem.path, problem.type_name, problem.kind) == ("obj['policies']", "list", "fresh-interpreter")
    assert problem.error == (
        "2 objects inside obj['policies'] cannot be unpickled in a fresh interpreter "
        "(tests.pickling.cases.WarehouseClient)"
    )
    assert [(leaf.path, leaf.error) for leaf in problem.leaves] == [
        ("obj['policies'][3]", "KeyError: 'WAREHOUSE_TOKEN' (in a fresh interpreter)"),
        ("obj['policies'][29]", "KeyError: 'WAREHOUSE_TOKEN' (in a fresh interpreter)"),
    ]


def test_worker_sys_path_drops_excluded_entries():
    paths = worker_sys_path(["", DRIVER_ONLY_DIR, "/usr/lib"], exclude_paths=[DRIVER_ONLY_DIR])
    assert paths == [os.getcwd(), "/usr/lib"]


def test_locks_recreated_by_beam_really_are_new_locks():
    """The warning is true: Beam's pickler gives back a different, unlocked lock."""
    lock = threading.Lock()
    lock.acquire()
    try:
        copy = pickling.loads(pickling.dumps(lock, "beam"), "beam")
        assert copy is not lock and not copy.locked()
    finally:
        lock.release()


def test_backend_comparison_names_what_depends_on_the_pickler():
    from pickling.check import backend_differences, compare_backends

    reports = compare_backends(cases.LockDoFn())
    assert list(reports) == ["beam:cloudpickle", "cloudpickle", "dill", "pickle"]
    assert backend_differences(reports) == [
        "LockDoFn.lock (_thread.lock): error with cloudpickle, pickle; warning with beam:cloudpickle, dill"
    ]
    assert backend_differences(compare_backends(cases.GoodDoFn())) == []


def test_beam_stops_at_the_first_socket_without_a_path_we_find_both():
    with pytest.raises(RuntimeError) as info:
        beam.ParDo(cases.ClientDoFn())
    assert "cannot pickle 'socket' object" in str(info.value)
    assert "_transport" not in str(info.value)
    problem = only(check_picklable(cases.ClientDoFn()))
    assert len(problem.leaves) == 2


@pytest.mark.pipeline
def test_verdicts_match_a_real_direct_runner_pipeline():
    """Clean and warning-only DoFns really run on the DirectRunner (which pickles them)."""
    from apache_beam.testing.util import assert_that, equal_to

    assert check_picklable(cases.GoodDoFn()).ok and check_picklable(cases.LockDoFn()).ok
    with beam.Pipeline() as p:
        out = (
            p | beam.Create([1, 2, 3]) | "good" >> beam.ParDo(cases.GoodDoFn()) | "lock" >> beam.ParDo(cases.LockDoFn())
        )
        assert_that(out, equal_to([1, 2, 3]))


_shapes = st.recursive(
    st.sampled_from(["int", "sock"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(alphabet="abc", min_size=1, max_size=2), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=30, deadline=None)
@given(_shapes)
def test_every_socket_is_found_at_its_path(shape):
    """The law behind every case: the leaves reported are exactly the unpicklable objects,
    each at its Python path."""
    import socket

    opened, expected = [], set()

    def build(node, path):
        if node == "sock":
            opened.append(socket.socket())
            expected.add(path)
            return opened[-1]
        if node == "int":
            return 7
        if isinstance(node, list):
            return [build(v, f"{path}[{i}]") for i, v in enumerate(node)]
        return {k: build(v, f"{path}[{k!r}]") for k, v in node.items()}

    try:
        value = build(shape, "obj")
        report = check_picklable(value, root_name="obj")
        found = {leaf.path for p in report.errors for leaf in p.leaves}
        assert found == expected, str(report)
        assert {leaf.type_name for p in report.errors for leaf in p.leaves} <= {"socket.socket"}
        assert report.ok == (not expected)
    finally:
        for s in opened:
            s.close()


def test_bound_method_groups_under_the_objects_attribute():
    import socket

    service = cases.Service()
    service.backup = [socket.socket(), socket.socket()]
    try:
        report = check_picklable(service.fetch)
    finally:
        for s in service.backup:
            s.close()
    assert sorted((p.path, p.type_name) for p in report.errors) == [
        ("Service.fetch.__self__.backup", "list"),
        ("Service.fetch.__self__.session", "socket.socket"),
    ]
    [grouped] = [p for p in report.errors if p.type_name == "list"]
    assert [leaf.path for leaf in grouped.leaves] == [
        "Service.fetch.__self__.backup[0]",
        "Service.fetch.__self__.backup[1]",
    ]


def test_pcollection_captured_by_a_function_warns():
    pipeline = beam.Pipeline()
    numbers = pipeline | beam.Create([1, 2])
    report = check_picklable(lambda x: (x, numbers))
    warning = only(report, "warning")
    assert (warning.path, warning.type_name) == ("<lambda>.<closure>.numbers", "apache_beam.pvalue.PCollection")


def test_main_class_by_name_is_missing_in_a_fresh_interpreter():
    """stdlib pickle stores a __main__ class by name; a worker's __main__ is not the script."""
    main = sys.modules["__main__"].__dict__
    exec("class CoderkitPoint:\n    def __init__(self):\n        self.x = 1\n", main)
    try:
        holder = {"point": main["CoderkitPoint"]()}
        report = check_many({"holder": holder}, backend="pickle", fresh_interpreter=True)[0]
    finally:
        del main["CoderkitPoint"]
    problem = only(report)
    assert (problem.path, problem.type_name) == ("obj['point']", "__main__.CoderkitPoint")
    assert problem.error.startswith("AttributeError: Can't get attribute 'CoderkitPoint' on")
    assert "a worker's __main__ is not your script" in problem.advice


def test_each_instance_of_a_class_that_cannot_travel_is_its_own_offender():
    """The second instance is another object, not another path to the first."""

    class Local:
        def __init__(self):
            self.x = 1

    report = check_picklable({"a": Local(), "b": Local()}, backend="pickle")
    error = f"AttributeError: Can't pickle local object {Local.__qualname__!r}"
    assert [(p.path, p.type_name, p.error, p.leaves[0].aliases) for p in report.errors] == [
        ("obj['a']", f"{__name__}.{Local.__qualname__}", error, []),
        ("obj['b']", f"{__name__}.{Local.__qualname__}", error, []),
    ]


def test_class_attribute_of_a_local_class_is_followed():
    import socket

    with socket.socket() as sock:

        class Local:
            conn = sock

        report = check_picklable(Local())
    problem = only(report)
    assert (problem.path, problem.type_name) == ("Local.__class__.conn", "socket.socket")


def test_one_socket_among_many_items_is_found_by_bisection():
    import socket

    with socket.socket() as sock:
        rows = list(range(100_000))
        rows[76_543] = sock
        table = {f"k{i}": i for i in range(50_000)}
        table["k31337"] = sock
        report = check_picklable({"rows": rows, "table": table}, root_name="batch")
    assert sorted((p.path, p.type_name) for p in report.errors) == [("batch['rows'][76543]", "socket.socket")]
    assert report.errors[0].leaves[0].aliases == ["batch['table']['k31337']"]


def test_a_dofn_defined_in_a_function_is_not_flagged_for_travelling_by_value():
    class LocalDoFn(beam.DoFn):
        def process(self, element):
            yield element

    assert_clean(check_picklable(LocalDoFn()))


def test_the_file_warnings_describe_what_really_comes_back(tmp_path):
    path = tmp_path / "lookup.csv"
    path.write_text("a,1\n")
    with open(path) as handle:
        copy = pickling.loads(pickling.dumps(handle, "beam"), "beam")
        assert type(copy).__name__ == "StringIO" and copy.read() == "a,1\n"
        reopened = pickling.loads(pickling.dumps(handle, "beam:dill"), "beam:dill")
        assert reopened.name == str(path)
        reopened.close()


def test_iterators_and_threads_change_meaning(monkeypatch):
    # a Thread keeps the sys.stderr of its creation; pytest's capture file does not pickle
    # (the checker says so: "state['worker']._stderr ... EncodedFile"), the real one does
    monkeypatch.setattr(sys, "stderr", sys.__stderr__)
    report = check_picklable({"rows": iter([1, 2, 3]), "worker": threading.Thread(target=print)}, root_name="state")
    assert report.ok
    assert sorted((p.path, p.type_name) for p in report.warnings) == [
        ("state['rows']", "list_iterator"),
        ("state['worker']", "threading.Thread"),
    ]


def test_object_that_no_longer_equals_itself_after_the_round_trip():
    report = check_picklable(cases.LossyConfig("orders", ("eu",)))
    warning = only(report, "warning")
    assert (warning.path, warning.type_name) == ("LossyConfig", "tests.pickling.cases.LossyConfig")
    assert warning.error.startswith("after a round trip the object no longer equals itself")
    assert report.ok


class _Holder:
    def __init__(self, value):
        self.value = value


def test_a_warning_scan_cut_short_says_so_instead_of_looking_complete(monkeypatch):
    import pickling.check as check_module

    obj = [_Holder(_Holder(i)) for i in range(40)] + [_Holder(threading.Lock())]
    full = check_picklable(obj, backend="beam")
    assert [(p.path, p.kind) for p in full.warnings] == [("obj[40].value", "changes-meaning")]
    monkeypatch.setattr(check_module, "_MAX_SCAN_NODES", 10)
    cut = check_picklable(obj, backend="beam")
    assert cut.ok
    [note] = cut.warnings
    assert note.kind == "incomplete" and note.path == "obj[9]"
    assert "stopped after 10 objects; this one and at least 41 more were not looked at" in note.error


def test_a_memoryview_comes_back_as_bytes_under_beams_pickler_and_says_so():
    buffer = bytearray(b"abc")
    holder = _Holder(memoryview(buffer))
    assert type(pickling.loads(pickling.dumps(holder, backend="beam"), backend="beam").value) is bytes
    report = check_picklable(holder, backend="beam")
    assert report.ok
    [warning] = report.warnings
    assert (warning.path, warning.type_name, warning.kind) == ("_Holder.value", "memoryview", "changes-meaning")
    assert "bytes copy" in warning.error
    stdlib = check_picklable(holder, backend="pickle")  # refuses it outright: an error, no warning
    assert [(p.path, p.severity) for p in stdlib.problems] == [("_Holder.value", "error")]
