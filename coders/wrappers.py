"""Coders that wrap one other coder: NullableCoder (Optional), LengthPrefixCoder and XmapCoder.

The first two write Beam's bytes. XmapCoder is how a user builds a coder for a type of their
own from an existing coder and two functions, as Scio's ``Coder.xmap`` does. The component is
labelled ``.value`` in determinism paths (``TupleCoder[0].value``) and in error paths.
"""

from __future__ import annotations

import typing

from .base import WRAPPED, Coder, min_nested_size
from .errors import DecodeError, EncodeError, NonDeterministicCoderError
from .naming import short_repr
from .streams import read_length_prefixed, varint64_size, write_varint64

__all__ = ["LengthPrefixCoder", "NullableCoder", "XmapCoder", "deterministic_components"]


def deterministic_components(coder: Coder, context: str | None = None) -> list[Coder]:
    """The deterministic variant of each component of ``coder``, in order.

    Raises one NonDeterministicCoderError listing every component that has none, each
    reason with its full path from ``coder`` (``TupleCoder[1].value``), so a composite's
    ``as_deterministic_coder`` can rebuild itself from the result.
    """
    result: list[Coder] = []
    issues = []
    root = coder.path_name()
    for segment, child in coder.labelled_components():
        try:
            result.append(child.as_deterministic_coder(context))
        except NonDeterministicCoderError as e:
            child_root = child.path_name()
            for issue in e.issues:
                suffix = issue.path[len(child_root) :] if issue.path.startswith(child_root) else issue.path
                issue.path = root + segment + suffix
                issues.append(issue)
    if issues:
        raise NonDeterministicCoderError(coder, issues, context=context)
    return result


class _Wrapper(Coder):
    """A coder with one component, labelled ``.value``."""

    def __init__(self, value_coder: Coder):
        if not isinstance(value_coder, Coder):
            raise TypeError(
                f"{type(self).__name__} takes a coders.Coder, not {type(value_coder).__name__} {value_coder!r}"
            )
        self.value_coder = value_coder

    def labelled_components(self):
        return [(".value", self.value_coder)]

    def as_deterministic_coder(self, context=None):
        if self.is_deterministic():
            return self
        (inner,) = deterministic_components(self, context)
        return type(self)(inner)


class NullableCoder(_Wrapper):
    """``Optional[T]``: 0x00 for None, or 0x01 then the value in the same context (Beam's NullableCoder).

    ``NullableCoder(NullableCoder(c))`` cannot tell an outer None from an inner one:
    both encode as 0x00 and decode as None. Deterministic when its component is.
    """

    beam_coder = "NullableCoder"

    def accel_node(self, child):
        return ("nullable", child(self.value_coder))

    def value_strategy(self, child, st):
        inner = child(self.value_coder)
        if child.recursive(self.value_coder):  # a recursive type: fewer than one nested value a level
            return st.one_of(st.none(), st.none(), inner)
        return st.none() | inner

    def encode_to(self, value, out, nested):
        if value is None:
            out.append(0)
            return
        out.append(1)
        # No path segment: the present value *is* the value (".value" labels the coder tree only).
        self.value_coder.encode_to(value, out, nested)

    def decode_from(self, data, pos, nested):
        if pos >= len(data):
            raise DecodeError("truncated input: expected the null indicator byte", offset=pos)
        flag = data[pos]
        if flag == 0:
            return None, pos + 1
        if flag != 1:
            raise DecodeError(
                f"invalid null indicator 0x{flag:02x}: expected 0x00 (None) or 0x01 (present)", offset=pos
            )
        return self.value_coder.decode_from(data, pos + 1, nested)

    def min_nested_size(self) -> int:
        return 1

    def estimate_size(self, value, nested=False):
        return 1 if value is None else 1 + self.value_coder.estimate_size(value, nested)

    def to_type_hint(self):
        return typing.Optional[self.value_coder.to_type_hint()]


class LengthPrefixCoder(_Wrapper):
    """The value's outer encoding, preceded by its byte length as a varint (Beam's LengthPrefixCoder).

    The same bytes in both contexts. Decoding hands the component exactly the
    prefixed bytes, which it must consume entirely. Deterministic when its component is.
    """

    beam_coder = "LengthPrefixCoder"

    def value_strategy(self, child, st):
        return child(self.value_coder)

    def encode_to(self, value, out, nested):
        inner = bytearray()
        self.value_coder.encode_to(value, inner, False)
        write_varint64(out, len(inner))
        out += inner

    def decode_from(self, data, pos, nested):
        chunk, end = read_length_prefixed(data, pos, "LengthPrefixCoder")
        n, pos = len(chunk), end - len(chunk)
        try:
            value, used = self.value_coder.decode_from(chunk, 0, False)
        except DecodeError as e:
            if e.offset is not None:
                e.offset += pos
                e.args = (str(e),)
            raise
        if used != n:
            raise DecodeError(
                f"length-prefixed value: {n - used} byte(s) left inside the prefixed bytes", offset=pos + used
            )
        return value, end

    def min_nested_size(self) -> int:
        return 1

    def estimate_size(self, value, nested=False):
        n = self.value_coder.estimate_size(value, False)
        return varint64_size(n) + n

    def to_type_hint(self):
        return self.value_coder.to_type_hint()


class XmapCoder(_Wrapper):
    """A coder for your own type built from an existing coder and two functions (Scio's ``xmap``).

    ``XmapCoder(inner, from_inner, to_inner)`` encodes ``value`` as ``inner`` encodes
    ``to_inner(value)`` and decodes to ``from_inner(inner_value)``: the bytes are exactly the
    inner coder's, in both contexts. ``type_hint`` is what ``to_type_hint`` reports.

    Determinism: coderkit cannot see whether ``to_inner`` maps equal values to equal inner
    values, so it reports the coder as not deterministic unless you say so with
    ``deterministic=True`` (and then only when the inner coder is deterministic too).

    ``XmapCoder(StrUtf8Coder(), pathlib.PurePosixPath, str)`` codes paths as their UTF-8 text.
    """

    beam_coder = WRAPPED  # the functions are Python code: only a pickled coder can carry them

    def __init__(
        self,
        value_coder: Coder,
        from_inner,
        to_inner,
        *,
        type_hint=typing.Any,
        deterministic: bool = False,
    ):
        super().__init__(value_coder)
        for name, fn in (("from_inner", from_inner), ("to_inner", to_inner)):
            if not callable(fn):
                raise TypeError(f"XmapCoder: {name} must be callable, not {type(fn).__name__} {short_repr(fn)}")
        self.from_inner = from_inner
        self.to_inner = to_inner
        self.type_hint = type_hint
        self.deterministic = bool(deterministic)

    def encode_to(self, value, out, nested):
        try:
            inner = self.to_inner(value)
        except Exception as e:
            raise EncodeError(
                f"to_inner raised {type(e).__name__}: {e}",
                coder=self,
                value=value,
                fix=f"give {self!r} a value its to_inner function accepts",
            ) from e
        self.value_coder.encode_to(inner, out, nested)

    def decode_from(self, data, pos, nested):
        inner, pos = self.value_coder.decode_from(data, pos, nested)
        return self.from_inner(inner), pos

    def min_nested_size(self) -> int:
        return min_nested_size(self.value_coder)

    def estimate_size(self, value, nested=False):
        return self.value_coder.estimate_size(self.to_inner(value), nested)

    def own_determinism_issues(self):
        if self.deterministic:
            return []
        return [
            (
                "XmapCoder cannot know whether to_inner maps equal values to equal inner values",
                "pass deterministic=True when it does (equal values give equal inner values)",
            )
        ]

    def as_deterministic_coder(self, context=None):
        if self.is_deterministic():
            return self
        self.verify_deterministic(context)  # raises with every reason
        return self

    def value_strategy(self, child, st):
        return child(self.value_coder).map(self.from_inner)

    def to_type_hint(self):
        return self.type_hint

    def _params(self):
        return (self.from_inner, self.to_inner, self.type_hint, self.deterministic)

    def _repr_args(self):
        name = getattr(self.from_inner, "__qualname__", None) or short_repr(self.from_inner, 40)
        return [repr(self.value_coder), f"from_inner={name}"]
