"""``validate_pipeline``: find every grouping whose keys will group wrongly, in a built (not run) pipeline.

A GroupByKey (and everything built on one: CoGroupByKey, CombinePerKey, Count.PerKey,
Distinct ...) compares keys by their encoded bytes. The walk visits every grouping,
reads its key type from the input's element type, and asks small rules what can go
wrong, each rule one function ``(KeyContext) -> [(reason, fix)]``:

* ``unknown_key_rule``: the key type is ``Any``; Beam codes such keys by runtime
  type, so 1, 1.0 and True (equal) form three groups. Most pipelines never declare key
  types, so this one is a warning (an error with ``strict``); every other rule is an error;
* ``unhashable_key_rule``: dict, set and list keys (mutable, unhashable, order-dependent);
* ``equal_across_types_rule``: a Union of types whose values compare equal across
  types (bool, int, float, Decimal ...), which is what Beam infers for
  ``Create([(1, ..), (1.0, ..), (True, ..)])``;
* ``numpy_scalar_rule``: numpy scalars, which Beam cannot code deterministically and
  which equal Python numbers that encode differently;
* ``main_class_rule``: classes defined in ``__main__`` that Beam pickles by value, so
  workers decode instances of a re-created class that no longer compare equal;
* ``beam_coder_rule``: what Beam will do with the key coder it picked (refuse it, or
  fall back to FastPrimitivesCoder/pickle);
* ``coderkit_rule``: (skipped when the key coder is one the user registered with Beam) what
  coderkit knows about the key type: every determinism issue
  of its coder with the path (``-0.0`` vs ``0.0`` for floats, iteration order for
  dicts, sets and frozensets, pickle fallbacks) and key hazards from
  :mod:`coders.determinism` (mutable dataclasses, identity equality, Any parts), and
  parts that give equal values different bytes (numeric unions, decimals' scale).

One more check looks at values rather than keys (a warning, an error with ``strict``):

* ``create_values_rule``: a ``beam.Create`` whose declared output type
  (``.with_output_types(int)``) does not accept the values it holds
  (``Create([1.5]).with_output_types(int)``); the run would fail at the first
  element, or code it with a coder that changes it. Values a type checker accepts
  (``5`` for ``float``, a tuple for ``list[str]``) encode: see docs/registry.md's
  Narrowing. Its finding has ``transform="Create"`` and names the first value's path.

Groupings inside a grouping composite are reported once, under the composite's
full label; ``DeterministicGroupByKey`` verified its key at construction and
``CombineGlobally`` (and ToList, Count.Globally ... built on it) keys everything by
``None``, so both are skipped.
"""

from __future__ import annotations

import dataclasses
import enum
import numbers
import typing
from typing import Any, Callable

import apache_beam as beam
from apache_beam.coders import coders as beam_coders
from apache_beam.coders import typecoders
from apache_beam.pipeline import PipelineVisitor
from apache_beam.typehints import typehints as beam_typehints

from coders.naming import type_name

from .gbk import DeterministicGroupByKey, _to_typing, beam_key_value_types

__all__ = [
    "RULES",
    "KeyFinding",
    "create_values_rule",
    "runtime_type",
    "users_beam_coder",
    "validate_pipeline",
    "workers_rebuild_main",
]


@dataclasses.dataclass
class KeyFinding:
    """One reason the keys of one grouping can group wrongly."""

    label: str  # full label of the grouping transform
    reason: str
    key_type: Any  # the key type, as a typing hint
    coder: Any  # the key coder Beam will use for it
    transform: str = "GroupByKey"  # the kind of grouping: GroupByKey, CoGroupByKey, CombinePerKey ...
    fix: str | None = None
    rule: str = ""
    severity: str = "error"  # "warning" for what the pipeline does not tell (a key of unknown type)

    def __str__(self) -> str:
        key = type_name(self.key_type)
        what = "element type" if self.transform == "Create" else "key type"
        text = f"{self.label} ({self.transform}, {what} `{key}`, coder {self.coder!r}): {self.reason}"
        if self.fix and "Fix:" not in self.reason:
            text += f" Fix: {self.fix}"
        return text


@dataclasses.dataclass
class KeyContext:
    """What every rule sees about one grouping input."""

    label: str
    key_type: Any  # typing hint (typing.Any when unknown)
    beam_coder: Any
    registry: Any
    workers_rebuild_main: bool = False  # dill with save_main_session: workers get the driver's __main__


def users_beam_coder(coder) -> bool:
    """True when Beam's coder is one the user chose (``beam.coders.registry.register_coder(T, MyCoder)``):
    the job encodes with it, so it is what gets judged, not the fallback that would apply without it."""
    from .adapter import CoderkitBeamCoder

    if coder is None or isinstance(coder, CoderkitBeamCoder):
        return False
    module = type(coder).__module__
    return not (module == "apache_beam" or module.startswith(("apache_beam.", "coders.")))


_PICKLING_BEAM_CODERS = (
    beam_coders.FastPrimitivesCoder,
    beam_coders._PickleCoderBase,
    beam_coders.DeterministicFastPrimitivesCoder,
    beam_coders.DeterministicFastPrimitivesCoderV2,
)
_BEAM_PRIMITIVES = (int, float, str, bytes, bool, type(None))
_DECLARE = (
    "declare the key type on the transform that makes the pairs, e.g. "
    ".with_output_types(typing.Tuple[KeyType, ValueType]), and use coders.beam.DeterministicGroupByKey()"
)


def _is_unknown(ctx: KeyContext) -> bool:
    return ctx.key_type is typing.Any


def _classes_in(hint) -> list[type]:
    """Classes named by a key hint: the hint itself, or the members of a Union."""
    if isinstance(hint, type):
        return [hint]
    if typing.get_origin(hint) is typing.Union:
        return [a for a in typing.get_args(hint) if isinstance(a, type)]
    return []


def beam_coder_pickles(coder) -> bool:
    """True when a Beam coder (or one of its components) encodes values by pickling them."""
    stack = [coder]
    while stack:
        c = stack.pop()
        if isinstance(c, _PICKLING_BEAM_CODERS):
            return True
        stack.extend(c._get_component_coders())
    return False


# ------------------------------------------------------------------------------------ rules


def unknown_key_rule(ctx: KeyContext):
    if not _is_unknown(ctx):
        return []
    return [
        (
            "the key type is unknown (Any): Beam codes each key by its runtime type with FastPrimitivesCoder, so "
            "equal keys of different types (1, 1.0 and True) land in three groups, and keys it cannot code "
            "deterministically (custom classes, mutable dataclasses, numpy scalars) fail at run time",
            _DECLARE,
        )
    ]


_EQUAL_ACROSS_TYPES = (bool, int, float, complex, numbers.Number)


def equal_across_types_rule(ctx: KeyContext):
    members = _classes_in(ctx.key_type)
    numeric = [m for m in members if issubclass(m, _EQUAL_ACROSS_TYPES) and not issubclass(m, enum.Enum)]
    if typing.get_origin(ctx.key_type) is not typing.Union or len(numeric) < 2:
        return []
    names = ", ".join(m.__name__ for m in numeric)
    return [
        (
            f"the key type is a union of {names}, whose values compare equal across types (1 == 1.0 == True) but "
            "are coded by their runtime type, so equal keys land in different groups",
            "convert keys to one type before grouping (int(k), float(k) or str(k)) and declare that type",
        )
    ]


def _is_numpy(cls: type) -> bool:
    return cls.__module__.split(".")[0] == "numpy" and hasattr(cls, "item")


def numpy_scalar_rule(ctx: KeyContext):
    out = []
    for cls in _classes_in(ctx.key_type):
        if _is_numpy(cls):
            out.append(
                (
                    f"`numpy.{cls.__name__}` keys: Beam has no coder for numpy scalars (its deterministic fallback "
                    "refuses them at run time, its pickle fallback gives bytes that differ from the equal Python "
                    f"number's), and a numpy scalar equals the Python number it holds (numpy.{cls.__name__}(1) == 1) "
                    "while encoding differently",
                    "convert keys to Python numbers before grouping (key.item()), and declare int or float",
                )
            )
    return out


def main_class_rule(ctx: KeyContext):
    from .adapter import CoderkitBeamCoder

    out = []
    for cls in _classes_in(ctx.key_type):
        if (
            cls.__module__ == "__main__"
            and not isinstance(ctx.beam_coder, CoderkitBeamCoder)
            and beam_coder_pickles(ctx.beam_coder)
        ):
            if ctx.workers_rebuild_main:
                what = (
                    "each worker decodes keys into a re-created copy of the class, so decoded keys no longer "
                    "equal the originals (or keys pickled in different processes differ in bytes)"
                )
            else:
                what = (
                    f"a worker has no `__main__.{cls.__qualname__}` (Beam's cloudpickle pickler does not restore "
                    "the driver's __main__, even with save_main_session), so encoding the keys there fails with "
                    f"PicklingError: Can't pickle <class '__main__.{cls.__qualname__}'>"
                )
            out.append(
                (
                    f"`{cls.__qualname__}` is defined in __main__ and Beam's {ctx.beam_coder!r} pickles it: {what}",
                    f"move `{cls.__qualname__}` into an importable module, and call coders.beam.install() so Beam "
                    "uses coderkit's derived coder for it",
                )
            )
    return out


def beam_coder_rule(ctx: KeyContext):
    if _is_unknown(ctx) or ctx.beam_coder is None:
        return []
    coder = ctx.beam_coder
    if not coder.is_deterministic():
        try:
            coder = coder.as_deterministic_coder(ctx.label)
        except Exception as err:  # Beam will refuse the pipeline (or fail at run time) with this
            return [
                (
                    f"Beam refuses its key coder {ctx.beam_coder!r}: {err}",
                    "register a deterministic coder for the key type, or use coders.beam.DeterministicGroupByKey()",
                )
            ]
    classes = [
        c
        for c in _classes_in(ctx.key_type)
        if c not in _BEAM_PRIMITIVES and not _is_numpy(c) and c.__module__ != "__main__"
    ]
    if classes and beam_coder_pickles(coder):
        names = ", ".join(f"`{type_name(c)}`" for c in classes)
        return [
            (
                f"pickle fallback: Beam has no coder for {names} and codes the keys with {coder!r}, which pickles "
                "classes into the key bytes and fails at run time for values it cannot encode deterministically",
                "call coders.beam.install() (coderkit derives a deterministic coder for dataclasses, NamedTuples and "
                "Enums), or register a deterministic coder for the key type",
            )
        ]
    return []


def coderkit_rule(ctx: KeyContext):
    if _is_unknown(ctx) or users_beam_coder(ctx.beam_coder):
        return []
    from coders.determinism import coder_key_hazards
    from coders.typecoders import ResolutionContext

    context = ResolutionContext()
    try:
        coder = ctx.registry.resolve(ctx.key_type, context)
    except Exception as err:
        return [(f"coderkit cannot resolve a coder for the key type: {err}", None)]
    from coders.pickle import CloudpickleCoder, PickleCoder

    fallbacks = context.state.fallbacks
    all_issues = coder.determinism_issues()
    shown = {str(issue) for issue in all_issues}
    # When Beam codes the key with coderkit's coder, it asks it for its deterministic variant: those
    # issues never reach the shuffle.
    issues = [] if all_issues and _beam_uses_deterministic_variant_of(coder, ctx) else all_issues
    out = [
        (str(issue), None)
        for issue in issues
        if not (fallbacks and isinstance(issue.coder, (PickleCoder, CloudpickleCoder)))
    ]  # said below, once
    out += [(hazard, None) for hazard in coder_key_hazards(coder, ctx.key_type) if hazard not in shown]
    from coders.records import UnionCoder

    from .gbk import equal_values_apart_issues

    # (a top-level union is equal_across_types_rule's)
    top_union = typing.get_origin(ctx.key_type) is typing.Union
    out += [
        (str(issue), None)
        for issue in equal_values_apart_issues(coder)
        if not (top_union and issue.coder is coder and isinstance(coder, UnionCoder))
    ]
    for hint, where in fallbacks:
        out.append(
            (
                f"pickle fallback: coderkit has no coder for `{type_name(hint)}` ({where}) and would pickle it, which "
                "is not deterministic",
                f"register a coder with coders.register_coder({type_name(hint)}, coder), or make it a frozen "
                "dataclass or NamedTuple",
            )
        )
    return out


_MUTABLE_BUILTINS = (dict, set, list, bytearray)
_WARNING_RULES = {"unknown_key_rule"}  # the pipeline does not say what the keys are: a warning unless strict


def unhashable_key_rule(ctx: KeyContext):
    base = typing.get_origin(ctx.key_type) or ctx.key_type
    if not (isinstance(base, type) and issubclass(base, _MUTABLE_BUILTINS)):
        return []
    return [
        (
            f"`{type_name(ctx.key_type)}` keys are mutable and unhashable: equal {base.__name__}s can be built in "
            "different orders (different bytes unless the coder sorts them), and a key can change after it was "
            "grouped",
            "key by an immutable, canonical form: tuple(sorted(d.items())) for a dict, frozenset or "
            "tuple(sorted(s)) for a set, tuple(l) for a list",
        )
    ]


def _beam_uses_deterministic_variant_of(coder, ctx: KeyContext) -> bool:
    """True when Beam's key coder is exactly ``to_beam(coder)`` and its deterministic variant is deterministic.

    Beam asks a GroupByKey's key coder for ``as_deterministic_coder``; after ``install()``
    that is coderkit's (a record with a float field gets a canonical float), so the
    determinism issues of the plain coder never reach the shuffle.
    """
    from .adapter import to_beam

    if ctx.beam_coder is None or ctx.beam_coder != to_beam(coder):
        return False
    try:
        return ctx.beam_coder.as_deterministic_coder(ctx.label).is_deterministic()
    except Exception:
        return False


RULES: list[Callable[[KeyContext], list]] = [
    unknown_key_rule,
    equal_across_types_rule,
    unhashable_key_rule,
    numpy_scalar_rule,
    main_class_rule,
    beam_coder_rule,
    coderkit_rule,
]


# ------------------------------------------------------------------------------------ the walk


def _grouping_kind(transform) -> str | None:
    """The kind of grouping a transform is (checked as a whole), or None."""
    from apache_beam.transforms import core, util

    if isinstance(transform, DeterministicGroupByKey):
        return "DeterministicGroupByKey"
    if isinstance(transform, util.CoGroupByKey):
        return "CoGroupByKey"
    if isinstance(transform, core.CombinePerKey):
        return "CombinePerKey"
    if isinstance(transform, core.GroupByKey):
        return "GroupByKey"
    return None


def _inputs(applied) -> list:
    return [pc for pc in applied.main_inputs.values() if isinstance(pc, beam.pvalue.PCollection)] or [
        pc for pc in applied.inputs if isinstance(pc, beam.pvalue.PCollection)
    ]


def runtime_type(hint) -> Any:
    """What the elements of a hint are at run time: Beam unwraps a ``TimestampedValue`` or ``WindowedValue`` a
    fn yields, so its inferred type says nothing about the value (``Any``); a union with ``Any`` is ``Any``."""
    from apache_beam.transforms.window import TimestampedValue
    from apache_beam.utils.windowed_value import WindowedValue

    if hint in (TimestampedValue, WindowedValue):
        return typing.Any
    if typing.get_origin(hint) is typing.Union:
        members = [runtime_type(a) for a in typing.get_args(hint)]
        if typing.Any in members:
            return typing.Any
    return hint


def workers_rebuild_main(pipeline) -> bool:
    """True when workers get the driver's ``__main__`` back: dill with ``save_main_session``. Beam's default
    pickler (cloudpickle) saves only its registries, so ``__main__`` classes exist on workers only inside the
    fns that carry them by value."""
    from apache_beam.options.pipeline_options import SetupOptions

    options = getattr(pipeline, "_options", None)
    if options is None:
        return False
    setup = options.view_as(SetupOptions)
    return bool(setup.save_main_session) and setup.pickle_library in ("dill", "dill_unsafe")


class _GroupingVisitor(PipelineVisitor):
    def __init__(self, registry, strict: bool = False, rebuild_main: bool = False):
        self.registry = registry
        self.strict = strict
        self.rebuild_main = rebuild_main
        self.findings: list[KeyFinding] = []
        self._inside: list = []  # grouping composites being walked (inner groupings are theirs)
        self._composites: list = []  # every composite being walked, outermost first

    def enter_composite_transform(self, applied):
        from apache_beam.transforms import core

        self._composites.append(applied)
        if isinstance(applied.transform, core.Create):
            self._check_create(applied)
        if isinstance(applied.transform, core.CombineGlobally):
            # Beam keys every element by None to combine globally: one constant key, nothing to group wrongly.
            self._inside.append(applied)
            return
        kind = _grouping_kind(applied.transform)
        if kind is not None:
            if not self._inside:
                self._check(applied, kind)
            self._inside.append(applied)

    def leave_composite_transform(self, applied):
        if self._composites and self._composites[-1] is applied:
            self._composites.pop()
        if self._inside and self._inside[-1] is applied:
            self._inside.pop()

    def _beams_own_key(self) -> bool:
        """True inside a Beam library composite whose inputs are typed: an untyped key there is Beam's own
        (Top.Of keys by None), not one the user could declare."""
        for applied in self._composites:
            if type(applied.transform).__module__.split(".")[0] == "apache_beam":
                types = [pc.element_type for pc in _inputs(applied)]
                return bool(types) and all(_to_typing(t) is not typing.Any for t in types)
        return False

    def visit_transform(self, applied):
        kind = _grouping_kind(applied.transform)
        if kind is not None and not self._inside:
            self._check(applied, kind)

    def _check_create(self, applied) -> None:
        severity = "error" if self.strict else "warning"
        for reason, hint, coder in create_values_rule(applied, self.registry):
            self.findings.append(
                KeyFinding(
                    applied.full_label,
                    reason,
                    hint,
                    coder,
                    "Create",
                    "declare the type the values have (with_output_types), or convert the values to it",
                    "create_values_rule",
                    severity,
                )
            )

    def _check(self, applied, kind: str) -> None:
        if kind == "DeterministicGroupByKey":
            return
        label = applied.full_label
        seen: set[str] = set()
        for pcoll in _inputs(applied):
            element_type = pcoll.element_type
            try:
                beam_key = beam_key_value_types(element_type, label)[0]
            except ValueError:  # not pairs: Beam itself refuses this grouping at construction
                beam_key = beam_typehints.Any
            try:
                beam_coder = typecoders.registry.get_coder(beam_key)
            except Exception:
                beam_coder = None
            ctx = KeyContext(label, runtime_type(_to_typing(beam_key)), beam_coder, self.registry, self.rebuild_main)
            if ctx.key_type is typing.Any and self._beams_own_key():
                continue
            for rule in RULES:
                severity = "warning" if rule.__name__ in _WARNING_RULES and not self.strict else "error"
                for reason, fix in rule(ctx):
                    if reason in seen:
                        continue
                    seen.add(reason)
                    self.findings.append(
                        KeyFinding(label, reason, ctx.key_type, beam_coder, kind, fix, rule.__name__, severity)
                    )


#: Most values of one ``beam.Create`` the check encodes (a large Create is checked by its first values).
CREATE_VALUES_CHECKED = 10_000


def create_values_rule(applied, registry) -> list[tuple[str, Any, Any]]:
    """``(reason, hint, coder)`` when a ``beam.Create``'s declared output type does not accept its values.

    The values are encoded with coderkit's coder for the declared type (the registry's lenient coders
    take what a type checker accepts); a type coderkit would pickle is not checked (pickle takes anything).
    """
    from coders.errors import EncodeError

    outputs = list(applied.outputs.values())
    if not outputs:
        return []
    hint = runtime_type(_to_typing(outputs[0].element_type))
    if hint is typing.Any:
        return []
    try:
        if registry.fallbacks_in(hint):
            return []
        coder = registry.get_coder(hint)
    except Exception:  # a hint coderkit cannot read: Beam's own checks speak for it
        return []
    values = list(getattr(applied.transform, "values", ()) or ())[:CREATE_VALUES_CHECKED]
    bad: list[tuple[int, EncodeError]] = []
    for i, value in enumerate(values):
        try:
            coder.encode(value)
        except EncodeError as e:
            bad.append((i, e))
    if not bad:
        return []
    i, first = bad[0]
    reason = (
        f"{len(bad)} of the {len(values)} values of this Create do not fit its declared type `{type_name(hint)}`: "
        f"value {i}: {first}"
    )
    return [(reason, hint, coder)]


def validate_pipeline(pipeline, registry=None, *, strict: bool = False) -> list[KeyFinding]:
    """Every key problem of every grouping in ``pipeline`` (built, not run), each with its label and reason.

    ``registry`` (default ``coders.registry``) is coderkit's view of the key types. A key of
    unknown type (``Any``) is a ``"warning"`` finding, an ``"error"`` with ``strict``; every other
    key finding is an error. A ``beam.Create`` whose declared type does not accept its values is a
    ``"warning"`` (``"error"`` with ``strict``) with ``transform="Create"``. An empty list means no
    grouping or Create was found at fault.
    """
    if registry is None:
        from coders.typecoders import registry
    visitor = _GroupingVisitor(registry, strict, workers_rebuild_main(pipeline))
    pipeline.visit(visitor)
    return visitor.findings
