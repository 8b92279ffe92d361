"""The Coder base class: two contexts, determinism with reasons, structure-based equality.

A coder turns a value into bytes in one of two contexts:

* *outer*: the value owns the whole byte string (``encode`` / ``decode``), so a
  variable-length value needs no length prefix;
* *nested*: other bytes may follow (``encode_nested`` / ``decode_nested``), so every
  variable-length value is self-delimiting.

Subclasses implement two methods that work on a shared buffer, which is how
composite coders call their components without copying:

* ``encode_to(value, out: bytearray, nested: bool) -> None``
* ``decode_from(data, pos: int, nested: bool) -> (value, new_pos)``; in the outer
  context the value ends at ``len(data)`` (a coder that bounds a value, such as a
  length prefix, hands its component a slice).

They may also override the public methods with faster specialised versions; the
test kit checks that both paths give the same bytes.

A coder class also declares the facts the rest of coderkit reads about it, so that adding
a coder is adding its class (plus its docs row and tests), never a row in a table elsewhere:

* ``accel_node(child)``: how the C accelerator (``coders.accel``) runs it; the default is a
  generic call of its Python methods, which is always correct.
* ``beam_coder``: the name of Beam's byte-identical coder class, or ``WRAPPED``.
* ``value_strategy(child, st)``: hypothesis values for the test kit.
* ``fixed_width``: the bytes every nested value takes, when that never varies.
"""

from __future__ import annotations

import struct
import sys
import threading
import typing
from typing import Any, Callable, ClassVar, Iterator

from .errors import DecodeError, DeterminismIssue, EncodeError, NonDeterministicCoderError
from .naming import short_repr

__all__ = [
    "MAX_GENERATED_SIZE",
    "WRAPPED",
    "Coder",
    "any_value_strategy",
    "depth_decode_error",
    "depth_encode_error",
    "min_nested_size",
    "width_of_all",
]

#: Most elements a generated test value's collection holds (``Coder.value_strategy``), so nested and
#: recursive values stay fast to generate.
MAX_GENERATED_SIZE = 5

#: ``Coder.beam_coder`` of a coder Beam has no byte-identical coder for: ``coders.beam.to_beam``
#: wraps it (its bytes travel through Beam unchanged, inside a pickled-coder URN).
WRAPPED = "wrapped"

# Errors a decoder may hit on malformed input that are not already DecodeError; the
# public decode methods turn them into DecodeError so callers catch one type.
_MALFORMED = (
    IndexError,
    struct.error,
    UnicodeDecodeError,
    OverflowError,
    ValueError,
    TypeError,
    KeyError,
    RecursionError,
    AttributeError,
)

_guard = threading.local()

_DEPTH_FIX = (
    "raise Python's recursion limit before encoding or decoding such values (sys.setrecursionlimit(n)), "
    "or store the structure flat (a list of nodes with parent indexes) instead of nested"
)


def depth_encode_error(coder: Coder, value: Any) -> EncodeError:
    """The EncodeError for a value nested deeper than Python's recursion limit lets a coder follow
    (a value that contains itself, a cycle, reaches it too)."""
    return EncodeError(
        f"the value is nested too deeply to encode, or contains itself: its depth reached Python's recursion "
        f"limit (sys.getrecursionlimit() = {sys.getrecursionlimit()})",
        coder=coder,
        fix="break any cycle (a list or dict that contains itself); for a value that is deep but not cyclic, "
        + _DEPTH_FIX,
    )


def depth_decode_error(coder: Coder) -> DecodeError:
    """The DecodeError for bytes describing a value nested deeper than Python's recursion limit."""
    return DecodeError(
        f"the encoded value is nested too deeply to decode: its depth reached Python's recursion limit "
        f"(sys.getrecursionlimit() = {sys.getrecursionlimit()}). Fix: {_DEPTH_FIX}",
        coder=coder,
    )


def any_value_strategy(st, canonical_floats: bool = False):
    """Hypothesis values for coders that take any value (AnyCoder, the pickle coders): scalars and
    small containers of them. ``canonical_floats`` generates 0.0 for -0.0 (a deterministic mode writes
    -0.0 as 0.0, as CanonicalFloatCoder does)."""
    floats = st.floats()
    if canonical_floats:
        floats = floats.map(lambda x: 0.0 if x == 0.0 else x)
    ints = st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1) | st.integers()
    hashable = st.none() | st.booleans() | ints | st.text(max_size=16) | st.binary(max_size=16)
    scalars = hashable | floats
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.lists(inner, max_size=4).map(tuple)
            | st.dictionaries(hashable, inner, max_size=4)
            | st.sets(hashable, max_size=4)
            | st.frozensets(hashable, max_size=4)
        ),
        max_leaves=10,
    )


def width_of_all(coders) -> int | None:
    """The summed ``nested_width()`` of ``coders``, or None when one varies (or the tree is recursive)."""
    busy = _in_progress("width")
    total = 0
    for coder in coders:
        if id(coder) in busy:
            return None
        busy.add(id(coder))
        try:
            width = coder.nested_width()
        finally:
            busy.discard(id(coder))
        if width is None:
            return None
        total += width
    return total


def min_nested_size(coder: Coder) -> int:
    """Fewest bytes one nested value of ``coder`` takes (0 when unknown), so a collection can refuse a
    count the remaining bytes cannot hold. A recursive coder met again while sizing adds nothing."""
    busy = _in_progress("sizing")
    if id(coder) in busy:
        return 0
    busy.add(id(coder))
    try:
        return max(int(coder.min_nested_size()), 0)
    finally:
        busy.discard(id(coder))


def _in_progress(kind: str) -> set:
    s = getattr(_guard, kind, None)
    if s is None:
        s = set()
        setattr(_guard, kind, s)
    return s


class Coder:
    """Base of every coderkit coder. See the module docstring for the two contexts and the declared facts."""

    # ---- facts a coder class declares (read by coders.accel, coders.beam and coders.testing) -------

    #: Name of Beam's coder class (in ``apache_beam.coders.coders``) that writes exactly this coder's
    #: bytes in both contexts, or ``WRAPPED`` when there is none (the default, right for any user coder).
    beam_coder: ClassVar[str] = WRAPPED

    #: Bytes every value takes in the nested context when that never varies (None when it varies).
    fixed_width: ClassVar[int | None] = None

    #: True for the coders that pickle values (the registry's fallback): slow, not deterministic.
    is_pickle_fallback: ClassVar[bool] = False

    def beam_mapping(self) -> str:
        """``beam_coder`` for this instance (a parameter can rule the mapping out: see TimestampCoder)."""
        return self.beam_coder

    @classmethod
    def from_beam_components(cls, components: list[Coder]) -> Coder:
        """This coder from the coderkit equivalents of a Beam coder's components (``coders.beam.from_beam``)."""
        return cls(*components)

    def beam_args(self, components: list) -> list:
        """Arguments for Beam's ``beam_coder`` class, given this coder's components already converted to
        Beam coders (``coders.beam.to_beam``). Override when Beam's coder takes other parameters."""
        return components

    @classmethod
    def from_beam_coder(cls, beam_coder: Any, components: list[Coder]) -> Coder:
        """This coder from a Beam coder it reads and its components' coderkit equivalents
        (``coders.beam.from_beam``). Override to read Beam's other parameters (a message class)."""
        return cls.from_beam_components(components)

    def accel_node(self, child: Callable[[Coder], tuple]) -> tuple:
        """This coder as a node of the C accelerator's tree (kinds in ``coders/accel/spec.py``).

        ``child(coder)`` gives a component's node. The default is a generic call of this coder's
        own Python methods, which any coder (a user's included) is correct under.
        """
        return ("generic", self.encode, self.encode_nested, self.decode_from)

    def value_strategy(self, child, st):
        """A hypothesis strategy of valid values (``coders.testing.strategy_for``); ``child(coder)`` gives a
        component's strategy and ``child.recursive(coder)`` says whether it lies on a cycle. Override it."""
        raise NotImplementedError(type(self).__name__)

    def nested_width(self) -> int | None:
        """Bytes every nested value takes when that never varies, else None. A leaf says ``fixed_width``;
        a coder whose bytes are its components' one after another (a tuple, a record) adds theirs up."""
        return self.fixed_width

    def min_nested_size(self) -> int:
        """Fewest bytes one nested value takes (0 when unknown). Composites add up their components
        through ``coders.base.min_nested_size``, which stops at recursion."""
        return self.fixed_width or 0

    # ---- the two methods a subclass implements -------------------------------------------

    def encode_to(self, value: Any, out: bytearray, nested: bool) -> None:
        """Append the encoding of ``value`` to ``out`` in the given context."""
        raise NotImplementedError(f"{type(self).__name__} does not implement encode_to")

    def decode_from(self, data: bytes | bytearray | memoryview, pos: int, nested: bool) -> tuple[Any, int]:
        """Decode one value starting at ``pos``; return it with the position just after it."""
        raise NotImplementedError(f"{type(self).__name__} does not implement decode_from")

    # ---- public encode / decode ----------------------------------------------------------

    def encode(self, value: Any) -> bytes:
        """Encode ``value`` in the outer context (the bytes belong to this value alone)."""
        out = bytearray()
        try:
            self.encode_to(value, out, False)
        except RecursionError:
            raise depth_encode_error(self, value) from None
        return bytes(out)

    def encode_nested(self, value: Any) -> bytes:
        """Encode ``value`` in the nested context (self-delimiting; other bytes may follow)."""
        out = bytearray()
        try:
            self.encode_to(value, out, True)
        except RecursionError:
            raise depth_encode_error(self, value) from None
        return bytes(out)

    def decode(self, data: bytes | bytearray | memoryview) -> Any:
        """Decode bytes produced by ``encode``; all of ``data`` must be consumed."""
        return self._decode_all(data, False)

    def decode_nested(self, data: bytes | bytearray | memoryview) -> Any:
        """Decode bytes produced by ``encode_nested``; all of ``data`` must be consumed."""
        return self._decode_all(data, True)

    def decode_nested_at(self, data: bytes | bytearray | memoryview, pos: int = 0) -> tuple[Any, int]:
        """Decode one nested value at ``pos`` of a larger buffer; returns ``(value, next_pos)``."""
        try:
            return self.decode_from(data, pos, True)
        except DecodeError as e:
            if e.coder is None:
                e.coder = self
            raise
        except RecursionError:
            raise depth_decode_error(self) from None
        except _MALFORMED as e:
            raise DecodeError(f"malformed input ({type(e).__name__}: {e})", coder=self) from e

    def _decode_all(self, data: bytes | bytearray | memoryview, nested: bool) -> Any:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"{self!r}.decode takes bytes, not {type(data).__name__}")
        try:
            value, pos = self.decode_from(data, 0, nested)
        except DecodeError as e:
            if e.coder is None:
                e.coder = self
            raise
        except RecursionError:
            raise depth_decode_error(self) from None
        except _MALFORMED as e:
            raise DecodeError(f"malformed input ({type(e).__name__}: {e})", coder=self) from e
        if pos != len(data):
            raise DecodeError(f"trailing data: {len(data) - pos} byte(s) left after the value", offset=pos, coder=self)
        return value

    # ---- size ------------------------------------------------------------------------------

    def estimate_size(self, value: Any, nested: bool = False) -> int:
        """Estimated encoded size in bytes: exact for fixed-width coders, never wildly off."""
        out = bytearray()
        try:
            self.encode_to(value, out, nested)
        except RecursionError:
            raise depth_encode_error(self, value) from None
        return len(out)

    # ---- determinism -----------------------------------------------------------------------

    def own_determinism_issues(self) -> list[tuple[str, str | None]]:
        """``(reason, fix)`` pairs for this coder alone, not its components. Override."""
        return []

    def labelled_components(self) -> list[tuple[str, Coder]]:
        """``(path segment, component)`` pairs, such as ``("[0]", VarIntCoder())``. Override."""
        return []

    def components(self) -> tuple[Coder, ...]:
        """The component coders, in order."""
        return tuple(c for _, c in self.labelled_components())

    def path_name(self) -> str:
        """How this coder is named at the root of a determinism path (a record uses its class name)."""
        return type(self).__name__

    def determinism_issues(self) -> list[DeterminismIssue]:
        """Every reason this coder is not deterministic, each with its path in the coder tree."""
        issues: list[DeterminismIssue] = []
        seen: set[int] = set()

        def walk(coder: Coder, path: str) -> None:
            if id(coder) in seen:
                return
            seen.add(id(coder))
            for reason, fix in coder.own_determinism_issues():
                issues.append(DeterminismIssue(path, coder, reason, fix))
            for segment, child in coder.labelled_components():
                walk(child, path + segment)

        walk(self, self.path_name())
        return issues

    def is_deterministic(self) -> bool:
        """True when equal values always encode to equal bytes (so bytes can stand for values)."""
        return not self.determinism_issues()

    def verify_deterministic(self, context: str | None = None) -> None:
        """Raise NonDeterministicCoderError listing every reason, with its path, if not deterministic."""
        issues = self.determinism_issues()
        if issues:
            raise NonDeterministicCoderError(self, issues, context=context)

    def as_deterministic_coder(self, context: str | None = None) -> Coder:
        """A deterministic variant of this coder (self when already deterministic), or raise with the reason.

        Composite coders override this to rebuild themselves from their components'
        deterministic variants; coders with a canonical form (maps, sets, floats) return it.
        """
        self.verify_deterministic(context)
        return self

    # ---- typing ----------------------------------------------------------------------------

    def to_type_hint(self) -> Any:
        """The Python type hint this coder encodes."""
        return typing.Any

    # ---- structure: ==, hash, repr ----------------------------------------------------------

    def _params(self) -> tuple:
        """Non-coder parameters that make two coders of the same class differ. Override."""
        return ()

    def _key(self) -> tuple:
        return (self._params(), tuple(self.labelled_components()))

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(self) is not type(other):
            return NotImplemented if not isinstance(other, Coder) else False
        # Coinductive equality: a pair already being compared (a recursive coder) is assumed equal.
        pairs = _in_progress("eq")
        pair = (id(self), id(other))
        if pair in pairs:
            return True
        pairs.add(pair)
        try:
            return self._key() == other._key()
        finally:
            pairs.discard(pair)

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        busy = _in_progress("hash")
        if id(self) in busy:
            return hash(type(self).__name__)
        busy.add(id(self))
        try:
            return hash((type(self).__name__, self._key()))
        finally:
            busy.discard(id(self))

    def _repr_args(self) -> list[str]:
        """What goes between the brackets of the repr. Default: the components' reprs."""
        return [repr(c) for c in self.components()]

    def __repr__(self) -> str:
        busy = _in_progress("repr")
        if id(self) in busy:
            return f"{self.path_name()}[...]"
        busy.add(id(self))
        try:
            args = self._repr_args()
        finally:
            busy.discard(id(self))
        name = type(self).__name__
        return f"{name}[{', '.join(args)}]" if args else name

    def walk(self) -> Iterator[Coder]:
        """Every coder in this tree once (recursive coders are visited once)."""
        seen: set[int] = set()
        stack = [self]
        while stack:
            c = stack.pop()
            if id(c) in seen:
                continue
            seen.add(id(c))
            yield c
            stack.extend(reversed(c.components()))

    # ---- helpers for subclasses --------------------------------------------------------------

    def _encode_error(self, value: Any, expected: str, fix: str | None = None) -> EncodeError:
        """An EncodeError saying this coder expected ``expected`` and got ``value``."""
        shown = short_repr(value, 80)
        return EncodeError(
            f"{type(self).__name__} expected {expected}, got {type(value).__name__} {shown}",
            coder=self,
            value=value,
            fix=fix,
        )
