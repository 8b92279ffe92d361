"""Every exported coder declares its facts: a docs row, test values, a Beam mapping, its determinism.

The rest of coderkit reads these declarations (coders.accel, coders.beam, coders.testing) instead
of keeping tables keyed on coder classes, so a coder that forgets one must fail here, not quietly
take a slow path or a wrong mapping. ``declaration_problems`` is the check; the last tests show
it failing on deliberately incomplete coders.
"""

from __future__ import annotations

import inspect

import apache_beam.coders
import apache_beam.coders.coders as beam_coder_classes
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import coders
from coders.base import WRAPPED, Coder
from coders.testing import assert_roundtrip, strategy_for

from .test_records import wire_doc_namespace, wire_doc_rows


def exported_coder_classes() -> list[type]:
    found = []
    for name in coders.__all__:
        value = getattr(coders, name)
        if isinstance(value, type) and issubclass(value, Coder) and value is not Coder:
            found.append(value)
    return found


def documented_examples() -> dict[type, list[Coder]]:
    """Coder class -> the coders of docs/wire-format.md's rows whose root is that class."""
    namespace = wire_doc_namespace()
    examples: dict[type, list[Coder]] = {}
    for row in wire_doc_rows():
        coder = eval(row["coder"], namespace)
        examples.setdefault(type(coder), []).append(coder)
    return examples


def declares(cls: type, attribute: str) -> bool:
    """True when a class below Coder (the class or a coderkit base of it) sets ``attribute``."""
    return any(attribute in vars(k) for k in cls.__mro__ if k is not Coder and issubclass(k, Coder))


def declaration_problems(cls: type, examples: dict[type, list[Coder]]) -> list[str]:
    """What ``cls`` fails to declare; empty when it is complete."""
    problems = []
    samples = examples.get(cls, [])
    if not samples:
        problems.append(f"{cls.__name__} has no row in docs/wire-format.md")
    if not declares(cls, "beam_coder"):
        problems.append(f"{cls.__name__} declares no beam_coder (Beam's byte-identical class, or WRAPPED)")
    elif cls.beam_coder != WRAPPED and not (
        hasattr(beam_coder_classes, cls.beam_coder) or hasattr(apache_beam.coders, cls.beam_coder)
    ):
        problems.append(f"{cls.__name__}.beam_coder names {cls.beam_coder!r}, which apache_beam.coders lacks")
    if not declares(cls, "value_strategy"):
        problems.append(f"{cls.__name__} declares no value_strategy (coders.testing cannot generate its values)")
    if "eterministic" not in (inspect.getdoc(cls) or ""):
        problems.append(f"{cls.__name__}'s docstring does not say when it is deterministic")
    return problems


EXAMPLES = documented_examples()
_STRATEGIES: dict[int, object] = {}


def strategy_of(coder: Coder):
    """strategy_for(coder), built once: hypothesis wants one strategy object across a test's runs
    (st.recursive keeps state, so a new one per example is flagged as flaky generation)."""
    if id(coder) not in _STRATEGIES:
        _STRATEGIES[id(coder)] = strategy_for(coder)
    return _STRATEGIES[id(coder)]


CLASSES = exported_coder_classes()


def test_every_exported_coder_class_is_listed():
    names = {cls.__name__ for cls in CLASSES}
    assert {"VarIntCoder", "RecordCoder", "AnyCoder", "UUIDCoder", "XmapCoder", "PickleCoder"} <= names
    assert len(CLASSES) >= 23


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_exported_coder_declares_its_facts(cls):
    assert declaration_problems(cls, EXAMPLES) == []


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_documented_coder_generates_values_that_round_trip(cls, data):
    for coder in EXAMPLES[cls]:
        value = data.draw(strategy_of(coder))
        assert_roundtrip(coder, value)


class Incomplete(Coder):
    """Writes nothing."""

    def encode_to(self, value, out, nested):
        pass

    def decode_from(self, data, pos, nested):
        return None, pos


class HalfDone(coders.VarIntCoder):
    """A varint by another name."""

    beam_coder = "NoSuchBeamCoder"


def test_the_check_fails_on_a_coder_that_declares_nothing():
    assert declaration_problems(Incomplete, EXAMPLES) == [
        "Incomplete has no row in docs/wire-format.md",
        "Incomplete declares no beam_coder (Beam's byte-identical class, or WRAPPED)",
        "Incomplete declares no value_strategy (coders.testing cannot generate its values)",
        "Incomplete's docstring does not say when it is deterministic",
    ]
    with pytest.raises(TypeError, match=r"Fix: define Incomplete.value_strategy\(self, child, st\)"):
        strategy_for(Incomplete())


def test_the_check_fails_on_a_wrong_beam_name_and_a_missing_row():
    assert declaration_problems(HalfDone, EXAMPLES) == [
        "HalfDone has no row in docs/wire-format.md",
        "HalfDone.beam_coder names 'NoSuchBeamCoder', which apache_beam.coders lacks",
        "HalfDone's docstring does not say when it is deterministic",
    ]
