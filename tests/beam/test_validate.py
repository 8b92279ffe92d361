"""validate_pipeline: every grouping whose keys Beam accepts today and then groups wrongly, found before running."""

from __future__ import annotations

import dataclasses
import re
import sys
import typing
from pathlib import Path

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.util import assert_that, equal_to

from coders.beam import DeterministicGroupByKey, KeyFinding, install, uninstall, validate_pipeline

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pipeline_types as pt


def keyed(p, key_type, data=(), label="Source"):
    return p | label >> beam.Create(list(data)).with_output_types(typing.Tuple[key_type, str])


def findings_for(key_type, data=()):
    p = beam.Pipeline(runner="DirectRunner")
    keyed(p, key_type, data) | "Group" >> beam.GroupByKey()
    found = validate_pipeline(p)
    assert found and all(
        isinstance(f, KeyFinding) and f.label == "Group" and f.transform == "GroupByKey" for f in found
    )
    return found


def reasons(found) -> str:
    return "\n".join(f.reason for f in found)


# ----------------------------------------------------------------------------- the cases Beam gets wrong


@pytest.mark.pipeline
def test_float_keys_minus_zero_and_zero_really_group_apart_and_are_found():
    p = beam.Pipeline(runner="DirectRunner")
    grouped = p | beam.Create([(-0.0, "a"), (0.0, "b")]) | "Group" >> beam.GroupByKey()
    assert_that(grouped | beam.Map(lambda kv: len(list(kv[1]))), equal_to([1, 1]))  # two groups for equal keys
    found = validate_pipeline(p)
    assert [f.label for f in found] == ["Group"]
    assert found[0].key_type is float and "-0.0 == 0.0 but their bytes differ" in found[0].reason
    assert "CanonicalFloatCoder" in str(found[0])
    p.run().wait_until_finish()


@pytest.mark.pipeline
def test_keys_typed_any_mixing_1_1_0_and_true_really_form_three_groups_and_are_found():
    p = beam.Pipeline(runner="DirectRunner")
    grouped = keyed(p, typing.Any, [(1, "a"), (1.0, "b"), (True, "c")]) | "Group" >> beam.GroupByKey()
    assert_that(grouped | beam.Map(lambda kv: sorted(kv[1])), equal_to([["a"], ["b"], ["c"]]))
    found = validate_pipeline(p)
    # most pipelines never declare key types: unknown is a warning, an error only when asked to be strict
    assert [(f.rule, f.severity) for f in found] == [("unknown_key_rule", "warning")]
    assert "1, 1.0 and True" in found[0].reason and "with_output_types" in found[0].fix
    assert [(f.rule, f.severity) for f in validate_pipeline(p, strict=True)] == [("unknown_key_rule", "error")]
    p.run().wait_until_finish()


def test_a_union_of_numeric_types_is_found():
    found = findings_for(typing.Union[int, float, bool])
    assert "union of" in reasons(found) and "compare equal across types" in reasons(found)


def test_the_union_create_infers_for_mixed_numeric_keys_is_found():
    p = beam.Pipeline(runner="DirectRunner")
    p | beam.Create([(1, "a"), (1.0, "b"), (True, "c")]) | "Group" >> beam.GroupByKey()
    found = validate_pipeline(p)
    assert found[0].rule == "equal_across_types_rule" and "bool, float, int" in found[0].reason


def test_a_numeric_union_inside_a_record_key_is_found_with_its_path():
    found = findings_for(pt.Measure)
    assert any(
        re.match(r"Measure\.value -> UnionCoder: the union of (int, float|float, int) holds", f.reason) for f in found
    )


def test_decimal_keys_are_found():
    import decimal

    found = findings_for(decimal.Decimal)
    assert any("DecimalCoder: Decimal('1.0') == Decimal('1.00')" in f.reason for f in found)


@pytest.mark.parametrize(
    "key_type, expected",
    [
        (typing.Dict[str, int], "a dict is written in its iteration (insertion) order"),
        (typing.Set[int], "a set is written in iteration order"),
        (typing.FrozenSet[str], "a set is written in iteration order"),
    ],
    ids=["dict", "set", "frozenset"],
)
def test_dict_set_and_frozenset_keys_are_found(key_type, expected):
    found = findings_for(key_type)
    assert expected in reasons(found)
    if key_type != typing.FrozenSet[str]:
        assert "mutable and unhashable" in reasons(found)


@dataclasses.dataclass
class MutableKey:
    name: str


def test_mutable_dataclass_keys_are_found():
    found = findings_for(MutableKey)
    assert "is a mutable dataclass (frozen=False)" in reasons(found)
    assert any("@dataclass(frozen=True)" in str(f) for f in found)


def test_classes_defined_in_main_that_beam_pickles_by_value_are_found(monkeypatch):
    @dataclasses.dataclass(frozen=True)
    class Script:
        name: str

    Script.__module__ = "__main__"
    found = findings_for(Script)
    main = [f for f in found if f.rule == "main_class_rule"]
    # Beam's default pickler (cloudpickle) does not restore __main__ on workers: encoding the keys fails there
    assert main and "defined in __main__" in main[0].reason
    assert "PicklingError: Can't pickle <class '__main__." in main[0].reason
    assert "importable module" in main[0].fix
    # dill with save_main_session restores it: the keys decode into a re-created class
    p = beam.Pipeline(argv=["--pickle_library=dill_unsafe", "--save_main_session"])
    keyed(p, Script) | "Group" >> beam.GroupByKey()
    main = [f for f in validate_pipeline(p) if f.rule == "main_class_rule"]
    assert main and "no longer equal the originals" in main[0].reason


@pytest.mark.parametrize("scalar", [np.float64, np.int64])
def test_numpy_scalar_keys_are_found(scalar):
    found = findings_for(scalar)
    rule = [f for f in found if f.rule == "numpy_scalar_rule"]
    assert rule and f"numpy.{scalar.__name__}" in rule[0].reason and ".item()" in rule[0].fix


def test_numpy_keys_inferred_by_create_are_found():
    p = beam.Pipeline(runner="DirectRunner")
    p | beam.Create([(np.float64(1.0), "a")]) | "Group" >> beam.GroupByKey()
    assert "numpy_scalar_rule" in [f.rule for f in validate_pipeline(p)]


def test_record_keys_beam_would_pickle_are_a_pickle_fallback():
    found = findings_for(pt.CustomerKey)
    assert [f.rule for f in found] == ["beam_coder_rule"]
    assert "pickle fallback" in found[0].reason and "install()" in found[0].fix


def test_a_key_type_coderkit_can_only_pickle_is_a_fallback():
    found = findings_for(pt.Opaque)
    fallback = [f for f in found if f.reason.startswith("pickle fallback: coderkit has no coder for `Opaque`")]
    assert fallback and "coders.register_coder(Opaque, coder)" in fallback[0].fix


# ----------------------------------------------------------------------------- labels, composites, clean pipelines


def test_combine_per_key_and_cogroupbykey_are_reported_once_under_their_own_label():
    p = beam.Pipeline(runner="DirectRunner")
    floats = keyed(p, float, label="Floats")
    floats | "Outer/Sum" >> beam.CombinePerKey(lambda vs: "".join(vs))
    other = keyed(p, float, label="Other")
    {"a": floats, "b": other} | "Join" >> beam.CoGroupByKey()
    found = validate_pipeline(p)
    assert [(f.label, f.transform) for f in found] == [("Outer/Sum", "CombinePerKey"), ("Join", "CoGroupByKey")]


def test_untyped_elements_reaching_a_library_grouping_are_found():
    p = beam.Pipeline(runner="DirectRunner")
    p | beam.Create([1, 1.0, True]).with_output_types(typing.Any) | "Count" >> beam.combiners.Count.PerElement()
    found = validate_pipeline(p)
    assert found and found[0].rule == "unknown_key_rule" and found[0].label.startswith("Count/")


def test_groupings_inside_library_composites_are_found():
    p = beam.Pipeline(runner="DirectRunner")
    p | beam.Create([1.5, -0.0]) | "Count" >> beam.combiners.Count.PerElement()
    found = validate_pipeline(p)
    assert found and all(f.label.startswith("Count/") for f in found)
    assert "-0.0 == 0.0" in reasons(found)


def test_clean_pipelines_have_no_findings():
    p = beam.Pipeline(runner="DirectRunner")
    words = p | beam.Create(["a", "b"]) | beam.Map(lambda w: (w, 1))
    words | beam.CombinePerKey(sum)
    {"x": words, "y": keyed(p, str)} | beam.CoGroupByKey()
    keyed(p, float, label="Floats") | DeterministicGroupByKey()  # verified at construction: skipped
    numbers = p | "Numbers" >> beam.Create([1.5, -0.0])
    numbers | beam.combiners.ToList()  # CombineGlobally keys everything by None
    numbers | beam.CombineGlobally(sum)
    numbers | beam.combiners.Count.Globally()
    numbers | "Top" >> beam.combiners.Top.Of(1)  # an untyped None key inside Beam's composite: Beam's own
    words | "Distinct" >> beam.Distinct()
    words | "TopPerKey" >> beam.combiners.Top.PerKey(1)
    assert validate_pipeline(p) == []


def test_record_keys_are_clean_once_coderkit_is_installed():
    install()
    try:
        p = beam.Pipeline(runner="DirectRunner")
        keyed(p, pt.CustomerKey) | "Group" >> beam.GroupByKey()
        keyed(p, pt.Sku, label="Skus") | "GroupSkus" >> beam.GroupByKey()
        assert validate_pipeline(p) == []
    finally:
        uninstall()


@pytest.mark.pipeline
def test_after_install_beam_asks_coderkit_for_the_deterministic_key_coder_so_float_fields_group_right():
    install()
    try:
        p = beam.Pipeline(runner="DirectRunner")
        grouped = (
            keyed(p, pt.Price, [(pt.Price(-0.0), "a"), (pt.Price(0.0), "b")])
            | "Group" >> beam.GroupByKey()
            | beam.MapTuple(lambda k, vs: (k, sorted(vs)))
        )
        assert_that(grouped, equal_to([(pt.Price(0.0), ["a", "b"])]))  # one group: canonical float key bytes
        assert validate_pipeline(p) == []
        p.run().wait_until_finish()
    finally:
        uninstall()


def test_without_install_the_same_record_key_is_reported():
    found = findings_for(pt.Price)
    assert any("Price.amount -> FloatCoder: -0.0 == 0.0" in f.reason for f in found)


class Player:
    """group_with_coder's key class: a plain class Beam would pickle, with the user's own deterministic coder."""

    def __init__(self, name):
        self.name = name

    def __eq__(self, other):
        return isinstance(other, Player) and other.name == self.name

    def __hash__(self):
        return hash(self.name)


class PlayerCoder(beam.coders.Coder):
    def encode(self, player):
        return player.name.encode("utf-8")

    def decode(self, data):
        return Player(data.decode("utf-8"))

    def is_deterministic(self):
        return True


@pytest.mark.pipeline
def test_a_key_coder_the_user_registered_with_beam_is_the_one_judged():
    beam.coders.registry.register_coder(Player, PlayerCoder)
    try:
        p = beam.Pipeline(runner="DirectRunner")
        totals = (
            p
            | beam.Create([(Player("alice"), 5), (Player("bob"), 5), (Player("alice"), 8)]).with_output_types(
                typing.Tuple[Player, int]
            )
            | "Sum" >> beam.CombinePerKey(sum)
            | beam.Map(lambda kv: (kv[0].name, kv[1]))
        )
        assert_that(totals, equal_to([("alice", 13), ("bob", 5)]))  # Beam groups with PlayerCoder, rightly
        assert validate_pipeline(p) == []
        p.run().wait_until_finish()

        class Loose(PlayerCoder):
            def is_deterministic(self):
                return False

        beam.coders.registry.register_coder(Player, Loose)
        p = beam.Pipeline(runner="DirectRunner")
        keyed(p, Player) | "Group" >> beam.GroupByKey()
        [finding] = validate_pipeline(p)
        assert (finding.rule, finding.severity) == ("beam_coder_rule", "error")
        assert finding.reason.startswith("Beam refuses its key coder")
    finally:
        beam.coders.registry._coders.pop(Player, None)


def test_timestamped_values_are_unwrapped_so_their_type_says_nothing_about_the_key():
    def stamp(word):
        yield beam.window.TimestampedValue(word, 1)

    p = beam.Pipeline(runner="DirectRunner")
    p | beam.Create(["a"]) | beam.FlatMap(stamp) | beam.Map(lambda w: (w, 1)) | "Group" >> beam.GroupByKey()
    found = validate_pipeline(p)
    assert [(f.rule, f.severity, f.key_type) for f in found] == [("unknown_key_rule", "warning", typing.Any)]


# ----------------------------------------------------------------------------- Create values vs declared types


def test_a_create_whose_declared_type_is_too_narrow_for_its_values_is_a_warning():
    p = beam.Pipeline(runner="DirectRunner")
    p | "TooNarrow" >> beam.Create([1.5]).with_output_types(int)
    p | "Fits" >> beam.Create([5, True, np.int64(3)]).with_output_types(float)  # the numeric tower: it fits
    p | "Lists" >> beam.Create([("a",), ["b"]]).with_output_types(list[str])  # any sequence for a list
    p | "Undeclared" >> beam.Create([1, "a"])
    [finding] = validate_pipeline(p)
    assert (finding.label, finding.transform, finding.rule, finding.severity) == (
        "TooNarrow",
        "Create",
        "create_values_rule",
        "warning",
    )
    assert finding.key_type is int
    assert finding.reason.startswith(
        "1 of the 1 values of this Create do not fit its declared type `int`: value 0: VarIntCoder expected int, "
        "got float 1.5"
    )
    assert finding.fix == "declare the type the values have (with_output_types), or convert the values to it"
