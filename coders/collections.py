"""Coders for containers: tuples, lists, iterables, maps and sets.

Wire formats (all big-endian):

* ``TupleCoder(c0, ..., cn)``: the components one after another, each in the
  nested context except the last, which takes the tuple's own context (Beam's
  TupleCoder / KV coder). No count.
* ``ListCoder``, ``IterableCoder``, ``TupleSequenceCoder`` (Beam's, for
  ``Tuple[T, ...]``), ``SetCoder``: an int32 element count, then every element in
  the nested context. The decoders also accept Beam's unknown-length form, which
  ``IterableCoder`` writes for iterables without ``len()``: int32 -1, then blocks of
  (varint count, that many elements), ending with a varint 0.
* ``MapCoder``: an int32 entry count, then key and value of every entry, both nested.

The same bytes in both contexts for every container but TupleCoder.

Paths: in the coder tree, components are labelled ``[i]`` (tuple components),
``.element`` (sequence and set elements), ``.key`` / ``.value`` (map keys and values);
``verify_deterministic`` reports issues such as ``TupleCoder[1].value``. In a value,
errors name ``[i]`` for the i-th tuple component or sequence element, ``[key]`` for a
map value and ``<key key>`` for a map key.

Hostile counts never allocate: a count is checked against the bytes that remain
(each element needs at least ``min_nested_size`` bytes), and elements that take no
bytes at all (NoneCoder) are capped at ``ZERO_WIDTH_LIMIT`` per collection.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence

from .accel.codec import PUBLIC_METHODS, Accelerated
from .base import MAX_GENERATED_SIZE, WRAPPED, Coder, min_nested_size, width_of_all
from .errors import DecodeError, EncodeError
from .naming import short_repr
from .streams import INT32_BE, read_varint64, write_varint64
from .wrappers import deterministic_components

__all__ = [
    "ZERO_WIDTH_LIMIT",
    "IterableCoder",
    "ListCoder",
    "MapCoder",
    "SetCoder",
    "TupleCoder",
    "TupleSequenceCoder",
]

#: Most elements one collection of zero-width elements (NoneCoder) may claim on decode.
ZERO_WIDTH_LIMIT = 1 << 20
INT32_MAX = (1 << 31) - 1
# Sequences a lenient ListCoder still refuses: iterating text or bytes is rarely meant.
_TEXT = (str, bytes, bytearray, memoryview)
# Beam's unknown-length iterables flush a block once its buffer exceeds this many bytes.
_BLOCK_BYTES = 64 * 1024


def _check_component(coder, owner: str) -> Coder:
    if not isinstance(coder, Coder):
        raise TypeError(f"{owner} takes coders.Coder components, not {type(coder).__name__} {short_repr(coder, 40)}")
    return coder


def _read_int32(data, pos: int, what: str) -> tuple[int, int]:
    if pos + 4 > len(data):
        raise DecodeError(
            f"truncated input: {what} count needs 4 bytes but {max(len(data) - pos, 0)} remain", offset=pos
        )
    return INT32_BE.unpack_from(data, pos)[0], pos + 4


def _check_count(count: int, total: int, data, pos: int, per_element: int, what: str, offset: int) -> None:
    """Refuse a count the remaining bytes cannot hold (``total`` elements were already read)."""
    remaining = len(data) - pos
    if per_element:
        if count * per_element > remaining:
            raise DecodeError(
                f"{what}: count {count} needs at least {count * per_element} bytes but only {remaining} remain",
                offset=offset,
            )
    elif total + count > max(remaining, ZERO_WIDTH_LIMIT):
        raise DecodeError(
            f"{what}: count {total + count} of zero-width elements is over the limit of {ZERO_WIDTH_LIMIT}",
            offset=offset,
        )


class _Composite(Accelerated, Coder):
    """A container the C accelerator runs whole (``coders.accel.codec``); pickles without its bound codec."""

    def __getstate__(self):
        state = self.__dict__.copy()
        for name in PUBLIC_METHODS:
            state.pop(name, None)
        return state


# ---------------------------------------------------------------------------------------- tuple


class TupleCoder(_Composite):
    """A fixed-length tuple with one coder per position (Beam's TupleCoder; two components make a KV).

    Only tuples are accepted (a list would come back as a tuple); NamedTuples are
    encoded by position and decode as plain tuples. Deterministic when every component is.
    """

    beam_coder = "TupleCoder"

    def accel_node(self, child):
        return ("tuple", tuple(child(c) for c in self.component_coders))

    def value_strategy(self, child, st):
        return st.tuples(*(child(c) for c in self.component_coders))

    def nested_width(self):
        return width_of_all(self.component_coders)

    def __init__(self, *component_coders: Coder):
        if len(component_coders) == 1 and isinstance(component_coders[0], (list, tuple)):
            component_coders = tuple(component_coders[0])
        self.component_coders = tuple(_check_component(c, "TupleCoder") for c in component_coders)

    def labelled_components(self):
        return [(f"[{i}]", c) for i, c in enumerate(self.component_coders)]

    def _check(self, value):
        if not isinstance(value, tuple):
            raise self._encode_error(value, f"a tuple of {len(self.component_coders)} components", "pass tuple(x)")
        if len(value) != len(self.component_coders):
            raise self._encode_error(
                value,
                f"a tuple of {len(self.component_coders)} components (this one has {len(value)})",
                "pass a tuple with one item per component coder",
            )

    def encode_to(self, value, out, nested):
        self._check(value)
        last = len(self.component_coders) - 1
        for i, (coder, item) in enumerate(zip(self.component_coders, value)):
            try:
                coder.encode_to(item, out, nested or i < last)
            except EncodeError as e:
                raise e.with_path(f"[{i}]")

    def decode_from(self, data, pos, nested):
        last = len(self.component_coders) - 1
        items = []
        for i, coder in enumerate(self.component_coders):
            try:
                item, pos = coder.decode_from(data, pos, nested or i < last)
            except DecodeError as e:
                raise e.with_path(f"[{i}]")
            items.append(item)
        return tuple(items), pos

    def min_nested_size(self) -> int:
        return sum(min_nested_size(c) for c in self.component_coders)

    def estimate_size(self, value, nested=False):
        self._check(value)
        last = len(self.component_coders) - 1
        return sum(c.estimate_size(v, nested or i < last) for i, (c, v) in enumerate(zip(self.component_coders, value)))

    def as_deterministic_coder(self, context=None):
        if self.is_deterministic():
            return self
        return TupleCoder(*deterministic_components(self, context))

    def to_type_hint(self):
        if not self.component_coders:
            return typing.Tuple[()]
        return typing.Tuple[tuple(c.to_type_hint() for c in self.component_coders)]


# ------------------------------------------------------------------------------------ sequences


class _Sequence(_Composite):
    """int32 count + nested elements; decodes Beam's unknown-length form too. Subclasses pick the types."""

    #: The Python type decoding produces, and the message/fix for values of another type.
    _expected = "a sequence"
    _fix = None

    def __init__(self, element_coder: Coder):
        self.element_coder = _check_component(element_coder, type(self).__name__)

    def labelled_components(self):
        return [(".element", self.element_coder)]

    def _accepts(self, value) -> bool:
        raise NotImplementedError

    def _build(self, items: list):
        return items

    def accel_node(self, child):
        return (self._accel_kind, child(self.element_coder), child.min_size(self.element_coder))

    def value_strategy(self, child, st):
        elements = child(self.element_coder)
        if child.recursive(self.element_coder):  # a recursive type: fewer than one nested value a level
            lists = st.just([]) | st.lists(elements, max_size=2)
        else:
            lists = st.lists(elements, max_size=MAX_GENERATED_SIZE)
        return lists.map(self._build)

    def encode_to(self, value, out, nested):
        if not self._accepts(value):
            raise self._encode_error(value, self._expected, self._fix)
        self._encode_items(value, out)

    def _encode_items(self, items, out):
        n = len(items)
        if n > INT32_MAX:
            raise self._encode_error(items, f"at most {INT32_MAX} elements (the count is an int32), got {n}")
        out += INT32_BE.pack(n)
        encode = self.element_coder.encode_to
        i = 0
        try:
            for item in items:
                encode(item, out, True)
                i += 1
        except EncodeError as e:
            raise e.with_path(f"[{i}]")

    def decode_from(self, data, pos, nested):
        items, pos = _decode_elements(self.element_coder, data, pos, type(self).__name__)
        return self._build(items), pos

    def min_nested_size(self) -> int:
        return 4

    def estimate_size(self, value, nested=False):
        if not hasattr(value, "__len__"):
            return 4  # a one-shot iterable cannot be measured without consuming it
        width = self.element_coder.fixed_width
        if width is not None:
            return 4 + width * len(value)
        estimate = self.element_coder.estimate_size
        return 4 + sum(estimate(v, True) for v in value)

    def as_deterministic_coder(self, context=None):
        if self.is_deterministic():
            return self
        (element,) = deterministic_components(self, context)
        return type(self)(element, *self._params())


def _decode_elements(element_coder: Coder, data, pos: int, what: str) -> tuple[list, int]:
    """Read an int32 count and that many nested elements, or Beam's unknown-length blocks."""
    start = pos
    count, pos = _read_int32(data, pos, what)
    per_element = min_nested_size(element_coder)
    decode = element_coder.decode_from
    items: list = []
    if count >= 0:
        _check_count(count, 0, data, pos, per_element, what, start)
        i = 0
        try:
            for i in range(count):  # noqa: B007 (i names the failing element in the error path)
                item, pos = decode(data, pos, True)
                items.append(item)
        except DecodeError as e:
            raise e.with_path(f"[{i}]")
        return items, pos
    if count != -1:
        raise DecodeError(
            f"{what}: negative count {count} (only -1, Beam's unknown-length marker, is valid)", offset=start
        )
    while True:
        block_start = pos
        block, pos = read_varint64(data, pos)
        if block == 0:
            return items, pos
        if block < 0:
            raise DecodeError(
                f"{what}: block count {block}"
                + (
                    " marks a state-backed iterable, which needs Beam's state API to read"
                    if block == -1
                    else " is negative"
                ),
                offset=block_start,
            )
        _check_count(block, len(items), data, pos, per_element, what, block_start)
        i = len(items)
        try:
            for i in range(len(items), len(items) + block):  # noqa: B007 (as above)
                item, pos = decode(data, pos, True)
                items.append(item)
        except DecodeError as e:
            raise e.with_path(f"[{i}]")


class ListCoder(_Sequence):
    """A ``list`` (Beam's ListCoder): int32 count, then the elements nested. Tuples are refused.

    ``ListCoder(element, lenient=True)`` (what the registry builds for ``list[T]`` and
    ``Sequence[T]`` hints) accepts any ``collections.abc.Sequence`` but text and bytes (a tuple,
    a range, a deque) and writes the same bytes as for the list of its items; it decodes as a
    ``list``. Deterministic when its element coder is.
    """

    beam_coder = "ListCoder"
    _accel_kind = "list"

    @property
    def _expected(self):
        return "a list or another sequence (not str or bytes)" if self.lenient else "a list"

    @property
    def _fix(self):
        if self.lenient:
            return "pass list(x) if you mean its elements"
        return "pass list(x), use TupleSequenceCoder for tuples, or ListCoder(element, lenient=True) for any sequence"

    def __init__(self, element_coder: Coder, lenient: bool = False):
        super().__init__(element_coder)
        self.lenient = bool(lenient)

    def _params(self):
        return (self.lenient,)

    def _repr_args(self):
        return super()._repr_args() + (["lenient=True"] if self.lenient else [])

    def _accepts(self, value):
        if isinstance(value, list):
            return True
        return self.lenient and isinstance(value, Sequence) and not isinstance(value, _TEXT)

    def to_type_hint(self):
        return typing.List[self.element_coder.to_type_hint()]


class TupleSequenceCoder(_Sequence):
    """A homogeneous tuple of any length, ``Tuple[T, ...]`` (Beam's TupleSequenceCoder). Decodes to a tuple.

    Deterministic when its element coder is.
    """

    beam_coder = "TupleSequenceCoder"
    _accel_kind = "tupleseq"

    _expected = "a tuple"
    _fix = "pass tuple(x), or use ListCoder for lists"

    def _accepts(self, value):
        return isinstance(value, tuple)

    def _build(self, items):
        return tuple(items)

    def to_type_hint(self):
        return typing.Tuple[self.element_coder.to_type_hint(), ...]


class IterableCoder(_Sequence):
    """Any iterable (Beam's IterableCoder); decodes to a ``list``.

    Sized iterables are written as int32 count + elements; iterables without
    ``len()`` (generators) in Beam's unknown-length form: int32 -1, then blocks of
    (varint count, elements) flushed every 64 KiB, then varint 0. ``str``, bytes and
    mappings are refused: iterating them (characters, ints, keys) is rarely meant.
    Deterministic when its element coder is (a set's iteration order is its own: use SetCoder).
    """

    beam_coder = "IterableCoder"
    _accel_kind = "iterable"

    _expected = "an iterable (not str, bytes or a mapping)"
    _fix = "pass list(x) if you mean its elements"

    def _accepts(self, value):
        if isinstance(value, (str, bytes, bytearray, memoryview, Mapping)):
            return False
        return hasattr(value, "__iter__")

    def encode_to(self, value, out, nested):
        if not self._accepts(value):
            raise self._encode_error(value, self._expected, self._fix)
        if hasattr(value, "__len__"):
            self._encode_items(value, out)
            return
        out += INT32_BE.pack(-1)
        encode = self.element_coder.encode_to
        block = bytearray()
        in_block = 0
        i = 0
        try:
            for item in value:
                encode(item, block, True)
                i += 1
                in_block += 1
                if len(block) > _BLOCK_BYTES:
                    write_varint64(out, in_block)
                    out += block
                    block = bytearray()
                    in_block = 0
        except EncodeError as e:
            raise e.with_path(f"[{i}]")
        if in_block:
            write_varint64(out, in_block)
            out += block
        out.append(0)

    def to_type_hint(self):
        return typing.Iterable[self.element_coder.to_type_hint()]


# ------------------------------------------------------------------------------------------ map


class MapCoder(_Composite):
    """A ``dict`` (Beam's MapCoder): int32 entry count, then key and value of each entry, both nested.

    Not deterministic by default: entries are written in the dict's order, so equal
    dicts built in different orders give different bytes. With ``deterministic=True``
    entries are ordered by their encoded key bytes (not by Python sort, which fails on
    mixed types and disagrees with byte order); the bytes stay readable by Beam's
    MapCoder. Decoding refuses a repeated key rather than silently dropping an entry.
    """

    beam_coder = WRAPPED  # kept wrapped: Beam's MapCoder is not a standard coder runners read

    def accel_node(self, child):
        if self.deterministic:  # entries sorted by their encoded keys: the reference path does it
            return super().accel_node(child)
        per_entry = child.min_size(self.key_coder) + child.min_size(self.value_coder)
        return ("map", child(self.key_coder), child(self.value_coder), per_entry)

    def value_strategy(self, child, st):
        keys, values = child(self.key_coder), child(self.value_coder)
        if child.recursive(self.key_coder) or child.recursive(self.value_coder):
            return st.just({}) | st.dictionaries(keys, values, max_size=2)
        return st.dictionaries(keys, values, max_size=MAX_GENERATED_SIZE)

    def __init__(self, key_coder: Coder, value_coder: Coder, deterministic: bool = False):
        self.key_coder = _check_component(key_coder, "MapCoder")
        self.value_coder = _check_component(value_coder, "MapCoder")
        self.deterministic = bool(deterministic)

    def _params(self):
        return (self.deterministic,)

    def _repr_args(self):
        args = [repr(self.key_coder), repr(self.value_coder)]
        return args + ["deterministic=True"] if self.deterministic else args

    def labelled_components(self):
        return [(".key", self.key_coder), (".value", self.value_coder)]

    def encode_to(self, value, out, nested):
        if not isinstance(value, Mapping):
            raise self._encode_error(value, "a mapping (dict)", "pass dict(x)")
        n = len(value)
        if n > INT32_MAX:
            raise self._encode_error(value, f"at most {INT32_MAX} entries, got {n}")
        out += INT32_BE.pack(n)
        encode_key = self.key_coder.encode_to
        encode_value = self.value_coder.encode_to
        if not self.deterministic:
            for key, item in value.items():
                try:
                    encode_key(key, out, True)
                except EncodeError as e:
                    raise e.with_path(f"<key {short_repr(key, 40)}>")
                try:
                    encode_value(item, out, True)
                except EncodeError as e:
                    raise e.with_path(f"[{short_repr(key, 40)}]")
            return
        entries = []
        for key, item in value.items():
            key_bytes = bytearray()
            value_bytes = bytearray()
            try:
                encode_key(key, key_bytes, True)
            except EncodeError as e:
                raise e.with_path(f"<key {short_repr(key, 40)}>")
            try:
                encode_value(item, value_bytes, True)
            except EncodeError as e:
                raise e.with_path(f"[{short_repr(key, 40)}]")
            entries.append((bytes(key_bytes), bytes(value_bytes)))
        entries.sort()
        for key_bytes, value_bytes in entries:
            out += key_bytes
            out += value_bytes

    def decode_from(self, data, pos, nested):
        start = pos
        count, pos = _read_int32(data, pos, "MapCoder")
        if count < 0:
            raise DecodeError(f"MapCoder: negative entry count {count}", offset=start)
        per_entry = min_nested_size(self.key_coder) + min_nested_size(self.value_coder)
        _check_count(count, 0, data, pos, per_entry, "MapCoder", start)
        decode_key = self.key_coder.decode_from
        decode_value = self.value_coder.decode_from
        result = {}
        for i in range(count):
            key_at = pos
            try:
                key, pos = decode_key(data, pos, True)
            except DecodeError as e:
                raise e.with_path(f"<key #{i}>")
            try:
                item, pos = decode_value(data, pos, True)
            except DecodeError as e:
                raise e.with_path(f"[{short_repr(key, 40)}]")
            if key in result:
                raise DecodeError(f"MapCoder: repeated key {short_repr(key, 40)}", offset=key_at)
            result[key] = item
        return result, pos

    def min_nested_size(self) -> int:
        return 4

    def estimate_size(self, value, nested=False):
        kw = self.key_coder.fixed_width
        vw = self.value_coder.fixed_width
        if kw is not None and vw is not None:
            return 4 + (kw + vw) * len(value)
        ek = self.key_coder.estimate_size
        ev = self.value_coder.estimate_size
        return 4 + sum(ek(k, True) + ev(v, True) for k, v in value.items())

    def own_determinism_issues(self):
        if self.deterministic:
            return []
        return [
            (
                "a dict is written in its iteration (insertion) order, so equal dicts built in different orders "
                "give different bytes",
                "use MapCoder(key, value, deterministic=True) or as_deterministic_coder(), which orders entries "
                "by their encoded key bytes",
            )
        ]

    def as_deterministic_coder(self, context=None):
        if self.is_deterministic():
            return self
        key, value = deterministic_components(self, context)
        return MapCoder(key, value, deterministic=True)

    def to_type_hint(self):
        return typing.Dict[self.key_coder.to_type_hint(), self.value_coder.to_type_hint()]


# ------------------------------------------------------------------------------------------ set


class SetCoder(_Sequence):
    """A ``set`` (or ``frozenset`` with ``frozen=True``); coderkit's own, laid out like a list.

    Bytes: int32 count, then the elements nested (so Beam's IterableCoder can read
    them as a list). Not deterministic by default (a set's iteration order depends on
    hashes, which for str vary between processes); with ``deterministic=True``
    elements are ordered by their encoded bytes. Decoding refuses a repeated element.
    """

    beam_coder = WRAPPED  # Beam has no set coder

    def __init__(self, element_coder: Coder, frozen: bool = False, deterministic: bool = False):
        super().__init__(element_coder)
        self.frozen = bool(frozen)
        self.deterministic = bool(deterministic)

    accel_node = Coder.accel_node  # a generic call: duplicates are checked, and sorted when deterministic

    def value_strategy(self, child, st):
        elements = child(self.element_coder)
        return (st.frozensets if self.frozen else st.sets)(elements, max_size=MAX_GENERATED_SIZE)

    @property
    def _expected(self):
        return "a frozenset" if self.frozen else "a set"

    @property
    def _fix(self):
        return "pass frozenset(x)" if self.frozen else "pass set(x), or use SetCoder(..., frozen=True) for frozensets"

    def _params(self):
        return (self.frozen, self.deterministic)

    def _repr_args(self):
        args = [repr(self.element_coder)]
        if self.frozen:
            args.append("frozen=True")
        if self.deterministic:
            args.append("deterministic=True")
        return args

    def _accepts(self, value):
        return isinstance(value, frozenset if self.frozen else set) and (
            self.frozen or not isinstance(value, frozenset)
        )

    def encode_to(self, value, out, nested):
        if not self._accepts(value):
            raise self._encode_error(value, self._expected, self._fix)
        if len(value) > INT32_MAX:
            raise self._encode_error(value, f"at most {INT32_MAX} elements (the count is an int32), got {len(value)}")
        encode = self.element_coder.encode_to
        # A set has no positions, so an error names the element itself.
        if not self.deterministic:
            out += INT32_BE.pack(len(value))
            for item in value:
                try:
                    encode(item, out, True)
                except EncodeError as e:
                    raise e.with_path(f"<element {short_repr(item, 40)}>")
            return
        encoded = []
        for item in value:
            buf = bytearray()
            try:
                encode(item, buf, True)
            except EncodeError as e:
                raise e.with_path(f"<element {short_repr(item, 40)}>")
            encoded.append(bytes(buf))
        encoded.sort()
        out += INT32_BE.pack(len(encoded))
        for chunk in encoded:
            out += chunk

    def decode_from(self, data, pos, nested):
        start = pos
        items, pos = _decode_elements(self.element_coder, data, pos, "SetCoder")
        result = (frozenset if self.frozen else set)(items)
        if len(result) != len(items):
            raise DecodeError(f"SetCoder: {len(items) - len(result)} repeated element(s)", offset=start)
        return result, pos

    def own_determinism_issues(self):
        if self.deterministic:
            return []
        return [
            (
                "a set is written in iteration order, which depends on hashes (str hashes vary per process) "
                "and insertion history",
                "use SetCoder(element, deterministic=True) or as_deterministic_coder(), which orders elements "
                "by their encoded bytes",
            )
        ]

    def as_deterministic_coder(self, context=None):
        if self.is_deterministic():
            return self
        (element,) = deterministic_components(self, context)
        return SetCoder(element, frozen=self.frozen, deterministic=True)

    def to_type_hint(self):
        hint = typing.FrozenSet if self.frozen else typing.Set
        return hint[self.element_coder.to_type_hint()]

    # Sets are not fused: use the reference path directly.
    encode = Coder.encode
    decode = Coder.decode
    encode_nested = Coder.encode_nested
    decode_nested = Coder.decode_nested
