"""Fused codecs: one generated encode/decode function per composite coder tree.

A ``TupleCoder[VarIntCoder, StrUtf8Coder, FloatCoder]`` composed the plain way makes
a Python call per component per value. Here, as attrs and cattrs do for classes, the
whole tree is turned into straight-line Python source once (varints, UTF-8 strings,
doubles, bools, None, nullables, tuples, lists, maps and records inlined), compiled,
and cached on the coder. Coders the generator does not know are called through
their ``encode_to``/``decode_from``, so any tree fuses.

The plain composition stays the reference. The generated code only handles the
common, exact-type case and raises at the first surprise (a str subclass, a
generator, a bad byte); the entry points then re-run the reference path, which
either succeeds (and its result is returned) or raises the precise EncodeError /
DecodeError with its path. Fast path and reference path therefore agree on every
input, and ``tests/coders/test_fused.py`` checks that the generated functions
themselves (``codec.raw_*``) agree with the reference wherever they succeed.

``source_for(coder)`` returns the generated source, for debugging.
"""

from __future__ import annotations

import functools
import struct
import threading

from . import accel as speedups
from .base import Coder
from .collections import ZERO_WIDTH_LIMIT, IterableCoder, ListCoder, MapCoder, TupleCoder, TupleSequenceCoder
from .primitives import (
    _VARINT_CHUNK,
    VARINT_TABLE,
    BooleanCoder,
    BytesCoder,
    CanonicalFloatCoder,
    FloatCoder,
    NoneCoder,
    StrUtf8Coder,
    VarIntCoder,
    _read_varint_fast,
    _read_varint_rest,
    _varint_or_none,
)
from .streams import DOUBLE_BE, INT32_BE
from .wrappers import NullableCoder, min_nested_size

__all__ = ["FusedCodec", "c_spec", "codec_for", "source_for"]

# Precomputed varints for 0 .. 2**14 - 1 (one and two bytes): counts, lengths and small ints.
_VARINT_TABLE = VARINT_TABLE
_TABLE_LIMIT = len(VARINT_TABLE)


class _Surprise(Exception):
    """Raised by generated code at the first input it does not handle; the reference path takes over."""


def _canonical_double(value, _pack=DOUBLE_BE.pack):
    return CanonicalFloatCoder._canonical(value, _pack)


_HELPERS = {
    "_Surprise": _Surprise,
    "_VT": _VARINT_TABLE,
    "_VC": _VARINT_CHUNK,
    "_vb": _varint_or_none,
    "_rv": _read_varint_fast,
    "_rr": _read_varint_rest,
    "_pd": DOUBLE_BE.pack,
    "_ud": DOUBLE_BE.unpack_from,
    "_pi": INT32_BE.pack,
    "_ui": INT32_BE.unpack_from,
    "_cd": _canonical_double,
    "_LIMIT": ZERO_WIDTH_LIMIT,
    "_FLOAT_ONLY": {float},
    "_pack": struct.pack,
    "_unpack_from": struct.unpack_from,
    "_B0": b"\x00",
    "_B1": b"\x01",
}


def _is_record(coder) -> bool:
    return (
        type(coder).__name__ == "RecordCoder"
        and all(hasattr(coder, a) for a in ("cls", "field_names", "field_coders", "from_fields"))
        and len(coder.field_names) == len(coder.field_coders)
    )


class _Generator:
    """Builds the source of the four entry functions for one coder tree."""

    def __init__(self):
        self.namespace = dict(_HELPERS)
        self.constants: dict[int, str] = {}
        self.counter = 0
        self.inlining: set[int] = set()  # records being inlined (a recursive type calls itself generically)
        self.static: list[str] | None = []
        self.out_exists = False

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def const(self, obj, prefix: str) -> str:
        key = id(obj)
        name = self.constants.get(key)
        if name is None:
            name = self.fresh(prefix)
            self.namespace[name] = obj
            self.constants[key] = name
        return name

    # ---- encoding ----
    #
    # Encoders produce *parts* (bytes objects) joined once at the end, which is faster than
    # growing a bytearray. While the tree is flat, parts are local variables listed at
    # generation time (``self.static``) and joined as a tuple; inside a loop or a branch,
    # they are appended at run time to the list ``out`` (``w = out.append``).

    def part(self, expr: str, pad: str, lines: list[str]) -> None:
        """Emit one part: a new local in static mode, ``w(expr)`` in dynamic mode."""
        if self.static is None:
            lines.append(f"{pad}w({expr})")
        else:
            name = self.fresh("p")
            lines.append(f"{pad}{name} = {expr}")
            self.static.append(name)

    def go_dynamic(self, pad: str, lines: list[str]) -> None:
        """Switch to run-time parts (before a loop or a branch), carrying over the static ones."""
        if self.static is not None:
            if not self.out_exists:
                lines.append(f"{pad}out = [{', '.join(self.static)}]")
                lines.append(f"{pad}w = out.append")
                self.out_exists = True
            elif len(self.static) == 1:
                lines.append(f"{pad}w({self.static[0]})")
            elif self.static:
                lines.append(f"{pad}out += ({', '.join(self.static)})")
            self.static = None

    def loop_body(self, emit, pad: str) -> list[str]:
        """A loop body: its parts are locals again, added to ``out`` once per iteration."""
        self.static = []
        lines = emit()
        self.go_dynamic(pad, lines)
        return lines

    def encode(self, coder, x: str, nested: bool, pad: str) -> list[str]:
        t = type(coder)
        lines: list[str] = []
        if t is VarIntCoder:
            # 0 .. 2**14-1 from the table; up to 2**28 as two table chunks; beyond, the helper
            lines.append(f"{pad}if type({x}) is not int: raise _Surprise")
            if self.static is None:
                lines += [
                    f"{pad}if {x} >= 0:",
                    f"{pad}    if {x} < {_TABLE_LIMIT}: w(_VT[{x}])",
                    f"{pad}    elif {x} < 268435456:",
                    f"{pad}        w(_VC[{x} & 0x3FFF])",
                    f"{pad}        w(_VT[{x} >> 14])",
                    f"{pad}    else: w(_vb({x}))",
                    f"{pad}else: w(_vb({x}))",
                ]
            else:
                name = self.fresh("p")
                lines += [
                    f"{pad}if {x} >= 0:",
                    f"{pad}    if {x} < {_TABLE_LIMIT}: {name} = _VT[{x}]",
                    f"{pad}    elif {x} < 268435456: {name} = _VC[{x} & 0x3FFF] + _VT[{x} >> 14]",
                    f"{pad}    elif {x} < 4398046511104:",
                    f"{pad}        {name} = _VC[{x} & 0x3FFF] + _VC[({x} >> 14) & 0x3FFF] + _VT[{x} >> 28]",
                    f"{pad}    else: {name} = _vb({x})",
                    f"{pad}else: {name} = _vb({x})",
                ]
                self.static.append(name)
            return lines
        if t is StrUtf8Coder or t is BytesCoder:
            kind = "str" if t is StrUtf8Coder else "bytes"
            raw = f"{x}.encode()" if t is StrUtf8Coder else x
            lines.append(f"{pad}if type({x}) is not {kind}: raise _Surprise")
            if not nested:
                self.part(raw, pad, lines)
                return lines
            r, n = self.fresh("r"), self.fresh("n")
            lines += [f"{pad}{r} = {raw}", f"{pad}{n} = len({r})"]
            if self.static is None:
                lines += [f"{pad}if {n} < {_TABLE_LIMIT}: w(_VT[{n}])", f"{pad}else: w(_vb({n}))", f"{pad}w({r})"]
            else:
                name = self.fresh("p")
                lines += [f"{pad}if {n} < {_TABLE_LIMIT}: {name} = _VT[{n}]", f"{pad}else: {name} = _vb({n})"]
                self.static += [name, r]
            return lines
        if t is FloatCoder or t is CanonicalFloatCoder:
            lines.append(f"{pad}if type({x}) is not float: raise _Surprise")
            self.part(f"{'_pd' if t is FloatCoder else '_cd'}({x})", pad, lines)
            return lines
        if t is BooleanCoder:
            if self.static is None:
                return [
                    f"{pad}if {x} is True: w(_B1)",
                    f"{pad}elif {x} is False: w(_B0)",
                    f"{pad}else: raise _Surprise",
                ]
            name = self.fresh("p")
            self.static.append(name)
            return [
                f"{pad}if {x} is True: {name} = _B1",
                f"{pad}elif {x} is False: {name} = _B0",
                f"{pad}else: raise _Surprise",
            ]
        if t is NoneCoder:
            return [f"{pad}if {x} is not None: raise _Surprise"]
        if t is NullableCoder:
            self.go_dynamic(pad, lines)
            return (
                lines
                + [f"{pad}if {x} is None: w(_B0)", f"{pad}else:", f"{pad}    w(_B1)"]
                + self.encode(coder.value_coder, x, nested, pad + "    ")
            )
        if t is TupleCoder:
            return self._encode_fields(coder.component_coders, x, nested, pad, "tuple")
        if t in (ListCoder, TupleSequenceCoder, IterableCoder):
            accepted = {ListCoder: "list", TupleSequenceCoder: "tuple", IterableCoder: "(list, tuple)"}[t]
            e = self.fresh("e")
            lines.append(f"{pad}if not isinstance({x}, {accepted}): raise _Surprise")
            self.part(f"_pi(len({x}))", pad, lines)
            self.go_dynamic(pad, lines)
            element = type(coder.element_coder)
            if element is FloatCoder:
                # Long lists of exact floats: one struct call (checking the types in C pays off
                # only past a few dozen elements; measured, a Python loop wins below that).
                test = f"len({x}) > 32 and set(map(type, {x})) == _FLOAT_ONLY"
                body = self.loop_body(
                    lambda: self.encode(coder.element_coder, e, True, pad + "        "), pad + "        "
                )
                return (
                    lines
                    + [f"{pad}if {test}: w(_pack(f'>{{len({x})}}d', *{x}))", f"{pad}else:", f"{pad}    for {e} in {x}:"]
                    + body
                )
            body = self.loop_body(lambda: self.encode(coder.element_coder, e, True, pad + "    "), pad + "    ")
            return lines + [f"{pad}for {e} in {x}:"] + body
        if t is MapCoder and not coder.deterministic:
            k, v = self.fresh("k"), self.fresh("v")
            lines.append(f"{pad}if not isinstance({x}, dict): raise _Surprise")
            self.part(f"_pi(len({x}))", pad, lines)
            self.go_dynamic(pad, lines)
            body = self.loop_body(
                lambda: (
                    self.encode(coder.key_coder, k, True, pad + "    ")
                    + self.encode(coder.value_coder, v, True, pad + "    ")
                ),
                pad + "    ",
            )
            return lines + [f"{pad}for {k}, {v} in {x}.items():"] + body
        if _is_record(coder) and id(coder) not in self.inlining:
            self.inlining.add(id(coder))
            try:
                return self._encode_record(coder, x, nested, pad)
            finally:
                self.inlining.discard(id(coder))
        c = self.const(coder.encode_nested if nested else coder.encode, "enc")
        self.part(f"{c}({x})", pad, lines)
        return lines

    def _encode_fields(self, field_coders, x, nested, pad, kind) -> list[str]:
        n = len(field_coders)
        lines = [f"{pad}if not isinstance({x}, {kind}): raise _Surprise"] if kind else []
        if n == 0:
            return lines + [f"{pad}if len({x}): raise _Surprise"]
        names = [self.fresh("f") for _ in field_coders]
        lines.append(f"{pad}{', '.join(names)}, = {x}")
        for i, (coder, name) in enumerate(zip(field_coders, names)):
            lines += self.encode(coder, name, nested or i < n - 1, pad)
        return lines

    def _encode_record(self, coder, x, nested, pad) -> list[str]:
        cls = self.const(coder.cls, "cls")
        lines = [f"{pad}if type({x}) is not {cls}: raise _Surprise"]
        n = len(coder.field_coders)
        if issubclass(coder.cls, tuple):
            return lines + self._encode_fields(coder.field_coders, x, nested, pad, None)
        names = [self.fresh("f") for _ in range(n)]
        for name, field in zip(names, coder.field_names):
            if field.isidentifier() and not field.startswith("__"):
                lines.append(f"{pad}{name} = {x}.{field}")
            else:
                lines.append(f"{pad}{name} = getattr({x}, {field!r})")
        for i, (field_coder, name) in enumerate(zip(coder.field_coders, names)):
            lines += self.encode(field_coder, name, nested or i < n - 1, pad)
        return lines

    def encode_body(self, coder, nested: bool, pad: str) -> list[str]:
        """The statements of an encode entry point, ending with the return of the joined parts."""
        self.static = []
        self.out_exists = False
        lines = self.encode(coder, "value", nested, pad)
        if self.static is None:
            return lines + [f"{pad}return b''.join(out)"]
        if not self.static:
            return lines + [f"{pad}return b''"]
        return lines + [f"{pad}return b''.join(({''.join(p + ', ' for p in self.static)}))"]

    # ---- decoding: lines that read one value at ``pos`` of ``data`` (bytes of length L) into ``target`` ----

    def decode(self, coder, target: str, nested: bool, pad: str) -> list[str]:
        t = type(coder)
        if t is VarIntCoder:
            # up to six bytes (42 bits) inline, gathered as small ints; longer ones through the reader
            names = [self.fresh("b") for _ in range(6)]

            def gather(k: int) -> str:
                low = " | ".join(
                    f"({n} & 127) << {7 * i}" if i else f"({n} & 127)" for i, n in enumerate(names[: min(k, 3)])
                )
                if k <= 3:
                    return low.replace(f"({names[k - 1]} & 127)", names[k - 1])
                high = " | ".join(f"({n} & 127) << {7 * i}" if i else f"({n} & 127)" for i, n in enumerate(names[3:k]))
                high = high.replace(f"({names[k - 1]} & 127)", names[k - 1])
                return f"{low} | ({high}) << 21"

            lines = []
            for k in range(1, 7):
                inner = pad + "    " * (k - 1)
                lines += [
                    f"{inner}{names[k - 1]} = data[pos + {k - 1}]" if k > 1 else f"{inner}{names[0]} = data[pos]",
                    f"{inner}if {names[k - 1]} < 128:",
                    f"{inner}    {target} = {gather(k)}",
                    f"{inner}    pos += {k}",
                    f"{inner}else:",
                ]
            lines.append(f"{pad}{'    ' * 6}{target}, pos = _rr(data, pos + 3, {self._low21(names)})")
            return lines
        if t is StrUtf8Coder or t is BytesCoder:
            tail = ".decode()" if t is StrUtf8Coder else ""
            if not nested:
                return [f"{pad}{target} = data[pos:]{tail}", f"{pad}pos = L"]
            n, end = self.fresh("n"), self.fresh("end")
            return [
                f"{pad}{n} = data[pos]",
                f"{pad}if {n} < 128: pos += 1",
                f"{pad}else:",
                f"{pad}    {n}, pos = _rv(data, pos)",
                f"{pad}    if {n} < 0: raise _Surprise",
                f"{pad}{end} = pos + {n}",
                f"{pad}if {end} > L: raise _Surprise",
                f"{pad}{target} = data[pos:{end}]{tail}",
                f"{pad}pos = {end}",
            ]
        if t is FloatCoder or t is CanonicalFloatCoder:
            return [f"{pad}{target} = _ud(data, pos)[0]", f"{pad}pos += 8"]
        if t is BooleanCoder:
            b = self.fresh("b")
            return [
                f"{pad}{b} = data[pos]",
                f"{pad}if {b} == 1: {target} = True",
                f"{pad}elif {b} == 0: {target} = False",
                f"{pad}else: raise _Surprise",
                f"{pad}pos += 1",
            ]
        if t is NoneCoder:
            return [f"{pad}{target} = None"]
        if t is NullableCoder:
            b = self.fresh("b")
            return (
                [
                    f"{pad}{b} = data[pos]",
                    f"{pad}pos += 1",
                    f"{pad}if {b} == 0: {target} = None",
                    f"{pad}elif {b} == 1:",
                ]
                + self.decode(coder.value_coder, target, nested, pad + "    ")
                + [f"{pad}else: raise _Surprise"]
            )
        if t is TupleCoder:
            names, lines = self._decode_fields(coder.component_coders, nested, pad)
            return lines + [f"{pad}{target} = ({''.join(n + ', ' for n in names)})"]
        if t in (ListCoder, TupleSequenceCoder, IterableCoder) or (t is MapCoder):
            return self._decode_counted(coder, target, pad)
        if _is_record(coder) and id(coder) not in self.inlining:
            self.inlining.add(id(coder))
            try:
                names, lines = self._decode_fields(coder.field_coders, nested, pad)
            finally:
                self.inlining.discard(id(coder))
            build = self.const(coder.from_fields, "build")
            return lines + [f"{pad}{target} = {build}(({''.join(n + ', ' for n in names)}))"]
        c = self.const(coder.decode_from, "dec")
        return [f"{pad}{target}, pos = {c}(data, pos, {nested})"]

    @staticmethod
    def _low21(names) -> str:
        return f"({names[0]} & 127) | ({names[1]} & 127) << 7 | ({names[2]} & 127) << 14"

    def _decode_fields(self, field_coders, nested, pad):
        names = [self.fresh("f") for _ in field_coders]
        lines: list[str] = []
        last = len(field_coders) - 1
        for i, (coder, name) in enumerate(zip(field_coders, names)):
            lines += self.decode(coder, name, nested or i < last, pad)
        return names, lines

    def _decode_counted(self, coder, target, pad) -> list[str]:
        n = self.fresh("n")
        lines = [f"{pad}{n} = _ui(data, pos)[0]", f"{pad}pos += 4", f"{pad}if {n} < 0: raise _Surprise"]
        if type(coder) is MapCoder:
            per = min_nested_size(coder.key_coder) + min_nested_size(coder.value_coder)
        else:
            per = min_nested_size(coder.element_coder)
        if per:
            lines.append(f"{pad}if {n} * {per} > L - pos: raise _Surprise")
        else:
            lines.append(f"{pad}if {n} > _LIMIT and {n} > L - pos: raise _Surprise")
        inner = pad + "    "
        if type(coder) is MapCoder:
            k, v = self.fresh("k"), self.fresh("v")
            return (
                lines
                + [f"{pad}{target} = {{}}", f"{pad}for _ in range({n}):"]
                + self.decode(coder.key_coder, k, True, inner)
                + self.decode(coder.value_coder, v, True, inner)
                + [f"{inner}{target}[{k}] = {v}", f"{pad}if len({target}) != {n}: raise _Surprise"]
            )
        e, items = self.fresh("e"), self.fresh("items")
        append = self.fresh("append")
        if type(coder.element_coder) is FloatCoder or type(coder.element_coder) is CanonicalFloatCoder:
            # Doubles: one struct call for the whole list (the count was checked against the bytes left).
            lines += [f"{pad}{items} = list(_unpack_from(f'>{{{n}}}d', data, pos))", f"{pad}pos += 8 * {n}"]
            return lines + [f"{pad}{target} = {'tuple(' + items + ')' if type(coder) is TupleSequenceCoder else items}"]
        lines += [f"{pad}{items} = []", f"{pad}{append} = {items}.append", f"{pad}for _ in range({n}):"]
        lines += self.decode(coder.element_coder, e, True, inner) + [f"{inner}{append}({e})"]
        if type(coder) is TupleSequenceCoder:
            return lines + [f"{pad}{target} = tuple({items})"]
        return lines + [f"{pad}{target} = {items}"]

    # ---- the entry points ----

    def module_source(self, coder) -> str:
        parts = []
        for nested, suffix in ((False, ""), (True, "_nested")):
            body = self.encode_body(coder, nested, "    ")
            parts.append("\n".join([f"def raw_encode{suffix}(value):", *body]))
            body = self.encode_body(coder, nested, "        ")
            parts.append(
                "\n".join(
                    [
                        f"def encode{suffix}(value):",
                        "    try:",
                        *body,
                        "    except Exception:",
                        "        pass",
                        f"    return _reference_encode{suffix}(value)",
                    ]
                )
            )
            body = self.decode(coder, "value", nested, "    ")
            parts.append(
                "\n".join(
                    [f"def raw_decode{suffix}(data, pos=0):", "    L = len(data)", *body, "    return value, pos"]
                )
            )
            parts.append(
                "\n".join(
                    [
                        f"def decode{suffix}(data):",
                        "    if type(data) is bytes:",
                        "        try:",
                        "            L = len(data)",
                        "            pos = 0",
                        *["        " + line for line in body],
                        "            if pos == L: return value",
                        "        except Exception:",
                        "            pass",
                        f"    return _reference_decode{suffix}(data)",
                    ]
                )
            )
        return "\n\n".join(parts) + "\n"


def c_spec(coder: Coder, inlining: frozenset = frozenset()) -> tuple:
    """The tree ``coders._speedups.Codec`` runs for ``coder``: the same cases the generator inlines.

    Each node is a tuple naming its kind; coders the C code does not know become
    ``("generic", encode, encode_nested, decode_from)`` and are called through Python, as
    are records met again inside themselves (recursive types).
    """
    t = type(coder)
    leaf = {
        VarIntCoder: "varint",
        StrUtf8Coder: "str",
        BytesCoder: "bytes",
        FloatCoder: "float",
        CanonicalFloatCoder: "cfloat",
        BooleanCoder: "bool",
        NoneCoder: "none",
    }.get(t)
    if leaf:
        return (leaf,)
    if t is NullableCoder:
        return ("nullable", c_spec(coder.value_coder, inlining))
    if t is TupleCoder:
        return ("tuple", tuple(c_spec(c, inlining) for c in coder.component_coders))
    if t in (ListCoder, TupleSequenceCoder, IterableCoder):
        kind = {ListCoder: "list", TupleSequenceCoder: "tupleseq", IterableCoder: "iterable"}[t]
        return (kind, c_spec(coder.element_coder, inlining), min_nested_size(coder.element_coder))
    if t is MapCoder and not coder.deterministic:
        per = min_nested_size(coder.key_coder) + min_nested_size(coder.value_coder)
        return ("map", c_spec(coder.key_coder, inlining), c_spec(coder.value_coder, inlining), per)
    if _is_record(coder) and id(coder) not in inlining:
        inner = inlining | {id(coder)}
        return (
            "record",
            coder.cls,
            tuple(coder.field_names),
            coder.from_fields,
            issubclass(coder.cls, tuple),
            tuple(c_spec(c, inner) for c in coder.field_coders),
        )
    return ("generic", coder.encode, coder.encode_nested, coder.decode_from)


class FusedCodec:
    """The generated functions for one coder tree, with the reference path as their fallback.

    ``encode``/``decode``/``encode_nested``/``decode_nested`` behave exactly like the
    coder's reference methods (same bytes, values and errors): with the C accelerator
    (``coders.speedups.ENABLED``) they are the C codecs in ``accelerated`` (outer, nested),
    otherwise the generated Python functions, which ``python`` always holds (encode, decode,
    encode_nested, decode_nested; for benchmarks and tests). ``raw_*`` are the generated
    functions alone, without the fallback (for tests); ``source`` is their code.
    """

    __slots__ = (
        "coder",
        "source",
        "encode",
        "decode",
        "encode_nested",
        "decode_nested",
        "raw_encode",
        "raw_decode",
        "raw_encode_nested",
        "raw_decode_nested",
        "accelerated",
        "python",
    )

    def __init__(self, coder: Coder, source: str, namespace: dict):
        self.coder = coder
        self.source = source
        for name in self.__slots__[2:-2]:
            setattr(self, name, namespace[name])
        self.python = (namespace["encode"], namespace["decode"], namespace["encode_nested"], namespace["decode_nested"])
        self.accelerated = None
        if speedups.ENABLED:
            # Surprises in C go to the generated Python entry points, which try their own fast
            # path and then the reference: the same results, only slower for the odd input.
            spec = c_spec(coder)
            outer = speedups.Codec(spec, False, namespace["encode"], namespace["decode"])
            inner = speedups.Codec(spec, True, namespace["encode_nested"], namespace["decode_nested"])
            self.accelerated = (outer, inner)
            self.encode, self.decode = outer.encode, outer.decode
            self.encode_nested, self.decode_nested = inner.encode, inner.decode

    def __repr__(self):
        return f"FusedCodec[{self.coder!r}]"

    def __reduce__(self):
        return (codec_for, (self.coder,))


_FUSABLE_ROOTS = (TupleCoder, ListCoder, IterableCoder, TupleSequenceCoder, MapCoder)
_lock = threading.Lock()


def _generate(coder: Coder):
    generator = _Generator()
    source = generator.module_source(coder)
    namespace = generator.namespace
    namespace["_reference_encode"] = functools.partial(Coder.encode, coder)
    namespace["_reference_encode_nested"] = functools.partial(Coder.encode_nested, coder)
    namespace["_reference_decode"] = functools.partial(Coder.decode, coder)
    namespace["_reference_decode_nested"] = functools.partial(Coder.decode_nested, coder)
    exec(compile(source, f"<coderkit fused codec for {coder!r}>", "exec"), namespace)
    return source, namespace


def codec_for(coder: Coder) -> FusedCodec | None:
    """A FusedCodec for ``coder``, or None when fusing would not help or is not possible.

    Fuses TupleCoder, ListCoder, IterableCoder, TupleSequenceCoder, MapCoder (insertion
    ordered) and record coders (anything named RecordCoder with ``cls``, ``field_names``,
    ``field_coders`` and ``from_fields``) at the root; any coder below.
    """
    if not (type(coder) in _FUSABLE_ROOTS or _is_record(coder)):
        return None
    if type(coder) is MapCoder and coder.deterministic:
        return None
    try:
        with _lock:
            source, namespace = _generate(coder)
    except (SyntaxError, RecursionError, MemoryError):  # a tree too deep for one function
        return None
    return FusedCodec(coder, source, namespace)


def source_for(coder: Coder) -> str:
    """The generated Python source for ``coder`` (the four entry points and their raw versions)."""
    return _Generator().module_source(coder)
