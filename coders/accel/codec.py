"""Binding a coder's public methods to the C accelerator, with its reference methods as the one fallback.

``Accelerated`` is mixed into the coders whose trees are worth running in C (tuples, sequences,
maps, records). On first use, an instance binds ``encode``/``decode``/``encode_nested``/
``decode_nested`` to a codec of its whole tree (``coders.accel.spec``) when the extension is built,
or to the reference methods of ``coders.base.Coder`` otherwise. Whatever the C code declines (a
subclass, a bad byte, a value deeper than the recursion limit) goes to the reference path once,
which returns the same result or raises the precise error: the C path never produces an error of
its own, and no input is tried by more than these two paths.
"""

from __future__ import annotations

import functools
import types

from .. import accel
from ..base import Coder
from .spec import COMPOSITE_KINDS, spec_of

__all__ = ["PUBLIC_METHODS", "Accelerated", "AcceleratedCodec", "codec_for", "public_method"]

#: The instance attributes ``bind`` sets (drop them from pickled state and after a change of fields).
PUBLIC_METHODS = ("encode", "decode", "encode_nested", "decode_nested")


class AcceleratedCodec:
    """The C codecs of one coder tree: ``outer`` and ``nested`` (``coders.accel.Codec``), and their spec."""

    __slots__ = ("coder", "nested", "outer", "spec")

    def __init__(self, coder: Coder, spec: tuple):
        self.coder = coder
        self.spec = spec
        reference = functools.partial
        self.outer = accel.Codec(spec, False, reference(Coder.encode, coder), reference(Coder.decode, coder))
        self.nested = accel.Codec(
            spec, True, reference(Coder.encode_nested, coder), reference(Coder.decode_nested, coder)
        )

    def __repr__(self) -> str:
        return f"AcceleratedCodec[{self.coder!r}]"


def codec_for(coder: Coder) -> AcceleratedCodec | None:
    """The C codec for ``coder``'s tree, or None: no extension, a leaf or generic root, or a tree deeper
    than the extension takes (then the reference path serves it)."""
    if not accel.ENABLED:
        return None
    spec = spec_of(coder)
    if spec[0] not in COMPOSITE_KINDS:
        return None
    try:
        return AcceleratedCodec(coder, spec)
    except RecursionError:  # a (non-recursive) tree over 200 levels deep
        return None


def bind(coder: Coder) -> AcceleratedCodec | None:
    """Bind ``coder``'s public methods on the instance: to its C codec, or to the reference methods."""
    codec = codec_for(coder)
    if codec is None:
        for name in PUBLIC_METHODS:
            setattr(coder, name, types.MethodType(getattr(Coder, name), coder))
    else:
        coder.encode, coder.decode = codec.outer.encode, codec.outer.decode
        coder.encode_nested, coder.decode_nested = codec.nested.encode, codec.nested.decode
    return codec


class Accelerated:
    """Mixin: the public methods bind themselves on first use (see the module docstring).

    The class-level methods run once per instance; afterwards the instance's own attributes answer.
    A reference to a class-level method taken before binding (``f = coder.encode``) still works and
    binds only once: later calls go to the bound method.
    """

    __slots__ = ()

    def encode(self, value):
        return _bound(self, "encode")(value)

    def decode(self, data):
        return _bound(self, "decode")(data)

    def encode_nested(self, value):
        return _bound(self, "encode_nested")(value)

    def decode_nested(self, data):
        return _bound(self, "decode_nested")(data)


def public_method(coder: Coder, name: str):
    """``getattr(coder, name)`` for one of PUBLIC_METHODS, bound first when the coder binds its own, so a
    caller that keeps the method (Beam's CoderImpl does) holds the C codec's method itself."""
    return _bound(coder, name) if isinstance(coder, Accelerated) else getattr(coder, name)


def _bound(coder: Coder, name: str):
    method = coder.__dict__.get(name)
    if method is None:
        bind(coder)
        method = coder.__dict__[name]
    return method
