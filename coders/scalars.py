"""Coders for the standard library's smaller value types: bytearray, complex, Fraction, paths, IP addresses.

Each is exact (the value comes back of the same class and equal) and says whether it is
deterministic. None of them has a Beam twin that decodes to the same type, so ``to_beam``
wraps them. ``scalar_rule`` is their registry rule. Bytes, per coder (docs/wire-format.md):

* ``BytearrayCoder``: BytesCoder's bytes (raw outer, varint length + bytes nested).
* ``ComplexCoder``: the real and the imaginary part as big-endian doubles (16 bytes).
* ``FractionCoder``: numerator, then denominator, each a varint byte count and minimal
  big-endian two's complement (Java's ``BigInteger.toByteArray()``), in both contexts.
* ``PathCoder``: a flavour byte (0 PurePosixPath, 1 PureWindowsPath, 2 PosixPath,
  3 WindowsPath), then ``str(path)`` as StrUtf8Coder writes it in the same context.
* ``IPAddressCoder``: a kind byte, the packed address (4 or 16 bytes), a prefix-length
  byte for networks and interfaces, and for IPv6 addresses and interfaces a varint byte
  count and the UTF-8 scope id (0 for none).
"""

from __future__ import annotations

import fractions
import ipaddress
import math
import numbers
import operator
import pathlib
import typing

from .base import WRAPPED, Coder
from .errors import DecodeError
from .primitives import canonical_double
from .streams import DOUBLE_BE, read_exact, read_length_prefixed, write_varint64

__all__ = ["BytearrayCoder", "ComplexCoder", "FractionCoder", "IPAddressCoder", "PathCoder", "scalar_rule"]


class _Scalar(Coder):
    """A leaf: no components; pickles as its constructor call."""

    def __reduce__(self):
        return (type(self), self._params())


# ------------------------------------------------------------------------------------ bytearray


class BytearrayCoder(_Scalar):
    """A ``bytearray`` with BytesCoder's bytes (raw outer; varint length + bytes nested); decodes to a
    new ``bytearray``. Only ``bytearray`` itself is accepted (``bytes`` would come back mutable).
    Deterministic: equal bytearrays are equal bytes."""

    beam_coder = WRAPPED  # Beam's BytesCoder writes these bytes but decodes to bytes

    def value_strategy(self, child, st):
        return st.binary(max_size=64).map(bytearray)

    def min_nested_size(self):
        return 1

    def encode_to(self, value, out, nested):
        if type(value) is not bytearray:
            raise self._encode_error(value, "bytearray", "pass bytearray(x), or use BytesCoder for bytes")
        if nested:
            write_varint64(out, len(value))
        out += value

    def decode_from(self, data, pos, nested):
        if not nested:
            return bytearray(data[pos:]), len(data)
        raw, pos = read_length_prefixed(data, pos, "bytearray")
        return bytearray(raw), pos

    def to_type_hint(self):
        return bytearray


# -------------------------------------------------------------------------------------- complex


class ComplexCoder(_Scalar):
    """A ``complex`` as two big-endian doubles, real then imaginary (16 bytes in both contexts).

    Signed zeros, infinities and NaN payloads of each part survive. Not deterministic, like
    floats (``-0.0 == 0.0`` but their bytes differ; NaN never equals itself):
    ``ComplexCoder(deterministic=True)`` (``as_deterministic_coder()``) writes each part as
    CanonicalFloatCoder does. ``lenient=True`` (what the registry builds for ``complex``, whose
    numeric tower takes ``float`` and ``int``) also accepts a ``float`` or an integer a double
    holds exactly, which decodes as ``complex(x)``.
    """

    beam_coder = WRAPPED  # Beam has no complex coder
    fixed_width = 16

    def __init__(self, deterministic: bool = False, lenient: bool = False):
        self.deterministic = bool(deterministic)
        self.lenient = bool(lenient)

    def _params(self):
        return (self.deterministic, self.lenient)

    def _repr_args(self):
        return [f"{name}=True" for name, on in (("deterministic", self.deterministic), ("lenient", self.lenient)) if on]

    def value_strategy(self, child, st):
        values = st.complex_numbers(allow_nan=True, allow_infinity=True)
        if self.deterministic:  # -0.0 parts come back as 0.0 by design
            return values.map(lambda z: complex(z.real or 0.0, z.imag or 0.0))
        return values

    def _as_complex(self, value) -> complex:
        if isinstance(value, complex):
            return value
        if self.lenient and isinstance(value, float):
            return complex(value)
        if self.lenient and isinstance(value, numbers.Integral):
            number = operator.index(value)
            try:
                wide = float(number)
            except OverflowError:
                wide = math.nan
            if wide == number:
                return complex(wide)
            raise self._encode_error(
                value,
                "a complex, a float, or an integer a double holds exactly (this one would be rounded)",
                "pass complex(x) if rounding is intended",
            )
        fix = "pass complex(x)" + ("" if self.lenient else ", or ComplexCoder(lenient=True) to write floats and ints")
        raise self._encode_error(value, "complex", fix)

    def encode_to(self, value, out, nested):
        z = value if type(value) is complex else self._as_complex(value)
        if self.deterministic:
            out += canonical_double(z.real) + canonical_double(z.imag)
        else:
            out += DOUBLE_BE.pack(z.real) + DOUBLE_BE.pack(z.imag)

    def decode_from(self, data, pos, nested):
        raw, end = read_exact(data, pos, 16, "complex")
        return complex(DOUBLE_BE.unpack_from(raw, 0)[0], DOUBLE_BE.unpack_from(raw, 8)[0]), end

    def own_determinism_issues(self):
        if self.deterministic:
            return []
        return [
            (
                "complex parts are doubles: -0.0 == 0.0 but their bytes differ, and NaN never equals itself",
                "use ComplexCoder(deterministic=True) (as_deterministic_coder()), which writes 0.0 for -0.0 "
                "and one canonical NaN",
            )
        ]

    def as_deterministic_coder(self, context=None):
        return ComplexCoder(deterministic=True, lenient=self.lenient)

    def to_type_hint(self):
        return complex


# ------------------------------------------------------------------------------------- Fraction


def _bigint_bytes(value: int) -> bytes:
    """Minimal big-endian two's complement (Java's ``BigInteger.toByteArray()``)."""
    return value.to_bytes(((value + 1 if value < 0 else value).bit_length() + 8) // 8, "big", signed=True)


def _read_bigint(data, pos: int, what: str) -> tuple[int, int]:
    start = pos
    raw, pos = read_length_prefixed(data, pos, what)
    if not raw:
        raise DecodeError(f"{what}: empty (an integer takes at least one byte)", offset=start)
    value = int.from_bytes(raw, "big", signed=True)
    if len(raw) != len(_bigint_bytes(value)):
        raise DecodeError(f"{what}: {len(raw)} bytes where the minimal form takes fewer", offset=start)
    return value, pos


class FractionCoder(_Scalar):
    """A ``fractions.Fraction``: numerator then denominator, each a varint byte count and the integer's
    minimal big-endian two's complement; the same bytes in both contexts, any size of integer.

    A Fraction is always in lowest terms with a positive denominator, so equal fractions give equal
    bytes: deterministic. Decoding refuses a denominator that is not positive or a pair that is
    not in lowest terms (those bytes no Fraction writes), and non-minimal integers. Only
    ``Fraction`` itself is accepted (an int would come back as a Fraction).
    """

    beam_coder = WRAPPED  # Beam has no Fraction coder

    def value_strategy(self, child, st):
        return st.fractions()

    def min_nested_size(self):
        return 4

    def encode_to(self, value, out, nested):
        if type(value) is not fractions.Fraction:
            raise self._encode_error(value, "fractions.Fraction", "pass fractions.Fraction(x)")
        for part in (value.numerator, value.denominator):
            raw = _bigint_bytes(part)
            write_varint64(out, len(raw))
            out += raw

    def decode_from(self, data, pos, nested):
        start = pos
        numerator, pos = _read_bigint(data, pos, "Fraction numerator")
        denominator, pos = _read_bigint(data, pos, "Fraction denominator")
        if denominator <= 0:
            raise DecodeError(f"Fraction denominator {denominator} is not positive", offset=start)
        if math.gcd(numerator, denominator) != 1:
            raise DecodeError(f"Fraction {numerator}/{denominator} is not in lowest terms", offset=start)
        return fractions.Fraction(numerator, denominator), pos

    def to_type_hint(self):
        return fractions.Fraction


# ----------------------------------------------------------------------------------------- paths

# The flavour byte of each class; the order is the wire format.
_PATH_CLASSES = (pathlib.PurePosixPath, pathlib.PureWindowsPath, pathlib.PosixPath, pathlib.WindowsPath)


class PathCoder(_Scalar):
    """A ``pathlib`` path that keeps its class: a flavour byte (0 PurePosixPath, 1 PureWindowsPath,
    2 PosixPath, 3 WindowsPath), then ``str(path)`` as StrUtf8Coder writes it (raw outer, varint
    length + UTF-8 nested). Subclasses of these are refused (they would come back as their base).

    Posix paths compare by their text, so they are deterministic. Windows paths compare
    case-insensitively (``PureWindowsPath('A') == PureWindowsPath('a')``), so the coder is not
    deterministic; ``PathCoder(deterministic=True)`` (``as_deterministic_coder()``) writes a
    Windows path's text lower-cased, as pathlib compares it (equal, but the case is lost).
    """

    beam_coder = WRAPPED  # Beam has no path coder

    def __init__(self, deterministic: bool = False):
        self.deterministic = bool(deterministic)

    def _params(self):
        return (self.deterministic,)

    def _repr_args(self):
        return ["deterministic=True"] if self.deterministic else []

    def min_nested_size(self):
        return 2

    def value_strategy(self, child, st):
        parts = st.lists(st.text(alphabet="abcXYZ._- é", min_size=1, max_size=6), max_size=4)
        windows = st.tuples(st.sampled_from(["", "C:\\", "\\\\host\\share\\"]), parts).map(
            lambda dp: pathlib.PureWindowsPath(dp[0], *dp[1])
        )
        if self.deterministic:
            windows = windows.map(lambda p: pathlib.PureWindowsPath(str(p).lower()))
        posix = st.tuples(st.sampled_from(["", "/"]), parts).map(lambda rp: (rp[0], *rp[1]))
        return posix.map(lambda a: pathlib.PurePosixPath(*a)) | posix.map(lambda a: pathlib.PosixPath(*a)) | windows

    def encode_to(self, value, out, nested):
        try:
            flavour = _PATH_CLASSES.index(type(value))
        except ValueError:
            raise self._encode_error(
                value,
                "a pathlib path (PurePosixPath, PureWindowsPath, PosixPath or WindowsPath)",
                "pass one of those classes (subclasses would come back as their base), or register a coder for it",
            ) from None
        text = str(value)
        if self.deterministic and flavour in (1, 3):
            text = text.lower()
        try:
            raw = text.encode("utf-8")
        except UnicodeEncodeError as e:
            raise self._encode_error(
                value,
                f"a path whose text is valid UTF-8 (a lone surrogate at index {e.start}, from an undecodable "
                "file name)",
                "use BytesCoder with os.fsencode(path)",
            ) from None
        out.append(flavour)
        if nested:
            write_varint64(out, len(raw))
        out += raw

    def decode_from(self, data, pos, nested):
        if pos >= len(data):
            raise DecodeError("truncated input: a path needs its flavour byte", offset=pos)
        flavour = data[pos]
        if flavour >= len(_PATH_CLASSES):
            raise DecodeError(f"invalid path flavour byte 0x{flavour:02x}: expected 0x00 to 0x03", offset=pos)
        start = pos
        if nested:
            raw, pos = read_length_prefixed(data, pos + 1, "path")
        else:
            raw, pos = bytes(data[pos + 1 :]), len(data)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise DecodeError(f"invalid UTF-8 in path: {e.reason}", offset=start) from None
        cls = _PATH_CLASSES[flavour]
        try:
            return cls(text), pos
        except NotImplementedError:  # a concrete path of the other system's flavour
            raise DecodeError(
                f"{cls.__name__} cannot be created on this system; decode where it was written, or encode "
                f"Pure{cls.__name__} values",
                offset=start,
            ) from None

    def own_determinism_issues(self):
        if self.deterministic:
            return []
        return [
            (
                "Windows paths compare case-insensitively, but their text is written as it is",
                "use PathCoder(deterministic=True) (as_deterministic_coder()), which writes Windows paths lower-cased",
            )
        ]

    def as_deterministic_coder(self, context=None):
        return PathCoder(deterministic=True)

    def to_type_hint(self):
        return pathlib.PurePath


# ---------------------------------------------------------------------------------- IP addresses

# The kind byte of each class; the order is the wire format.
_IP_CLASSES = (
    ipaddress.IPv4Address,
    ipaddress.IPv6Address,
    ipaddress.IPv4Network,
    ipaddress.IPv6Network,
    ipaddress.IPv4Interface,
    ipaddress.IPv6Interface,
)


class IPAddressCoder(_Scalar):
    """An ``ipaddress`` address, network or interface, v4 or v6, that keeps its class.

    A kind byte (0 IPv4Address, 1 IPv6Address, 2 IPv4Network, 3 IPv6Network, 4 IPv4Interface,
    5 IPv6Interface), the packed address (4 or 16 bytes), a prefix-length byte for networks and
    interfaces, and for IPv6 addresses and interfaces a varint byte count and the UTF-8 scope id
    (``fe80::1%eth0``; 0 for none). The same bytes in both contexts. Deterministic: equal values
    have equal addresses, prefixes and scopes. Decoding refuses a network with host bits set.
    """

    beam_coder = WRAPPED  # Beam has no IP address coder

    def min_nested_size(self):
        return 5

    def value_strategy(self, child, st):
        v4 = st.ip_addresses(v=4)
        v6 = st.ip_addresses(v=6)
        nets = st.one_of(
            st.tuples(v4, st.integers(0, 32)).map(lambda a: ipaddress.IPv4Network(a, strict=False)),
            st.tuples(v6, st.integers(0, 128)).map(lambda a: ipaddress.IPv6Network(a, strict=False)),
        )
        ifaces = st.one_of(
            st.tuples(v4, st.integers(0, 32)).map(ipaddress.IPv4Interface),
            st.tuples(v6, st.integers(0, 128)).map(ipaddress.IPv6Interface),
        )
        scoped = st.tuples(v6, st.text(alphabet="abz09", min_size=1, max_size=5)).map(
            lambda a: ipaddress.IPv6Address(f"{a[0]}%{a[1]}")
        )
        return v4 | v6 | nets | ifaces | scoped

    def encode_to(self, value, out, nested):
        try:
            kind = _IP_CLASSES.index(type(value))
        except ValueError:
            raise self._encode_error(
                value,
                "an ipaddress address, network or interface (IPv4Address, IPv6Address, IPv4Network, ...)",
                "pass ipaddress.ip_address(x) / ip_network(x) / ip_interface(x)",
            ) from None
        if kind in (0, 1):
            address, prefix, scope = value, None, value.scope_id if kind == 1 else None
        elif kind in (2, 3):
            address, prefix, scope = value.network_address, value.prefixlen, None
        else:
            address, prefix = value.ip, value.network.prefixlen
            scope = value.scope_id if kind == 5 else None  # .ip drops the scope
        out.append(kind)
        out += address.packed
        if prefix is not None:
            out.append(prefix)
        if kind in (1, 5):
            try:
                raw = (scope or "").encode("utf-8")
            except UnicodeEncodeError:
                raise self._encode_error(
                    value, "an IPv6 scope id that is valid UTF-8", "remove the surrogate"
                ) from None
            write_varint64(out, len(raw))
            out += raw

    def decode_from(self, data, pos, nested):
        start = pos
        if pos >= len(data):
            raise DecodeError("truncated input: an IP address needs its kind byte", offset=pos)
        kind = data[pos]
        if kind >= len(_IP_CLASSES):
            raise DecodeError(f"invalid IP address kind byte 0x{kind:02x}: expected 0x00 to 0x05", offset=pos)
        v6 = kind % 2 == 1
        packed, pos = read_exact(data, pos + 1, 16 if v6 else 4, "IP address")
        prefix = None
        if kind >= 2:
            raw_prefix, pos = read_exact(data, pos, 1, "IP prefix length")
            prefix = raw_prefix[0]
            if prefix > (128 if v6 else 32):
                raise DecodeError(f"IP prefix length {prefix} is over {128 if v6 else 32}", offset=pos - 1)
        scope = ""
        if kind in (1, 5):
            at = pos
            raw, pos = read_length_prefixed(data, pos, "IPv6 scope id")
            try:
                scope = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise DecodeError(f"invalid UTF-8 in IPv6 scope id: {e.reason}", offset=at) from None
            if raw and ("%" in scope or "/" in scope):
                raise DecodeError(f"invalid IPv6 scope id {scope!r}", offset=at)
        address = (ipaddress.IPv6Address if v6 else ipaddress.IPv4Address)(packed)
        text = f"{address}%{scope}" if scope else str(address)
        if prefix is not None:
            text += f"/{prefix}"
        try:
            return _IP_CLASSES[kind](text), pos
        except ValueError as e:  # a network with host bits set, an odd scope id
            raise DecodeError(f"invalid {_IP_CLASSES[kind].__name__}: {e}", offset=start) from None

    def to_type_hint(self):
        return typing.Union[_IP_CLASSES]  # a Union: coders.testing reads an X | Y hint as one class


# ------------------------------------------------------------------------------------- the rule

_PATH_HINTS = frozenset({pathlib.PurePath, pathlib.Path, *_PATH_CLASSES})


def scalar_rule(hint, registry, context):
    """``bytearray``, ``complex``, ``fractions.Fraction``, the ``pathlib`` classes and the ``ipaddress``
    address, network and interface classes: the coders of this module."""
    if hint is bytearray:
        return BytearrayCoder()
    if hint is complex:
        return ComplexCoder(lenient=True)
    if hint is fractions.Fraction:
        return FractionCoder()
    if hint in _PATH_HINTS:
        return PathCoder()
    if hint in _IP_CLASSES:
        return IPAddressCoder()
    return None
