"""pickling.dumps/loads by backend name: Beam's exact bytes, and the backends against each
other (where they disagree is what the checker's --backend comparison reports)."""

from __future__ import annotations

import base64
import bz2
import pickle
import threading

import pytest
from apache_beam.internal import cloudpickle_pickler, dill_pickler
from apache_beam.internal import pickler as beam_pickler
from hypothesis import given, settings
from hypothesis import strategies as st

import pickling
from pickling.backends import BACKENDS, get_backend, resolve_backend_name
from tests.pickling import cases

ALL = [b for b in BACKENDS if b != "beam"]

plain_data = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text() | st.binary(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4) | st.tuples(inner, inner)
    ),
    max_leaves=12,
)


def test_backends_listed():
    assert BACKENDS == ("beam", "beam:cloudpickle", "beam:dill", "cloudpickle", "dill", "pickle")


def test_unknown_backend_names_the_choices():
    with pytest.raises(ValueError) as info:
        pickling.dumps(1, backend="marshal")
    assert str(info.value) == (
        "unknown pickling backend 'marshal'; choose one of beam, beam:cloudpickle, beam:dill, cloudpickle, dill, pickle"
    )
    with pytest.raises(ValueError, match="unknown Beam pickle_library 'json'"):
        get_backend("beam", pickle_library="json")
    with pytest.raises(ValueError, match="contradicts pickle_library='dill'"):
        get_backend("cloudpickle", pickle_library="dill")


def test_default_is_beam_and_follows_beams_selected_library():
    assert resolve_backend_name() == "beam:cloudpickle"
    assert resolve_backend_name("beam", pickle_library="dill") == "beam:dill"
    assert resolve_backend_name("beam", pickle_library="default") == "beam:cloudpickle"
    beam_pickler.set_library("dill")
    try:
        assert resolve_backend_name("beam") == "beam:dill"
    finally:
        beam_pickler.set_library("cloudpickle")
    assert resolve_backend_name("beam") == "beam:cloudpickle"


def test_beam_bytes_are_beams_own():
    value = {"table": "events", "fields": [1, 2, 3], "ratio": 0.5}
    ours = pickling.dumps(value, backend="beam")
    assert ours == cloudpickle_pickler.dumps(value) == beam_pickler.dumps(value)
    assert pickle.loads(bz2.decompress(base64.b64decode(ours))) == value
    assert pickling.loads(beam_pickler.dumps(value), backend="beam") == value
    dill_bytes = pickling.dumps(value, backend="beam:dill")
    assert dill_pickler.loads(dill_bytes) == value
    assert pickling.loads(dill_pickler.dumps(value), backend="beam:dill") == value


@settings(max_examples=40, deadline=None)
@given(plain_data)
def test_every_backend_round_trips_plain_data(value):
    for name in ALL:
        assert pickling.loads(pickling.dumps(value, backend=name), backend=name) == value


def test_lock_beam_accepts_what_stock_cloudpickle_rejects():
    lock = threading.Lock()
    assert type(pickling.loads(pickling.dumps(lock, "beam"), "beam")) is type(lock)
    assert type(pickling.loads(pickling.dumps(lock, "dill"), "dill")) is type(lock)
    for name in ("cloudpickle", "pickle"):
        with pytest.raises(TypeError, match=r"cannot pickle '_thread.lock' object"):
            pickling.dumps(lock, backend=name)


def test_stdlib_pickle_rejects_lambdas_the_others_carry_them():
    add_one = lambda x: x + 1  # noqa: E731
    # a local lambda: AttributeError("Can't pickle local object ..."), stdlib pickles by name
    with pytest.raises(AttributeError, match="Can't pickle local object .*<lambda>"):
        pickling.dumps(add_one, backend="pickle")
    for name in ("beam", "beam:cloudpickle", "beam:dill", "cloudpickle", "dill"):
        assert pickling.loads(pickling.dumps(add_one, name), name)(41) == 42


def test_module_level_objects_travel_by_reference_everywhere():
    config = cases.Config("db", 5432)
    for name in ALL:
        assert pickling.loads(pickling.dumps(config, name), name) == config
        backend = get_backend(name)
        assert backend.pickles_by_reference(cases.Config)
        assert backend.pickles_by_reference(cases.scale)


def test_local_functions_travel_by_value_except_in_stdlib_pickle():
    parse = cases.make_parser()
    assert not get_backend("beam").pickles_by_reference(parse)
    assert not get_backend("dill").pickles_by_reference(parse)
    assert get_backend("pickle").pickles_by_reference(parse)  # by name, and so it fails


def test_raw_loads_reports_every_imported_module():
    backend = get_backend("beam")
    modules = []
    loaded = backend.raw_loads(backend.raw_dumps(cases.GoodDoFn()), on_import=modules.append)
    assert type(loaded) is cases.GoodDoFn
    assert "tests.pickling.cases" in modules
