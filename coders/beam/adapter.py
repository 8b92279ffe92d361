"""Turn a coderkit coder into a Beam coder (``to_beam``) and back (``from_beam``).

Two kinds of result:

* **Standard equivalents.** Where Beam has a coder whose bytes are exactly ours in
  both contexts, ``to_beam`` returns Beam's coder, so portable runners see a
  standard URN (``beam:coder:kv:v1``, ``beam:coder:varint:v1`` ...) and can read
  the bytes themselves (a runner must understand the KV coder of a GroupByKey
  input to group at all). A
  composite (tuple, iterable, nullable, length prefix) maps component by
  component, so a ``TupleCoder(RecordCoder, VarIntCoder)`` becomes Beam's KV coder
  around a wrapped record coder and Beam's varint coder. Each coder class declares its
  equivalent itself (``Coder.beam_coder``), so this module keeps no table of coderkit classes.

  Equivalence is about bytes, because bytes are what runners compare and store.
  Some of our coders are stricter than Beam's on *encode* (our VarIntCoder refuses
  ``True``, Beam's writes it as 1); once mapped, Beam's coder does the encoding
  inside the pipeline, so declare honest type hints. Where Beam's coder claims
  determinism that ours denies (Beam's FloatCoder, although ``-0.0 == 0.0``
  encode apart), the mapped coder is a subclass of Beam's that keeps the standard
  URN but reports our determinism and offers our deterministic variant.

* **Wrapped coders.** Everything else (records, enums, unions, sets, maps,
  decimals, None, canonical floats, pickle) becomes a :class:`CoderkitBeamCoder`.
  Its Beam bytes are our *outer* encoding in the outer context and, in the nested
  context, a varint length followed by our outer encoding (what Beam's own
  ``LengthPrefixCoder`` writes, and what every Python-defined Beam coder does:
  Beam's input streams cannot be handed to a decoder that finds its own end).
  It travels in the pipeline proto through Beam's pickled-coder URN.

``from_beam`` inverts both: Beam's standard coders become ours, a wrapper unwraps.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

import apache_beam.coders as beam_coders
from apache_beam.coders import coder_impl

import coders
from coders.accel.codec import public_method
from coders.base import WRAPPED, Coder
from coders.errors import CoderNotFoundError, DecodeError

from .rows import CoderkitRowCoder
from .wrapped import WrapsCoderkitCoder

__all__ = [
    "CoderkitBeamCoder",
    "NonDeterministicBeamFloatCoder",
    "from_beam",
    "installed_state",
    "resolve_main_name",
    "to_beam",
]

#: What ``coders.beam.install()`` put in place ("registry", "hook", "previous", "head"); empty when
#: not installed. It lives here, below install, because CoderkitBeamCoder derives with that registry.
installed_state: dict[str, Any] = {}


def resolve_main_name(typehint):
    """Beam passes a ``__main__`` class as its name; find the class it means (None when there is none)."""
    if not isinstance(typehint, str):
        return typehint
    main = sys.modules.get("__main__")
    candidate = getattr(main, typehint, None)
    if isinstance(candidate, type) and candidate.__module__ == "__main__":
        return candidate
    return None


# ------------------------------------------------------------------------------------- wrapper


class CoderkitCoderImpl(coder_impl.CoderImpl):
    """Beam's runtime face of a wrapped coder: outer bytes as they are, nested bytes length-prefixed."""

    def __init__(self, coder: Coder):
        self._coder = coder
        # the methods themselves (the C codec's when there is one): one call per value, no wrapper between
        self._encode = public_method(coder, "encode")
        self._decode = public_method(coder, "decode")

    def encode_to_stream(self, value, stream, nested):
        stream.write(self._encode(value), nested)

    def decode_from_stream(self, stream, nested):
        return self._decode(stream.read_all(nested))

    def encode(self, value):
        return self._encode(value)

    def decode(self, encoded):
        return self._decode(encoded)

    def encode_nested(self, value):
        out = coder_impl.create_OutputStream()
        out.write(self._encode(value), True)
        return out.get()

    def decode_nested(self, encoded):
        stream = coder_impl.create_InputStream(encoded)
        value = self._decode(stream.read_all(True))
        if stream.size():
            raise DecodeError(f"trailing data: {stream.size()} byte(s) left after the value", coder=self._coder)
        return value

    def estimate_size(self, value, nested=False):
        return self._get_nested_size(self._coder.estimate_size(value), nested)

    def get_estimated_size_and_observables(self, value, nested=False):
        return self.estimate_size(value, nested), []

    def __repr__(self):
        return f"CoderkitCoderImpl[{self._coder!r}]"


class CoderkitBeamCoder(WrapsCoderkitCoder, beam_coders.Coder):
    """A coderkit coder as a Beam coder. See the module docstring for its bytes.

    Determinism, the deterministic variant, the size estimate and the type hint are
    the wrapped coder's. ``as_deterministic_coder`` raises our
    :class:`coders.NonDeterministicCoderError` (a ``ValueError``, the type Beam
    expects) with every reason and its path.
    """

    def __init__(self, coder: Coder):
        if not isinstance(coder, Coder):
            raise TypeError(f"CoderkitBeamCoder wraps a coders.Coder, not {type(coder).__name__}")
        self.coder = coder

    @classmethod
    def from_type_hint(cls, typehint, beam_registry):
        """What Beam calls for ``typecoders.registry.register_coder(MyType, CoderkitBeamCoder)``.

        Derives the coder through coderkit's installed registry (``coders.registry`` when
        ``install()`` was not called). Beam passes ``__main__`` classes by name.
        """
        hook = installed_state.get("hook")
        registry = hook.registry if hook is not None else coders.registry
        hint = resolve_main_name(typehint)
        if hint is None:
            raise LookupError(f"CoderkitBeamCoder: cannot find the __main__ class named {typehint!r}")
        return to_beam(registry.get_coder(hint))

    def encode(self, value):
        return self.coder.encode(value)

    def decode(self, encoded):
        return self.coder.decode(encoded)

    def _create_impl(self):
        return CoderkitCoderImpl(self.coder)

    def estimate_size(self, value):
        return self.coder.estimate_size(value)

    def _rewrap(self, coder):
        return to_beam(coder)  # a deterministic variant may have a standard Beam twin


class NonDeterministicBeamFloatCoder(beam_coders.FloatCoder):
    """Beam's FloatCoder (standard URN ``beam:coder:double:v1``, same bytes) with coderkit's determinism.

    Beam's FloatCoder says it is deterministic, but ``-0.0 == 0.0`` encode to
    different bytes, so a GroupByKey on float keys splits equal keys.
    ``as_deterministic_coder`` gives coderkit's CanonicalFloatCoder, whose bytes are
    FloatCoder's for every float except -0.0 and NaN.
    """

    def is_deterministic(self):
        return False

    def as_deterministic_coder(self, step_label, error_message=None):
        return to_beam(coders.CanonicalFloatCoder(lenient=True))  # float keys that hold ints group too

    def __repr__(self):
        return "NonDeterministicBeamFloatCoder"


# ------------------------------------------------------------------------------------ to_beam

# Beam's coder classes by the names coderkit's coders declare (``Coder.beam_coder``); Beam's FloatCoder
# is named for the subclass that reports coderkit's determinism with the same URN and bytes.
_BEAM_OVERRIDES: dict[str, type] = {"FloatCoder": NonDeterministicBeamFloatCoder, "RowCoder": CoderkitRowCoder}


def _beam_class(name: str) -> type:
    cls = _BEAM_OVERRIDES.get(name) or getattr(beam_coders.coders, name, None)
    if not (isinstance(cls, type) and issubclass(cls, beam_coders.Coder)):
        raise LookupError(f"apache_beam.coders has no coder class named {name!r} (a coder's beam_coder declaration)")
    return cls


def _build_beam(name: str, components: list) -> beam_coders.Coder:
    """Beam's coder ``name`` around its converted components (Beam's constructors differ in shape)."""
    cls = _beam_class(name)
    if name == "TupleCoder":
        return cls(components)
    return cls(*components)


def to_beam(coder: Coder) -> beam_coders.Coder:
    """A Beam coder that writes exactly ``coder``'s bytes (Beam's standard coder where one exists).

    Each coder declares its equivalent (``Coder.beam_mapping()``: the name of Beam's byte-identical
    coder class, or ``WRAPPED``). Components are converted one by one, so a tuple of a record and an
    int becomes Beam's KV coder of a wrapped record coder and Beam's VarIntCoder. A Beam coder passed
    in is returned as it is.
    """
    if isinstance(coder, beam_coders.Coder):
        return coder
    if not isinstance(coder, Coder):
        raise TypeError(
            f"to_beam takes a coders.Coder, not {type(coder).__name__} {coder!r}; "
            "get one with coders.get_coder(your_type)"
        )
    name = coder.beam_mapping()
    if name == WRAPPED:
        return CoderkitBeamCoder(coder)
    return _build_beam(name, coder.beam_args([to_beam(c) for c in coder.components()]))


# ---------------------------------------------------------------------------------- from_beam


@functools.cache
def _coderkit_classes_for(beam_name: str) -> tuple[type, ...]:
    """The exported coderkit coder classes that declare they read Beam's ``beam_name`` bytes."""
    found = []
    for public in coders.__all__:
        cls = getattr(coders, public)
        if isinstance(cls, type) and issubclass(cls, Coder) and beam_name in _reads(cls):
            found.append(cls)
    return tuple(found)


def _reads(cls: type) -> tuple[str, ...]:
    """Beam coders whose bytes ``cls`` decodes: what it maps to, plus its ``beam_decodes``."""
    names = tuple(cls.__dict__.get("beam_decodes", ()))
    declared = cls.__dict__.get("beam_coder")
    return names + ((declared,) if declared not in (None, WRAPPED) else ())


def _beam_components(beam_coder) -> list:
    if isinstance(beam_coder, (beam_coders.IterableCoder, beam_coders.ListCoder, beam_coders.TupleSequenceCoder)):
        return [beam_coder._elem_coder]
    if isinstance(beam_coder, beam_coders.NullableCoder):
        return [beam_coder._value_coder]
    return list(beam_coder._get_component_coders())


def from_beam(beam_coder) -> Coder:
    """The coderkit coder for one of Beam's standard coders (or the coder inside a CoderkitBeamCoder).

    Raises :class:`coders.CoderNotFoundError` naming the Beam coder, the place inside
    it, and the fix when there is no byte-identical coderkit coder.
    """
    return _from_beam(beam_coder, repr(beam_coder))


def _from_beam(beam_coder, root: str) -> Coder:
    if isinstance(beam_coder, Coder):
        return beam_coder
    if isinstance(beam_coder, CoderkitBeamCoder):
        return beam_coder.coder
    if not isinstance(beam_coder, beam_coders.Coder):
        raise TypeError(f"from_beam takes an apache_beam.coders.Coder, not {type(beam_coder).__name__}")
    beam_cls = type(beam_coder)
    overridden = next((n for n, c in _BEAM_OVERRIDES.items() if c is beam_cls), None)
    name = overridden or beam_cls.__name__
    ours = _coderkit_classes_for(name) if overridden or _beam_class_or_none(name) is beam_cls else ()
    if not ours:
        where = "" if repr(beam_coder) == root else f" (inside {root})"
        raise CoderNotFoundError(
            f"Beam's {beam_coder!r}{where} has no byte-identical coderkit coder. coderkit converts Beam's "
            "standard coders (bytes, str, varint, double, bool, timestamp, decimal, tuple/KV, iterable, list, "
            "nullable, length prefix) and its own CoderkitBeamCoder. Fix: pick the coderkit coder for "
            "the type instead, e.g. coders.get_coder(your_type)",
            types=(beam_cls,),
        )
    components = [_from_beam(c, root) for c in _beam_components(beam_coder)]
    return ours[0].from_beam_coder(beam_coder, components)


def _beam_class_or_none(name: str):
    # Beam's coders module, or its package (RowCoder lives in apache_beam.coders.row_coder)
    return getattr(beam_coders.coders, name, None) or getattr(beam_coders, name, None)
