"""``DeterministicGroupByKey``: a GroupByKey that proves its key coder groups equal keys together.

A GroupByKey groups by the *bytes* of the key, so equal keys must encode to equal
bytes. Beam checks this loosely: its FloatCoder says it is deterministic although
``-0.0 == 0.0`` encode apart, and keys typed ``Any`` mix 1, 1.0 and True (equal,
three different encodings, three groups).

At pipeline construction this transform reads the key type from the input's
element type (``KV[K, V]`` / ``Tuple[K, V]``), resolves ``K`` through coderkit's
registry and takes the coder's deterministic variant (a canonical float, a sorted
map ...). If there is none, it raises :class:`coders.NonDeterministicCoderError`
naming the transform, the key type, every reason with its path, and the fix,
before any data moves. Keys of unknown type (``Any``) are refused the same way,
with how to declare the type, unless ``check_keys=True``.

Then it groups by that coder's bytes: keys are encoded into ``bytes`` (Beam's
standard, deterministic BytesCoder carries them through the shuffle, on any
runner), grouped, and decoded again, so the output is what ``beam.GroupByKey()``
gives: ``(key, iterable of values)``, typed ``Tuple[K, Iterable[V]]``.

``check_keys=True`` also checks every key as it passes (coders.determinism): its
bytes must survive decode+encode, it must decode to an equal value of the same
type, and equal keys seen by the same worker must have equal bytes. A failing key
fails the pipeline with :class:`KeyCheckError` listing each problem and its fix.
"""

from __future__ import annotations

import enum
import numbers
import typing
from typing import Any

import apache_beam as beam
from apache_beam.typehints import native_type_compatibility, trivial_inference
from apache_beam.typehints import typehints as beam_typehints

from coders.base import Coder
from coders.determinism import walk_with_paths
from coders.errors import CoderError, DeterminismIssue, NonDeterministicCoderError
from coders.naming import type_name

__all__ = [
    "DeterministicGroupByKey",
    "KeyCheckError",
    "beam_key_value_types",
    "equal_values_apart_issues",
    "key_type_of",
    "resolve_key_coder",
]


class KeyCheckError(CoderError, ValueError):
    """A key failed the runtime check of ``DeterministicGroupByKey(check_keys=True)``."""

    def __init__(self, label: str, key: Any, problems: list[str]):
        self.label = label
        self.key = key
        self.problems = list(problems)
        shown = repr(key)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        lines = [f"{label}: key {shown} of type `{type(key).__qualname__}` would not group correctly:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))

    def __reduce__(self):
        return (KeyCheckError, (self.label, self.key, self.problems))


def beam_key_value_types(element_type, label: str = "GroupByKey") -> tuple[Any, Any]:
    """(key hint, value hint) of a PCollection's element type, as Beam hints (Any when unknown).

    Uses Beam's own ``coerce_to_kv_type``, so a Union of pairs (what ``beam.Create``
    infers for ``[(1, "a"), (1.5, "b")]``) gives the Union of the keys. An element type
    that is not a pair raises Beam's ValueError naming ``label``.
    """
    if element_type is None:
        return beam_typehints.Any, beam_typehints.Any
    kv = beam_typehints.coerce_to_kv_type(element_type, label)
    return tuple(kv.tuple_types)


def key_type_of(element_type) -> Any:
    """The key type of a PCollection's element type (``typing.Any`` when unknown or not a pair), as a typing hint."""
    try:
        return _to_typing(beam_key_value_types(element_type)[0])
    except ValueError:
        return typing.Any


def _to_typing(beam_hint) -> Any:
    if beam_hint is None or beam_hint is beam_typehints.Any or isinstance(beam_hint, beam_typehints.TypeVariable):
        return typing.Any
    try:
        return native_type_compatibility.convert_to_python_type(beam_hint)
    except Exception:  # a hint Beam cannot express in typing: treat as unknown
        return typing.Any


def _unknown_key_issue(coder: Coder, label: str, where: str) -> DeterminismIssue:
    return DeterminismIssue(
        where,
        coder,
        "the key type is unknown (Any), so each key is coded by its runtime type: equal keys of different types "
        "(1, 1.0 and True) get different bytes and land in different groups, and nothing checks the keys before "
        "data moves",
        f"declare the key type on the transform before '{label}', e.g. "
        "beam.Map(lambda r: (r.key, r)).with_output_types(typing.Tuple[KeyType, ValueType]); "
        "or pass check_keys=True to check every key at run time",
    )


def equal_values_apart_issues(coder: Coder) -> list[DeterminismIssue]:
    """Parts of ``coder`` that are deterministic per value yet give *equal* values different bytes.

    * a UnionCoder over numeric types: 1 == 1.0 == True == Decimal(1), but each value is
      tagged with its own member;
    * a DecimalCoder: Decimal("1.0") == Decimal("1.00"), but the scale is written.

    Such keys group apart although they compare equal.
    """
    from coders.primitives import DecimalCoder
    from coders.records import UnionCoder

    issues = []
    for path, c in walk_with_paths(coder):
        if isinstance(c, UnionCoder):
            numeric = [
                t
                for t in c.member_types
                if isinstance(t, type) and issubclass(t, numbers.Number) and not issubclass(t, enum.Enum)
            ]
            if len(numeric) >= 2:
                names = ", ".join(t.__name__ for t in numeric)
                issues.append(
                    DeterminismIssue(
                        path,
                        c,
                        f"the union of {names} holds values that compare equal across types (1 == 1.0 == True) but "
                        "are tagged by type, so equal keys get different bytes and land in different groups",
                        "convert keys to one type before grouping (int(k), float(k) or str(k)) and declare that type",
                    )
                )
        elif isinstance(c, DecimalCoder):
            issues.append(
                DeterminismIssue(
                    path,
                    c,
                    "Decimal('1.0') == Decimal('1.00') but the scale is part of the bytes, so equal decimal keys "
                    "with different exponents land in different groups",
                    "normalise keys before grouping (d.normalize(), or d.quantize(Decimal('0.01')) for a fixed scale)",
                )
            )
    return issues


def resolve_key_coder(key_hint, label: str, registry=None, allow_unknown: bool = False) -> Coder:
    """The deterministic coderkit coder for keys of type ``key_hint``, or raise NonDeterministicCoderError.

    Refused besides coders with no deterministic variant: ``Any`` (and keys with ``Any``
    parts), unions of numeric types and decimals, whose equal values encode apart.
    ``allow_unknown`` accepts both (the runtime key check, which must then be on,
    catches equal keys with different bytes).
    """
    from coders.dynamic import AnyCoder

    if registry is None:
        from coders.typecoders import registry
    context = f"DeterministicGroupByKey '{label}' (key type `{type_name(key_hint)}`)"
    coder = registry.get_coder(key_hint)
    if not allow_unknown:
        unknown = [(path, c) for path, c in walk_with_paths(coder) if isinstance(c, AnyCoder)]
        if unknown:
            raise NonDeterministicCoderError(
                coder, [_unknown_key_issue(c, label, path) for path, c in unknown], context=context
            )
        mixed = equal_values_apart_issues(coder)
        if mixed:
            raise NonDeterministicCoderError(coder, mixed, context=context)
    try:
        return coder.as_deterministic_coder(context=context)
    except NonDeterministicCoderError as err:
        if err.context != context:
            raise NonDeterministicCoderError(coder, err.issues or coder.determinism_issues(), context=context) from None
        raise


class _EncodeKeysFn(beam.DoFn):
    """(key, value) -> (key bytes, value); with ``check`` every key is checked first."""

    def __init__(self, coder: Coder, check: bool, label: str):
        self.coder = coder
        self.check = check
        self.label = label
        self._checker = None

    def setup(self):
        if self.check:
            from coders.determinism import KeyConsistencyChecker

            self._checker = KeyConsistencyChecker(self.coder)

    def process(self, element):
        key, value = element
        if self.check:
            self._check(key)
        yield self.coder.encode(key), value

    def _check(self, key):
        from coders.determinism import key_problems

        problems = key_problems(self.coder, key)
        if not problems:
            conflict = self._checker.check(key)
            if conflict:
                problems.append(conflict)
        if problems:
            raise KeyCheckError(self.label, key, problems)


class _DecodeKeysFn(beam.DoFn):
    def __init__(self, coder: Coder):
        self.coder = coder

    def process(self, element):
        key_bytes, values = element
        yield self.coder.decode(key_bytes), values


class DeterministicGroupByKey(beam.PTransform):
    """Drop-in for ``beam.GroupByKey()`` that refuses, at construction, keys that would group wrongly.

    ``registry`` (default ``coders.registry``) resolves the key coder;
    ``check_keys=True`` adds the per-key runtime check (see the module docstring).
    """

    def __init__(self, check_keys: bool = False, registry=None, label: str | None = None):
        super().__init__(label)
        self.check_keys = bool(check_keys)
        self.registry = registry
        self.key_coder: Coder | None = None

    def expand(self, pcoll):
        label = self._full_label(pcoll)
        beam_key, beam_value = beam_key_value_types(pcoll.element_type, label)  # not pairs: Beam's ValueError
        coder = resolve_key_coder(_to_typing(beam_key), label, self.registry, allow_unknown=self.check_keys)
        self.key_coder = coder
        encoded = pcoll | "EncodeKeys" >> beam.ParDo(_EncodeKeysFn(coder, self.check_keys, label)).with_output_types(
            beam_typehints.Tuple[bytes, beam_value]
        )
        grouped = encoded | "GroupByKey" >> beam.GroupByKey()
        return grouped | "DecodeKeys" >> beam.ParDo(_DecodeKeysFn(coder)).with_output_types(
            beam_typehints.Tuple[beam_key, beam_typehints.Iterable[beam_value]]
        )

    def _full_label(self, pcoll) -> str:
        try:
            return pcoll.pipeline._current_transform().full_label
        except Exception:
            return self.label

    def infer_output_type(self, input_type):
        key, value = trivial_inference.key_value_types(input_type)
        return beam_typehints.Tuple[key, beam_typehints.Iterable[value]]

    def default_label(self):
        return "DeterministicGroupByKey"
