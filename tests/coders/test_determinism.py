"""coders.determinism: the key checks behind DeterministicGroupByKey(check_keys=True) and validate_pipeline."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any, FrozenSet, List, NamedTuple, Set

import numpy as np
import pytest

from coders.collections import SetCoder, TupleCoder
from coders.determinism import KeyConsistencyChecker, check_keys, coder_key_hazards, key_problems
from coders.dynamic import AnyCoder
from coders.pickle import PickleCoder
from coders.primitives import CanonicalFloatCoder, FloatCoder, StrUtf8Coder, VarIntCoder
from coders.records import RecordCoder
from coders.typecoders import CoderRegistry


class Point(NamedTuple):
    x: int
    y: int


@dataclasses.dataclass(frozen=True)
class FrozenKey:
    region: str
    shard: int


@dataclasses.dataclass
class MutableKey:
    region: str


@dataclasses.dataclass(eq=False, frozen=True)
class IdentityKey:
    region: str


@dataclasses.dataclass(frozen=True)
class Tagged:
    id: int
    tags: Set[str]


class Color(enum.Enum):
    RED = 1


@dataclasses.dataclass(frozen=True)
class Basket:
    owner: str
    items: List[str]
    counts: FrozenSet[int]


class HashById:
    """Equal by value, but hashed by identity: a decoded copy lands in another hash bucket."""

    def __init__(self, v):
        self.v = v

    def __eq__(self, other):
        return isinstance(other, HashById) and other.v == self.v

    def __hash__(self):
        return id(self)


def _main_class():
    """A class that claims to live in __main__, so dill pickles it by value (as for a script's classes)."""
    return type(
        "Ghost", (), {"__module__": "__main__", "__eq__": lambda s, o: type(o) is type(s), "__hash__": lambda s: 1}
    )


def registry():
    return CoderRegistry(strict=True)


# ---- key_problems: one key ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "coder, key",
    [
        (VarIntCoder(), 5),
        (StrUtf8Coder(), "k"),
        (AnyCoder(deterministic=True), (1, "a", 2.5, None)),
        (CanonicalFloatCoder(), 1.5),
    ],
    ids=["int", "str", "any-tuple", "float"],
)
def test_safe_keys_have_no_problems(coder, key):
    assert key_problems(coder, key) == []


def test_frozen_dataclass_key_has_no_problems():
    assert key_problems(registry().get_coder(FrozenKey), FrozenKey("eu", 3)) == []


def test_unhashable_key_is_named_with_the_fix():
    problems = key_problems(registry().get_coder(MutableKey), MutableKey("eu"))
    assert len(problems) == 1
    assert problems[0].startswith("key MutableKey(region='eu') of type `")
    assert "is unhashable (unhashable type: 'MutableKey')" in problems[0]
    assert "Fix: use an immutable key" in problems[0] and "frozen dataclass" in problems[0]


def test_bytes_that_change_on_re_encoding_are_reported():
    key = set(range(100))
    for i in range(100):
        if i not in (5, 99):
            key.discard(i)  # iteration order 5, 99; a freshly built {5, 99} iterates 99, 5
    problems = key_problems(SetCoder(VarIntCoder()), key)
    assert any("is unhashable" in p for p in problems)
    changed = [p for p in problems if "bytes change on re-encoding" in p]
    assert len(changed) == 1
    assert "(00 00 00 02 05 63 then 00 00 00 02 63 05)" in changed[0]
    assert "Fix: use a deterministic key coder" in changed[0]


def test_a_type_that_changes_on_decoding_is_reported_with_its_path():
    top = key_problems(TupleCoder(VarIntCoder(), VarIntCoder()), Point(1, 2))
    assert len(top) == 1 and "decoding changes a type (the key: Point became tuple)" in top[0]
    nested = key_problems(TupleCoder(TupleCoder(VarIntCoder(), VarIntCoder()), VarIntCoder()), (Point(1, 2), 3))
    assert len(nested) == 1 and "([0]: Point became tuple)" in nested[0]
    assert "Fix: use a coder for the exact key type" in nested[0]


def test_a_class_pickled_by_value_from_main_no_longer_equals_itself():
    ghost = _main_class()()
    problems = key_problems(PickleCoder(), ghost)
    assert len(problems) == 1
    text = problems[0]
    assert "of type `Ghost`" in text and "is not equal to the original" in text
    assert "came back as a different class object of the same name: it is defined in __main__" in text
    assert "define it in an importable module" in text


def test_a_class_without_eq_never_equals_its_decoded_copy():
    problems = key_problems(registry().get_coder(IdentityKey), IdentityKey("eu"))
    assert len(problems) == 1
    assert "`" in problems[0] and "IdentityKey` has no __eq__" in problems[0]


def test_nan_never_equals_itself():
    (problem,) = key_problems(FloatCoder(), float("nan"))
    assert "NaN never equals itself" in problem


def test_equal_but_differently_hashed_decoded_key_is_reported():
    (problem,) = key_problems(PickleCoder(), HashById(3))
    assert "the decoded key is equal but hashes differently" in problem
    assert "Fix: make __hash__ consistent with __eq__" in problem


def test_a_key_the_coder_cannot_encode_is_reported_not_raised():
    (problem,) = key_problems(AnyCoder(deterministic=True), ("a", Color.RED))
    assert "cannot be encoded by AnyCoder[deterministic]" in problem
    assert "at value[1]" in problem and "Color" in problem


# ---- equal keys, different bytes ---------------------------------------------------------------------


def test_one_one_point_oh_and_true_conflict_under_any_coder():
    checker = KeyConsistencyChecker(AnyCoder())
    assert checker.check(1) is None
    first = checker.check(1.0)
    second = checker.check(True)
    assert first == (
        "keys 1 (`int`) and 1.0 (`float`) are equal but encode to different bytes under AnyCoder "
        "(01 01 vs 02 3f f0 00 00 00 00 00 00), so a GroupByKey puts them in different groups. "
        "Fix: convert keys to one type before grouping (for example int(key) or str(key)), and type "
        "the key concretely instead of Any so one coder is used"
    )
    assert "keys 1 (`int`) and True (`bool`)" in second and "(01 01 vs 09 01)" in second
    assert checker.check(1) is None


def test_negative_zero_conflicts_under_float_coder_but_not_canonical():
    checker = KeyConsistencyChecker(FloatCoder())
    assert checker.check(0.0) is None
    message = checker.check(-0.0)
    assert "keys 0.0 (`float`) and -0.0 (`float`) are equal but encode to different bytes" in message
    assert "Fix: normalise the sign of zero before grouping" in message
    canonical = KeyConsistencyChecker(CanonicalFloatCoder())
    assert canonical.check(0.0) is None and canonical.check(-0.0) is None
    det_any = KeyConsistencyChecker(AnyCoder(deterministic=True))
    assert det_any.check(0.0) is None and det_any.check(-0.0) is None


def test_numpy_scalar_keys_conflict_with_python_numbers_under_any_coder():
    checker = KeyConsistencyChecker(AnyCoder())
    assert checker.check(np.float64(2.0)) is None
    message = checker.check(2)
    assert "(`float64`) and 2 (`int`) are equal but encode to different bytes" in message


def test_checker_memory_is_bounded_but_known_keys_are_still_checked():
    checker = KeyConsistencyChecker(AnyCoder(), max_keys=2)
    for k in (1, 2, 3):
        assert checker.check(k) is None
    assert checker.check(2.0) is not None
    assert checker.check(3.0) is None  # 3 was never remembered
    assert checker.check([1]) is None  # unhashable: key_problems reports it


def test_check_keys_lists_every_problem_once():
    problems = check_keys(AnyCoder(), [1, 1.0, 1, [2], [2], -0.0, 0.0])
    assert len(problems) == 3
    assert "keys 1 (`int`) and 1.0 (`float`)" in problems[0]
    assert "key [2] of type `list` is unhashable" in problems[1]
    assert "keys -0.0 (`float`) and 0.0 (`float`)" in problems[2]


# ---- static hazards -------------------------------------------------------------------------------------


def test_deterministic_frozen_record_has_no_hazards():
    assert coder_key_hazards(registry().get_coder(FrozenKey)) == []
    assert coder_key_hazards(VarIntCoder()) == []


def test_float_anywhere_is_a_hazard_with_its_path():
    hazards = coder_key_hazards(registry().get_coder(tuple[str, float]))
    assert len(hazards) == 1
    assert hazards[0].startswith("TupleCoder[1] -> FloatCoder: -0.0 == 0.0 but their bytes differ")
    assert "Fix: use CanonicalFloatCoder" in hazards[0]


def test_set_field_hazard_names_the_record_path():
    hazards = coder_key_hazards(registry().get_coder(Tagged))
    assert len(hazards) == 2
    assert hazards[0].startswith("Tagged.tags -> SetCoder: a set is written in iteration order")
    assert hazards[1].startswith("Tagged.tags: a set inside a key decodes as a mutable, unhashable value")


def test_any_key_hazards_even_when_deterministic():
    (hazard,) = coder_key_hazards(AnyCoder(deterministic=True))
    assert hazard.startswith("AnyCoder: keys typed Any are coded by their runtime type")
    assert "(1, 1.0 and True; -0.0 and 0.0)" in hazard and "Fix: give the key a concrete type" in hazard
    loose = coder_key_hazards(AnyCoder())
    assert len(loose) == 2 and "iteration order" in loose[0]


def test_mutable_and_identity_dataclass_keys_are_hazards():
    (mutable,) = coder_key_hazards(registry().get_coder(MutableKey))
    assert mutable == (
        "MutableKey: `MutableKey` is a mutable dataclass (frozen=False), so its instances are "
        "unhashable (eq=True sets __hash__ to None) and a key can change after it was grouped. "
        "Fix: @dataclass(frozen=True)"
    )
    (identity,) = coder_key_hazards(registry().get_coder(IdentityKey))
    assert "IdentityKey: `" in identity and "has no __eq__, so a decoded key" in identity


def test_pickled_main_class_is_a_hazard_when_the_hint_is_known():
    ghost_cls = _main_class()
    hazards = coder_key_hazards(PickleCoder(), hint=ghost_cls)
    assert any("pickle bytes are not a function of the value" in h for h in hazards)
    (main,) = [h for h in hazards if "__main__" in h]
    assert "`Ghost` is defined in __main__ and pickled" in main and "Fix: define it in an importable module" in main


def test_hazards_walk_recursive_coders_once():
    @dataclasses.dataclass(frozen=True)
    class Leaf:
        weight: float

    coder = RecordCoder.deferred(Leaf)
    coder.set_fields([("weight", FloatCoder())])
    assert len(coder_key_hazards(coder)) == 1


def test_any_typed_hint_resolves_to_a_hazardous_coder():
    assert coder_key_hazards(registry().get_coder(Any))


def test_a_list_inside_a_key_is_a_hazard_but_a_frozenset_is_not():
    coder = registry().get_coder(Basket)
    hazards = coder_key_hazards(coder)
    assert len(hazards) == 2
    assert hazards[0].startswith("Basket.counts -> SetCoder: a set is written in iteration order")
    hazard = hazards[1]
    assert hazard.startswith("Basket.items: a list inside a key decodes as a mutable, unhashable value")
    assert "Fix: use Tuple[T, ...] or FrozenSet[T] for the field" in hazard
    (problem,) = key_problems(coder, Basket("ann", ["x"], frozenset({1})))
    assert "is unhashable (unhashable type: 'list')" in problem
    assert coder_key_hazards(registry().get_coder(list[int])) == []  # the key itself: the caller's rule
