"""The type-to-coder registry (``coders.registry`` is its default instance; Beam names this module
``typecoders`` too): a list of small named rules, tried in order, then the pickle fallback.

``get_coder(hint)`` tries, in order:

1. ``registry.rules``: each a function ``rule(hint, registry, context) -> Coder | None``;
   the first that returns a coder wins. The first rule is the user's registrations
   (``registered_type_rule``), so a registration beats every built-in rule. Rules
   resolve component hints with ``registry.resolve(component, context.child(where))``,
   which is how "where it was met" reaches the fallback warning.
2. The fallback: a dill ``PickleCoder``, with a ``FallbackCoderWarning`` (once per type
   per registry) naming the type, where it was met and the fix; a strict registry
   collects every such type in the hint and raises one ``CoderNotFoundError``.

Results are cached per hint; ``register_coder`` and switching ``strict`` clear the
cache. docs/registry.md lists the rules in this order (a test keeps the two in step).
"""

from __future__ import annotations

import collections.abc as abc
import dataclasses
import decimal
import enum
import functools
import importlib.metadata
import sys
import threading
import types
import typing
import uuid
import warnings
from typing import Any, Callable

from .arrays import numpy_array_rule, numpy_scalar_rule
from .arrow import arrow_rule, pandas_dataframe_rule
from .base import Coder
from .errors import CoderNotFoundError, FallbackCoderWarning
from .naming import type_name
from .primitives import UUIDCoder
from .proto import protobuf_rule
from .records import (
    BeamRowCoder,
    TypedDictCoder,
    generic_record,
    is_attrs_class,
    is_beam_row_class,
    is_msgspec_struct_class,
    is_namedtuple_class,
    is_pydantic_model_class,
    is_typeddict_class,
    substitute_type_vars,
)
from .scalars import scalar_rule

__all__ = [
    "DEFAULT_RULES",
    "ENTRY_POINT_GROUP",
    "CoderRegistry",
    "ResolutionContext",
    "Rule",
    "get_coder",
    "register_coder",
    "registry",
]

Rule = Callable[[Any, "CoderRegistry", "ResolutionContext"], Coder | None]

_NONE_TYPE = type(None)


# ============================================================================ naming hints


# ============================================================================ context


class _Resolution:
    """State shared by one top-level ``get_coder`` call: fallbacks met and records being built."""

    __slots__ = ("fallbacks", "records", "done")

    def __init__(self):
        self.fallbacks: list[tuple[Any, str]] = []
        # record hint being resolved -> [its deferred RecordCoder, or None until a field refers back]
        self.records: dict[Any, list] = {}
        # hints resolved in this call without any fallback inside (shared, e.g. one Address coder
        # for two Address fields); committed to the registry when the call succeeds
        self.done: dict[Any, Coder] = {}


class ResolutionContext:
    """Where a hint is being resolved: the chain of places ("field `x` of `Order`") and the names in scope.

    Rules pass ``context.child(where)`` when they resolve a component, so a fallback deep
    inside a type can say where it was met.
    """

    __slots__ = ("places", "namespace", "state")

    def __init__(
        self, places: tuple[str, ...] = (), namespace: tuple[dict, dict] | None = None, state: _Resolution | None = None
    ):
        self.places = places
        self.namespace = namespace
        self.state = state if state is not None else _Resolution()

    def child(self, where: str, namespace: tuple[dict, dict] | None = None) -> ResolutionContext:
        """The context for a component met at ``where`` (e.g. "element of `List[Order]`")."""
        return ResolutionContext((where,) + self.places, namespace or self.namespace, self.state)

    def describe(self) -> str:
        """Where this hint was met, innermost first: "field `payload` of `Order`", or "the top-level type"."""
        if not self.places:
            return "the top-level type"
        return ", in ".join(self.places)


# ============================================================================ the rules


def _materialize(entry, hint, arg_coders, registered_for) -> Coder:
    if isinstance(entry, Coder):
        return entry
    coder = entry(*arg_coders)
    if not isinstance(coder, Coder):
        raise TypeError(
            f"the factory registered for `{type_name(registered_for)}` returned {type(coder).__name__} "
            f"{coder!r} for `{type_name(hint)}`, not a coders.Coder; a factory takes the component coders "
            f"of the generic (one per type argument) and returns a Coder"
        )
    return coder


def _any_coders_for(cls) -> list[Coder]:
    from .dynamic import AnyCoder

    return [AnyCoder() for _ in getattr(cls, "__parameters__", ())]


def registered_type_rule(hint, registry: CoderRegistry, context: ResolutionContext):
    """The user's registrations: the exact hint, then a generic's origin (factory gets the argument
    coders), then the nearest registered base class in MRO order (builtin bases excluded)."""
    regs = registry._registrations
    if not regs:
        return None
    try:
        entry = regs.get(hint)
    except TypeError:  # an unhashable hint (Annotated with unhashable metadata)
        entry = None
    if entry is not None:
        return _materialize(entry, hint, _any_coders_for(hint) if not isinstance(entry, Coder) else (), hint)
    origin = typing.get_origin(hint)
    if origin is not None and origin in regs:
        entry = regs[origin]
        if isinstance(entry, Coder):
            return entry
        name = type_name(hint)
        arg_coders = [
            registry.resolve(arg, context.child(f"type argument {i} of `{name}`"))
            for i, arg in enumerate(typing.get_args(hint))
        ]
        return _materialize(entry, hint, arg_coders, origin)
    if isinstance(hint, type):
        for base in hint.__mro__[1:]:
            if base.__module__ == "builtins":
                # A registration for int does not take over bool or an IntEnum (nor str a str
                # subclass): they would decode as the base type. Builtins match exactly only.
                continue
            entry = regs.get(base)
            if entry is not None:
                return _materialize(entry, hint, _any_coders_for(base) if not isinstance(entry, Coder) else (), base)
    return None


#: The entry-point group through which installed packages offer coders for their types.
ENTRY_POINT_GROUP = "coderkit.coders"


@functools.lru_cache(maxsize=1)
def _entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    """The group's entry points by name, read once per process (reading is cheap; loading is not)."""
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def entry_point_rule(hint, registry, context):
    """Coders installed packages declare in the entry-point group ``coderkit.coders``.

    An entry's name is the type's ``module.QualName``; its object is what ``register_coder`` takes
    (a Coder, or a factory of the type arguments' coders), or a Coder class built with no arguments.
    Nothing is imported until a hint of that type is met; your own registrations come first.
    """
    cls = hint if isinstance(hint, type) else typing.get_origin(hint)
    if not isinstance(cls, type):
        return None
    entry_point = _entry_points().get(f"{cls.__module__}.{cls.__qualname__}")
    if entry_point is None:
        return None
    where = f"entry point {entry_point.name!r} = {entry_point.value!r} in group {ENTRY_POINT_GROUP!r}"
    try:
        offered = entry_point.load()
    except Exception as e:
        raise CoderNotFoundError(
            f"the {where} could not be loaded ({type(e).__name__}: {e}). Fix: repair or uninstall the "
            f"package that declares it, or register a coder for `{type_name(cls)}` yourself (register_coder "
            "wins over entry points)",
            types=(cls,),
        ) from e
    if isinstance(offered, type) and issubclass(offered, Coder):
        offered = offered()
    if not (isinstance(offered, Coder) or callable(offered)):
        raise CoderNotFoundError(
            f"the {where} gave {type(offered).__name__} {offered!r}, not a Coder, a Coder class or a factory",
            types=(cls,),
        )
    if isinstance(offered, Coder) or hint is cls:
        return _materialize(offered, hint, _any_coders_for(hint) if not isinstance(offered, Coder) else (), cls)
    name = type_name(hint)
    arg_coders = [
        registry.resolve(arg, context.child(f"type argument {i} of `{name}`"))
        for i, arg in enumerate(typing.get_args(hint))
    ]
    return _materialize(offered, hint, arg_coders, cls)


def forward_ref_rule(hint, registry, context):
    """A string or ForwardRef (``list["Node"]``): evaluated in the module of the class that holds it."""
    if not isinstance(hint, (str, typing.ForwardRef)):
        return None
    text = hint if isinstance(hint, str) else hint.__forward_arg__
    if context.namespace is None:
        return None
    globalns, localns = context.namespace
    try:
        resolved = eval(text, globalns, localns)
    except Exception:
        return None  # left to the fallback, which names the unresolved reference
    return registry.resolve(resolved, context)


def annotated_rule(hint, registry, context):
    """``Annotated[T, ...]`` codes as ``T``."""
    if typing.get_origin(hint) is typing.Annotated:
        return registry.resolve(typing.get_args(hint)[0], context)
    return None


def literal_rule(hint, registry, context):
    """``Literal["a", "b"]`` codes as the type of its values (a Union when they differ, Optional with None)."""
    if typing.get_origin(hint) is not typing.Literal:
        return None
    kinds: list = []
    for value in typing.get_args(hint):
        kind = type(value)
        if kind not in kinds:
            kinds.append(kind)
    as_type = kinds[0] if len(kinds) == 1 else typing.Union[tuple(kinds)]
    return registry.resolve(as_type, context)


def newtype_rule(hint, registry, context):
    """``NewType("UserId", int)`` codes as its supertype; a TypeVar as its bound (or Any)."""
    if isinstance(hint, typing.NewType):
        return registry.resolve(hint.__supertype__, context)
    if isinstance(hint, typing.TypeVar):
        if hint.__bound__ is not None:
            return registry.resolve(hint.__bound__, context)
        from .dynamic import AnyCoder

        return AnyCoder()
    return None


def any_rule(hint, registry, context):
    """``Any`` and ``object``: the type-tagged ``AnyCoder``."""
    if hint is typing.Any or hint is object:
        from .dynamic import AnyCoder

        return AnyCoder()
    return None


def none_rule(hint, registry, context):
    """``None`` / ``NoneType``: ``NoneCoder`` (zero bytes)."""
    if hint is None or hint is _NONE_TYPE:
        from .primitives import NoneCoder

        return NoneCoder()
    return None


def primitive_rule(hint, registry, context):
    """Exactly ``bool``, ``int``, ``float``, ``str``, ``bytes``: Beam's standard coders (subclasses are not matched).

    ``int``, ``float`` and ``str`` get the lenient variants, which take every value a type checker
    accepts for the hint (``5`` or ``numpy.int64(5)`` for ``float``, ``True`` for ``int``, a ``str``
    subclass for ``str``) with Beam's bytes; docs/registry.md lists the narrowing."""
    if not isinstance(hint, type):
        return None
    global _PRIMITIVES
    if _PRIMITIVES is None:
        from . import primitives as p

        _PRIMITIVES = {
            bool: p.BooleanCoder,
            int: lambda: p.VarIntCoder(lenient=True),
            float: lambda: p.FloatCoder(lenient=True),
            str: lambda: p.StrUtf8Coder(lenient=True),
            bytes: p.BytesCoder,
        }
    factory = _PRIMITIVES.get(hint)
    return factory() if factory is not None else None


_PRIMITIVES: dict | None = None


def _union_args(hint):
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        return typing.get_args(hint)
    return None


def optional_rule(hint, registry, context):
    """``Optional[T]`` / ``T | None``: ``NullableCoder`` of T's coder (a Union of the rest when several)."""
    args = _union_args(hint)
    if args is None or _NONE_TYPE not in args:
        return None
    rest = tuple(a for a in args if a is not _NONE_TYPE)
    inner = rest[0] if len(rest) == 1 else typing.Union[rest]
    from .wrappers import NullableCoder

    # Same context: "field `x` of `Order`" says enough for an Optional field.
    return NullableCoder(registry.resolve(inner, context))


def union_rule(hint, registry, context):
    """``Union[A, B]`` / ``A | B``: ``UnionCoder`` with one member per type, in order."""
    args = _union_args(hint)
    if args is None:
        return None
    from .records import UnionCoder

    name = type_name(hint)
    return UnionCoder([(a, registry.resolve(a, context.child(f"member `{type_name(a)}` of `{name}`"))) for a in args])


def enum_rule(hint, registry, context):
    """An ``Enum`` / ``IntEnum`` subclass: ``EnumCoder``."""
    if isinstance(hint, type) and issubclass(hint, enum.Enum) and hint is not enum.Enum and list(hint):
        from .records import EnumCoder

        return EnumCoder(hint)
    return None


def _class_namespace(cls) -> tuple[dict, dict]:
    module = sys.modules.get(getattr(cls, "__module__", None) or "")
    globalns = vars(module) if module is not None else {}
    return globalns, {cls.__name__: cls}


def _field_hints(cls) -> dict[str, Any]:
    """The class's field annotations, string ones (``from __future__ import annotations``) evaluated
    in the class's module; a name that cannot be evaluated stays a string for the fallback to name."""
    _, localns = _class_namespace(cls)
    try:
        return typing.get_type_hints(cls, globalns=None, localns=localns, include_extras=True)
    except Exception:
        pass
    hints: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        kg, kl = _class_namespace(klass)
        kl = {**kl, **localns}
        for name, ann in vars(klass).get("__annotations__", {}).items():
            if isinstance(ann, str):
                try:
                    ann = eval(ann, kg, kl)
                except Exception:
                    pass
            hints[name] = ann
    return hints


def _record_coder(key, cls, field_hints: list[tuple[str, Any]], registry, context):
    """A RecordCoder for ``cls``; a recursive reference to ``key`` while its fields are being
    resolved gets a deferred coder (made on first need), which is then filled with the fields."""
    from .records import RecordCoder

    if getattr(registry, "record_format", "record") == "row":
        from .rows import row_coder_or_none

        row = row_coder_or_none(key)
        if row is not None:
            return row
    records = context.state.records
    name = type_name(key)
    key = _memo_key(key) or key
    if key in records:
        slot = records[key]
        if slot[0] is None:
            slot[0] = RecordCoder.deferred(cls)
        return slot[0]
    slot = [None]
    records[key] = slot
    namespace = _class_namespace(cls)
    try:
        fields = [
            (fname, registry.resolve(fhint, context.child(f"field `{fname}` of `{name}`", namespace)))
            for fname, fhint in field_hints
        ]
    finally:
        del records[key]
    if slot[0] is not None:
        return slot[0].set_fields(fields)
    return RecordCoder(cls, fields)


def namedtuple_rule(hint, registry, context):
    """A ``typing.NamedTuple`` or ``collections.namedtuple``: ``RecordCoder`` over its fields (untyped ones Any)."""
    found = generic_record(hint, is_namedtuple_class)
    if found is None:
        return None
    cls, mapping = found
    hints = _field_hints(cls)
    fields = [(f, substitute_type_vars(hints.get(f, typing.Any), mapping)) for f in cls._fields]
    return _record_coder(hint, cls, fields, registry, context)


def dataclass_rule(hint, registry, context):
    """A dataclass (frozen or not, nested, recursive, generic, with string annotations): ``RecordCoder``."""
    found = generic_record(hint, dataclasses.is_dataclass)
    if found is None:
        return None
    cls, mapping = found
    hints = _field_hints(cls)
    fields = [(f.name, substitute_type_vars(hints.get(f.name, f.type), mapping)) for f in dataclasses.fields(cls)]
    return _record_coder(hint, cls, fields, registry, context)


def _element_coder(hint, registry, context, what: str = "element"):
    args = typing.get_args(hint)
    if not args:
        from .dynamic import AnyCoder

        return AnyCoder()
    return registry.resolve(args[0], context.child(f"{what} of `{type_name(hint)}`"))


def tuple_rule(hint, registry, context):
    """``Tuple[A, B]``: ``TupleCoder``; ``Tuple[A, ...]`` and bare ``tuple``: ``TupleSequenceCoder``."""
    origin = typing.get_origin(hint)
    if hint is not tuple and hint is not typing.Tuple and origin is not tuple:
        return None
    from .collections import TupleCoder, TupleSequenceCoder

    args = typing.get_args(hint)
    if hint is tuple or hint is typing.Tuple:
        from .dynamic import AnyCoder

        return TupleSequenceCoder(AnyCoder())
    if len(args) == 2 and args[1] is Ellipsis:
        return TupleSequenceCoder(registry.resolve(args[0], context.child(f"element of `{type_name(hint)}`")))
    name = type_name(hint)
    return TupleCoder(*[registry.resolve(a, context.child(f"item {i} of `{name}`")) for i, a in enumerate(args)])


_SEQUENCES = (list, abc.Sequence, abc.MutableSequence)
_ITERABLES = (abc.Iterable, abc.Collection)
_MAPPINGS = (dict, abc.Mapping, abc.MutableMapping)
_SETS = (set, abc.Set, abc.MutableSet)


def _origin(hint):
    return typing.get_origin(hint) or hint


def sequence_rule(hint, registry, context):
    """``List[T]``, ``list[T]``, ``Sequence[T]``, bare ``list``: ``ListCoder(lenient=True)`` (any sequence but
    text and bytes; decodes to a list)."""
    if _origin(hint) not in _SEQUENCES:
        return None
    from .collections import ListCoder

    return ListCoder(_element_coder(hint, registry, context), lenient=True)


def iterable_rule(hint, registry, context):
    """``Iterable[T]`` / ``Collection[T]``: ``IterableCoder`` (Beam's iterable bytes; decodes to a list)."""
    if _origin(hint) not in _ITERABLES:
        return None
    from .collections import IterableCoder

    return IterableCoder(_element_coder(hint, registry, context))


def mapping_rule(hint, registry, context):
    """``Dict[K, V]``, ``dict[K, V]``, ``Mapping[K, V]``, bare ``dict``: ``MapCoder`` (Any for missing arguments)."""
    if _origin(hint) not in _MAPPINGS:
        return None
    from .collections import MapCoder
    from .dynamic import AnyCoder

    args = typing.get_args(hint)
    if not args:
        return MapCoder(AnyCoder(), AnyCoder())
    name = type_name(hint)
    return MapCoder(
        registry.resolve(args[0], context.child(f"key of `{name}`")),
        registry.resolve(args[1], context.child(f"value of `{name}`")),
    )


def set_rule(hint, registry, context):
    """``Set[T]``, ``set[T]``, ``AbstractSet[T]``: ``SetCoder``; ``FrozenSet[T]``: ``SetCoder(frozen=True)``."""
    origin = _origin(hint)
    if origin is frozenset:
        frozen = True
    elif origin in _SETS:
        frozen = False
    else:
        return None
    from .collections import SetCoder

    return SetCoder(_element_coder(hint, registry, context), frozen=frozen)


def datetime_rule(hint, registry, context):
    """The datetime family (``coders.temporal``): ``datetime``, ``date``, ``time``, ``timedelta`` get exact
    coders, ``pandas.Timestamp`` too when pandas is imported; Beam's ``Timestamp`` (recognised by name, so
    Beam is never imported): ``TimestampCoder(as_beam_timestamp=True)``."""
    if hint is None:
        return None
    from .temporal import temporal_coder_for

    return temporal_coder_for(hint)


def decimal_rule(hint, registry, context):
    """``decimal.Decimal``: ``DecimalCoder``."""
    if hint is decimal.Decimal:
        from .primitives import DecimalCoder

        return DecimalCoder()
    return None


def uuid_rule(hint, registry, context):
    """``uuid.UUID``: ``UUIDCoder`` (its 16 bytes)."""
    return UUIDCoder() if hint is uuid.UUID else None


# ============================================================== records from other libraries


def pydantic_model_rule(hint, registry, context):
    """A pydantic v2 model (nested, recursive, generic ``Model[int]``, Optional and defaulted fields):
    ``RecordCoder`` over ``model_fields`` in declaration order. Models with ``extra='allow'`` are left
    to a registration or the fallback (their extra values would be lost)."""
    if not is_pydantic_model_class(hint) or hint.model_config.get("extra") == "allow":
        return None

    fields, hints = [], None
    for name, info in hint.model_fields.items():
        annotation = info.annotation
        if annotation is None or _contains_forward_ref(annotation):
            hints = hints if hints is not None else _field_hints(hint)
            annotation = hints.get(name, typing.Any if annotation is None else annotation)
        fields.append((name, annotation))
    return _record_coder(hint, hint, fields, registry, context)


def attrs_rule(hint, registry, context):
    """An attrs class (``attrs.define``, ``frozen``, slotted or not, generic): ``RecordCoder`` over
    ``attrs.fields`` (their attribute names, ``_y`` for a private ``y``); untyped ``attr.ib()`` is Any."""

    found = generic_record(hint, is_attrs_class)
    if found is None:
        return None
    cls, mapping = found
    hints = _field_hints(cls)
    fields = [
        (a.name, substitute_type_vars(hints.get(a.name, a.type if a.type is not None else typing.Any), mapping))
        for a in cls.__attrs_attrs__
    ]
    return _record_coder(hint, cls, fields, registry, context)


def msgspec_struct_rule(hint, registry, context):
    """A ``msgspec.Struct`` (frozen, ``array_like``, tagged, generic): ``RecordCoder`` over ``__struct_fields__``."""

    found = generic_record(hint, is_msgspec_struct_class)
    if found is None:
        return None
    cls, mapping = found
    hints = _field_hints(cls)
    fields = [(name, substitute_type_vars(hints.get(name, typing.Any), mapping)) for name in cls.__struct_fields__]
    return _record_coder(hint, cls, fields, registry, context)


_KEY_QUALIFIERS = {"Required", "NotRequired", "ReadOnly"}


def _strip_key_qualifier(hint):
    """``NotRequired[T]`` / ``Required[T]`` / ``ReadOnly[T]`` -> ``T`` (they say whether a key is present)."""
    while getattr(typing.get_origin(hint), "_name", None) in _KEY_QUALIFIERS:
        hint = typing.get_args(hint)[0]
    return hint


def typeddict_rule(hint, registry, context):
    """A ``TypedDict`` (total or ``total=False``, ``Required``/``NotRequired`` keys, generic,
    recursive): ``TypedDictCoder`` over its keys in declaration order."""

    found = generic_record(hint, is_typeddict_class)
    if found is None:
        return None
    cls, mapping = found
    try:
        hints = typing.get_type_hints(cls, localns=_class_namespace(cls)[1])
    except Exception:
        hints = _field_hints(cls)
    records = context.state.records
    key = _memo_key(hint) or hint
    if key in records:  # a recursive TypedDict: refer to the coder being built
        slot = records[key]
        if slot[0] is None:
            slot[0] = TypedDictCoder.deferred(cls)
        return slot[0]
    slot = records[key] = [None]
    name = type_name(hint)
    namespace = _class_namespace(cls)
    try:
        fields = [
            (
                k,
                registry.resolve(
                    substitute_type_vars(_strip_key_qualifier(hints.get(k, typing.Any)), mapping),
                    context.child(f"key {k!r} of `{name}`", namespace),
                ),
            )
            for k in cls.__annotations__
        ]
    finally:
        del records[key]
    if slot[0] is not None:
        return slot[0].set_fields(fields)
    return TypedDictCoder(cls, fields)


def beam_row_rule(hint, registry, context):
    """Beam's ``beam.Row`` (by module and name; Beam is not imported): ``BeamRowCoder()``, which writes
    the field names with the values, since a Row has no class of its own to hold them."""
    return BeamRowCoder() if is_beam_row_class(hint) else None


DEFAULT_RULES: tuple[Rule, ...] = (
    registered_type_rule,
    entry_point_rule,
    forward_ref_rule,
    annotated_rule,
    literal_rule,
    newtype_rule,
    any_rule,
    none_rule,
    primitive_rule,
    optional_rule,
    union_rule,
    enum_rule,
    namedtuple_rule,
    dataclass_rule,
    pydantic_model_rule,
    attrs_rule,
    msgspec_struct_rule,
    typeddict_rule,
    beam_row_rule,
    tuple_rule,
    sequence_rule,
    iterable_rule,
    mapping_rule,
    set_rule,
    datetime_rule,
    decimal_rule,
    uuid_rule,
    scalar_rule,
    numpy_array_rule,
    numpy_scalar_rule,
    protobuf_rule,
    arrow_rule,
    pandas_dataframe_rule,
)


# ============================================================================ the registry

# Frames of these packages are skipped when a warning is pointed at the user's code: a coder
# resolved while Beam builds or runs a pipeline should point at the user's pipeline line,
# not at Beam's runner.
_OWN_PACKAGES = ("coders", "pickling", "apache_beam")


def _user_stacklevel() -> int:
    """The stacklevel that points a warning at the first frame outside coderkit's (and Beam's) packages."""
    frame: types.FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if name.partition(".")[0] not in _OWN_PACKAGES:
            return level
        frame = frame.f_back
        level += 1
    return level


def _fallback_message(hint, where: str) -> str:
    name = type_name(hint)
    if isinstance(hint, (str, typing.ForwardRef)):
        what = f"the forward reference `{name}`, which could not be resolved"
        fix = (
            f"define `{name}` at module level of the class that uses it (so typing.get_type_hints can find it), "
            f"or register_coder({name}, coder)"
        )
    else:
        what = f"`{name}`"
        fix = f"register a coder with coders.register_coder({name}, coder) (or a factory)"
        if _is_user_class(hint):
            fix += f", or make {name} a dataclass or NamedTuple so the registry derives one"
    return (
        f"no coder for {what} ({where}); falling back to PickleCoder (dill), which is slow and not "
        f"deterministic (it cannot code GroupByKey keys). Fix: {fix}."
    )


def _is_user_class(hint) -> bool:
    """A class the user could turn into a dataclass: not from the standard library or an installed package."""
    if not isinstance(hint, type):
        return False
    module_name = getattr(hint, "__module__", "") or ""
    if module_name.partition(".")[0] in sys.stdlib_module_names or module_name == "builtins":
        return False
    path = getattr(sys.modules.get(module_name), "__file__", None) or ""
    return "site-packages" not in path and "dist-packages" not in path


class CoderRegistry:
    """Maps type hints to coders: user registrations, then the named rules in ``rules``, then pickle.

    ``strict=True`` (also settable later) raises ``CoderNotFoundError`` instead of falling back.
    Registries are independent: a test can make its own without touching the default ``registry``.
    """

    def __init__(
        self, strict: bool = False, rules: typing.Iterable[Rule] = DEFAULT_RULES, record_format: str = "record"
    ):
        if record_format not in ("record", "row"):
            raise ValueError(
                f"CoderRegistry(record_format={record_format!r}): use 'record' (RecordCoder, the default) or "
                f"'row' (RowCoder: Beam's portable row format)"
            )
        #: "record": derived records get RecordCoder; "row": RowCoder (Beam's row bytes) when every field
        #: has a Beam schema type, else RecordCoder.
        self.record_format = record_format
        self._strict = bool(strict)
        self.rules: list[Rule] = list(rules)
        self._registrations: dict[Any, Any] = {}
        self._cache: dict[Any, Coder] = {}  # get_coder results (may hold a pickle fallback)
        self._clean: dict[Any, Coder] = {}  # hints whose coder has no fallback inside, for resolve()
        self._warned: set = set()
        self._lock = threading.RLock()

    # ---- configuration ---------------------------------------------------------------------

    @property
    def strict(self) -> bool:
        """True: a type with no coder raises CoderNotFoundError; False: pickle fallback with a warning."""
        return self._strict

    @strict.setter
    def strict(self, value: bool) -> None:
        with self._lock:
            self._strict = bool(value)
            self._clear_caches()

    def register_coder(self, hint: Any, coder_or_factory: Coder | Callable[..., Coder]) -> None:
        """Use ``coder_or_factory`` for ``hint`` and its subclasses (unless registered themselves).

        A coder instance is used as is. A factory (any callable, including a Coder class) is
        called with the resolved coders of the type arguments: for ``MyBox[int]`` with
        ``VarIntCoder()``; for bare ``MyBox`` with one ``AnyCoder()`` per type parameter.
        """
        if (isinstance(coder_or_factory, type) and not issubclass(coder_or_factory, Coder)) or not (
            isinstance(coder_or_factory, Coder) or callable(coder_or_factory)
        ):
            raise TypeError(
                f"register_coder({type_name(hint)}, ...) takes a coders.Coder instance or a factory that "
                f"returns one, not {type(coder_or_factory).__name__} {coder_or_factory!r}"
            )
        try:
            hash(hint)
        except TypeError:
            raise TypeError(f"register_coder: the type {hint!r} is not hashable, so it cannot be registered") from None
        with self._lock:
            self._registrations[hint] = coder_or_factory
            self._clear_caches()

    def add_rule(self, rule: Rule, index: int | None = None) -> None:
        """Insert a rule (at the end, before the fallback, by default) and clear the cache."""
        with self._lock:
            if index is None:
                self.rules.append(rule)
            else:
                self.rules.insert(index, rule)
            self._clear_caches()

    def clear_cache(self) -> None:
        with self._lock:
            self._clear_caches()

    def _clear_caches(self) -> None:
        self._cache.clear()
        self._clean.clear()

    # ---- resolution ------------------------------------------------------------------------

    def get_coder(self, hint: Any) -> Coder:
        """The coder for ``hint`` (cached). Warns (or, when strict, raises) for types it can only pickle."""
        key = _cache_key(hint)
        cached = self._cache.get(key) if key is not None else None
        if cached is not None:
            return cached
        with self._lock:
            if key is not None:  # another thread may have resolved it while this one waited
                cached = self._cache.get(key)
                if cached is not None:
                    return cached
            context = ResolutionContext()
            coder = self.resolve(hint, context)
            fallbacks = context.state.fallbacks
            if fallbacks:
                if self._strict:
                    raise self._not_found(hint, fallbacks)
                self._warn(fallbacks)
            self._clean.update(context.state.done)
            if key is not None:
                self._cache[key] = coder
            return coder

    def resolve(self, hint: Any, context: ResolutionContext) -> Coder:
        """Resolve ``hint`` within a resolution in progress (what rules call for component hints).

        Every fallback met is recorded in ``context.state.fallbacks`` as ``(hint, where)``;
        nothing is warned or raised here (``get_coder`` does that once the whole hint is done).
        """
        key = _memo_key(hint)
        if key is not None:
            known = self._clean.get(key) or context.state.done.get(key)
            if known is not None:
                return known
        before = len(context.state.fallbacks)
        for rule in self.rules:
            coder = rule(hint, self, context)
            if coder is not None:
                break
        else:
            coder = self._fallback(hint, context)
        if key is not None and len(context.state.fallbacks) == before:
            context.state.done[key] = coder
        return coder

    def fallbacks_in(self, hint: Any) -> list[tuple[Any, str]]:
        """Every ``(type, where)`` in ``hint`` that would fall back to pickle; never warns or raises."""
        context = ResolutionContext()
        with self._lock:
            self.resolve(hint, context)
        return list(context.state.fallbacks)

    def is_registered(self, cls: Any) -> bool:
        """True when ``cls`` or one of its base classes has a registration."""
        if cls in self._registrations:
            return True
        return isinstance(cls, type) and any(base in self._registrations for base in cls.__mro__[1:])

    def _fallback(self, hint, context: ResolutionContext) -> Coder:
        context.state.fallbacks.append((hint, context.describe()))
        from .pickle import PickleCoder

        return PickleCoder()

    def _warn(self, fallbacks) -> None:
        for hint, where in fallbacks:
            key = _warn_key(hint)
            if key in self._warned:
                continue
            warnings.warn(_fallback_message(hint, where), FallbackCoderWarning, stacklevel=_user_stacklevel())
            self._warned.add(key)

    def _not_found(self, hint, fallbacks) -> CoderNotFoundError:
        lines, found, seen = [], [], set()
        for t, where in fallbacks:
            lines.append(f"  - `{type_name(t)}` ({where})")
            if _warn_key(t) not in seen:
                seen.add(_warn_key(t))
                found.append(t)
        message = (
            f"strict registry: no coder for {len(found)} type(s) in `{type_name(hint)}`:\n"
            + "\n".join(lines)
            + "\nFix: register a coder for each with coders.register_coder(T, coder) (or a factory), or make it "
            "a dataclass or NamedTuple so the registry derives one; or set strict=False to fall back to "
            "pickle (slow, not deterministic)."
        )
        return CoderNotFoundError(message, types=found)

    def __repr__(self) -> str:
        return (
            f"CoderRegistry(strict={self._strict}, {len(self._registrations)} registration(s), "
            f"{len(self.rules)} rule(s))"
        )


def _ordered_key(hint):
    """A cache key that tells apart hints typing calls equal but whose order matters on the wire:
    ``Union[int, float] == Union[float, int]``, yet a UnionCoder tags members by position."""
    args = typing.get_args(hint)
    if not args:
        hash(hint)  # TypeError for an unhashable hint: the caller does not cache it
        return hint
    return (hint, tuple(_ordered_key(a) for a in args))


def _cache_key(hint):
    try:
        return _ordered_key(hint)
    except TypeError:
        return None


def _contains_forward_ref(hint) -> bool:
    if isinstance(hint, (str, typing.ForwardRef)):
        return True
    return any(_contains_forward_ref(a) for a in typing.get_args(hint) if not isinstance(a, list)) or any(
        _contains_forward_ref(x) for a in typing.get_args(hint) if isinstance(a, list) for x in a
    )


def _memo_key(hint):
    """A key for sharing ``hint``'s coder wherever it is met, or None: hashable, and no string or
    ForwardRef inside (those are evaluated in the namespace of the class that holds them)."""
    if _contains_forward_ref(hint):
        return None
    return _cache_key(hint)


def _warn_key(hint):
    try:
        hash(hint)
        return hint
    except TypeError:
        return repr(hint)


# ============================================================================ the default registry

registry = CoderRegistry()


def get_coder(hint: Any) -> Coder:
    """``registry.get_coder(hint)`` on the default registry."""
    return registry.get_coder(hint)


def register_coder(hint: Any, coder_or_factory: Coder | Callable[..., Coder]) -> None:
    """``registry.register_coder(hint, coder_or_factory)`` on the default registry."""
    registry.register_coder(hint, coder_or_factory)
