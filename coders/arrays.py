"""Coders for numpy: ``NumpyArrayCoder`` (``numpy.ndarray``) and ``NumpyScalarCoder`` (``numpy.int64`` ...).

coderkit never imports numpy itself: the coders import it inside their methods (a numpy value
proves it is installed) and the registry rules here answer only when ``numpy`` is already in
``sys.modules``.

**Arrays** are a small header and the raw buffer, the same bytes in both contexts (the header
says how many bytes follow):

* the dtype as its canonical ``dtype.str`` text (``<f8``, ``|b1``, ``<U3``, ``|S2``,
  ``<M8[ns]``, ``>i4``), ASCII, varint length first;
* ``ndim`` as a varint, then each dimension as a varint;
* the elements in C order, ``prod(shape) * itemsize`` bytes in the dtype's own byte order.

A dtype is read only after its text passes an allowlist (booleans, integers, floats up to 64
bits, complex, datetime64/timedelta64 with a unit, fixed-width bytes and unicode), and the
shape only when the bytes it claims are present, so hostile headers raise ``DecodeError``
without allocating or evaluating anything. Object arrays take ``element_coder`` (each element
written nested, in C order, after a ``|O`` header); without one they are refused, as are
structured (void), longdouble and variable-width string dtypes.

Decoding copies the buffer once by default, so the array owns writable memory, as pickle's does
(a ``DoFn`` that changes an array in place keeps working, and a small array never pins the large
record it came in). ``zero_copy=True`` skips the copy when the input is ``bytes``: the array is a
read-only view of those bytes (``numpy.frombuffer``); from a mutable buffer (``bytearray``, a
``memoryview`` over one) it is still copied, since the caller may reuse that buffer, and marked
read-only. Encoding copies the buffer once, into the output (twice for a Fortran-ordered or
non-contiguous array, which is first made C-contiguous).

**Scalars** keep their numpy type. Booleans, integers, floats and complex are their value in
big-endian order (``NumpyScalarCoder(numpy.float64)`` writes FloatCoder's bytes);
datetime64/timedelta64 are their unit (``D``, ``2s``, empty for generic) as length-prefixed
ASCII, then the int64 count, big-endian.
"""

from __future__ import annotations

import re
import sys
import typing
from typing import Any

from .base import WRAPPED, Coder
from .errors import DecodeError
from .streams import read_exact, read_varint64, varint64_bytes

__all__ = ["NumpyArrayCoder", "NumpyScalarCoder", "numpy_array_rule", "numpy_scalar_rule"]

#: Most dimensions a decoded array may claim (numpy 2's own limit).
MAX_NDIM = 64
#: Longest dtype text accepted (``<M8[123456789as]`` is 16 characters).
_MAX_DTYPE_TEXT = 24
#: Largest itemsize of a fixed-width bytes or unicode dtype accepted.
_MAX_ITEMSIZE = (1 << 31) - 1
_INTP_MAX = (1 << 63) - 1
#: Most elements an object array of zero-width elements (NoneCoder) may claim on decode.
ZERO_WIDTH_LIMIT = 1 << 20

_UNITS = "Y|M|W|D|h|m|s|ms|us|ns|ps|fs|as"
_DTYPE_TEXT = re.compile(rf"([<>|])(?:([biufc])(\d{{1,2}})|([SU])(\d{{1,10}})|([Mm])8(?:\[(\d{{0,9}})({_UNITS})\])?)\Z")
_UNIT_TEXT = re.compile(rf"(?:(\d{{0,9}})({_UNITS}))?\Z")
_NUMERIC_SIZES = {"b": (1,), "i": (1, 2, 4, 8), "u": (1, 2, 4, 8), "f": (2, 4, 8), "c": (8, 16)}
_OBJECT_TEXT = "|O"

_FIX_OBJECT = (
    "convert it to a fixed dtype (arr.astype(numpy.int64), arr.astype(str) ...), or code its elements "
    "explicitly with NumpyArrayCoder(element_coder=<a coder for the elements>)"
)


def _numpy():
    np = sys.modules.get("numpy")
    if np is None:  # only reached with a value or a type that came from numpy
        import numpy as np
    return np


def dtype_text_problem(text: str) -> str | None:
    """Why ``text`` is not a dtype this coder reads, or None when it passes the allowlist.

    Pure text checks: nothing is evaluated and numpy is not called.
    """
    m = _DTYPE_TEXT.match(text)
    if m is None:
        return (
            f"dtype {text!r} is not one NumpyArrayCoder codes (booleans, integers, float16/32/64, complex64/128, "
            "datetime64/timedelta64, fixed-width bytes 'S' and unicode 'U')"
        )
    order, kind, size, skind, count = m.group(1, 2, 3, 4, 5)
    if kind is not None:
        itemsize = int(size)
        if itemsize not in _NUMERIC_SIZES[kind]:
            return f"dtype {text!r}: a {kind!r} dtype of {itemsize} bytes is not coded (platform-dependent or unknown)"
    elif skind is not None:
        n = int(count)
        itemsize = n * (4 if skind == "U" else 1)
        if n == 0 or itemsize > _MAX_ITEMSIZE:
            return f"dtype {text!r}: a {skind!r} dtype needs 1 to {_MAX_ITEMSIZE} bytes per element"
        if skind == "S":
            itemsize = 1
    else:
        itemsize = 8
    if (order == "|") != (itemsize == 1):
        return f"dtype {text!r}: byte order {order!r} does not fit a {itemsize}-byte element"
    return None


def _dtype_from_text(text: str):
    """The numpy dtype for allowlisted ``text``; its canonical text must be ``text`` itself."""
    np = _numpy()
    dt = np.dtype(text)
    if dt.str != text:
        raise ValueError(f"dtype {text!r} is not canonical (numpy writes it {dt.str!r})")
    return dt


def _read_ascii(data, pos: int, what: str) -> tuple[str, int]:
    start = pos
    n, pos = read_varint64(data, pos)
    if not 0 <= n <= _MAX_DTYPE_TEXT:
        raise DecodeError(f"{what}: length {n} is outside 0..{_MAX_DTYPE_TEXT}", offset=start)
    raw, pos = read_exact(data, pos, n, what)
    try:
        return raw.decode("ascii"), pos
    except UnicodeDecodeError:
        raise DecodeError(f"{what}: {raw!r} is not ASCII", offset=start) from None


def _scalar_type_name(cls) -> str:
    return f"numpy.{cls.__name__}" if cls is not None else "any dtype"


# ============================================================================ arrays


class NumpyArrayCoder(Coder):
    """A ``numpy.ndarray``: dtype text, shape, then the raw C-order buffer (see the module docstring).

    Exact for dtype (byte order included), shape and every bit of the values, 0-d and
    empty arrays too; Fortran-ordered and non-contiguous arrays come back equal, C-ordered.
    ``scalar_type`` (from an ``NDArray[numpy.float64]`` hint) refuses arrays of another
    element type; ``element_coder`` codes object arrays; ``zero_copy`` trades the decode copy
    for a read-only view. Not deterministic: arrays are unhashable and compare element-wise,
    and float arrays hold -0.0 and NaN payloads; key by ``arr.tobytes()`` or a tuple instead.
    """

    beam_coder = WRAPPED  # Beam has no array coder (it pickles them)

    #: dtype text (1 + 2, "|O"), ndim (1): the fewest bytes a nested array takes.
    MIN_NESTED_SIZE = 4

    def __init__(self, scalar_type: type | None = None, element_coder: Coder | None = None, zero_copy: bool = False):
        if element_coder is not None and not isinstance(element_coder, Coder):
            raise TypeError(
                f"NumpyArrayCoder's element_coder must be a coders.Coder, not {type(element_coder).__name__}"
            )
        self.scalar_type = scalar_type
        self.element_coder = element_coder
        self.zero_copy = bool(zero_copy)
        self._headers: dict[str, bytes] = {}

    def __reduce__(self):
        return (type(self), (self.scalar_type, self.element_coder, self.zero_copy))

    def _params(self):
        return (self.scalar_type, self.zero_copy)

    def labelled_components(self):
        return [("[element]", self.element_coder)] if self.element_coder is not None else []

    def _repr_args(self):
        args = []
        if self.scalar_type is not None:
            args.append(_scalar_type_name(self.scalar_type))
        if self.element_coder is not None:
            args.append(f"element_coder={self.element_coder!r}")
        if self.zero_copy:
            args.append("zero_copy=True")
        return args

    def min_nested_size(self) -> int:
        return self.MIN_NESTED_SIZE

    def to_type_hint(self):
        np = sys.modules.get("numpy")
        if np is None:
            return typing.Any
        if self.scalar_type is None:
            return np.ndarray
        return np.ndarray[tuple[Any, ...], np.dtype[self.scalar_type]]

    def own_determinism_issues(self):
        return [
            (
                "numpy arrays compare element-wise and are unhashable, and float arrays hold -0.0 and NaN "
                "payloads whose bytes differ between equal values",
                "key by a hashable, canonical form: arr.tobytes() with the dtype and shape, or tuple(arr.tolist())",
            )
        ]

    # ---- header -----------------------------------------------------------------------------

    def _array_of(self, value):
        np = sys.modules.get("numpy")
        if np is None or type(value) is not np.ndarray:
            if np is not None and isinstance(value, np.ndarray):
                raise self._encode_error(
                    value,
                    f"a numpy.ndarray (the subclass {type(value).__name__} would decode as a plain ndarray)",
                    "pass numpy.asarray(x), or register a coder for the subclass",
                )
            raise self._encode_error(value, "a numpy.ndarray", "pass numpy.asarray(x) if the conversion is intended")
        return value

    def _dtype_header(self, value) -> bytes:
        dt = value.dtype
        text = dt.str
        header = self._headers.get(text)
        if header is not None:
            return header
        kind = dt.kind
        if self.scalar_type is not None and not issubclass(dt.type, self.scalar_type):
            raise self._encode_error(
                value,
                f"an array of {_scalar_type_name(self.scalar_type)} elements (its hint), not of dtype {dt}",
                f"convert it (arr.astype(numpy.{self.scalar_type.__name__})) or hint numpy.ndarray / NDArray[Any]",
            )
        if kind == "O":
            if self.element_coder is None:
                raise self._encode_error(
                    value,
                    "an array of a fixed dtype (dtype object holds Python objects, which it will not pickle silently)",
                    _FIX_OBJECT,
                )
            text = _OBJECT_TEXT
        else:
            problem = dtype_text_problem(text) if dt.names is None and dt.subdtype is None else None
            if problem is not None or dt.names is not None or kind == "V":
                why = "structured (void) dtypes are not coded" if kind == "V" else problem
                raise self._encode_error(
                    value,
                    f"an array of a dtype NumpyArrayCoder codes ({why})",
                    "convert it to a plain dtype (arr.astype(numpy.float64); for a structured array, one array per "
                    "field, or a dataclass of arrays), or register a coder for it",
                )
        raw = text.encode("ascii")
        header = varint64_bytes(len(raw)) + raw
        if len(self._headers) < 64:
            self._headers[dt.str] = header
        return header

    def _header(self, value) -> bytes:
        shape = value.shape
        if len(shape) == 1:
            return self._dtype_header(value) + b"\x01" + varint64_bytes(shape[0])
        return self._dtype_header(value) + b"".join([varint64_bytes(len(shape))] + [varint64_bytes(d) for d in shape])

    @staticmethod
    def _raw(value):
        """The elements' bytes in C order, as a uint8 array (a view when ``value`` is C-contiguous)."""
        np = sys.modules["numpy"]
        c = value if value.flags.c_contiguous else np.ascontiguousarray(value)
        return c.reshape(-1).view(np.uint8)

    # ---- encode -----------------------------------------------------------------------------

    def encode_to(self, value, out, nested):
        value = self._array_of(value)
        out += self._header(value)
        if value.dtype.kind == "O":
            element = self.element_coder
            for item in value.flat:  # C order
                element.encode_to(item, out, True)
        else:
            out += memoryview(self._raw(value))

    def encode(self, value):
        value = self._array_of(value)
        if value.dtype.kind == "O":
            return Coder.encode(self, value)
        return b"".join((self._header(value), self._raw(value)))

    encode_nested = encode

    def estimate_size(self, value, nested=False):
        value = self._array_of(value)
        if value.dtype.kind == "O":
            return Coder.estimate_size(self, value, nested)
        return len(self._header(value)) + value.nbytes

    # ---- decode -----------------------------------------------------------------------------

    def _read_header(self, data, pos: int):
        start = pos
        text, pos = _read_ascii(data, pos, "numpy dtype")
        if text == _OBJECT_TEXT:
            if self.element_coder is None:
                raise DecodeError(
                    "the bytes hold an object array (dtype '|O'), which this coder has no element_coder for",
                    offset=start,
                )
            dt = None
        else:
            problem = dtype_text_problem(text)
            if problem is not None:
                raise DecodeError(problem, offset=start)
            try:
                dt = _dtype_from_text(text)
            except (TypeError, ValueError) as e:
                raise DecodeError(f"numpy dtype {text!r}: {e}", offset=start) from None
        ndim_at = pos
        ndim, pos = read_varint64(data, pos)
        if not 0 <= ndim <= MAX_NDIM:
            raise DecodeError(f"numpy array: ndim {ndim} is outside 0..{MAX_NDIM}", offset=ndim_at)
        shape = []
        count = 1
        bound = 1  # numpy refuses a shape whose non-zero dimensions multiply past intp, even with a zero
        itemsize = dt.itemsize if dt is not None else 1
        for _ in range(ndim):
            dim_at = pos
            d, pos = read_varint64(data, pos)
            if d < 0:
                raise DecodeError(f"numpy array: negative dimension {d}", offset=dim_at)
            bound *= max(d, 1)
            if bound * itemsize > _INTP_MAX:
                raise DecodeError(
                    f"numpy array: shape {tuple(shape) + (d,)}... is larger than any array can be", offset=dim_at
                )
            count *= d
            shape.append(d)
        return dt, tuple(shape), count, pos

    def decode_from(self, data, pos, nested):
        start = pos
        dt, shape, count, pos = self._read_header(data, pos)
        if dt is None:
            return self._decode_objects(data, pos, shape, count, start)
        nbytes = count * dt.itemsize
        remaining = len(data) - pos
        if nbytes > remaining or (not nested and nbytes != remaining):
            raise DecodeError(
                f"numpy array of dtype {dt.str} and shape {shape}: needs {nbytes} bytes of elements but "
                f"{remaining} remain",
                offset=pos,
            )
        np = sys.modules.get("numpy") or _numpy()
        flat = np.frombuffer(data, dtype=dt, count=count, offset=pos)
        if not self.zero_copy:
            flat = flat.copy()
        elif not _immutable(data):
            flat = flat.copy()
            flat.flags.writeable = False
        return flat.reshape(shape), pos + nbytes

    def _decode_objects(self, data, pos, shape, count, start):
        np = _numpy()
        per_element = max(self.element_coder.min_nested_size(), 0)
        remaining = len(data) - pos
        if (per_element and count * per_element > remaining) or (
            not per_element and count > max(remaining, ZERO_WIDTH_LIMIT)
        ):
            raise DecodeError(
                f"numpy object array of shape {shape}: {count} elements cannot fit in the {remaining} bytes that "
                "remain",
                offset=start,
            )
        flat = np.empty(count, dtype=object)
        element = self.element_coder
        for i in range(count):
            flat[i], pos = element.decode_from(data, pos, True)
        return flat.reshape(shape), pos

    def decode(self, data):
        return self._decode_all(data, False)

    decode_nested = decode

    # ---- test values ------------------------------------------------------------------------

    def value_strategy(self, child, st):
        np = _numpy()
        from hypothesis.extra import numpy as hnp

        shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
        if self.element_coder is not None:
            elements = child(self.element_coder)

            def build(shape_and_draw):
                shape, values = shape_and_draw
                flat = np.empty(len(values), dtype=object)
                for i, v in enumerate(values):
                    flat[i] = v
                return flat.reshape(shape)

            return shapes.flatmap(
                lambda shape: st.tuples(
                    st.just(shape), st.lists(elements, min_size=_size(shape), max_size=_size(shape))
                )
            ).map(build)
        dtypes = [np.dtype(t) for t in _SAMPLE_DTYPES]
        if self.scalar_type is not None:
            dtypes = [d for d in dtypes if issubclass(d.type, self.scalar_type)] or [np.dtype(self.scalar_type)]
        arrays = st.sampled_from(dtypes).flatmap(lambda dt: hnp.arrays(dt, shapes))
        # Fortran order and strided views come back equal (C-ordered): generate them too.
        return arrays | arrays.map(np.asfortranarray) | arrays.map(lambda a: a[::2] if a.ndim else a)


_SAMPLE_DTYPES = (
    "|b1",
    "|i1",
    "<i2",
    "<i4",
    "<i8",
    ">i8",
    "|u1",
    "<u2",
    "<u4",
    "<u8",
    "<f2",
    "<f4",
    "<f8",
    ">f8",
    "<c8",
    "<c16",
    "<M8[D]",
    "<M8[ns]",
    "<m8[s]",
    "<m8[us]",
    "|S3",
    "<U2",
)


def _size(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _immutable(data) -> bool:
    """True when ``data`` can never change under a view of it (``bytes``, or a memoryview of bytes)."""
    if type(data) is bytes:
        return True
    return type(data) is memoryview and type(data.obj) is bytes


# ============================================================================ scalars

_CANONICAL_NAN = {2: bytes.fromhex("7e00"), 4: bytes.fromhex("7fc00000"), 8: bytes.fromhex("7ff8000000000000")}


class NumpyScalarCoder(Coder):
    """One numpy scalar type (``numpy.int64``, ``numpy.float32``, ``numpy.bool_``, ``numpy.datetime64`` ...),
    decoded as that type.

    Bytes: booleans, integers, floats and complex as their value in big-endian order
    (``fixed_width`` = the itemsize; a complex is its real then its imaginary part);
    datetime64/timedelta64 as the unit (``D``, ``2s``, empty for generic) as varint-length
    ASCII, then the int64 count big-endian. Only values of exactly ``scalar_type`` encode.

    Integer and bool scalars are deterministic. Float and complex ones are not (-0.0 == 0.0,
    NaN payloads): ``as_deterministic_coder()`` gives ``NumpyScalarCoder(t, canonical=True)``,
    which writes 0.0 for -0.0 and one NaN per width, as CanonicalFloatCoder does. datetime64 and
    timedelta64 are not deterministic either (equal instants in two units encode apart) and have
    no deterministic variant.
    """

    beam_coder = WRAPPED  # Beam pickles numpy scalars

    def __init__(self, scalar_type: type, canonical: bool = False):
        np = _numpy()
        if not (isinstance(scalar_type, type) and issubclass(scalar_type, np.generic)):
            raise TypeError(f"NumpyScalarCoder takes a numpy scalar type, not {scalar_type!r}")
        dt = np.dtype(scalar_type)
        self.kind = dt.kind
        self.is_time = dt.kind in "Mm"
        if (not self.is_time and dtype_text_problem(dt.str) is not None) or dt.kind in "SUV":
            raise TypeError(
                f"NumpyScalarCoder codes numpy bool, integer, float16/32/64, complex64/128, datetime64 and "
                f"timedelta64 scalars, not numpy.{scalar_type.__name__} (dtype {dt.str}); convert the values "
                f"(x.item() or numpy.float64(x)) or register a coder for the type"
            )
        self.scalar_type = scalar_type
        self.canonical = bool(canonical) and dt.kind in "fc"
        self.itemsize = dt.itemsize
        self._big = dt.newbyteorder(">") if dt.itemsize > 1 else dt
        self._swap = sys.byteorder == "little" and dt.itemsize > 1
        self.fixed_width = None if self.is_time else dt.itemsize

    def __reduce__(self):
        return (type(self), self._params())

    def _params(self):
        return (self.scalar_type, self.canonical)

    def _repr_args(self):
        return [_scalar_type_name(self.scalar_type)] + (["canonical=True"] if self.canonical else [])

    def min_nested_size(self) -> int:
        return 9 if self.is_time else self.itemsize

    def to_type_hint(self):
        return self.scalar_type

    def own_determinism_issues(self):
        name = _scalar_type_name(self.scalar_type)
        if self.is_time:
            return [
                (
                    f"{name} values that are equal in different units (datetime64('2020-01-01') and "
                    "datetime64('2020-01-01T00:00')) encode apart, and NaT never equals itself",
                    "convert keys to one unit first (x.astype('datetime64[s]')) and key by its int64 count, or by a "
                    "datetime.date / datetime.datetime",
                )
            ]
        if self.kind in "fc" and not self.canonical:
            return [
                (
                    f"{name}: -0.0 == 0.0 but their bytes differ, and NaN never equals itself (payloads differ)",
                    f"use NumpyScalarCoder({name}, canonical=True) (as_deterministic_coder()), which writes 0.0 for "
                    "-0.0 and one canonical NaN",
                )
            ]
        return []

    def as_deterministic_coder(self, context=None):
        if self.kind in "fc" and not self.canonical:
            return NumpyScalarCoder(self.scalar_type, canonical=True)
        return super().as_deterministic_coder(context)

    def _check(self, value):
        if type(value) is not self.scalar_type:
            name = _scalar_type_name(self.scalar_type)
            raise self._encode_error(
                value,
                name,
                f"pass {name}(x) if the conversion is intended; declare the field's type as the numpy type it holds",
            )

    def _big_endian(self, value) -> bytes:
        raw = value.tobytes()
        if not self._swap:
            return raw
        if self.kind == "c":
            half = self.itemsize // 2
            return raw[half - 1 :: -1] + raw[: half - 1 : -1]
        return raw[::-1]

    def _canonical_part(self, raw: bytes, width: int, value) -> bytes:
        if value != value:
            return _CANONICAL_NAN[width]
        if value == 0:
            return bytes(width)
        return raw

    def encode_to(self, value, out, nested):
        self._check(value)
        if self.is_time:
            np = _numpy()
            unit, step = np.datetime_data(value.dtype)
            text = "" if unit == "generic" else (f"{step}{unit}" if step != 1 else unit)
            out += varint64_bytes(len(text))
            out += text.encode("ascii")
            out += self._big_endian(value)
            return
        raw = self._big_endian(value)
        if self.canonical:
            if self.kind == "c":
                half = self.itemsize // 2
                raw = self._canonical_part(raw[:half], half, value.real) + self._canonical_part(
                    raw[half:], half, value.imag
                )
            else:
                raw = self._canonical_part(raw, self.itemsize, value)
        out += raw

    def decode_from(self, data, pos, nested):
        np = _numpy()
        start = pos
        big = self._big
        if self.is_time:
            unit, pos = _read_ascii(data, pos, f"{self.kind}8 unit")
            if _UNIT_TEXT.match(unit) is None:
                raise DecodeError(f"numpy {self.scalar_type.__name__} unit {unit!r} is not a known unit", offset=start)
            try:
                big = _dtype_from_text(f">{self.kind}8[{unit}]" if unit else f">{self.kind}8")
            except (TypeError, ValueError) as e:
                raise DecodeError(f"numpy {self.scalar_type.__name__} unit {unit!r}: {e}", offset=start) from None
        end = pos + self.itemsize
        if end > len(data):
            raise DecodeError(
                f"truncated input: a {_scalar_type_name(self.scalar_type)} needs {self.itemsize} bytes but "
                f"{len(data) - pos} remain",
                offset=pos,
            )
        value = np.frombuffer(data, dtype=big, count=1, offset=pos)[0]
        if type(value) is not self.scalar_type:  # an alias of the same dtype (numpy.longlong vs numpy.int64)
            value = self.scalar_type(value)
        return value, end

    def estimate_size(self, value, nested=False):
        if self.is_time:
            return Coder.estimate_size(self, value, nested)
        return self.itemsize

    def value_strategy(self, child, st):
        np = _numpy()
        from hypothesis.extra import numpy as hnp

        cls = self.scalar_type
        if self.is_time:
            units = ["D", "s", "ms", "us", "ns", "h", "Y", "M"]
            dtypes = st.sampled_from([np.dtype(f"{self.kind}8[{u}]") for u in units])
        else:
            dtypes = st.just(np.dtype(cls))

        def scalar(pair):
            dt, x = pair
            value = np.array(x, dtype=dt)[()]
            if self.canonical:
                value = _canonical_value(value, np)
            return value if type(value) is cls else cls(value)

        return dtypes.flatmap(lambda dt: st.tuples(st.just(dt), hnp.from_dtype(dt))).map(scalar)


def _canonical_value(value, np):
    """``value`` as the canonical variant gives it back: each -0.0 part 0.0, each NaN part the one quiet NaN."""

    def part(x: float) -> float:
        return float("nan") if x != x else x + 0.0

    if value.dtype.kind == "c":
        return type(value)(complex(part(float(value.real)), part(float(value.imag))))
    return type(value)(part(float(value)))


# ============================================================================ registry rules


def numpy_array_rule(hint, registry, context):
    """``numpy.ndarray`` and ``numpy.typing.NDArray[T]``: ``NumpyArrayCoder`` (only when numpy is imported)."""
    np = sys.modules.get("numpy")
    if np is None:
        return None
    if hint is np.ndarray:
        return NumpyArrayCoder()
    if typing.get_origin(hint) is not np.ndarray:
        return None
    args = typing.get_args(hint)
    scalar = None
    if len(args) == 2 and typing.get_origin(args[1]) is np.dtype:
        (inner,) = typing.get_args(args[1]) or (None,)
        if isinstance(inner, type) and issubclass(inner, np.generic) and inner is not np.generic:
            scalar = inner
    return NumpyArrayCoder(scalar_type=scalar)


def numpy_scalar_rule(hint, registry, context):
    """A concrete numpy scalar type (``numpy.int64``, ``numpy.float32``, ``numpy.bool_``, ``numpy.datetime64``
    ...): ``NumpyScalarCoder`` (only when numpy is imported; abstract ones like ``numpy.integer`` fall back)."""
    np = sys.modules.get("numpy")
    if np is None or not isinstance(hint, type) or not issubclass(hint, np.generic):
        return None
    try:
        return NumpyScalarCoder(hint)
    except TypeError:
        return None
