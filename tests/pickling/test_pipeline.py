"""pickling.check_pipeline: every fn, key and fallback of a built pipeline, labelled by transform."""

from __future__ import annotations

import functools
import socket
import threading
import typing

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from pickling.loader import deferred_pickling_checks
from pickling.pipeline import check_pipeline, pipeline_fns

LOCK = threading.Lock()


class Opaque:
    """No coder can be derived for this class: Beam pickles it."""

    def __init__(self, value):
        self.value = value


class HoldsSocket(beam.DoFn):
    def __init__(self):
        self.conn = socket.socket()

    def process(self, x):
        yield x


class SetupRight(beam.DoFn):
    def __init__(self, address):
        self.address = address
        self.conn = None

    def setup(self):
        self.conn = object()

    def process(self, x):
        yield x


def uses_module_lock(x):
    with LOCK:
        return x


def make_locked_step():
    """A local function is pickled by value, with the module globals it uses (LOCK)."""

    def locked(x):
        with LOCK:
            return x

    return locked


class CombineHoldingSocket(beam.CombineFn):
    def __init__(self):
        self.conn = socket.socket()

    def create_accumulator(self):
        return 0

    def add_input(self, acc, x):
        return acc + x

    def merge_accumulators(self, accs):
        return sum(accs)

    def extract_output(self, acc):
        return acc


def scale(x, factor):
    return x * factor


def build(*stages):
    """A pipeline of ``stages`` (each a function making a transform), built with Beam's
    construction-time pickling check deferred, as the doctor builds one."""
    p = beam.Pipeline()
    with deferred_pickling_checks():
        pcoll = p | beam.Create([1, 2, 3])
        for stage in stages:
            pcoll = pcoll | stage()
    return p


def by_label(report):
    return {(p.label, p.path): p for p in report.problems}


def test_every_bad_fn_is_found_with_its_transform_label_and_path():
    gen = (i for i in range(3))
    p = build(
        lambda: "Sock" >> beam.ParDo(HoldsSocket()),
        lambda: "Lock" >> beam.Map(make_locked_step()),
        lambda: "ByRef" >> beam.Map(uses_module_lock),
        lambda: "Gen" >> beam.Map(lambda x, g: x, gen),
        lambda: "Fine" >> beam.ParDo(SetupRight("db:5432")),
    )
    report = check_pipeline(p)
    found = by_label(report)
    assert not report.ok
    assert found[("Sock", "HoldsSocket.conn")].type_name == "socket.socket"
    assert found[("Sock", "HoldsSocket.conn")].severity == "error"
    assert "setup()" in found[("Sock", "HoldsSocket.conn")].advice
    lock = found[("Lock", "locked.<globals>.LOCK")]
    assert lock.severity == "warning" and lock.type_name == "_thread.lock"
    # a module-level function is pickled by reference: its globals never travel
    assert not any(label == "ByRef" for label, _ in found)
    assert found[("Gen", "args[0]")].type_name == "generator"
    assert not any(label == "Fine" for label, _ in found)


def test_combine_fns_and_flatmap_filter_maptuple_callables_are_checked():
    sock = socket.socket()
    try:
        p = build(
            lambda: "Flat" >> beam.FlatMap(lambda x: [x] if sock else []),
            lambda: "Keep" >> beam.Filter(lambda x: sock is not None),
            lambda: "Sum" >> beam.CombineGlobally(CombineHoldingSocket()),
            lambda: "Pair" >> beam.Map(lambda x: (x, x)),
            lambda: "SumPerKey" >> beam.CombinePerKey(CombineHoldingSocket()),
            lambda: "Swap" >> beam.MapTuple(lambda k, v: (v, k, sock)),
        )
        found = {(p.label, p.path, p.type_name) for p in check_pipeline(p, check_fallbacks=False).errors}
    finally:
        sock.close()
    assert found == {
        ("Flat", "lambda.<closure>.sock", "socket.socket"),
        ("Keep", "lambda.<closure>.sock", "socket.socket"),
        ("Sum", "CombineHoldingSocket.conn", "socket.socket"),
        ("SumPerKey", "CombineHoldingSocket.conn", "socket.socket"),
        ("Swap", "lambda.<closure>.sock", "socket.socket"),
    }


def test_map_callables_are_checked_not_beams_wrapper_and_internal_fns_are_skipped():
    p = build(
        lambda: "Scale" >> beam.Map(functools.partial(scale, factor=2)), lambda: "Plain" >> beam.Map(uses_module_lock)
    )
    labels = {label: obj for label, _, obj in pipeline_fns(p)}
    assert isinstance(labels["Scale"], functools.partial)
    assert labels["Plain"] is uses_module_lock
    assert not any(label.startswith("Create/") for label in labels)
    assert any(label.startswith("Create/") for label, _, _ in pipeline_fns(p, include_internal=True))


class ScriptOrder:
    """Stands for a class the launched script defines: Beam's pickle fallback pickles it by reference."""

    def __init__(self, value):
        self.value = value


ScriptOrder.__module__ = "__main__"


def test_grouping_keys_and_pickle_fallbacks_are_reported():
    p = build(
        lambda: "Pair" >> beam.Map(lambda x: (float(x), ScriptOrder(x))).with_output_types(tuple[float, ScriptOrder]),
        lambda: "Group" >> beam.GroupByKey(),
    )
    report = check_pipeline(p)
    keys = [pr for pr in report.problems if pr.kind == "key"]
    assert [(k.label, k.type_name) for k in keys] == [("Group", "float")]
    assert "-0.0" in keys[0].error
    fallbacks = [pr for pr in report.problems if pr.kind == "fallback"]
    # the values reach a grouping, where a worker must pickle them, and it has no __main__.ScriptOrder
    assert [(f.label, f.type_name, f.severity) for f in fallbacks] == [("Pair", "ScriptOrder", "error")]
    assert "Can't pickle <class '__main__.ScriptOrder'>" in fallbacks[0].error
    assert "they reach a grouping" in fallbacks[0].error
    assert fallbacks[0].advice.startswith("move ScriptOrder into a module the workers can import")


def test_a_pickle_fallback_for_an_importable_class_is_not_reported():
    # Opaque is importable (this test module), so the pickle fallback pickles it by reference and works.
    p = build(
        lambda: "Pair" >> beam.Map(lambda x: (str(x), Opaque(x))).with_output_types(tuple[str, Opaque]),
        lambda: "Group" >> beam.GroupByKey(),
    )
    assert check_pipeline(p).problems == []


def test_a_main_class_that_never_reaches_a_grouping_is_a_warning():
    p = build(lambda: "Wrap" >> beam.Map(ScriptOrder).with_output_types(ScriptOrder))
    [problem] = check_pipeline(p).problems
    assert (problem.label, problem.kind, problem.severity) == ("Wrap", "fallback", "warning")
    assert "wherever the runner encodes them" in problem.error


def test_dill_with_save_main_session_gives_workers_the_main_class():
    options = PipelineOptions(["--pickle_library=dill_unsafe", "--save_main_session"])
    p = beam.Pipeline(options=options)
    with deferred_pickling_checks():
        (
            p
            | beam.Create([1])
            | "Pair" >> beam.Map(lambda x: (str(x), ScriptOrder(x))).with_output_types(tuple[str, ScriptOrder])
            | "Group" >> beam.GroupByKey()
        )
    assert [pr for pr in check_pipeline(p).problems if pr.kind == "fallback"] == []


def test_beams_view_and_coderkits_view_of_one_key_are_one_problem():
    p = build(
        lambda: "Pair" >> beam.Map(lambda x: (Opaque(x), x)).with_output_types(tuple[Opaque, int]),
        lambda: "Group" >> beam.GroupByKey(),
    )
    [problem] = [pr for pr in check_pipeline(p).problems if pr.kind == "key"]
    assert (problem.label, problem.severity, problem.error) == ("Group", "error", "2 reasons, each listed below")
    assert [leaf.path for leaf in problem.leaves] == [
        "GroupByKey key (Beam's view)",
        "GroupByKey key (coderkit's view)",
    ]
    assert problem.leaves[0].error.startswith("pickle fallback: Beam has no coder for `Opaque`")
    assert problem.leaves[1].error.startswith("pickle fallback: coderkit has no coder for `Opaque`")


def test_an_untyped_key_is_a_warning_and_an_error_with_strict():
    p = build(
        lambda: "Pair" >> beam.Map(lambda x: (x, 1)).with_output_types(tuple[typing.Any, int]),
        lambda: "Group" >> beam.GroupByKey(),
    )
    [problem] = check_pipeline(p).problems
    assert (problem.label, problem.type_name, problem.severity) == ("Group", "Any", "warning")
    assert problem.error.startswith("the key type is unknown (Any)")
    [problem] = check_pipeline(p, strict=True).problems
    assert problem.severity == "error"


def test_pickler_follows_the_pipeline_options():
    p = beam.Pipeline(options=PipelineOptions(["--pickle_library=dill_unsafe"]))
    with deferred_pickling_checks():
        p | beam.Create([1]) | "Sock" >> beam.ParDo(HoldsSocket())
    report = check_pipeline(p)
    assert report.backend == "beam:dill"
    assert ("Sock", "HoldsSocket.conn") in by_label(report)


def test_clean_pipeline_is_ok_and_counts_what_it_checked():
    p = build(
        lambda: "Fine" >> beam.ParDo(SetupRight("db:5432")),
        lambda: "Scale" >> beam.Map(functools.partial(scale, factor=2)),
    )
    report = check_pipeline(p, fresh_interpreter=True)
    assert report.ok, str(report)
    assert report.errors == []
    assert report.checked == 2


@pytest.mark.parametrize("option", ["check_keys", "check_fallbacks"])
def test_key_and_fallback_checks_can_be_turned_off(option):
    p = build(
        lambda: "Pair" >> beam.Map(lambda x: (float(x), Opaque(x))).with_output_types(tuple[float, Opaque]),
        lambda: "Group" >> beam.GroupByKey(),
    )
    kind = {"check_keys": "key", "check_fallbacks": "fallback"}[option]
    report = check_pipeline(p, **{option: False})
    assert not any(pr.kind == kind for pr in report.problems)


def test_a_pipeline_whose_only_errors_are_keys_is_not_called_unpicklable():
    import typing

    p = beam.Pipeline()
    (p | beam.Create([(0.0, 1)]).with_output_types(typing.Tuple[float, int]) | "Group" >> beam.GroupByKey())
    report = check_pipeline(p)
    assert not report.ok
    assert "NOT picklable" not in report.summary()
    assert report.summary().startswith(
        "pipeline: picklable with backend 'beam', but grouping keys are not deterministic (1 error(s)"
    )
    bad = build(lambda: "Sock" >> beam.ParDo(HoldsSocket()))
    assert check_pipeline(bad).summary().startswith("pipeline: NOT picklable")
